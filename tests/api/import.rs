//! Bulk import: NDJSON in batches, all or nothing per batch, with a per-line
//! report; the imported claims are ordinary claims with revisions and events.

use claimtrail::domain::auth::Role;
use reqwest::Response;
use serde_json::{Value, json};

use crate::helpers::{
    TEST_MAX_BODY_BYTES, TEST_MAX_IMPORT_BYTES, TestApp, assert_problem, client_with, spawn_app,
};

async fn import(app: &TestApp, query: &str, body: impl Into<reqwest::Body>) -> Response {
    app.client
        .post(app.url(&format!("/v1/import/claims{query}")))
        .header("Content-Type", "application/x-ndjson")
        .body(body)
        .send()
        .await
        .expect("POST /v1/import/claims failed")
}

fn ndjson(lines: &[Value]) -> String {
    lines.iter().map(|l| format!("{l}\n")).collect()
}

/// A story, a speaker with an alias and an article whose body holds the
/// text the claims quote.
async fn newsroom(app: &TestApp) -> (i64, i64, i64) {
    let story = app.story("Storm").await;
    let speaker = app
        .create(
            "/v1/speakers",
            json!({ "name": "Lena Ortiz", "kind": "person", "role": "Mayor", "aliases": ["Mayor Ortiz"] }),
        )
        .await["id"]
        .as_i64()
        .unwrap();
    let article = app
        .article(
            story,
            "https://news.example/storm",
            "The mayor said the shelters will stay open until Monday.",
        )
        .await;
    (story, speaker, article)
}

#[tokio::test]
async fn an_import_writes_claims_with_revisions_appearances_and_chained_events() {
    let app = spawn_app().await;
    let (story, speaker, article) = newsroom(&app).await;
    let mut lines = Vec::new();
    for i in 0..25 {
        let mut line = json!({
            "story_id": story, "text": format!("Shelters stay open until Monday ({i})"),
            "kind": "paraphrase", "cue": "said", "hedges": ["reportedly"],
            "when": { "at": "2026-11-20", "expression": "Friday" },
            "appearances": [{ "article_id": article, "start": 15, "end": 55 }]
        });
        // By id, by name, and by alias (in another case).
        match i % 3 {
            0 => line["speaker_id"] = json!(speaker),
            1 => line["speaker"] = json!("Lena Ortiz"),
            _ => line["speaker"] = json!("mayor ortiz"),
        }
        lines.push(line);
    }
    let before_events = app.get_json("/v1/events?limit=1").await;
    let res = import(&app, "?batch=10", ndjson(&lines)).await;
    assert_eq!(res.status(), 200);
    let report: Value = res.json().await.unwrap();
    assert_eq!(report["lines"], 25);
    assert_eq!(report["imported"], 25);
    assert_eq!(report["batches_committed"], 3, "{report}");
    assert_eq!(report["batches_rejected"], 0);
    assert_eq!(report["errors"], json!([]));

    let first = report["first_claim_id"].as_i64().unwrap();
    let last = report["last_claim_id"].as_i64().unwrap();
    assert_eq!(last - first, 24, "ids follow line order: {report}");
    let claim = app.get_json(&format!("/v1/claims/{first}")).await;
    assert_eq!(claim["text"], "Shelters stay open until Monday (0)");
    assert_eq!(claim["speaker"]["id"], speaker);
    assert_eq!(claim["revision"], 1);
    assert_eq!(claim["status"], "unverified");
    assert_eq!(claim["when"]["expression"], "Friday");
    assert_eq!(
        claim["appearances"][0]["excerpt"],
        "the shelters will stay open until Monday"
    );
    let alias_claim = app.get_json(&format!("/v1/claims/{}", first + 2)).await;
    assert_eq!(alias_claim["speaker_id"], speaker);
    let revisions = app.get_json(&format!("/v1/claims/{last}/revisions")).await;
    assert_eq!(revisions["items"].as_array().unwrap().len(), 1);

    // One claim.created event per claim, newer than anything before.
    let events = app
        .get_json("/v1/events?action=claim.created&order=asc&limit=100")
        .await;
    let events = events["items"].as_array().unwrap();
    assert_eq!(events.len(), 25);
    let newest_before = before_events["items"][0]["id"].as_i64().unwrap();
    assert!(
        events
            .iter()
            .all(|e| e["id"].as_i64().unwrap() > newest_before)
    );
    assert_log_follows_the_file(&app, first, 25).await;
}

