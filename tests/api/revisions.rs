//! Revision numbering, no-op patches, If-Match, appearances across revisions.

use serde_json::{Value, json};

use crate::helpers::{assert_problem, spawn_app};

#[tokio::test]
async fn revisions_are_numbered_without_gaps_and_noops_write_nothing() {
    let app = spawn_app().await;
    let story = app.story("Revisions").await;
    let speaker = app.speaker("Speaker", "person").await;
    let other = app.speaker("Other speaker", "organization").await;
    let claim = app.claim(story, speaker, "First text").await;
    let id = claim["id"].as_i64().unwrap();
    let path = format!("/v1/claims/{id}");

    let edits = [
        json!({ "text": "Second text", "reason": "r2" }),
        json!({ "speaker_id": other, "reason": "r3" }),
        json!({ "confidence": 0.5, "hedges": ["reportedly"], "reason": "r4" }),
        json!({ "confidence": null, "reason": "r5" }),
        json!({ "when": { "start": "2026-03-01", "end": "2026-06-01", "precision": "season", "expression": "this spring" }, "reason": "r6" }),
    ];
    for (i, edit) in edits.iter().enumerate() {
        let res = app.patch_json(&path, edit, None).await;
        assert_eq!(res.status(), 200);
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["revision"], i + 2);
        assert_eq!(body["changed"], true);
    }

    let before = app.row_counts().await;
    let res = app
        .patch_json(
            &path,
            &json!({ "text": "Second text", "speaker_id": other, "reason": "same" }),
            None,
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["etag"], "\"6\"");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["changed"], false);
    assert_eq!(body["changed_fields"], json!([]));
    assert_eq!(body["revision"], 6);
    assert_eq!(
        app.row_counts().await,
        before,
        "a no-op PATCH wrote something"
    );

    let revisions = app.get_json(&format!("{path}/revisions")).await;
    let numbers: Vec<i64> = revisions["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["revision"].as_i64().unwrap())
        .collect();
    assert_eq!(numbers, vec![1, 2, 3, 4, 5, 6]);
    let r4 = app.get_json(&format!("{path}/revisions/4")).await;
    assert_eq!(r4["confidence"], 0.5);
    assert_eq!(r4["hedges"], json!(["reportedly"]));
    assert_eq!(r4["reason"], "r4");
    let r5 = app.get_json(&format!("{path}/revisions/5")).await;
    assert_eq!(r5["confidence"], Value::Null);
    assert_eq!(r5["hedges"], json!(["reportedly"]));
    let current = app.get_json(&path).await;
    assert_eq!(current["when"]["start"], "2026-03-01T00:00:00Z");
    assert_eq!(current["when"]["end"], "2026-06-01T00:00:00Z");
    assert_eq!(current["when"]["precision"], "season");
}

#[tokio::test]
async fn a_stale_if_match_is_refused_with_the_current_revision() {
    let app = spawn_app().await;
    let story = app.story("If-Match").await;
    let speaker = app.speaker("Speaker", "person").await;
    let id = app.claim(story, speaker, "Text").await["id"]
        .as_i64()
        .unwrap();
    let path = format!("/v1/claims/{id}");
    let res = app.get(&path).await;
    assert_eq!(res.headers()["etag"], "\"1\"");

    let ok = app
        .patch_json(
            &path,
            &json!({ "text": "Reviewer A", "reason": "a" }),
            Some("\"1\""),
        )
        .await;
    assert_eq!(ok.status(), 200);
    let before = app.row_counts().await;
    let stale = app
        .patch_json(
            &path,
            &json!({ "text": "Reviewer B", "reason": "b" }),
            Some("\"1\""),
        )
        .await;
    let problem = assert_problem(stale, 412).await;
    assert_eq!(problem["current_revision"], 2);
    assert_eq!(app.row_counts().await, before);
    let bad = app
        .patch_json(&path, &json!({ "text": "C", "reason": "c" }), Some("2"))
        .await;
    assert_problem(bad, 400).await;
    assert_eq!(app.get_json(&path).await["text"], "Reviewer A");
}

#[tokio::test]
async fn appearances_are_replaced_by_a_new_revision_and_kept_in_old_ones() {
    let app = spawn_app().await;
    let story = app.story("Appearances").await;
    let speaker = app.speaker("Speaker", "person").await;
    let body = "Officials said on Tuesday that the bridge would reopen. 橋は再開される。";
    let article = app
        .article(story, "https://news.example/bridge", body)
        .await;
    let created = app
        .create(
            "/v1/claims",
            json!({ "story_id": story, "speaker_id": speaker, "kind": "paraphrase", "text": "The bridge will reopen",
                    "appearances": [{ "article_id": article, "start": 31, "end": 54 }] }),
        )
        .await;
    assert_eq!(
        created["appearances"][0]["excerpt"],
        "the bridge would reopen"
    );
    let id = created["id"].as_i64().unwrap();

    // Spans count code points: the Japanese sentence starts at 56.
    let res = app
        .patch_json(
            &format!("/v1/claims/{id}"),
            &json!({ "appearances": [{ "article_id": article, "start": 56, "end": 64 }], "reason": "point at the Japanese text" }),
            None,
        )
        .await;
    let patched: Value = res.json().await.unwrap();
    assert_eq!(patched["changed_fields"], json!(["appearances"]));
    assert_eq!(patched["appearances"][0]["excerpt"], "橋は再開される。");

    let first = app.get_json(&format!("/v1/claims/{id}/revisions/1")).await;
    assert_eq!(first["appearances"][0]["start"], 31);
    let second = app.get_json(&format!("/v1/claims/{id}/revisions/2")).await;
    assert_eq!(second["appearances"][0]["start"], 56);

    // Another story's article cannot hold this claim.
    let elsewhere = app.story("Elsewhere").await;
    let foreign = app
        .article(
            elsewhere,
            "https://news.example/other",
            "Some other text here.",
        )
        .await;
    let res = app
        .patch_json(
            &format!("/v1/claims/{id}"),
            &json!({ "appearances": [{ "article_id": foreign, "start": 0, "end": 4 }], "reason": "wrong story" }),
            None,
        )
        .await;
    assert_problem(res, 422).await;
}

