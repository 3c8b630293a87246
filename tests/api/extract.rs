//! Attribution extraction through the API: proposals for an article's
//! current revision, applied as `proposed` claims with their spans.

use claimtrail::domain::auth::Role;
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_problem, client_with, spawn_app};

/// Published on a Friday.
const PUBLISHED: &str = "2026-11-20T09:00:00Z";

const BODY: &str = "Japan engaged in several informal contacts with North Korea this spring, \
sources close to the matter said Friday. “We will never give up,” Prime Minister Fumio Kishida \
told reporters on Thursday. He added that the issue has apparently not been settled.";

fn article_json(story: i64, url: &str, body: &str) -> Value {
    json!({
        "url": url, "outlet": "Kyodo", "headline": "Japan and North Korea",
        "published_at": PUBLISHED, "body": body, "story_id": story
    })
}

async fn kishida(app: &TestApp) -> i64 {
    app.create(
        "/v1/speakers",
        json!({ "name": "Fumio Kishida", "kind": "person", "role": "Prime Minister", "aliases": ["Kishida"] }),
    )
    .await["id"]
        .as_i64()
        .unwrap()
}

fn chars(s: &str, start: &Value, end: &Value) -> String {
    let (s0, e0) = (
        start.as_u64().unwrap() as usize,
        end.as_u64().unwrap() as usize,
    );
    s.chars().skip(s0).take(e0 - s0).collect()
}

#[tokio::test]
async fn posting_an_article_with_extract_logs_proposed_claims_with_spans_speakers_times_and_hedges()
{
    let app = spawn_app().await;
    let story = app.story("Japan–North Korea abduction talks").await;
    let pm = kishida(&app).await;
    let res = app
        .post_json(
            "/v1/articles?extract=true",
            &article_json(story, "https://wire.example/jp-nk", BODY),
        )
        .await;
    assert_eq!(res.status(), 201);
    let posted: Value = res.json().await.unwrap();
    let article = posted["id"].as_i64().unwrap();
    let extraction = &posted["extraction"];
    let proposals = extraction["proposals"].as_array().unwrap();
    assert_eq!(proposals.len(), 3, "{extraction:#}");

    // The anonymous source becomes an anonymous speaker keeping its words;
    // "Friday" is the publication day; the anonymity is a hedge.
    let first = &proposals[0];
    assert_eq!(
        first["text"],
        "Japan engaged in several informal contacts with North Korea this spring"
    );
    assert_eq!(first["speaker"]["resolution"], "new");
    assert_eq!(first["speaker"]["kind"], "anonymous");
    assert_eq!(first["speaker"]["name"], "sources close to the matter");
    assert_eq!(first["when"]["expression"], "Friday");
    assert_eq!(first["when"]["start"], "2026-11-20T00:00:00Z");
    assert_eq!(first["when"]["precision"], "day");
    assert_eq!(first["content_times"][0]["expression"], "this spring");
    assert_eq!(
        first["hedges"][0]["text"],
        "sources close to the matter said"
    );
    assert_eq!(first["confidence"], 0.8);
    // Offsets are characters of the body: the curly quotes and the dash
    // before them do not shift them.
    assert_eq!(
        chars(BODY, &first["content"]["start"], &first["content"]["end"]),
        first["content"]["text"].as_str().unwrap()
    );

    // The named source is the speaker already in the ledger; "He" is the
    // nearest named person before it.
    let quote = &proposals[1];
    assert_eq!(quote["kind"], "direct_quote");
    assert_eq!(quote["text"], "We will never give up");
    assert_eq!(quote["speaker"]["resolution"], "existing");
    assert_eq!(quote["speaker"]["speaker_id"], pm);
    assert_eq!(
        quote["when"]["start"], "2026-11-19T00:00:00Z",
        "on Thursday"
    );
    let he = &proposals[2];
    assert_eq!(he["speaker"]["speaker_id"], pm);
    assert_eq!(he["speaker"]["via"], "pronoun");
    assert_eq!(he["speaker"]["of_proposal"], 1);
    assert_eq!(he["hedges"][0]["text"], "apparently");
    assert!(he["confidence"].as_f64().unwrap() < 1.0);

    let applied = &extraction["applied"];
    assert_eq!(
        applied["claims"].as_array().unwrap().len(),
        3,
        "{applied:#}"
    );
    assert_eq!(applied["speakers_created"].as_array().unwrap().len(), 1);
    assert_eq!(applied["skipped"], json!([]));

    // Each is an ordinary claim, in status proposed, appearing on its span.
    for (i, c) in applied["claims"].as_array().unwrap().iter().enumerate() {
        let id = c["claim_id"].as_i64().unwrap();
        assert_eq!(c["text"], proposals[i]["text"]);
        assert_eq!(proposals[i]["logged_as"], id);
        let claim = app.get_json(&format!("/v1/claims/{id}")).await;
        assert_eq!(claim["status"], "proposed");
        assert_eq!(claim["story_id"], story);
        let appearance = &claim["appearances"][0];
        assert_eq!(appearance["article_id"], article);
        assert_eq!(appearance["article_revision"], 1);
        assert_eq!(appearance["excerpt"], proposals[i]["content"]["text"]);
    }

    // Posting the same body again writes nothing and logs nothing twice.
    let before = app.row_counts().await;
    let res = app
        .post_json(
            "/v1/articles?extract=true",
            &article_json(story, "https://wire.example/jp-nk", BODY),
        )
        .await;
    assert_eq!(res.status(), 200);
    let again: Value = res.json().await.unwrap();
    assert_eq!(again["outcome"], "unchanged");
    assert_eq!(again["extraction"]["applied"]["claims"], json!([]));
    let skipped = again["extraction"]["applied"]["skipped"]
        .as_array()
        .unwrap();
    assert_eq!(skipped.len(), 3);
    assert!(
        skipped[0]["reason"]
            .as_str()
            .unwrap()
            .contains("already logged")
    );
    assert_eq!(app.row_counts().await, before);
}

