//! The review workflow: transitions, reviews, queue, idempotent retries and
//! the verifiable audit log.

use claimtrail::domain::auth::Role;
use claimtrail::domain::claim::ClaimStatus;
use claimtrail::domain::status::allowed_targets;
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_problem, client_with, spawn_app};

async fn new_claim(app: &TestApp, text: &str) -> (i64, String) {
    let story = app.story(&format!("Workflow {text}")).await;
    let speaker = app.speaker("Ana Robles", "person").await;
    let id = app.claim(story, speaker, text).await["id"]
        .as_i64()
        .unwrap();
    (id, format!("/v1/claims/{id}"))
}

async fn set_status(app: &TestApp, path: &str, status: &str) -> reqwest::Response {
    let tag = app.etag(path).await;
    app.client
        .post(app.url(&format!("{path}/status")))
        .header("if-match", tag)
        .json(&json!({ "status": status, "reason": format!("to {status}") }))
        .send()
        .await
        .unwrap()
}

/// Walks a claim to `status` along allowed moves.
async fn bring_to(app: &TestApp, path: &str, status: ClaimStatus) {
    let route: &[&str] = match status {
        ClaimStatus::Unverified => &[],
        ClaimStatus::InReview => &["in_review"],
        ClaimStatus::Verified => &["in_review", "verified"],
        ClaimStatus::Disputed => &["in_review", "disputed"],
        ClaimStatus::False => &["in_review", "false"],
        ClaimStatus::Unverifiable => &["in_review", "unverifiable"],
        ClaimStatus::Retracted => &["retracted"],
        ClaimStatus::Proposed => unreachable!("claims are logged unverified"),
    };
    for step in route {
        assert_eq!(set_status(app, path, step).await.status(), 200, "to {step}");
    }
}

#[tokio::test]
async fn every_illegal_transition_is_refused_naming_the_allowed_ones() {
    let app = spawn_app().await;
    let all = [
        ClaimStatus::Proposed,
        ClaimStatus::Unverified,
        ClaimStatus::InReview,
        ClaimStatus::Verified,
        ClaimStatus::Disputed,
        ClaimStatus::False,
        ClaimStatus::Unverifiable,
        ClaimStatus::Retracted,
    ];
    for from in all.into_iter().filter(|s| *s != ClaimStatus::Proposed) {
        let (_, path) = new_claim(&app, &format!("from {from}")).await;
        bring_to(&app, &path, from).await;
        for to in all {
            if allowed_targets(from).contains(&to) {
                continue;
            }
            let before = app.row_counts().await;
            let problem = assert_problem(set_status(&app, &path, to.as_str()).await, 409).await;
            let detail = problem["detail"].as_str().unwrap();
            for allowed in allowed_targets(from) {
                assert!(
                    detail.contains(allowed.as_str()),
                    "{from} -> {to}: {detail}"
                );
            }
            assert_eq!(app.row_counts().await, before);
        }
        assert_eq!(app.get_json(&path).await["status"], from.as_str());
    }
}