/// The import's `claim.created` events join the log one after another in
/// the file's order, line n naming claim `first + n - 1`. (Batches written
/// side by side may number their events in either order; the log's order
/// is each transaction's place, taken batch after batch.)
async fn assert_log_follows_the_file(app: &TestApp, first: i64, lines: i64) {
    app.log_caught_up().await;
    let events = app
        .get_json("/v1/events?action=claim.created&order=asc&limit=200")
        .await;
    let mut logged: Vec<(i64, i64, i64)> = events["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["leaf_index"].as_i64().unwrap(),
                e["details"]["import_line"].as_i64().unwrap(),
                e["subject_id"].as_i64().unwrap(),
            )
        })
        .collect();
    logged.sort();
    assert_eq!(logged.len() as i64, lines);
    for (n, (leaf, line, claim)) in logged.iter().enumerate() {
        let n = n as i64;
        assert_eq!((*line, *claim), (n + 1, first + n), "{logged:?}");
        assert_eq!(*leaf, logged[0].0 + n, "consecutive leaves: {logged:?}");
    }
}

#[tokio::test]
async fn batches_written_side_by_side_keep_the_files_order_in_ids_and_in_the_log() {
    let app = spawn_app().await;
    let (story, speaker, _) = newsroom(&app).await;
    let lines: Vec<Value> = (1..=60)
        .map(|i| json!({ "story_id": story, "speaker_id": speaker, "text": format!("Line {i} of the file"), "kind": "assertion" }))
        .collect();
    let res = import(&app, "?batch=3", ndjson(&lines)).await;
    assert_eq!(res.status(), 200);
    let report: Value = res.json().await.unwrap();
    assert_eq!(report["batches_committed"], 20, "{report}");
    let first = report["first_claim_id"].as_i64().unwrap();
    assert_eq!(
        report["last_claim_id"].as_i64().unwrap() - first,
        59,
        "{report}"
    );
    for n in [0, 29, 59] {
        let claim = app.get_json(&format!("/v1/claims/{}", first + n)).await;
        assert_eq!(claim["text"], format!("Line {} of the file", n + 1));
    }
    assert_log_follows_the_file(&app, first, 60).await;
}