#[tokio::test]
async fn extract_previews_without_writing_then_applies_a_chosen_subset_of_the_reviewed_revision() {
    let app = spawn_app().await;
    let story = app.story("Ferry").await;
    let url = "https://wire.example/ferry";
    let body = "The ferry was overloaded, a coast guard official said Tuesday. \
                The operator said it followed every rule.";
    let res = app
        .post_json("/v1/articles", &article_json(story, url, body))
        .await;
    assert_eq!(res.status(), 201);
    let article = res.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let path = format!("/v1/articles/{article}/extract");
    let reviewer = client_with(Some(&app.token_for("rita", Role::Reviewer).await));

    let before = app.row_counts().await;
    let res = app.client.post(app.url(&path)).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let preview: Value = res.json().await.unwrap();
    assert_eq!(preview["article_revision"], 1);
    assert_eq!(
        preview["proposals"].as_array().unwrap().len(),
        2,
        "{preview:#}"
    );
    assert!(preview.get("applied").is_none());
    assert_eq!(app.row_counts().await, before, "a preview writes nothing");

    // Bad requests write nothing either.
    let bad = [
        (format!("{path}?apply=true"), json!({ "accept": [7] }), 422),
        (
            format!("{path}?apply=true"),
            json!({ "accept": [0], "extra": 1 }),
            400,
        ),
        (path.clone(), json!({ "accept": [0] }), 400),
        (format!("{path}?apply=maybe"), json!({}), 400),
    ];
    for (p, b, status) in bad {
        let res = app.post_json(&p, &b).await;
        assert_problem(res, status).await;
    }
    // A `null` body is a body left out (found by schemathesis: the document
    // allows it, and it was a 422): here the article is what is missing.
    assert_problem(
        app.post_json("/v1/articles/999999/extract", &json!(null))
            .await,
        404,
    )
    .await;
    let preview = app.post_json(&path, &json!(null)).await;
    assert_eq!(preview.status(), 200);
    let res = app
        .client
        .post(app.url("/v1/articles/999999/extract"))
        .send()
        .await
        .unwrap();
    assert_problem(res, 404).await;
    let res = reviewer
        .post(app.url(&format!("{path}?apply=true")))
        .send()
        .await
        .unwrap();
    assert_problem(res, 403).await;
    assert_eq!(app.row_counts().await, before);

    // Accept only the operator's statement, on the revision reviewed.
    let res = app
        .post_json(
            &format!("{path}?apply=true"),
            &json!({ "revision": 1, "accept": [1] }),
        )
        .await;
    assert_eq!(res.status(), 201);
    let done: Value = res.json().await.unwrap();
    let claims = done["applied"]["claims"].as_array().unwrap();
    assert_eq!(claims.len(), 1);
    assert_eq!(claims[0]["proposal"], 1);
    let claim = app
        .get_json(&format!("/v1/claims/{}", claims[0]["claim_id"]))
        .await;
    // The content ends where PolNeAR's annotators end it, before the
    // sentence's final period.
    assert_eq!(claim["text"], "it followed every rule");
    assert_eq!(claim["status"], "proposed");
    assert_eq!(claim["cue"], "said");
    assert_eq!(done["proposals"][0]["logged_as"], Value::Null);

    // Once the article moves on, proposals reviewed on revision 1 are stale.
    let revised = body.replace("overloaded", "badly overloaded");
    let res = app
        .post_json("/v1/articles", &article_json(story, url, &revised))
        .await;
    assert_eq!(res.status(), 201);
    let before = app.row_counts().await;
    let res = app
        .post_json(
            &format!("{path}?apply=true"),
            &json!({ "revision": 1, "accept": [0] }),
        )
        .await;
    let problem = assert_problem(res, 409).await;
    assert!(problem["detail"].as_str().unwrap().contains("revision 2"));
    assert_eq!(app.row_counts().await, before);

    // The claim logged on revision 1 was carried to revision 2: it is
    // already logged there.
    let preview = app
        .client
        .post(app.url(&path))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(preview["article_revision"], 2);
    assert_eq!(
        preview["proposals"][1]["logged_as"], claims[0]["claim_id"],
        "{preview:#}"
    );
}

