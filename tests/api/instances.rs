//! Two service instances on one database behave as one service.

use std::time::Duration;

use claimtrail::domain::auth::Role;
use serde_json::json;

use crate::helpers::{client_with, spawn_app};

#[tokio::test]
async fn an_idempotency_key_sent_to_two_instances_at_once_writes_once() {
    let a = spawn_app().await;
    let b = a.another_instance();
    let send = |address: String| {
        let client = a.client.clone();
        async move {
            let res = client
                .post(format!("{address}/v1/stories"))
                .header("idempotency-key", "one-story-two-doors")
                .json(&json!({ "title": "Διπλή αποστολή" }))
                .send()
                .await
                .unwrap();
            (
                res.status().as_u16(),
                res.json::<serde_json::Value>().await.unwrap(),
            )
        }
    };
    let (first, second) = tokio::join!(send(a.address.clone()), send(b.address.clone()));
    assert_eq!(first.0, 201, "{first:?}");
    assert_eq!(second.0, 201, "{second:?}");
    assert_eq!(first.1["id"], second.1["id"]);
    let stories = a.get_json("/v1/stories").await;
    assert_eq!(stories["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_stream_on_one_instance_hears_a_write_on_the_other() {
    let a = spawn_app().await;
    let b = a.another_instance();
    let story = a.story("Across instances").await;
    a.log_caught_up().await;
    let stream = b
        .client
        .get(b.url(&format!("/v1/events/stream?story={story}")))
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), 200);
    let waiting = tokio::spawn(crate::history::read_events(stream, 2));
    tokio::time::sleep(Duration::from_millis(200)).await;
    let speaker = a.speaker("Aya", "person").await;
    a.claim(story, speaker, "政府は17人の市民を確認した。")
        .await;
    let seen = waiting.await.unwrap();
    assert_eq!(
        seen.iter().map(|(_, e)| e.as_str()).collect::<Vec<_>>(),
        ["story.created", "claim.created"]
    );
}

#[tokio::test]
async fn a_token_revoked_on_one_instance_stops_working_on_the_other_at_once() {
    let a = spawn_app().await;
    let b = a.another_instance();
    let token = a.token_for("rita", Role::Reviewer).await;
    let rita = client_with(Some(&token));
    // B has checked the token and caches it (for ten minutes in tests).
    assert_eq!(
        rita.get(b.url("/v1/me")).send().await.unwrap().status(),
        200
    );
    let me = a.me_as(&rita).await;
    let tokens = a.get_json(&format!("/v1/users/{}/tokens", me["id"])).await;
    let token_id = tokens["items"][0]["id"].as_i64().unwrap();
    let res = a
        .client
        .delete(a.url(&format!("/v1/tokens/{token_id}")))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "{}", res.status());
    // The database tells B; its ten-minute cache does not keep the token alive.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let status = rita.get(b.url("/v1/me")).send().await.unwrap().status();
        if status == 401 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "B still takes the revoked token"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn two_sequencers_build_one_log() {
    let a = spawn_app().await;
    let b = a.another_instance();
    let story = a.story("Two sequencers").await;
    let speaker = a.speaker("Speaker", "person").await;
    let texts: Vec<String> = (0..40).map(|i| format!("Claim number {i}")).collect();
    let writes = texts.iter().enumerate().map(|(i, text)| {
        let app = if i % 2 == 0 { &a } else { &b };
        app.claim(story, speaker, text)
    });
    futures_util::future::join_all(writes).await;
    a.log_caught_up().await;
    let key = a.get("/v1/audit/public-key").await.text().await.unwrap();
    let out = crate::audit_log::cli_verify(&a, key.trim(), None);
    assert!(out.status.success(), "{}", crate::audit_log::text(&out));
    // Each event has one leaf, the leaves run 0..n with no gap or repeat,
    // and the story's events are numbered 1..n.
    #[derive(diesel::QueryableByName, Debug, PartialEq)]
    struct Shape {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        events: i64,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        leaves: i64,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        distinct_leaves: i64,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        top: i64,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        story_top: i64,
    }
    use diesel_async::RunQueryDsl;
    let shape: Shape = diesel::sql_query(format!(
        "SELECT (SELECT count(*) FROM audit_events) AS events, count(*) AS leaves, \
                count(DISTINCT event_id) AS distinct_leaves, max(leaf_index) + 1 AS top, \
                (SELECT max(story_seq) FROM audit_log_leaves WHERE story_id = {story}) AS story_top \
           FROM audit_log_leaves"
    ))
    .get_result(&mut a.db().await)
    .await
    .unwrap();
    assert_eq!(shape.leaves, shape.events, "{shape:?}");
    assert_eq!(shape.distinct_leaves, shape.events, "{shape:?}");
    assert_eq!(shape.top, shape.events, "{shape:?}");
    assert_eq!(shape.story_top, 41, "{shape:?}");
}