#[tokio::test]
async fn an_invalid_line_rejects_its_batch_only_and_is_reported_by_line() {
    let app = spawn_app().await;
    let (story, speaker, article) = newsroom(&app).await;
    let good = |i: usize| {
        json!({ "story_id": story, "speaker_id": speaker, "text": format!("Claim {i}"), "kind": "assertion" })
            .to_string()
    };
    // Batches of 3 lines: [1 2 3] ok, [4 5 6] has two bad lines, [7 8 9]
    // has one bad (after a blank line, which keeps its number), [10] ok.
    let body = [
        good(1),
        good(2),
        good(3),
        good(4),
        "{not json".to_owned(),
        json!({ "story_id": story, "speaker": "Nobody Known", "text": "x", "kind": "paraphrase" }).to_string(),
        String::new(),
        good(7),
        json!({ "story_id": story, "speaker_id": speaker, "text": "Out of range", "kind": "paraphrase",
                "appearances": [{ "article_id": article, "start": 10, "end": 5000 }] })
        .to_string(),
        good(9),
        good(10),
    ]
    .join("\n");
    let before = app.row_counts().await;
    let res = import(&app, "?batch=3", body).await;
    let problem = assert_problem(res, 422).await;
    assert_eq!(problem["type"], "urn:claimtrail:problem:import-rejected");
    let report = &problem["report"];
    assert_eq!(report["lines"], 10, "{report}");
    assert_eq!(report["imported"], 4, "{report}");
    assert_eq!(report["batches_committed"], 2);
    assert_eq!(report["batches_rejected"], 2);
    assert_eq!(report["invalid_lines"], 3);
    assert_eq!(report["skipped_lines"], 3);
    let errors = report["errors"].as_array().unwrap();
    let lines: Vec<i64> = errors.iter().map(|e| e["line"].as_i64().unwrap()).collect();
    assert_eq!(lines, vec![5, 6, 9]);
    assert_eq!(errors[0]["errors"][0]["field"], "line");
    assert_eq!(errors[1]["errors"][0]["field"], "speaker");
    assert_eq!(errors[2]["errors"][0]["field"], "appearances[0].end");
    let rejected: Vec<(i64, i64)> = report["rejected_batches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            (
                b["first_line"].as_i64().unwrap(),
                b["last_line"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(rejected, vec![(4, 6), (8, 10)]);

    // Exactly the good batches were written: claims 1-3 and 11.
    let after = app.row_counts().await;
    let delta = |table: &str| {
        let get = |rows: &Vec<(String, i64)>| rows.iter().find(|(t, _)| t == table).unwrap().1;
        get(&after) - get(&before)
    };
    assert_eq!(delta("claims"), 4);
    assert_eq!(delta("claim_revisions"), 4);
    assert_eq!(delta("audit_events"), 4);
    let texts: Vec<String> = app.get_json("/v1/claims?order=asc&limit=10").await["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["text"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(texts, ["Claim 1", "Claim 2", "Claim 3", "Claim 10"]);
}

#[tokio::test]
async fn bad_imports_are_refused_before_anything_is_written() {
    let app = spawn_app().await;
    let (story, speaker, _) = newsroom(&app).await;
    let reviewer = app.token_for("vera", Role::Reviewer).await;
    let before = app.row_counts().await;
    let line = ndjson(&[
        json!({ "story_id": story, "speaker_id": speaker, "text": "x", "kind": "paraphrase" }),
    ]);

    // Wrong media type, empty body, bad batch size.
    let res = app
        .client
        .post(app.url("/v1/import/claims"))
        .header("Content-Type", "application/json")
        .body(line.clone())
        .send()
        .await
        .unwrap();
    assert_problem(res, 415).await;
    assert_problem(import(&app, "", "\n\n").await, 400).await;
    let problem = assert_problem(import(&app, "?batch=0", line.clone()).await, 422).await;
    assert_eq!(problem["errors"][0]["field"], "batch");
    assert_problem(import(&app, "?batch=abc", line.clone()).await, 400).await;

    // Without a token, and with a role that may not log claims.
    let anonymous = client_with(None)
        .post(app.url("/v1/import/claims"))
        .header("Content-Type", "application/x-ndjson")
        .body(line.clone())
        .send()
        .await
        .unwrap();
    assert_problem(anonymous, 401).await;
    let res = client_with(Some(&reviewer))
        .post(app.url("/v1/import/claims"))
        .header("Content-Type", "application/x-ndjson")
        .body(line.clone())
        .send()
        .await
        .unwrap();
    // Reviewers check claims; logging them is a reporter's job.
    assert_problem(res, 403).await;

    // A line over the line limit is reported by number; a stream over the
    // import limit is refused.
    let long = format!(
        "{{\"story_id\":{story},\"speaker_id\":{speaker},\"kind\":\"paraphrase\",\"text\":\"{}\"}}\n",
        "a".repeat(TEST_MAX_BODY_BYTES + 10)
    );
    let problem = assert_problem(import(&app, "", long).await, 422).await;
    assert_eq!(problem["report"]["errors"][0]["line"], 1);
    assert!(
        problem["report"]["errors"][0]["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("longer than"),
        "{problem}"
    );
    let huge = "\n".repeat(TEST_MAX_IMPORT_BYTES as usize + 1);
    assert_problem(import(&app, "", huge).await, 413).await;
    assert_eq!(app.row_counts().await, before);
}