#[tokio::test]
async fn proposals_carry_the_extractors_probability_and_list_the_surest_first_on_request() {
    let app = spawn_app().await;
    let story = app.story("Japan–North Korea abduction talks").await;
    let res = app
        .post_json(
            "/v1/articles",
            &article_json(story, "https://wire.example/jp-nk-2", BODY),
        )
        .await;
    let article = res.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let path = format!("/v1/articles/{article}/extract");

    let in_text_order = app.post_json(&path, &json!(null)).await;
    assert_eq!(in_text_order.status(), 200);
    let in_text_order: Value = in_text_order.json().await.unwrap();
    let proposals = in_text_order["proposals"].as_array().unwrap().clone();
    assert_eq!(proposals.len(), 3, "{in_text_order:#}");
    let probability = |p: &Value| p["extraction_confidence"].as_f64().unwrap();
    for p in &proposals {
        assert!(
            (0.0..1.0).contains(&probability(p)) && probability(p) > 0.0,
            "{p:#}"
        );
    }
    let indices: Vec<u64> = proposals
        .iter()
        .map(|p| p["index"].as_u64().unwrap())
        .collect();
    assert_eq!(indices, [0, 1, 2]);

    let res = app
        .post_json(&format!("{path}?order=extraction_confidence"), &json!(null))
        .await;
    assert_eq!(res.status(), 200);
    let surest: Value = res.json().await.unwrap();
    let sorted = surest["proposals"].as_array().unwrap();
    let probabilities: Vec<f64> = sorted.iter().map(probability).collect();
    assert!(
        probabilities.windows(2).all(|w| w[0] >= w[1]),
        "{probabilities:?}"
    );
    // Each proposal is the same one under the same index, only moved.
    for p in sorted {
        let i = p["index"].as_u64().unwrap() as usize;
        assert_eq!(p, &proposals[i]);
    }

    // Accepting by index after sorting stores the proposal of that index.
    let surest_index = sorted[0]["index"].as_u64().unwrap();
    let res = app
        .post_json(
            &format!("{path}?apply=true&order=extraction_confidence"),
            &json!({ "revision": 1, "accept": [surest_index] }),
        )
        .await;
    assert_eq!(res.status(), 201);
    let done: Value = res.json().await.unwrap();
    let claim = done["applied"]["claims"][0].clone();
    assert_eq!(claim["proposal"], surest_index);
    assert_eq!(claim["text"], proposals[surest_index as usize]["text"]);
    // Its audit event says which model proposed it, and how sure it was.
    let events = app
        .get_json("/v1/events?action=claim.created&order=asc&limit=10")
        .await;
    let event = events["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["subject_id"] == claim["claim_id"])
        .expect("the stored claim's event");
    let origin = &event["details"]["extracted_from"];
    assert_eq!(origin["proposal"], surest_index);
    assert!(
        origin["extractor"].as_str().unwrap().starts_with("sha256:"),
        "{origin}"
    );
    assert_eq!(
        origin["extraction_confidence"],
        proposals[surest_index as usize]["extraction_confidence"]
    );

    let before = app.row_counts().await;
    assert_problem(
        app.post_json(&format!("{path}?order=probability"), &json!(null))
            .await,
        400,
    )
    .await;
    assert_eq!(app.row_counts().await, before);
}

#[tokio::test]
async fn extraction_reads_articles_in_any_script_without_misplacing_a_span() {
    let app = spawn_app().await;
    let story = app.story("Ferry").await;
    // English attributions between Japanese, Arabic and Greek text, with a
    // combining accent: every span must land on the characters it names.
    let body = "岸田首相は「合意しない」と述べた。\n\n\
                قال الوزير: «لن نوافق».\n\n\
                Ο υπουργός είπε ότι οι συνομιλίες συνεχίζονται.\n\n\
                The ferry was overloaded, José\u{301} Robles said on Friday. \
                “We will never give up,” the minister told reporters in 東京.";
    let res = app
        .post_json(
            "/v1/articles?extract=true",
            &article_json(story, "https://wire.example/scripts", body),
        )
        .await;
    assert_eq!(res.status(), 201);
    let posted: Value = res.json().await.unwrap();
    let proposals = posted["extraction"]["proposals"].as_array().unwrap();
    let by_cue = |cue: &str| {
        proposals
            .iter()
            .find(|p| p["cue"]["text"] == cue)
            .unwrap_or_else(|| panic!("no proposal with cue {cue:?}: {proposals:#?}"))
    };
    let said = by_cue("said");
    assert_eq!(said["text"], "The ferry was overloaded");
    assert_eq!(said["source"]["text"], "José\u{301} Robles");
    let told = by_cue("told");
    assert_eq!(told["text"], "We will never give up");
    for p in proposals {
        for part in ["cue", "content"] {
            let span = &p[part];
            assert_eq!(
                chars(body, &span["start"], &span["end"]),
                span["text"].as_str().unwrap(),
                "{part} of {p:#}"
            );
        }
    }
}
