//! Pool exhaustion: when no connection frees up in time, requests fail fast
//! with 503 and Retry-After, and the service recovers by itself.

use std::time::{Duration, Instant};

use diesel_async::{AsyncConnection, RunQueryDsl};
use serde_json::json;

use crate::helpers::{TestApp, TestOptions, assert_problem, spawn_app_with};
use crate::lock_wait::until_a_session_waits_on_a_lock;

#[tokio::test]
async fn an_exhausted_pool_answers_503_after_its_wait_and_recovers() {
    let wait = Duration::from_millis(300);
    let app = spawn_app_with(TestOptions {
        pool_size: 1,
        pool_wait: wait,
        ..TestOptions::default()
    })
    .await;
    // Another session locks the claim: a PATCH takes the only pooled
    // connection and waits on the lock with it.
    let (path, etag, locker) = locked_claim(&app).await;
    let patch = {
        let client = app.client.clone();
        let url = app.url(&path);
        let etag = etag.clone();
        tokio::spawn(async move {
            client
                .patch(url)
                .header("If-Match", etag)
                .json(&json!({ "text": "The port reopens on Monday", "reason": "more precise" }))
                .send()
                .await
                .unwrap()
                .status()
        })
    };
    // The request meant to hold the pool's connection is inside the service.
    until_a_session_waits_on_a_lock(&mut app.db().await).await;

    // Every other request waits for the pool, then gets 503 quickly.
    for p in ["/v1/stories", &path, "/healthz"] {
        let started = Instant::now();
        let res = app.client.get(app.url(p)).send().await.unwrap();
        let took = started.elapsed();
        assert_eq!(
            res.headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok()),
            Some("2"),
            "{p}"
        );
        let problem = assert_problem(res, 503).await;
        assert_eq!(problem["type"], "urn:claimtrail:problem:unavailable");
        assert!(
            took >= wait,
            "{p}: answered in {took:?}, before the pool wait"
        );
        assert!(took < wait * 5, "{p}: waited {took:?}");
    }

    // The lock goes away (the locking session ends): the PATCH completes
    // and the service serves again, with no restart.
    drop(locker);
    assert_eq!(patch.await.unwrap(), 200);
    assert_eq!(app.get("/v1/stories").await.status(), 200);
    let claim_now = app.get_json(&path).await;
    assert_eq!(claim_now["revision"], 2);
}

#[tokio::test]
async fn a_request_stuck_on_a_lock_gets_503_at_the_statement_timeout() {
    let app = spawn_app_with(TestOptions {
        statement_timeout: Duration::from_millis(500),
        ..TestOptions::default()
    })
    .await;
    let (path, etag, locker) = locked_claim(&app).await;
    let before = app.checksum().await;

    let started = Instant::now();
    let res = app
        .patch_json(
            &path,
            &json!({ "text": "The port reopens on Monday", "reason": "more precise" }),
            Some(&etag),
        )
        .await;
    let took = started.elapsed();
    assert!(res.headers().get("retry-after").is_some());
    let problem = assert_problem(res, 503).await;
    assert!(
        problem["detail"].as_str().unwrap().contains("in time"),
        "{problem}"
    );
    assert!(
        took >= Duration::from_millis(500) && took < Duration::from_secs(3),
        "{took:?}"
    );
    drop(locker);
    assert_eq!(
        app.checksum().await,
        before,
        "the cancelled write left nothing"
    );
    // And the same write goes through once the lock is gone.
    let res = app
        .patch_json(
            &path,
            &json!({ "text": "The port reopens on Monday", "reason": "more precise" }),
            Some(&etag),
        )
        .await;
    assert_eq!(res.status(), 200);
}

/// A claim (its path and ETag) and a session of its own holding the claim's
/// row lock until it is dropped.
async fn locked_claim(app: &TestApp) -> (String, String, diesel_async::AsyncPgConnection) {
    let story = app.story("Locked").await;
    let speaker = app.speaker("Ana Robles", "person").await;
    let claim = app.claim(story, speaker, "The port reopens").await["id"]
        .as_i64()
        .unwrap();
    let path = format!("/v1/claims/{claim}");
    let etag = app.etag(&path).await;
    let mut locker = app.db().await;
    locker
        .begin_test_transaction()
        .await
        .expect("a transaction that is never committed");
    diesel::sql_query(format!(
        "SELECT id FROM claims WHERE id = {claim} FOR UPDATE"
    ))
    .execute(&mut locker)
    .await
    .unwrap();
    (path, etag, locker)
}
