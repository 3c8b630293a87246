//! Claim diffs, versioned articles, and claims that follow article edits.

use claimtrail::domain::diff::{TextOp, apply_ops};
use serde_json::{Value, json};

use crate::example_story::span;
use crate::helpers::{TestApp, assert_problem, spawn_app};

async fn claim_with_revisions(app: &TestApp) -> (i64, String) {
    let story = app.story("Diffs").await;
    let speaker = app.speaker("Ana Robles", "person").await;
    let other = app.speaker("Luis Ferrer", "person").await;
    let id = app
        .claim(
            story,
            speaker,
            "Japan held several informal contacts this spring",
        )
        .await["id"]
        .as_i64()
        .unwrap();
    let path = format!("/v1/claims/{id}");
    for edit in [
        json!({ "text": "Japan held two informal contacts this spring", "reason": "count" }),
        json!({ "speaker_id": other, "confidence": 0.7, "reason": "speaker" }),
        json!({ "text": "Japan held two informal contacts in March and May", "reason": "dates" }),
    ] {
        assert_eq!(app.patch_json(&path, &edit, None).await.status(), 200);
    }
    (id, path)
}

#[tokio::test]
async fn claim_diffs_name_changed_fields_and_rebuild_the_text() {
    let app = spawn_app().await;
    let (id, path) = claim_with_revisions(&app).await;

    // Non-adjacent revisions.
    let diff = app.get_json(&format!("{path}/diff?from=1&to=3")).await;
    assert_eq!(diff["claim_id"], id);
    assert_eq!(diff["from"]["revision"], 1);
    assert_eq!(diff["to"]["revision"], 3);
    assert_eq!(diff["to"]["reason"], "speaker");
    let fields: Vec<&str> = diff["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["speaker_id", "text", "confidence"]);
    let ops: Vec<TextOp> = serde_json::from_value(diff["text"]["ops"].clone()).unwrap();
    let old = "Japan held several informal contacts this spring";
    assert_eq!(
        apply_ops(old, &ops).unwrap(),
        "Japan held two informal contacts this spring"
    );
    let changed: Vec<(&str, &str)> = diff["text"]["ops"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["op"] != "equal")
        .map(|o| (o["op"].as_str().unwrap(), o["text"].as_str().unwrap()))
        .collect();
    assert_eq!(changed, [("delete", "several"), ("insert", "two")]);
    assert!(
        diff["text"]["unified"]
            .as_str()
            .unwrap()
            .contains("-Japan held several informal contacts this spring\n+Japan held two")
    );

    // Reverse order: the operations turn the later text back into the earlier one.
    let back = app.get_json(&format!("{path}/diff?from=4&to=1")).await;
    let ops: Vec<TextOp> = serde_json::from_value(back["text"]["ops"].clone()).unwrap();
    assert_eq!(
        apply_ops("Japan held two informal contacts in March and May", &ops).unwrap(),
        old
    );

    // Default: previous → current.
    let latest = app.get_json(&format!("{path}/diff")).await;
    assert_eq!(
        (
            latest["from"]["revision"].as_i64(),
            latest["to"]["revision"].as_i64()
        ),
        (Some(3), Some(4))
    );
    assert_eq!(latest["changes"].as_array().unwrap().len(), 1);

    // Unchanged text: no text diff.
    let speaker_only = app.get_json(&format!("{path}/diff?from=2&to=3")).await;
    assert!(speaker_only["text"].is_null());
    assert!(
        speaker_only["changes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["field"] != "text")
    );

    // The unified diff alone.
    for res in [
        app.get(&format!("{path}/diff?from=1&to=2&format=unified"))
            .await,
        app.client
            .get(app.url(&format!("{path}/diff?from=1&to=2")))
            .header("Accept", "text/x-diff")
            .send()
            .await
            .unwrap(),
    ] {
        assert_eq!(res.status(), 200);
        assert!(
            res.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/x-diff")
        );
        let text = res.text().await.unwrap();
        assert!(
            text.starts_with(&format!(
                "--- claim {id} revision 1\n+++ claim {id} revision 2\n"
            )),
            "{text}"
        );
        assert!(
            text.contains("+Japan held two informal contacts this spring"),
            "{text}"
        );
    }

    assert_problem(app.get(&format!("{path}/diff?from=1&to=9")).await, 404).await;
    assert_problem(app.get("/v1/claims/4242/diff").await, 404).await;
    assert_problem(app.get(&format!("{path}/diff?from=0")).await, 422).await;
    assert_problem(app.get(&format!("{path}/diff?format=pdf")).await, 422).await;
}

fn article_body(app_story: i64, url: &str, body: &str, headline: &str) -> Value {
    json!({ "url": url, "outlet": "Harbor Wire", "headline": headline,
            "published_at": "2026-11-23T08:30:00Z", "body": body, "story_id": app_story })
}

#[tokio::test]
async fn a_repost_says_what_it_kept_and_finds_the_article_under_another_spelling() {
    let app = spawn_app().await;
    let story = app.story("Spellings").await;
    let v1 = "The ministry said on Monday that 17 citizens were aboard.";
    let created: Value = app
        .post_json(
            "/v1/articles",
            &article_body(
                story,
                "https://news.example/2026/ferry?utm_source=feed",
                v1,
                "Ferry",
            ),
        )
        .await
        .json()
        .await
        .unwrap();
    let id = created["id"].as_i64().unwrap();
    // Campaign tags are not part of an article's address.
    assert_eq!(created["url"], "https://news.example/2026/ferry");
    assert!(created.get("warnings").is_none(), "{created}");

    // The same body under a trailing slash, another outlet name and another
    // publication time: the same article, unchanged, and the reply says what
    // it did not take.
    let mut same = article_body(story, "https://news.example/2026/ferry/", v1, "Ferry");
    same["outlet"] = json!("Harbour Wire");
    same["published_at"] = json!("2026-11-24T08:30:00Z");
    let before = app.row_counts().await;
    let res = app.post_json("/v1/articles", &same).await;
    assert_eq!(res.status(), 200);
    let same: Value = res.json().await.unwrap();
    assert_eq!(same["outcome"], "unchanged");
    assert_eq!(same["id"], id);
    assert_eq!(
        same["previous_revision"], 1,
        "the revision in force before the post"
    );
    assert_eq!(same["outlet"], "Harbor Wire");
    let warnings: Vec<&str> = same["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap())
        .collect();
    assert_eq!(warnings.len(), 3, "{warnings:?}");
    assert!(warnings[0].starts_with("url:"), "{warnings:?}");
    assert!(warnings[1].starts_with("outlet:"), "{warnings:?}");
    assert!(warnings[2].starts_with("published_at:"), "{warnings:?}");
    assert_eq!(
        app.row_counts().await,
        before,
        "an unchanged repost wrote something"
    );

    // A changed body under the other spelling revises the same article.
    let v2 = "The ministry said on Monday that 18 citizens were aboard.";
    let revised: Value = app
        .post_json(
            "/v1/articles",
            &article_body(
                story,
                "https://news.example/2026/ferry/?fbclid=abc",
                v2,
                "Ferry",
            ),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(revised["outcome"], "revised");
    assert_eq!(revised["id"], id);
    assert_eq!(revised["previous_revision"], 1);
    assert_eq!(revised["url"], "https://news.example/2026/ferry");
}

#[tokio::test]
async fn reposting_an_article_versions_it_only_when_it_changed() {
    let app = spawn_app().await;
    let story = app.story("Versions").await;
    let url = "https://news.example/versions";
    let v1 = "The ministry said on Monday that 17 citizens were aboard. Divers resumed the search.";
    let created = app
        .post_json("/v1/articles", &article_body(story, url, v1, "Ferry"))
        .await;
    assert_eq!(created.status(), 201);
    let created: Value = created.json().await.unwrap();
    assert_eq!(created["outcome"], "created");
    let id = created["id"].as_i64().unwrap();

    let before = app.row_counts().await;
    let same = app
        .post_json(
            "/v1/articles",
            &article_body(story, "https://NEWS.example/versions#top", v1, "Ferry"),
        )
        .await;
    assert_eq!(same.status(), 200);
    let same: Value = same.json().await.unwrap();
    assert_eq!(same["outcome"], "unchanged");
    assert_eq!(same["revision"], 1);
    assert_eq!(
        app.row_counts().await,
        before,
        "a no-op repost wrote something"
    );

    let headline_only = app
        .post_json(
            "/v1/articles",
            &article_body(story, url, v1, "Ferry: 17 aboard"),
        )
        .await;
    assert_eq!(headline_only.status(), 201);
    assert_eq!(
        headline_only.headers()["location"],
        format!("/v1/articles/{id}/revisions/2").as_str()
    );
    let v3 = "The ministry said on Monday that 18 citizens were aboard. Divers resumed the search at dawn.";
    let mut body = article_body(story, url, v3, "Ferry: 18 aboard");
    body["reason"] = json!("correction: 18, not 17");
    let revised: Value = app
        .post_json("/v1/articles", &body)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(revised["outcome"], "revised");
    assert_eq!(revised["revision"], 3);
    assert_eq!(revised["previous_revision"], 2);

    let revisions = app.get_json(&format!("/v1/articles/{id}/revisions")).await;
    let items = revisions["items"].as_array().unwrap();
    assert_eq!(items.len(), 3);
    assert_eq!(items[2]["reason"], "correction: 18, not 17");
    assert!(
        items[0].get("body").is_none(),
        "revision lists leave bodies out"
    );
    assert_eq!(
        app.get_json(&format!("/v1/articles/{id}/revisions/1"))
            .await["body"],
        v1
    );
    assert_eq!(
        app.get_json(&format!("/v1/articles/{id}")).await["body"],
        v3
    );

    let diff = app
        .get_json(&format!("/v1/articles/{id}/diff?from=1&to=3"))
        .await;
    assert_eq!(diff["headline"]["old"], "Ferry");
    assert_eq!(diff["headline"]["new"], "Ferry: 18 aboard");
    let ops: Vec<TextOp> = serde_json::from_value(diff["ops"].clone()).unwrap();
    assert_eq!(apply_ops(v1, &ops).unwrap(), v3);
    let unified = diff["unified"].as_str().unwrap();
    assert!(
        unified.contains("-The ministry said on Monday that 17 citizens were aboard."),
        "{unified}"
    );
    assert!(
        unified.contains("+Divers resumed the search at dawn."),
        "{unified}"
    );
    assert_eq!(diff["truncated"], false);

    let cut = app
        .get_json(&format!("/v1/articles/{id}/diff?from=1&to=3&max_ops=1"))
        .await;
    assert_eq!(cut["truncated"], true);
    assert_eq!(cut["ops"].as_array().unwrap().len(), 1);
    let text = app
        .get(&format!(
            "/v1/articles/{id}/diff?from=3&to=1&format=unified"
        ))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        text.starts_with(&format!("--- article {id} revision 3\n")),
        "{text}"
    );

    assert_problem(
        app.get(&format!("/v1/articles/{id}/revisions/7")).await,
        404,
    )
    .await;
    assert_problem(app.get(&format!("/v1/articles/{id}/diff?to=7")).await, 404).await;
}

#[tokio::test]
async fn an_article_edit_moves_alters_and_removes_claim_spans() {
    let app = spawn_app().await;
    let story = app.story("Carried").await;
    let speaker = app.speaker("Interior Ministry", "government").await;
    let url = "https://news.example/carried";
    let v1 = "Officials said the bridge would reopen next week. The mayor denied any delay. Repairs cost 3 million pesos.";
    let article = app
        .create("/v1/articles", article_body(story, url, v1, "Bridge"))
        .await["id"]
        .as_i64()
        .unwrap();
    let other_article = app
        .create(
            "/v1/articles",
            article_body(
                story,
                "https://news.example/elsewhere",
                "The bridge would reopen.",
                "Other",
            ),
        )
        .await["id"]
        .as_i64()
        .unwrap();

    let mut claims = Vec::new();
    for needle in [
        "the bridge would reopen next week",
        "The mayor denied any delay",
        "Repairs cost 3 million pesos.",
    ] {
        let (start, end) = span(v1, needle);
        let mut appearances = vec![json!({ "article_id": article, "start": start, "end": end })];
        if claims.is_empty() {
            appearances.push(json!({ "article_id": other_article, "start": 4, "end": 23 }));
        }
        let created = app
            .create(
                "/v1/claims",
                json!({ "story_id": story, "speaker_id": speaker, "kind": "paraphrase", "text": needle,
                        "appearances": appearances }),
            )
            .await;
        claims.push(created["id"].as_i64().unwrap());
    }
    let untouched = app.claim(story, speaker, "No appearance at all").await["id"]
        .as_i64()
        .unwrap();

    let v2 = "Late on Friday, officials said the bridge would reopen next week. The mayor did not deny a delay. ";
    let res = app
        .post_json("/v1/articles", &article_body(story, url, v2, "Bridge"))
        .await;
    assert_eq!(res.status(), 201);
    let revised: Value = res.json().await.unwrap();
    let affected = revised["claims_affected"].as_array().unwrap();
    assert_eq!(affected.len(), 3);
    let by_claim = |id: i64| {
        affected
            .iter()
            .find(|c| c["claim_id"] == id)
            .unwrap()
            .clone()
    };

    let moved = by_claim(claims[0]);
    assert_eq!(moved["revision"], 2);
    assert_eq!(moved["needs_review"], false);
    assert_eq!(moved["appearances"][0]["state"], "present");
    let (start, end) = span(v2, "the bridge would reopen next week");
    assert_eq!(moved["appearances"][0]["new"]["start"], start);
    assert_eq!(moved["appearances"][0]["new"]["end"], end);
    assert_eq!(
        moved["appearances"][0]["new"]["text"],
        "the bridge would reopen next week"
    );

    let altered = by_claim(claims[1]);
    assert_eq!(altered["needs_review"], true);
    assert_eq!(altered["appearances"][0]["state"], "altered");
    assert_eq!(
        altered["appearances"][0]["old"]["text"],
        "The mayor denied any delay"
    );
    let new_text = altered["appearances"][0]["new"]["text"].as_str().unwrap();
    assert!(
        new_text.contains("did not deny") && new_text.contains("delay"),
        "{new_text}"
    );

    let removed = by_claim(claims[2]);
    assert_eq!(removed["needs_review"], true);
    assert_eq!(removed["appearances"][0]["state"], "removed");
    assert!(removed["appearances"][0].get("new").is_none());

    // The claims themselves: new revisions with new appearance rows.
    let first = app.get_json(&format!("/v1/claims/{}", claims[0])).await;
    assert_eq!(first["revision"], 2);
    let states: Vec<(i64, i64, &str)> = first["appearances"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["article_id"].as_i64().unwrap(),
                a["article_revision"].as_i64().unwrap(),
                a["state"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        states,
        [(article, 2, "present"), (other_article, 1, "present")]
    );
    let gone = app.get_json(&format!("/v1/claims/{}", claims[2])).await;
    assert_eq!(gone["appearances"][0]["state"], "removed");
    assert_eq!(
        gone["appearances"][0]["previous_excerpt"],
        "Repairs cost 3 million pesos."
    );
    assert_eq!(gone["needs_review"], true);
    // The old revision still says where the claim appeared before the edit.
    let before_edit = app
        .get_json(&format!("/v1/claims/{}/revisions/1", claims[2]))
        .await;
    assert_eq!(
        before_edit["appearances"][0]["excerpt"],
        "Repairs cost 3 million pesos."
    );
    assert_eq!(before_edit["appearances"][0]["article_revision"], 1);
    let diff = app
        .get_json(&format!("/v1/claims/{}/diff", claims[1]))
        .await;
    let fields: Vec<&str> = diff["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["needs_review", "appearances"]);
    assert_eq!(
        app.get_json(&format!("/v1/claims/{untouched}")).await["revision"],
        1
    );

    // A further edit carries every appearance on the article: what is still
    // there, and the removed one as a removed row of the new revision.
    let v3 = "Late on Friday, officials said the bridge would reopen next week.";
    let again: Value = app
        .post_json("/v1/articles", &article_body(story, url, v3, "Bridge"))
        .await
        .json()
        .await
        .unwrap();
    let ids: Vec<i64> = again["claims_affected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["claim_id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, vec![claims[0], claims[1], claims[2]]);
    let still_gone = &again["claims_affected"][2]["appearances"][0];
    assert_eq!(still_gone["state"], "removed");
    assert_eq!(still_gone["old"]["text"], "Repairs cost 3 million pesos.");
}

#[tokio::test]
async fn a_removed_sentence_that_comes_back_is_found_again() {
    let app = spawn_app().await;
    let story = app.story("Restored").await;
    let speaker = app.speaker("Luis Ferrer", "person").await;
    let url = "https://news.example/restored";
    let claim_text = "The sea was calm when the distress call came in.";
    let v1 = format!("The ferry sank on Friday. {claim_text} Families waited at the port.");
    let article = app
        .post_json("/v1/articles", &article_body(story, url, &v1, "Ferry"))
        .await
        .json::<Value>()
        .await
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let start = v1[..v1.find(claim_text).unwrap()].chars().count();
    let end = start + claim_text.chars().count();
    let id = app
        .create(
            "/v1/claims",
            json!({ "story_id": story, "speaker_id": speaker, "kind": "paraphrase", "text": claim_text,
                    "appearances": [{ "article_id": article, "start": start, "end": end }] }),
        )
        .await["id"]
        .as_i64()
        .unwrap();
    let post = async |body: &str| -> Value {
        let res = app
            .post_json("/v1/articles", &article_body(story, url, body, "Ferry"))
            .await;
        assert_eq!(res.status(), 201);
        res.json().await.unwrap()
    };
    let state_of = |posted: &Value| posted["claims_affected"][0]["appearances"][0]["state"].clone();

    // Revision 2: the sentence is cut.
    let v2 = "The ferry sank on Friday. Families waited at the port.";
    assert_eq!(state_of(&post(v2).await), "removed");
    // Revision 3: another edit; the sentence is still missing, and the claim
    // keeps a removed row for this revision too, with what it said.
    let v3 = "The ferry sank on Friday. Families waited at the port all night.";
    let third = post(v3).await;
    assert_eq!(state_of(&third), "removed");
    assert_eq!(
        third["claims_affected"][0]["appearances"][0]["old"]["text"],
        claim_text
    );
    let claim = app.get_json(&format!("/v1/claims/{id}")).await;
    assert_eq!(claim["appearances"][0]["article_revision"], 3);
    assert_eq!(claim["appearances"][0]["state"], "removed");
    assert_eq!(claim["appearances"][0]["previous_excerpt"], claim_text);
    // Revision 4: the sentence is back, elsewhere: found again.
    let v4 =
        format!("The ferry sank on Friday. Families waited at the port all night. {claim_text}");
    let fourth = post(&v4).await;
    assert_eq!(state_of(&fourth), "restored");
    assert_eq!(fourth["claims_affected"][0]["needs_review"], true);
    let claim = app.get_json(&format!("/v1/claims/{id}")).await;
    let appearance = &claim["appearances"][0];
    assert_eq!(appearance["article_revision"], 4);
    assert_eq!(appearance["state"], "restored");
    assert_eq!(appearance["excerpt"], claim_text);
    let at = v4[..v4.find(claim_text).unwrap()].chars().count();
    assert_eq!(appearance["start"], at);
}
