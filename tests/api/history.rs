//! Point-in-time reads and claim relations.

use std::time::Duration;

use chrono::{SecondsFormat, Utc};
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_problem, spawn_app};

fn ids_of_claims(page: &Value) -> Vec<i64> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_i64().unwrap())
        .collect()
}

async fn moment() -> String {
    tokio::time::sleep(Duration::from_millis(30)).await;
    let t = Utc::now().to_rfc3339_opts(SecondsFormat::Micros, true);
    tokio::time::sleep(Duration::from_millis(30)).await;
    t
}

fn enc(t: &str) -> String {
    t.replace('+', "%2B").replace(':', "%3A")
}

async fn review(app: &TestApp, path: &str, verdict: &str) {
    let tag = app.etag(path).await;
    let res = app
        .client
        .post(app.url(&format!("{path}/reviews")))
        .header("if-match", tag)
        .json(&json!({ "verdict": verdict, "rationale": "checked against the ministry list" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
}

#[tokio::test]
async fn a_story_read_at_three_moments() {
    let app = spawn_app().await;
    let before_anything = moment().await;
    let story = app.story("Point in time").await;
    let speaker = app.speaker("Interior Ministry", "government").await;
    let url = "https://news.example/pit";
    let article = app
        .article(
            story,
            url,
            "The ministry identified 17 citizens. Divers resumed the search.",
        )
        .await;
    let a = app
        .claim(story, speaker, "The ministry identified 17 citizens")
        .await["id"]
        .as_i64()
        .unwrap();
    let t1 = moment().await;

    // Later: the speaker renamed, the claim assigned, a correction, a second
    // claim, a new article version, a review.
    let pa = format!("/v1/claims/{a}");
    let renamed = app
        .patch_json(
            &format!("/v1/speakers/{speaker}"),
            &json!({ "name": "Ministry of the Interior", "reason": "official name" }),
            None,
        )
        .await;
    assert_eq!(renamed.status(), 200);
    app.token_for("rita", claimtrail::domain::auth::Role::Reviewer)
        .await;
    let assigned = app
        .post_json(&format!("{pa}/assign"), &json!({ "assignee": "rita" }))
        .await;
    assert_eq!(assigned.status(), 200);
    app.patch_json(
        &pa,
        &json!({ "text": "The ministry identified 18 citizens", "reason": "corrected count" }),
        None,
    )
    .await;
    let b = app.claim(story, speaker, "Divers resumed the search").await["id"]
        .as_i64()
        .unwrap();
    app.create("/v1/articles", json!({ "url": url, "outlet": "Test Wire", "headline": "A headline",
        "published_at": "2026-11-20T09:00:00Z", "body": "The ministry identified 18 citizens. Divers resumed the search.",
        "story_id": story })).await;
    let t2 = moment().await;
    review(&app, &pa, "true").await;
    let t3 = moment().await;

    // The claim at each moment.
    let at = |t: &str| format!("{pa}?as_of={}", enc(t));
    let c1 = app.get_json(&at(&t1)).await;
    assert_eq!(
        (c1["revision"].as_i64(), c1["text"].as_str()),
        (Some(1), Some("The ministry identified 17 citizens"))
    );
    assert_eq!(c1["status"], "unverified");
    assert!(c1["latest_review"].is_null());
    // One claim shape: the claim as it is now, read at a moment, has every
    // field of the claim now, and the revision's own record besides.
    let now = app.get_json(&pa).await;
    for field in now.as_object().unwrap().keys() {
        assert!(c1.get(field).is_some(), "as_of lacks {field}: {c1}");
    }
    assert_eq!(c1["id"], a);
    assert_eq!(c1["speaker"]["name"], "Interior Ministry");
    assert_eq!(c1["created_by"], now["created_by"]);
    assert_eq!(c1["author"], now["created_by"]);
    assert_eq!(c1["speaker_revision"], 1);
    assert!(c1["recorded_at"].is_string() && c1["as_of"].is_string());
    let c2 = app.get_json(&at(&t2)).await;
    assert_eq!(
        (c2["revision"].as_i64(), c2["text"].as_str()),
        (Some(2), Some("The ministry identified 18 citizens"))
    );
    assert!(c2["latest_review"].is_null());
    // Each as it stood then: the speaker's name and the assignee.
    assert_eq!(c1["speaker"]["name"], "Interior Ministry");
    assert!(c1["assignee"].is_null(), "{c1}");
    assert_eq!(c2["speaker"]["name"], "Ministry of the Interior");
    assert_eq!(c2["speaker_revision"], 2);
    assert_eq!(c2["assignee"], "rita");
    let c3 = app.get_json(&at(&t3)).await;
    assert_eq!(c3["status"], "verified");
    assert_eq!(c3["latest_review"]["verdict"], "true");
    assert_problem(app.get(&at(&before_anything)).await, 404).await;

    // The story's claims at each moment.
    let claims_at = |t: &str| format!("/v1/stories/{story}/claims?as_of={}", enc(t));
    let s1 = app.get_json(&claims_at(&t1)).await;
    let ids = |v: &Value| {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_i64().unwrap())
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(&s1), vec![a]);
    let s2 = app.get_json(&claims_at(&t2)).await;
    assert_eq!(ids(&s2), vec![a, b]);
    assert_eq!(s2["items"][0]["revision"], 2);
    let s3 = app.get_json(&claims_at(&t3)).await;
    assert_eq!(s3["items"][0]["status"], "verified");
    assert_problem(app.get(&claims_at(&before_anything)).await, 404).await;

    // The article at each moment.
    let art = |t: &str| format!("/v1/articles/{article}?as_of={}", enc(t));
    assert_eq!(app.get_json(&art(&t1)).await["revision"], 1);
    assert_eq!(app.get_json(&art(&t2)).await["revision"], 2);
    assert_problem(app.get(&art(&before_anything)).await, 404).await;
    assert_problem(app.get(&format!("{pa}?as_of=yesterday")).await, 422).await;

    // List filters on transaction time: what was recorded between two moments.
    let recorded = app
        .get_json(&format!(
            "/v1/claims?story={story}&recorded_from={}&recorded_to={}",
            enc(&t1),
            enc(&t2)
        ))
        .await;
    assert_eq!(ids_of_claims(&recorded), vec![b]);
    let before_t1 = app
        .get_json(&format!(
            "/v1/claims?story={story}&recorded_to={}",
            enc(&t1)
        ))
        .await;
    assert_eq!(ids_of_claims(&before_t1), vec![a]);
}

#[tokio::test]
async fn contradictions_are_listed_with_speakers_and_verdicts() {
    let app = spawn_app().await;
    let story = app.story("Abduction talks").await;
    let japan = app.speaker("Government of Japan", "government").await;
    let north = app.speaker("KCNA", "publication").await;
    let a = app
        .claim(
            story,
            japan,
            "Japan seeks the return of the remaining 12 abductees",
        )
        .await["id"]
        .as_i64()
        .unwrap();
    let b = app
        .claim(story, north, "The abduction issue has been settled")
        .await["id"]
        .as_i64()
        .unwrap();
    review(&app, &format!("/v1/claims/{b}"), "false").await;

    let res = app
        .post_json(
            &format!("/v1/claims/{b}/relations"),
            &json!({ "kind": "contradicts", "target_id": a, "note": "opposite positions" }),
        )
        .await;
    assert_eq!(res.status(), 201);
    let relation: Value = res.json().await.unwrap();
    assert_eq!(relation["author"], "admin");
    assert_problem(
        app.post_json(
            &format!("/v1/claims/{b}/relations"),
            &json!({ "kind": "contradicts", "target_id": a }),
        )
        .await,
        409,
    )
    .await;
    assert_problem(
        app.post_json(
            &format!("/v1/claims/{b}/relations"),
            &json!({ "kind": "contradicts", "target_id": b }),
        )
        .await,
        422,
    )
    .await;
    assert_problem(
        app.post_json(
            &format!("/v1/claims/{b}/relations"),
            &json!({ "kind": "refutes", "target_id": a }),
        )
        .await,
        422,
    )
    .await;
    assert_problem(
        app.post_json(
            &format!("/v1/claims/{b}/relations"),
            &json!({ "kind": "supports", "target_id": 99999 }),
        )
        .await,
        422,
    )
    .await;
    app.post_json(
        &format!("/v1/claims/{a}/relations"),
        &json!({ "kind": "supports", "target_id": b }),
    )
    .await;

    let contested = app
        .get_json(&format!("/v1/stories/{story}/contested"))
        .await;
    let pairs = contested["items"].as_array().unwrap();
    assert_eq!(pairs.len(), 1, "supports is not a contradiction");
    assert_eq!(pairs[0]["claim"]["id"], b);
    assert_eq!(pairs[0]["claim"]["speaker"]["name"], "KCNA");
    assert_eq!(pairs[0]["claim"]["latest_verdict"], "false");
    assert_eq!(pairs[0]["contradicts"]["id"], a);
    assert!(pairs[0]["contradicts"]["latest_verdict"].is_null());
    let of_a = app.get_json(&format!("/v1/claims/{a}/relations")).await;
    assert_eq!(
        of_a["items"].as_array().unwrap().len(),
        2,
        "links from and to the claim"
    );
    let events = app.get_json("/v1/events?action=relation.added").await;
    assert_eq!(events["items"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn the_timeline_replays_a_story_with_diffs_inline() {
    let app = spawn_app().await;
    let story = app.story("Timeline").await;
    let speaker = app.speaker("Interior Ministry", "government").await;
    let url = "https://news.example/timeline";
    let article = app
        .article(
            story,
            url,
            "The ministry identified 17 citizens. Divers resumed the search.",
        )
        .await;
    let a = app
        .create("/v1/claims", json!({ "story_id": story, "speaker_id": speaker, "kind": "assertion",
            "text": "The ministry identified 17 citizens", "appearances": [{ "article_id": article, "start": 0, "end": 35 }] }))
        .await["id"]
        .as_i64()
        .unwrap();
    let pa = format!("/v1/claims/{a}");
    app.patch_json(
        &pa,
        &json!({ "text": "The ministry identified 18 citizens", "reason": "count corrected" }),
        None,
    )
    .await;
    app.create("/v1/articles", json!({ "url": url, "outlet": "Test Wire", "headline": "A headline",
        "published_at": "2026-11-20T09:00:00Z", "body": "The ministry identified 18 citizens. Divers resumed the search.",
        "story_id": story })).await;
    review(&app, &pa, "true").await;

    let timeline = app.get_json(&format!("/v1/stories/{story}/timeline")).await;
    let kinds: Vec<&str> = timeline["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "story_created",
            "article_published",
            "claim_logged",
            "claim_revised",
            "claim_revised",
            "article_revised",
            "review_given"
        ]
    );
    let revised = &timeline["items"][3];
    assert_eq!(revised["actor"], "admin");
    assert_eq!(revised["changes"][0]["field"], "text");
    let changed: Vec<(&str, &str)> = revised["text_diff"]["ops"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["op"] != "equal")
        .map(|o| (o["op"].as_str().unwrap(), o["text"].as_str().unwrap()))
        .collect();
    assert_eq!(changed, [("delete", "17"), ("insert", "18")]);
    let carried = &timeline["items"][4];
    assert_eq!(carried["action"], "claim.appearances_carried");
    assert_eq!(carried["changes"][0]["field"], "needs_review");
    let reviewed = &timeline["items"][6];
    assert!(
        reviewed["changes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["field"] == "status" && c["new"] == "verified")
    );

    let only = app
        .get_json(&format!(
            "/v1/stories/{story}/timeline?kind=claim_revised,review_given"
        ))
        .await;
    assert_eq!(only["items"].as_array().unwrap().len(), 3);
    let paged = app
        .get_json(&format!("/v1/stories/{story}/timeline?limit=4"))
        .await;
    let cursor = paged["next_cursor"].as_str().unwrap().to_owned();
    let rest = app
        .get_json(&format!(
            "/v1/stories/{story}/timeline?limit=4&cursor={cursor}"
        ))
        .await;
    assert_eq!(
        paged["items"].as_array().unwrap().len() + rest["items"].as_array().unwrap().len(),
        7
    );

    let res = app
        .get(&format!("/v1/stories/{story}/timeline?format=markdown"))
        .await;
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/markdown")
    );
    let report = res.text().await.unwrap();
    assert!(report.starts_with("# Timeline: Timeline"), "{report}");
    assert!(
        report.contains(&format!(
            "revised claim {a} to revision 2 (count corrected)"
        )),
        "{report}"
    );
    assert!(
        report.contains("```diff") && report.contains("+The ministry identified 18 citizens"),
        "{report}"
    );
    assert!(report.contains("reviewed claim"), "{report}");
    assert_problem(
        app.get(&format!("/v1/stories/{story}/timeline?kind=gossip"))
            .await,
        422,
    )
    .await;
    assert_problem(app.get("/v1/stories/999/timeline").await, 404).await;
}

/// Reads Server-Sent Events until `count` events arrived; returns (id, event) pairs.
pub(crate) async fn read_events(mut res: reqwest::Response, count: usize) -> Vec<(i64, String)> {
    let mut buffer = String::new();
    let mut events = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while events.len() < count {
        let chunk = tokio::time::timeout_at(deadline, res.chunk())
            .await
            .expect("events did not arrive in time");
        buffer.push_str(&String::from_utf8_lossy(
            &chunk.unwrap().expect("stream ended"),
        ));
        while let Some(end) = buffer.find("\n\n") {
            let block: String = buffer.drain(..end + 2).collect();
            let id = block
                .lines()
                .find_map(|l| l.strip_prefix("id: "))
                .map(|v| v.parse::<i64>().unwrap());
            let event = block
                .lines()
                .find_map(|l| l.strip_prefix("event: "))
                .map(str::to_owned);
            if let (Some(id), Some(event)) = (id, event) {
                events.push((id, event));
            }
        }
    }
    events
}

#[tokio::test]
async fn the_change_feed_streams_events_and_resumes_after_the_last_one_seen() {
    let app = spawn_app().await;
    let story = app.story("Live").await;
    let speaker = app.speaker("Speaker", "person").await;
    let claim = app.claim(story, speaker, "First").await["id"]
        .as_i64()
        .unwrap();

    let res = app.get(&format!("/v1/events/stream?story={story}")).await;
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let seen = read_events(res, 2).await;
    assert_eq!(
        seen.iter().map(|(_, e)| e.as_str()).collect::<Vec<_>>(),
        ["story.created", "claim.created"]
    );
    let last = seen.last().unwrap().0;

    // Changes made while disconnected arrive on resume, and only those.
    app.patch_json(
        &format!("/v1/claims/{claim}"),
        &json!({ "text": "Second", "reason": "r" }),
        None,
    )
    .await;
    let resumed = app
        .client
        .get(app.url(&format!("/v1/events/stream?story={story}")))
        .header("last-event-id", last.to_string())
        .send()
        .await
        .unwrap();
    let next = read_events(resumed, 1).await;
    assert_eq!(next[0].1, "claim.revised");
    assert!(next[0].0 > last);

    // A live change reaches a connected client.
    let live = app
        .get(&format!(
            "/v1/events/stream?story={story}&after={}",
            next[0].0
        ))
        .await;
    let waiting = tokio::spawn(read_events(live, 1));
    tokio::time::sleep(Duration::from_millis(200)).await;
    app.claim(story, speaker, "Third").await;
    assert_eq!(waiting.await.unwrap()[0].1, "claim.created");
    assert_problem(
        app.client
            .get(app.url("/v1/events/stream"))
            .header("last-event-id", "abc")
            .send()
            .await
            .unwrap(),
        400,
    )
    .await;
}

#[tokio::test]
async fn an_open_stream_ends_when_its_token_is_revoked() {
    let app = spawn_app().await;
    let story = app.story("Revoked").await;
    let token = app
        .token_for("rita", claimtrail::domain::auth::Role::Reviewer)
        .await;
    let rita = crate::helpers::client_with(Some(&token));
    let mut stream = rita
        .get(app.url(&format!("/v1/events/stream?story={story}")))
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), 200);
    // The token goes: an admin revokes it.
    let users = app.get_json("/v1/users").await;
    let id = users["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["name"] == "rita")
        .unwrap()["id"]
        .clone();
    let tokens = app.get_json(&format!("/v1/users/{id}/tokens")).await;
    let token_id = tokens["items"][0]["id"].as_i64().unwrap();
    let res = app
        .client
        .delete(app.url(&format!("/v1/tokens/{token_id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    // Events keep coming, but the stream closes with a last event saying why.
    app.claim(
        story,
        app.speaker("S", "person").await,
        "After the revocation",
    )
    .await;
    let mut seen = String::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while let Some(bytes) = tokio::time::timeout_at(deadline, stream.chunk())
        .await
        .expect("the stream stayed open after its token was revoked")
        .unwrap()
    {
        seen.push_str(&String::from_utf8_lossy(&bytes));
    }
    assert!(seen.contains("event: closed"), "{seen}");
    assert!(seen.contains("revoked"), "{seen}");
}

#[tokio::test]
async fn an_unknown_event_action_is_refused_naming_the_known_ones() {
    let app = spawn_app().await;
    let problem = assert_problem(app.get("/v1/events?action=claim.craeted").await, 422).await;
    let detail = problem["detail"].as_str().unwrap();
    assert!(
        detail.contains("claim.created") && detail.contains("speaker.revised"),
        "{detail}"
    );
    let known = app.get_json("/v1/events?action=story.created").await;
    assert!(known["items"].as_array().unwrap().is_empty());
}
