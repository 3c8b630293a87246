//! ClaimReview JSON-LD out, and back in, idempotently.

use std::collections::HashMap;

use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_problem, spawn_app};

/// The schema.org properties each type may carry (ClaimReview inherits from
/// Review and CreativeWork; Claim from CreativeWork; Rating and the
/// organization types from Thing), limited to those an export uses.
fn allowed() -> HashMap<&'static str, Vec<&'static str>> {
    let thing = ["@type", "name", "url", "description"];
    let creative_work = [
        "author",
        "datePublished",
        "headline",
        "firstAppearance",
        "appearance",
    ];
    HashMap::from([
        (
            "ClaimReview",
            [
                &thing[..],
                &creative_work[..],
                &[
                    "@context",
                    "claimReviewed",
                    "reviewRating",
                    "itemReviewed",
                    "reviewBody",
                ],
            ]
            .concat(),
        ),
        ("Claim", [&thing[..], &creative_work[..]].concat()),
        ("CreativeWork", [&thing[..], &creative_work[..]].concat()),
        (
            "Rating",
            [
                &thing[..],
                &[
                    "ratingValue",
                    "bestRating",
                    "worstRating",
                    "alternateName",
                    "author",
                ],
            ]
            .concat(),
        ),
        (
            "Person",
            [&thing[..], &["jobTitle", "affiliation"]].concat(),
        ),
        ("Organization", thing.to_vec()),
        ("GovernmentOrganization", thing.to_vec()),
    ])
}

/// Every object in the document has a known @type and only its properties.
fn check_schema(v: &Value, allowed: &HashMap<&str, Vec<&str>>) {
    match v {
        Value::Object(map) => {
            let kind = map["@type"]
                .as_str()
                .unwrap_or_else(|| panic!("no @type in {v}"));
            let props = allowed
                .get(kind)
                .unwrap_or_else(|| panic!("unexpected type {kind}"));
            for (key, value) in map {
                assert!(
                    props.contains(&key.as_str()),
                    "{kind} has no property {key}"
                );
                check_schema(value, allowed);
            }
        }
        Value::Array(items) => items.iter().for_each(|i| check_schema(i, allowed)),
        _ => {}
    }
}