#[tokio::test]
async fn reviews_bind_to_a_revision_set_the_status_and_supersede() {
    let app = spawn_app().await;
    let reviewer = client_with(Some(&app.token_for("rita", Role::Reviewer).await));
    let (_, path) = new_claim(&app, "The government identified 17 citizens").await;
    let review = json!({
        "verdict": "mostly_true", "rationale": "The ministry's list names 17; one is unconfirmed.",
        "reviewer_confidence": 0.8,
        "evidence": [{ "url": "https://gov.example/list", "title": "Ministry list",
                       "excerpt": "17 citizens were aboard", "accessed_at": "2026-11-24T10:00:00Z" }]
    });
    let post = |tag: Option<&str>, body: &Value| {
        let mut req = reviewer
            .post(app.url(&format!("{path}/reviews")))
            .json(body);
        if let Some(tag) = tag {
            req = req.header("if-match", tag);
        }
        req.send()
    };
    assert_problem(post(None, &review).await.unwrap(), 428).await;
    assert_problem(post(Some("\"7\""), &review).await.unwrap(), 412).await;
    let res = post(Some("\"1\""), &review).await.unwrap();
    assert_eq!(res.status(), 201);
    assert_eq!(res.headers()["etag"], "\"2\"");
    let first: Value = res.json().await.unwrap();
    assert_eq!(first["review"]["claim_revision"], 1);
    assert_eq!(first["review"]["reviewer"], "rita");
    assert_eq!(
        first["review"]["evidence"][0]["url"],
        "https://gov.example/list"
    );
    assert_eq!(first["claim"]["status"], "verified");
    assert_eq!(first["claim"]["revision"], 2);

    let second = post(
        Some("\"2\""),
        &json!({ "verdict": "false", "rationale": "The list was withdrawn." }),
    )
    .await
    .unwrap()
    .json::<Value>()
    .await
    .unwrap();
    assert_eq!(second["review"]["supersedes_id"], first["review"]["id"]);
    assert_eq!(second["claim"]["status"], "false");
    let listed = app.get_json(&format!("{path}/reviews")).await;
    let ids: Vec<i64> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_i64().unwrap())
        .collect();
    assert_eq!(
        ids,
        vec![
            second["review"]["id"].as_i64().unwrap(),
            first["review"]["id"].as_i64().unwrap()
        ]
    );

    // Editing the text of a judged claim re-opens it.
    let res = app
        .patch_json(
            &path,
            &json!({ "text": "The government identified 18 citizens", "reason": "corrected" }),
            None,
        )
        .await;
    let edited: Value = res.json().await.unwrap();
    assert_eq!(edited["status"], "unverified");
    assert_eq!(edited["needs_review"], true);
    assert_eq!(
        edited["changed_fields"],
        json!(["text", "status", "needs_review"])
    );

    // Comments.
    let comment = reviewer
        .post(app.url(&format!("{path}/comments")))
        .json(&json!({ "body": "Checking with the ministry." }))
        .send()
        .await
        .unwrap();
    assert_eq!(comment.status(), 201);
    let comments = app.get_json(&format!("{path}/comments")).await;
    assert_eq!(comments["items"][0]["author"], "rita");
    assert_problem(
        reviewer
            .post(app.url(&format!("{path}/reviews")))
            .header("if-match", "\"1\"")
            .json(&json!({ "verdict": "maybe", "rationale": "x" }))
            .send()
            .await
            .unwrap(),
        422,
    )
    .await;
}

