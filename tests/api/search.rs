//! Full-text search, duplicate suggestions and a speaker's claims.

use serde_json::{Value, json};

use crate::helpers::{assert_problem, spawn_app};

#[tokio::test]
async fn search_ranks_claims_speakers_and_headlines() {
    let app = spawn_app().await;
    let story = app.story("Ferry").await;
    let other = app.story("Elections").await;
    let minister = app
        .create("/v1/speakers", json!({ "name": "Ana Robles", "kind": "person", "role": "Interior Minister", "aliases": ["Robles"] }))
        .await["id"]
        .as_i64()
        .unwrap();
    let divers = app
        .claim(
            story,
            minister,
            "Divers will resume the search for the ferry passengers at dawn",
        )
        .await["id"]
        .as_i64()
        .unwrap();
    app.claim(other, minister, "Turnout reached a record high")
        .await;
    app.create("/v1/articles", json!({ "url": "https://news.example/ferry", "outlet": "Wire", "headline": "Divers to resume ferry search",
        "published_at": "2026-11-23T08:00:00Z", "body": "Body.", "story_id": story })).await;

    let hits = app.get_json("/v1/search?q=divers%20search").await;
    let kinds: Vec<&str> = hits["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["kind"].as_str().unwrap())
        .collect();
    assert!(
        kinds.contains(&"claim") && kinds.contains(&"article"),
        "{hits}"
    );
    let claim_hit = hits["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["kind"] == "claim")
        .unwrap();
    assert_eq!(claim_hit["id"], divers);
    assert!(
        claim_hit["snippet"]
            .as_str()
            .unwrap()
            .contains("**Divers**"),
        "{claim_hit}"
    );

    let speakers = app.get_json("/v1/search?q=robles&types=speaker").await;
    assert_eq!(speakers["items"][0]["kind"], "speaker");
    assert_eq!(speakers["items"][0]["id"], minister);
    let turnout = app
        .get_json(&format!("/v1/search?q=record&story={story}"))
        .await;
    assert_eq!(
        turnout["items"].as_array().unwrap().len(),
        0,
        "the story filter applies"
    );
    let verified = app.get_json("/v1/search?q=divers&status=verified").await;
    assert_eq!(verified["items"].as_array().unwrap().len(), 0);
    let phrase = app
        .get_json("/v1/search?q=%22resume%20the%20search%22&types=claim")
        .await;
    assert_eq!(phrase["items"].as_array().unwrap().len(), 1);

    assert_problem(app.get("/v1/search?q=").await, 422).await;
    assert_problem(app.get("/v1/search?q=x&types=tweets").await, 422).await;
    assert_problem(app.get("/v1/search").await, 400).await;

    let by_speaker = app
        .get_json(&format!("/v1/speakers/{minister}/claims"))
        .await;
    assert_eq!(by_speaker["items"].as_array().unwrap().len(), 2);
    assert_problem(app.get("/v1/speakers/9999/claims").await, 404).await;
}

#[tokio::test]
async fn the_same_wire_claim_from_two_outlets_is_flagged_as_a_likely_duplicate() {
    let app = spawn_app().await;
    let story = app.story("Wire claim").await;
    let sources = app
        .speaker("sources close to the matter", "anonymous")
        .await;
    let first = app
        .claim(
            story,
            sources,
            "Japan engaged in several informal contacts with North Korea this spring",
        )
        .await;
    assert_eq!(first["likely_duplicates"], json!([]));
    let second: Value = app
        .claim(
            story,
            sources,
            "Japan engaged in several informal contacts with North Korea this spring, sources said",
        )
        .await;
    let dupes = second["likely_duplicates"].as_array().unwrap();
    assert_eq!(dupes.len(), 1);
    assert_eq!(dupes[0]["id"], first["id"]);
    assert!(dupes[0]["similarity"].as_f64().unwrap() >= 0.5);
    let unrelated = app
        .claim(story, sources, "The ferry operator denied overloading")
        .await;
    assert_eq!(unrelated["likely_duplicates"], json!([]));
}