async fn import(app: &TestApp, story: i64, doc: &Value) -> Value {
    let res = app
        .post_json(&format!("/v1/import/claimreview?story={story}"), doc)
        .await;
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

#[tokio::test]
async fn a_reviewed_claim_exports_as_claimreview_and_reimports_idempotently() {
    let app = spawn_app().await;
    let story = app.story("Export").await;
    let speaker = app
        .create("/v1/speakers", json!({ "name": "Fumio Kishida", "kind": "person", "role": "Prime Minister", "aliases": ["Kishida"] }))
        .await["id"]
        .as_i64()
        .unwrap();
    let body = "Prime Minister Fumio Kishida said Japan had held two rounds of talks.";
    let article = app.article(story, "https://news.example/talks", body).await;
    let claim = app
        .create("/v1/claims", json!({ "story_id": story, "speaker_id": speaker, "kind": "paraphrase",
            "text": "Japan held two rounds of talks", "appearances": [{ "article_id": article, "start": 40, "end": 68 }] }))
        .await["id"]
        .as_i64()
        .unwrap();
    let path = format!("/v1/claims/{claim}");
    assert_problem(app.get(&format!("{path}/claimreview")).await, 404).await;
    let tag = app.etag(&path).await;
    let res = app
        .client
        .post(app.url(&format!("{path}/reviews")))
        .header("if-match", tag)
        .json(
            &json!({ "verdict": "mostly_false", "rationale": "Only one round took place.",
                       "evidence": [{ "url": "https://gov.example/talks" }] }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);

    let res = app.get(&format!("{path}/claimreview")).await;
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/ld+json")
    );
    let doc: Value = res.json().await.unwrap();
    check_schema(&doc, &allowed());
    assert_eq!(doc["@context"], "https://schema.org");
    assert_eq!(doc["claimReviewed"], "Japan held two rounds of talks");
    assert_eq!(doc["reviewRating"]["ratingValue"], 2);
    assert_eq!(doc["reviewRating"]["bestRating"], 5);
    assert_eq!(doc["reviewRating"]["worstRating"], 1);
    assert_eq!(doc["reviewRating"]["alternateName"], "Mostly false");
    assert_eq!(doc["itemReviewed"]["@type"], "Claim");
    assert_eq!(doc["itemReviewed"]["author"]["name"], "Fumio Kishida");
    assert_eq!(doc["itemReviewed"]["author"]["jobTitle"], "Prime Minister");
    assert_eq!(
        doc["itemReviewed"]["appearance"][0]["url"],
        "https://news.example/talks"
    );
    assert!(doc["itemReviewed"]["datePublished"].is_string());
    assert!(doc["datePublished"].is_string() && doc["url"].is_string());
    assert_eq!(doc["author"]["name"], "admin");

    // Into another story: the speaker is matched, the claim and review created.
    let other = app.story("Imported").await;
    let first = import(&app, other, &doc).await;
    assert_eq!(
        (first["created"].as_u64(), first["matched"].as_u64()),
        (Some(1), Some(0)),
        "{first}"
    );
    assert_eq!(first["items"][0]["speaker_id"], speaker);
    let imported = first["items"][0]["claim_id"].as_i64().unwrap();
    let copy = app.get_json(&format!("/v1/claims/{imported}")).await;
    assert_eq!(copy["status"], "false");
    assert_eq!(copy["story_id"], other);

    // Again: nothing new.
    let before = app.row_counts().await;
    let again = import(&app, other, &json!([doc])).await;
    assert_eq!(
        (again["created"].as_u64(), again["matched"].as_u64()),
        (Some(0), Some(1)),
        "{again}"
    );
    assert_eq!(again["items"][0]["claim_id"], imported);
    assert_eq!(
        app.row_counts().await,
        before,
        "a repeated import wrote something"
    );
}

#[tokio::test]
async fn a_data_feed_imports_item_by_item_with_a_report() {
    let app = spawn_app().await;
    let story = app.story("Feed").await;
    app.create(
        "/v1/speakers",
        json!({ "name": "Fumio Kishida", "kind": "person", "aliases": ["Kishida"] }),
    )
    .await;
    let feed = json!({
        "@context": "https://schema.org", "@type": "DataFeed",
        "dataFeedElement": [
            { "@type": "DataFeedItem", "item": [{
                "@type": "ClaimReview", "url": "https://checker.example/1", "claimReviewed": "The abduction issue has been settled",
                "author": { "@type": "Organization", "name": "Checker" },
                "itemReviewed": { "@type": "Claim", "author": { "@type": "GovernmentOrganization", "name": "DPRK Foreign Ministry" } },
                "reviewRating": { "@type": "Rating", "ratingValue": 1, "bestRating": 5, "worstRating": 1, "alternateName": "False" } }] },
            { "@type": "DataFeedItem", "item": {
                "@type": "ClaimReview", "url": "https://checker.example/2", "claimReviewed": "Japan seeks the return of 12 abductees",
                "itemReviewed": { "@type": "Claim", "author": { "@type": "Person", "name": "kishida" } },
                "reviewRating": { "@type": "Rating", "alternateName": "Pants on Fire!" } } },
            { "@type": "DataFeedItem", "item": {
                "@type": "ClaimReview", "url": "https://checker.example/3", "claimReviewed": "No rating here",
                "itemReviewed": { "@type": "Claim", "author": { "@type": "Person", "name": "Someone" } } } }
        ]
    });
    let report = import(&app, story, &feed).await;
    assert_eq!(
        (report["created"].as_u64(), report["rejected"].as_u64()),
        (Some(2), Some(1)),
        "{report}"
    );
    assert!(
        report["items"][2]["reason"]
            .as_str()
            .unwrap()
            .contains("reviewRating")
    );
    let kishida = app.get_json("/v1/speakers?q=kishida").await["items"][0]["id"].clone();
    assert_eq!(
        report["items"][1]["speaker_id"], kishida,
        "matched by alias, ignoring case"
    );
    let dprk = app
        .get_json(&format!(
            "/v1/speakers/{}",
            report["items"][0]["speaker_id"]
        ))
        .await;
    assert_eq!(dprk["kind"], "government");
    assert_problem(
        app.post_json("/v1/import/claimreview?story=9999", &feed)
            .await,
        422,
    )
    .await;
    assert_problem(app.post_json("/v1/import/claimreview", &feed).await, 400).await;
}

#[tokio::test]
async fn claims_can_name_their_speaker_by_alias_or_title() {
    let app = spawn_app().await;
    let story = app.story("Aliases").await;
    let id = app
        .create("/v1/speakers", json!({ "name": "Fumio Kishida", "kind": "person", "role": "Prime Minister", "aliases": ["Kishida"] }))
        .await["id"]
        .clone();
    for name in ["Kishida", "prime minister fumio kishida", "Fumio Kishida"] {
        let claim = app
            .create("/v1/claims", json!({ "story_id": story, "speaker": name, "kind": "paraphrase", "text": format!("Said as {name}") }))
            .await;
        assert_eq!(claim["speaker_id"], id, "{name}");
    }
    let res = app.post_json("/v1/claims", &json!({ "story_id": story, "speaker": "Shinzo Abe", "kind": "paraphrase", "text": "x" })).await;
    let problem = assert_problem(res, 422).await;
    assert_eq!(problem["errors"][0]["field"], "speaker");
    let res = app
        .post_json(
            "/v1/claims",
            &json!({ "story_id": story, "kind": "paraphrase", "text": "x" }),
        )
        .await;
    assert_problem(res, 422).await;
}

#[tokio::test]
async fn merging_speakers_moves_their_claims_as_new_revisions() {
    let app = spawn_app().await;
    let story = app.story("Merge").await;
    let a = app
        .create(
            "/v1/speakers",
            json!({ "name": "Fumio Kishida", "kind": "person", "aliases": ["Kishida"] }),
        )
        .await["id"]
        .as_i64()
        .unwrap();
    let b = app
        .create(
            "/v1/speakers",
            json!({ "name": "PM Kishida", "kind": "person", "aliases": ["the Prime Minister"] }),
        )
        .await["id"]
        .as_i64()
        .unwrap();
    let c1 = app.claim(story, b, "Japan will keep talking").await["id"]
        .as_i64()
        .unwrap();
    let c2 = app.claim(story, b, "Talks will continue in Mongolia").await["id"]
        .as_i64()
        .unwrap();
    let kept = app.claim(story, a, "Already right").await["id"]
        .as_i64()
        .unwrap();

    let res = app
        .post_json(&format!("/v1/speakers/{b}/merge"), &json!({ "into": a }))
        .await;
    assert_eq!(res.status(), 200);
    let merged: Value = res.json().await.unwrap();
    assert_eq!(merged["claims_moved"], json!([c1, c2]));
    assert_eq!(
        merged["speaker"]["aliases"],
        json!(["Kishida", "PM Kishida", "the Prime Minister"])
    );
    for id in [c1, c2] {
        let claim = app.get_json(&format!("/v1/claims/{id}")).await;
        assert_eq!(
            (claim["speaker_id"].as_i64(), claim["revision"].as_i64()),
            (Some(a), Some(2))
        );
        let first = app.get_json(&format!("/v1/claims/{id}/revisions/1")).await;
        assert_eq!(first["speaker_id"], b, "history keeps the old attribution");
    }
    assert_eq!(
        app.get_json(&format!("/v1/claims/{kept}")).await["revision"],
        1
    );
    assert_eq!(
        app.get_json(&format!("/v1/speakers/{b}")).await["merged_into"],
        a
    );
    let by_alias = app.create("/v1/claims", json!({ "story_id": story, "speaker": "the prime minister", "kind": "paraphrase", "text": "x" })).await;
    assert_eq!(by_alias["speaker_id"], a);
    assert_problem(
        app.post_json(&format!("/v1/speakers/{b}/merge"), &json!({ "into": a }))
            .await,
        409,
    )
    .await;
    assert_problem(
        app.post_json(&format!("/v1/speakers/{a}/merge"), &json!({ "into": a }))
            .await,
        422,
    )
    .await;
    assert_problem(
        app.post_json(&format!("/v1/speakers/{a}/merge"), &json!({ "into": 999 }))
            .await,
        422,
    )
    .await;
    assert_problem(
        app.post_json("/v1/speakers/999/merge", &json!({ "into": a }))
            .await,
        404,
    )
    .await;
}