#[tokio::test]
async fn the_review_queue_orders_filters_and_assigns() {
    let app = spawn_app().await;
    app.token_for("rita", Role::Reviewer).await;
    app.token_for("paul", Role::Reporter).await;
    let (a, pa) = new_claim(&app, "First").await;
    let (b, pb) = new_claim(&app, "Second").await;
    let (c, pc) = new_claim(&app, "Third").await;
    let (_, pd) = new_claim(&app, "Fourth").await;
    bring_to(&app, &pb, ClaimStatus::InReview).await;
    bring_to(&app, &pd, ClaimStatus::Verified).await;
    // A judged claim edited: re-opened and flagged.
    bring_to(&app, &pc, ClaimStatus::Verified).await;
    app.patch_json(
        &pc,
        &json!({ "text": "Third, corrected", "reason": "r" }),
        None,
    )
    .await;

    let ids = |page: &Value| {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_i64().unwrap())
            .collect::<Vec<_>>()
    };
    let oldest = app.get_json("/v1/review-queue").await;
    assert_eq!(
        ids(&oldest),
        vec![a, b, c],
        "verified claims are not in the queue"
    );
    let priority = app.get_json("/v1/review-queue?sort=priority").await;
    assert_eq!(
        ids(&priority),
        vec![c, b, a],
        "flagged, then in review, then the rest"
    );
    // Priority order pages without repeats or gaps.
    let first = app.get_json("/v1/review-queue?sort=priority&limit=2").await;
    let cursor = first["next_cursor"].as_str().unwrap().to_owned();
    let rest = app
        .get_json(&format!(
            "/v1/review-queue?sort=priority&limit=2&cursor={cursor}"
        ))
        .await;
    assert_eq!([ids(&first), ids(&rest)].concat(), vec![c, b, a]);

    let res = app
        .client
        .post(app.url(&format!("{pa}/assign")))
        .json(&json!({ "assignee": "rita" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Value>().await.unwrap()["assignee"], "rita");
    assert_eq!(
        ids(&app.get_json("/v1/review-queue?assignee=rita").await),
        vec![a]
    );
    assert_eq!(
        ids(&app.get_json("/v1/review-queue?assignee=none").await),
        vec![b, c]
    );
    assert_eq!(
        ids(&app.get_json("/v1/review-queue?status=in_review").await),
        vec![b]
    );
    assert_problem(
        app.client
            .post(app.url(&format!("{pa}/assign")))
            .json(&json!({ "assignee": "paul" }))
            .send()
            .await
            .unwrap(),
        422,
    )
    .await;
    assert_problem(
        app.client
            .post(app.url(&format!("{pa}/assign")))
            .json(&json!({ "assignee": "nobody" }))
            .send()
            .await
            .unwrap(),
        422,
    )
    .await;
}

#[tokio::test]
async fn a_retried_post_with_the_same_key_writes_once() {
    let app = spawn_app().await;
    let story = app.story("Idempotency").await;
    let speaker = app.speaker("Ana Robles", "person").await;
    let body = json!({ "story_id": story, "speaker_id": speaker, "text": "Once only", "kind": "paraphrase" });
    let send = |key: &str, body: &Value| {
        app.client
            .post(app.url("/v1/claims"))
            .header("idempotency-key", key)
            .json(body)
            .send()
    };

    let first = send("retry-1", &body).await.unwrap();
    assert_eq!(first.status(), 201);
    let location = first.headers()["location"].clone();
    let first: Value = first.json().await.unwrap();
    let before = app.row_counts().await;
    let again = send("retry-1", &body).await.unwrap();
    assert_eq!(again.status(), 201);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(again.headers()["location"], location);
    assert_eq!(again.json::<Value>().await.unwrap(), first);
    assert_eq!(app.row_counts().await, before, "a replay wrote something");

    let mut other = body.clone();
    other["text"] = json!("Something else");
    assert_problem(send("retry-1", &other).await.unwrap(), 422).await;
    assert_eq!(app.row_counts().await, before);

    // Concurrent retries of one key: one write, the same answer for all.
    let key_body =
        json!({ "story_id": story, "speaker_id": speaker, "text": "Raced", "kind": "paraphrase" });
    let answers = futures_util::future::join_all((0..8).map(|_| async {
        let res = send("race-1", &key_body).await.unwrap();
        (
            res.status().as_u16(),
            res.json::<Value>().await.unwrap()["id"].clone(),
        )
    }))
    .await;
    assert!(
        answers
            .iter()
            .all(|(s, id)| *s == 201 && *id == answers[0].1),
        "{answers:?}"
    );
    let claims = app.get_json(&format!("/v1/claims?story={story}")).await;
    let raced = claims["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["text"] == "Raced")
        .count();
    assert_eq!(raced, 1);
    // A failed request does not use up its key.
    let bad =
        json!({ "story_id": story, "speaker_id": 999_999, "text": "x", "kind": "paraphrase" });
    assert_problem(send("retry-2", &bad).await.unwrap(), 422).await;
    assert_eq!(send("retry-2", &body).await.unwrap().status(), 201);
}

#[tokio::test]
async fn the_audit_chain_names_the_first_tampered_event() {
    let app = spawn_app().await;
    let (_, path) = new_claim(&app, "Audited").await;
    app.patch_json(
        &path,
        &json!({ "text": "Audited twice", "reason": "r" }),
        None,
    )
    .await;
    let events = app.get_json("/v1/events?order=asc&limit=200").await;
    let items = events["items"].as_array().unwrap();
    let actions: Vec<&str> = items
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert!(
        actions.ends_with(&[
            "story.created",
            "speaker.created",
            "claim.created",
            "claim.revised"
        ]),
        "{actions:?}"
    );
    let ids: Vec<i64> = items.iter().map(|e| e["id"].as_i64().unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");
    let revised = items.last().unwrap();
    assert_eq!(revised["before_revision"], 1);
    assert_eq!(revised["after_revision"], 2);
    assert!(revised["request_id"].is_string());
    let filtered = app.get_json("/v1/events?action=claim.revised").await;
    assert_eq!(filtered["items"].as_array().unwrap().len(), 1);
}
