//! Full-text search, duplicate suggestions and a speaker's claims.

use serde_json::{Value, json};

use crate::helpers::{assert_problem, invalid_fields, spawn_app};

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
    // Left out or empty, `q` is named.
    let problem = assert_problem(app.get("/v1/search").await, 422).await;
    assert_eq!(invalid_fields(&problem), ["q"]);

    let by_speaker = app
        .get_json(&format!("/v1/speakers/{minister}/claims"))
        .await;
    assert_eq!(by_speaker["items"].as_array().unwrap().len(), 2);
    assert_problem(app.get("/v1/speakers/9999/claims").await, 404).await;
}

/// Every claim matching `q`, ranked as PostgreSQL ranks them all
/// (ts_rank, then id), read straight from the database.
async fn fully_ranked(app: &crate::helpers::TestApp, q: &str, story: Option<i64>) -> Vec<i64> {
    use diesel::QueryableByName;
    use diesel::sql_types::{BigInt, Nullable, Text};
    use diesel_async::RunQueryDsl;
    #[derive(QueryableByName)]
    struct Id {
        #[diesel(sql_type = BigInt)]
        id: i64,
    }
    let mut conn = app.db().await;
    let rows: Vec<Id> = diesel::sql_query(
        "SELECT c.id FROM claims c, websearch_to_tsquery('english', $1) q \
          WHERE c.search_vector @@ q AND ($2::int8 IS NULL OR c.story_id = $2) \
          ORDER BY ts_rank(c.search_vector, q) DESC, c.id",
    )
    .bind::<Text, _>(q)
    .bind::<Nullable<BigInt>, _>(story)
    .load(&mut conn)
    .await
    .unwrap();
    rows.into_iter().map(|r| r.id).collect()
}

/// Claim ids of every page of a search, following `next_cursor`.
async fn searched(app: &crate::helpers::TestApp, query: &str) -> Vec<i64> {
    let mut seen = Vec::new();
    let mut path = format!("/v1/search?{query}&types=claim&limit=3");
    loop {
        let page = app.get_json(&path).await;
        seen.extend(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|h| h["id"].as_i64().unwrap()),
        );
        match page["next_cursor"].as_str() {
            Some(cursor) => {
                path = format!("/v1/search?{query}&types=claim&limit=3&cursor={cursor}")
            }
            None => return seen,
        }
    }
}

#[tokio::test]
async fn a_one_word_search_pages_through_the_same_hits_as_ranking_every_match() {
    let app = spawn_app().await;
    let story = app.story("Ministry statements").await;
    let other = app.story("Elsewhere").await;
    let speaker = app.speaker("Spokesperson", "person").await;
    for i in 0..7 {
        app.claim(
            story,
            speaker,
            &format!("The ministry confirmed figure {i}"),
        )
        .await;
        app.claim(other, speaker, &format!("The ministry denied report {i}"))
            .await;
    }
    // Later claims that say the word more than once outrank every claim
    // that says it once, whatever their age.
    let twice = app
        .claim(
            story,
            speaker,
            "The ministry said the ministries would cooperate",
        )
        .await["id"]
        .as_i64()
        .unwrap();
    let thrice = app
        .claim(
            other,
            speaker,
            "Ministry, ministry, ministry: the chant went on",
        )
        .await["id"]
        .as_i64()
        .unwrap();

    let all = searched(&app, "q=ministry").await;
    assert_eq!(all.len(), 16);
    assert_eq!(all[..2], [thrice, twice]);
    assert_eq!(all, fully_ranked(&app, "ministry", None).await);

    let in_story = searched(&app, &format!("q=Ministries&story={story}")).await;
    assert_eq!(in_story.len(), 8);
    assert_eq!(in_story[0], twice);
    assert_eq!(
        in_story,
        fully_ranked(&app, "ministries", Some(story)).await
    );

    // Two words are ranked by how close they stand, not by a tier.
    let two = searched(&app, "q=ministry%20confirmed").await;
    assert_eq!(two, fully_ranked(&app, "ministry confirmed", None).await);
    assert_eq!(two.len(), 7);
}