#[tokio::test]
async fn concurrent_writers_never_lose_an_update_or_leave_a_gap() {
    let app = spawn_app().await;
    let story = app.story("Race").await;
    let speaker = app.speaker("Speaker", "person").await;
    let id = app.claim(story, speaker, "Original").await["id"]
        .as_i64()
        .unwrap();
    let path = format!("/v1/claims/{id}");

    // Thirty-two writers that all saw revision 1: exactly one may win.
    let racers = (0..32).map(|i| {
        let body = json!({ "text": format!("Writer {i}"), "reason": format!("writer {i}") });
        let req = app
            .client
            .patch(app.url(&path))
            .header("If-Match", "\"1\"")
            .json(&body);
        async move { req.send().await.unwrap().status().as_u16() }
    });
    let statuses = futures_util::future::join_all(racers).await;
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 412).count(),
        31,
        "{statuses:?}"
    );

    // Sixteen writers that re-read and retry on 412 until their change lands.
    let writers = (0..16).map(|i| {
        let app = &app;
        let path = &path;
        async move {
            let body = json!({ "text": format!("Retrying writer {i}"), "reason": "r" });
            for _ in 0..200 {
                let res = app.patch_json(path, &body, None).await;
                match res.status().as_u16() {
                    200 => return true,
                    412 => continue,
                    other => panic!("unexpected {other}"),
                }
            }
            false
        }
    });
    let landed = futures_util::future::join_all(writers).await;
    assert!(landed.iter().all(|l| *l), "{landed:?}");
    let revisions = app.get_json(&format!("{path}/revisions")).await;
    let items = revisions["items"].as_array().unwrap();
    let numbers: Vec<i64> = items
        .iter()
        .map(|r| r["revision"].as_i64().unwrap())
        .collect();
    assert_eq!(numbers, (1..=18).collect::<Vec<i64>>(), "gap-free");
    for i in 0..16 {
        let text = format!("Retrying writer {i}");
        assert_eq!(
            items.iter().filter(|r| r["text"] == text.as_str()).count(),
            1,
            "{text} lost or doubled"
        );
    }
}

#[tokio::test]
async fn a_change_must_name_the_revision_it_is_based_on() {
    let app = spawn_app().await;
    let story = app.story("No wildcard").await;
    let speaker = app.speaker("Ana Robles", "person").await;
    let id = app
        .claim(story, speaker, "The port reopens on Monday")
        .await["id"]
        .as_i64()
        .unwrap();
    let path = format!("/v1/claims/{id}");
    // 32 writers at once, each sending If-Match: *: none may overwrite the
    // others unseen, so none is let through.
    let writes = (0..32).map(|i| {
        let client = app.client.clone();
        let url = app.url(&path);
        async move {
            client
                .patch(url)
                .header("if-match", "*")
                .json(&json!({ "text": format!("Version {i}"), "reason": "race" }))
                .send()
                .await
                .unwrap()
        }
    });
    for res in futures_util::future::join_all(writes).await {
        let problem = assert_problem(res, 428).await;
        assert!(
            problem["detail"].as_str().unwrap().contains("ETag"),
            "{problem}"
        );
    }
    // A weak tag is not an exact revision.
    let res = app
        .patch_json(
            &path,
            &json!({ "text": "Weak", "reason": "r" }),
            Some("W/\"1\""),
        )
        .await;
    let problem = assert_problem(res, 400).await;
    assert!(
        problem["detail"].as_str().unwrap().contains("weak"),
        "{problem}"
    );
    // Status changes and reviews follow the same rule.
    for (route, body) in [
        ("status", json!({ "status": "in_review", "reason": "r" })),
        ("reviews", json!({ "verdict": "false", "rationale": "r" })),
    ] {
        let res = app
            .client
            .post(app.url(&format!("{path}/{route}")))
            .header("if-match", "*")
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_problem(res, 428).await;
    }
    let revisions = app.get_json(&format!("{path}/revisions")).await;
    assert_eq!(
        revisions["items"].as_array().unwrap().len(),
        1,
        "nothing was written"
    );
}
