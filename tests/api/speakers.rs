//! Speakers change too: revisions with If-Match and a reason, history and
//! diffs, and claim revisions that keep pointing at what their speaker was
//! called when they were logged.

use serde_json::json;

use crate::helpers::{TestApp, assert_problem, invalid_fields, spawn_app};

async fn minister(app: &TestApp) -> i64 {
    app.create(
        "/v1/speakers",
        json!({ "name": "Fumio Kishida", "kind": "person", "role": "Foreign Minister", "aliases": ["Kishida"] }),
    )
    .await["id"]
        .as_i64()
        .unwrap()
}

#[tokio::test]
async fn a_speaker_changes_as_a_new_revision_with_its_reason() {
    let app = spawn_app().await;
    let id = minister(&app).await;
    let path = format!("/v1/speakers/{id}");
    assert_eq!(app.etag(&path).await, "\"1\"");

    let res = app
        .patch_json(
            &path,
            &json!({ "role": "Prime Minister", "affiliation": "LDP", "reason": "took office in October" }),
            Some("\"1\""),
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["etag"], "\"2\"");
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["revision"], 2);
    assert_eq!(body["changed"], true);
    assert_eq!(body["changed_fields"], json!(["role", "affiliation"]));
    assert_eq!(body["role"], "Prime Minister");

    let revisions = app.get_json(&format!("{path}/revisions")).await;
    let items = revisions["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["role"], "Foreign Minister");
    assert_eq!(items[1]["reason"], "took office in October");
    assert_eq!(items[1]["author"], "admin");
    let diff = app.get_json(&format!("{path}/diff")).await;
    assert_eq!(
        diff["changes"],
        json!([{ "field": "role", "old": "Foreign Minister", "new": "Prime Minister" },
               { "field": "affiliation", "old": null, "new": "LDP" }])
    );
    let events = app
        .get_json(&format!(
            "/v1/events?subject_type=speaker&subject_id={id}&order=asc"
        ))
        .await;
    let revised = &events["items"][1];
    assert_eq!(revised["action"], "speaker.revised");
    assert_eq!(
        (
            revised["before_revision"].as_i64(),
            revised["after_revision"].as_i64()
        ),
        (Some(1), Some(2))
    );

    // The same values again write nothing; a clear needs null.
    let res = app
        .patch_json(
            &path,
            &json!({ "role": "Prime Minister", "reason": "again" }),
            Some("\"2\""),
        )
        .await;
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["changed"], false);
    assert_eq!(body["revision"], 2);
    let res = app
        .patch_json(
            &path,
            &json!({ "affiliation": null, "reason": "left the party" }),
            Some("\"2\""),
        )
        .await;
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["affiliation"], serde_json::Value::Null);
    assert_eq!(body["revision"], 3);
}

#[tokio::test]
async fn a_speaker_change_needs_the_current_revision_and_a_reason() {
    let app = spawn_app().await;
    let id = minister(&app).await;
    let path = format!("/v1/speakers/{id}");
    let before = app.row_counts().await;
    let without = app
        .client
        .patch(app.url(&path))
        .json(&json!({ "role": "PM", "reason": "r" }))
        .send()
        .await
        .unwrap();
    assert_problem(without, 428).await;
    let stale = assert_problem(
        app.patch_json(
            &path,
            &json!({ "role": "PM", "reason": "r" }),
            Some("\"7\""),
        )
        .await,
        412,
    )
    .await;
    assert_eq!(stale["current_revision"], 1);
    let problem = assert_problem(
        app.patch_json(&path, &json!({ "role": "PM" }), Some("\"1\""))
            .await,
        422,
    )
    .await;
    assert_eq!(invalid_fields(&problem), ["reason"]);
    let problem = assert_problem(
        app.patch_json(
            &path,
            &json!({ "name": "\u{200b}", "reason": "r" }),
            Some("\"1\""),
        )
        .await,
        422,
    )
    .await;
    assert_eq!(invalid_fields(&problem), ["name"]);
    assert_problem(
        app.patch_json(
            "/v1/speakers/999",
            &json!({ "role": "PM", "reason": "r" }),
            Some("\"1\""),
        )
        .await,
        404,
    )
    .await;
    assert_eq!(
        app.row_counts().await,
        before,
        "a refused change wrote something"
    );
}

#[tokio::test]
async fn a_claim_revision_remembers_what_its_speaker_was_called() {
    let app = spawn_app().await;
    let story = app.story("Renamed").await;
    let id = minister(&app).await;
    let claim = app.claim(story, id, "Talks will continue").await["id"]
        .as_i64()
        .unwrap();
    let res = app
        .patch_json(
            &format!("/v1/speakers/{id}"),
            &json!({ "name": "Kishida Fumio", "reason": "family name first, as the outlet writes it" }),
            Some("\"1\""),
        )
        .await;
    assert_eq!(res.status(), 200);
    // The claim as logged points at the speaker as it was then.
    let first = app
        .get_json(&format!("/v1/claims/{claim}/revisions/1"))
        .await;
    assert_eq!(first["speaker_revision"], 1);
    let then = app
        .get_json(&format!(
            "/v1/speakers/{id}/revisions/{}",
            first["speaker_revision"]
        ))
        .await;
    assert_eq!(then["name"], "Fumio Kishida");
    // The head shows the speaker as it is now, and the next claim revision
    // is written against it.
    let now = app.get_json(&format!("/v1/claims/{claim}")).await;
    assert_eq!(now["speaker"]["name"], "Kishida Fumio");
    app.patch_json(
        &format!("/v1/claims/{claim}"),
        &json!({ "text": "Talks will continue in Mongolia", "reason": "more precise" }),
        Some("\"1\""),
    )
    .await;
    let second = app
        .get_json(&format!("/v1/claims/{claim}/revisions/2"))
        .await;
    assert_eq!(second["speaker_revision"], 2);
    // The speaker's new name finds it; its old one, kept as an alias, too.
    let by_new = app
        .create("/v1/claims", json!({ "story_id": story, "speaker": "kishida fumio", "text": "x", "kind": "paraphrase" }))
        .await;
    assert_eq!(by_new["speaker_id"], id);
}

#[tokio::test]
async fn a_merge_is_recorded_as_revisions_of_both_speakers() {
    let app = spawn_app().await;
    let survivor = minister(&app).await;
    let other = app.speaker("PM Kishida", "person").await;
    let res = app
        .post_json(
            &format!("/v1/speakers/{other}/merge"),
            &json!({ "into": survivor }),
        )
        .await;
    assert_eq!(res.status(), 200);
    let gone = app
        .get_json(&format!("/v1/speakers/{other}/revisions"))
        .await;
    assert_eq!(gone["items"][1]["merged_into"], survivor);
    let kept = app.get_json(&format!("/v1/speakers/{survivor}/diff")).await;
    assert_eq!(kept["changes"][0]["field"], "aliases");
    assert_eq!(kept["changes"][0]["new"], json!(["Kishida", "PM Kishida"]));
    // A merged record is not changed any more: its survivor is.
    let problem = assert_problem(
        app.patch_json(
            &format!("/v1/speakers/{other}"),
            &json!({ "role": "PM", "reason": "r" }),
            Some("\"2\""),
        )
        .await,
        409,
    )
    .await;
    assert_eq!(problem["existing_id"], survivor);
}