#[tokio::test]
async fn the_same_wire_claim_from_two_outlets_is_flagged_as_a_likely_duplicate() {
    let app = spawn_app().await;
    let story = app.story("Wire claim").await;
    let sources = app
        .speaker("sources close to the matter", "anonymous")
        .await;
    let wire =
        "Japan engaged in several informal contacts with North Korea this spring, sources said.";
    let mut ids = Vec::new();
    for (outlet, url, text) in [
        (
            "Harbor Wire",
            "https://harborwire.example/talks",
            "Japan engaged in several informal contacts with North Korea this spring",
        ),
        (
            "Daily Ledger",
            "https://dailyledger.example/talks",
            "Japan engaged in several informal contacts with North Korea this spring, sources said",
        ),
    ] {
        let article = app
            .create("/v1/articles", json!({ "url": url, "outlet": outlet, "headline": "Talks", "published_at": "2026-11-20T09:00:00Z",
                "body": wire, "story_id": story }))
            .await["id"]
            .as_i64()
            .unwrap();
        let claim = app
            .create("/v1/claims", json!({ "story_id": story, "speaker_id": sources, "kind": "paraphrase", "text": text,
                "appearances": [{ "article_id": article, "start": 0, "end": 71 }] }))
            .await;
        ids.push(claim["id"].as_i64().unwrap());
        if ids.len() == 1 {
            assert_eq!(claim["likely_duplicates"], json!([]));
        } else {
            let dupes = claim["likely_duplicates"].as_array().unwrap();
            assert_eq!(dupes.len(), 1, "{claim}");
            assert_eq!(dupes[0]["id"], ids[0]);
            assert!(dupes[0]["similarity"].as_f64().unwrap() >= 0.5);
        }
    }
    // The editor folds the second into the first: one claim, two appearances.
    let second = app.get_json(&format!("/v1/claims/{}", ids[1])).await;
    let first_path = format!("/v1/claims/{}", ids[0]);
    let first = app.get_json(&first_path).await;
    let mut appearances: Vec<Value> = first["appearances"].as_array().unwrap().clone();
    appearances.extend(second["appearances"].as_array().unwrap().iter().cloned());
    let spans: Vec<Value> = appearances
        .iter()
        .map(|a| json!({ "article_id": a["article_id"], "start": a["start"], "end": a["end"] }))
        .collect();
    let res = app
        .patch_json(
            &first_path,
            &json!({ "appearances": spans, "reason": "same wire claim in two outlets" }),
            None,
        )
        .await;
    assert_eq!(
        res.json::<Value>().await.unwrap()["appearances"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let res = app
        .post_json(
            &format!("/v1/claims/{}/relations", ids[1]),
            &json!({ "kind": "duplicates", "target_id": ids[0] }),
        )
        .await;
    assert_eq!(res.status(), 201);
    let unrelated = app
        .claim(story, sources, "The ferry operator denied overloading")
        .await;
    assert_eq!(unrelated["likely_duplicates"], json!([]));
}

#[tokio::test]
async fn likely_duplicates_are_found_in_any_script_whatever_the_server_locale() {
    // The test cluster runs in the C locale, where pg_trgm sees no letter
    // outside ASCII: the similarity is computed by the service.
    let app = spawn_app().await;
    let story = app.story("Scripts").await;
    let speaker = app.speaker("Ana Robles", "person").await;
    for (text, twin) in [
        (
            "政府は十七人の市民を特定したと発表した",
            "政府は十八人の市民を特定したと発表した",
        ),
        (
            "Η κυβέρνηση ταυτοποίησε δεκαεπτά πολίτες",
            "Η ΚΥΒΕΡΝΗΣΗ ΤΑΥΤΟΠΟΙΗΣΕ ΔΕΚΑΕΠΤΑ ΠΟΛΙΤΕΣ",
        ),
        (
            "قال رئيس الوزراء إن الجسر سيفتح الأسبوع المقبل",
            "قال رئيس الوزراء إن الجسر سيفتح في الأسبوع المقبل",
        ),
    ] {
        let first = app.claim(story, speaker, text).await;
        let second = app.claim(story, speaker, twin).await;
        let dupes = second["likely_duplicates"].as_array().unwrap();
        assert_eq!(dupes.len(), 1, "{second}");
        assert_eq!(dupes[0]["id"], first["id"]);
        let similarity = dupes[0]["similarity"].as_f64().unwrap();
        assert!((0.5..=1.0).contains(&similarity), "{similarity}");
    }
}

#[tokio::test]
async fn likely_duplicates_follow_a_claims_current_text() {
    let app = spawn_app().await;
    let story = app.story("Edits").await;
    let speaker = app.speaker("Ana Robles", "person").await;
    let wire = "The ministry said the bridge will reopen to traffic next Tuesday";
    let ferry = app
        .claim(
            story,
            speaker,
            "The ferry operator denied overloading the boat",
        )
        .await;
    let path = format!("/v1/claims/{}", ferry["id"]);
    // Edited into the wire text, the claim is found as its twin...
    let res = app
        .patch_json(
            &path,
            &json!({ "text": wire, "reason": "wrong paste" }),
            None,
        )
        .await;
    assert_eq!(res.status(), 200);
    let copy = app.claim(story, speaker, wire).await;
    let ids: Vec<&Value> = copy["likely_duplicates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| &d["id"])
        .collect();
    assert_eq!(ids, [&ferry["id"]], "{copy}");
    // ...and edited back, it is no longer.
    let res = app
        .patch_json(
            &path,
            &json!({ "text": "The ferry operator denied overloading the boat", "reason": "undo" }),
            None,
        )
        .await;
    assert_eq!(res.status(), 200);
    let again = app.claim(story, speaker, wire).await;
    let ids: Vec<&Value> = again["likely_duplicates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| &d["id"])
        .collect();
    assert_eq!(ids, [&copy["id"]], "{again}");
}

#[tokio::test]
async fn a_text_logged_many_times_yields_its_five_newest_twins() {
    let app = spawn_app().await;
    let story = app.story("Wire").await;
    let speaker = app.speaker("Ana Robles", "person").await;
    let text = "Officials said the bridge would reopen next week after repairs";
    let mut ids = Vec::new();
    for _ in 0..8 {
        ids.push(
            app.claim(story, speaker, text).await["id"]
                .as_i64()
                .unwrap(),
        );
    }
    let last = app.claim(story, speaker, text).await;
    let found: Vec<i64> = last["likely_duplicates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_i64().unwrap())
        .collect();
    let newest: Vec<i64> = ids.iter().rev().take(5).copied().collect();
    assert_eq!(found, newest, "{last}");
}
