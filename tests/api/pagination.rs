//! Keyset pagination: stable cursors, no duplicates or gaps under inserts.

use std::collections::HashSet;

use serde_json::Value;

use crate::helpers::{TestApp, spawn_app};

async fn ids_of(page: &Value) -> Vec<i64> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_i64().unwrap())
        .collect()
}

/// Walks every page, inserting `insert_per_page` claims after each one.
async fn walk(
    app: &TestApp,
    story: i64,
    speaker: i64,
    order: &str,
    insert_per_page: usize,
) -> Vec<i64> {
    let mut seen = Vec::new();
    let mut path = format!("/v1/claims?story={story}&limit=7&order={order}");
    loop {
        let page = app.get_json(&path).await;
        seen.extend(ids_of(&page).await);
        for i in 0..insert_per_page {
            app.claim(story, speaker, &format!("inserted while paging {i}"))
                .await;
        }
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("/v1/claims?story={story}&limit=7&cursor={cursor}"),
            None => break,
        }
    }
    seen
}

#[tokio::test]
async fn newest_first_pages_see_exactly_the_claims_that_existed() {
    let app = spawn_app().await;
    let story = app.story("Paging").await;
    let other = app.story("Other").await;
    let speaker = app.speaker("Speaker", "person").await;
    let mut existing = Vec::new();
    for i in 0..30 {
        existing.push(
            app.claim(story, speaker, &format!("claim {i}")).await["id"]
                .as_i64()
                .unwrap(),
        );
        if i % 5 == 0 {
            app.claim(other, speaker, "in another story").await;
        }
    }
    let seen = walk(&app, story, speaker, "desc", 2).await;
    let unique: HashSet<i64> = seen.iter().copied().collect();
    assert_eq!(unique.len(), seen.len(), "duplicates in {seen:?}");
    existing.reverse();
    assert_eq!(
        seen, existing,
        "newest first, every claim once, none inserted later"
    );
}

#[tokio::test]
async fn oldest_first_pages_see_old_and_new_claims_once() {
    let app = spawn_app().await;
    let story = app.story("Paging asc").await;
    let speaker = app.speaker("Speaker", "person").await;
    for i in 0..20 {
        app.claim(story, speaker, &format!("claim {i}")).await;
    }
    let seen = walk(&app, story, speaker, "asc", 1).await;
    let unique: HashSet<i64> = seen.iter().copied().collect();
    assert_eq!(unique.len(), seen.len(), "duplicates in {seen:?}");
    let mut sorted = seen.clone();
    sorted.sort();
    assert_eq!(seen, sorted, "ascending ids");
    // Everything in the story at the end was seen: no gaps.
    let mut all = Vec::new();
    let mut path = format!("/v1/claims?story={story}&limit=200&order=asc");
    loop {
        let page = app.get_json(&path).await;
        all.extend(ids_of(&page).await);
        match page["next_cursor"].as_str() {
            Some(c) => path = format!("/v1/claims?story={story}&limit=200&cursor={c}"),
            None => break,
        }
    }
    assert!(seen.len() >= 20);
    assert_eq!(&all[..seen.len()], &seen[..]);
}

#[tokio::test]
async fn stories_and_speakers_are_listed_with_filters() {
    let app = spawn_app().await;
    for t in ["One", "Two", "Three"] {
        app.story(t).await;
    }
    let page = app.get_json("/v1/stories?limit=2").await;
    assert_eq!(page["items"].as_array().unwrap().len(), 2);
    assert_eq!(page["items"][0]["title"], "Three");
    let cursor = page["next_cursor"].as_str().unwrap().to_owned();
    let rest = app
        .get_json(&format!("/v1/stories?limit=2&cursor={cursor}"))
        .await;
    assert_eq!(rest["items"].as_array().unwrap().len(), 1);
    assert_eq!(rest["items"][0]["title"], "One");
    assert!(rest["next_cursor"].is_null());

    app.speaker("Ana Robles", "person").await;
    app.speaker("Interior Ministry", "government").await;
    app.speaker("officials", "anonymous").await;
    let anonymous = app.get_json("/v1/speakers?kind=anonymous").await;
    assert_eq!(anonymous["items"].as_array().unwrap().len(), 1);
    assert_eq!(anonymous["items"][0]["name"], "officials");
    let named = app.get_json("/v1/speakers?q=robl").await;
    assert_eq!(named["items"][0]["name"], "Ana Robles");
    let wildcard = app.get_json("/v1/speakers?q=%25").await;
    assert_eq!(
        wildcard["items"].as_array().unwrap().len(),
        0,
        "% is matched literally"
    );
}

/// Every item of a list, page by page at `limit=1`, checking the envelope.
async fn every_page(app: &TestApp, path: &str) -> Vec<Value> {
    let join = if path.contains('?') { '&' } else { '?' };
    let mut items = Vec::new();
    let mut next = format!("{path}{join}limit=1");
    for _ in 0..50 {
        let page = app.get_json(&next).await;
        let object = page.as_object().unwrap();
        assert_eq!(
            object.keys().map(String::as_str).collect::<Vec<_>>(),
            ["items", "next_cursor"],
            "{path}: one list envelope"
        );
        let got = page["items"].as_array().unwrap();
        assert!(got.len() <= 1, "{path}: limit=1 gave {}", got.len());
        items.extend(got.iter().cloned());
        match page["next_cursor"].as_str() {
            Some(cursor) => next = format!("{path}{join}limit=1&cursor={cursor}"),
            None => return items,
        }
    }
    panic!("{path}: more than 50 pages");
}

#[tokio::test]
async fn every_list_has_one_envelope_and_pages_with_a_cursor() {
    use claimtrail::domain::auth::Role;
    use serde_json::json;

    let app = spawn_app().await;
    app.token_for("rita", Role::Reviewer).await;
    let story = app.story("Envelopes").await;
    let speaker = app.speaker("Port Authority", "organization").await;
    let url = "https://news.example/envelopes";
    let article = app.article(story, url, "The port reopens on Monday.").await;
    for body in [
        "The port reopens on Tuesday.",
        "The port reopens on Wednesday.",
    ] {
        app.create(
            "/v1/articles",
            json!({ "url": url, "outlet": "Test Wire", "headline": "Port", "story_id": story,
                    "published_at": "2026-11-20T09:00:00Z", "body": body }),
        )
        .await;
    }
    let a = app
        .claim(story, speaker, "The port reopens on Monday")
        .await["id"]
        .as_i64()
        .unwrap();
    let b = app
        .claim(story, speaker, "The port stays shut all week")
        .await["id"]
        .as_i64()
        .unwrap();
    let c = app
        .claim(story, speaker, "The port reopens within days")
        .await["id"]
        .as_i64()
        .unwrap();
    let pa = format!("/v1/claims/{a}");
    for n in 0..2 {
        let res = app
            .patch_json(
                &pa,
                &json!({ "text": format!("The port reopens on Monday ({n})"), "reason": "r" }),
                None,
            )
            .await;
        assert_eq!(res.status(), 200);
    }
    for n in 0..3 {
        app.create(
            &format!("{pa}/comments"),
            json!({ "body": format!("note {n}") }),
        )
        .await;
    }
    for (target, kind) in [(b, "contradicts"), (c, "contradicts"), (c, "supports")] {
        app.create(
            &format!("{pa}/relations"),
            json!({ "kind": kind, "target_id": target }),
        )
        .await;
    }
    for verdict in ["mostly_true", "true"] {
        let tag = app.etag(&pa).await;
        let res = app
            .client
            .post(app.url(&format!("{pa}/reviews")))
            .header("If-Match", tag)
            .json(&json!({ "verdict": verdict, "rationale": "The port authority confirms it" }))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201);
    }
    let renamed = app
        .patch_json(
            &format!("/v1/speakers/{speaker}"),
            &json!({ "name": "Port Authority of Merida", "reason": "full name" }),
            None,
        )
        .await;
    assert_eq!(renamed.status(), 200);
    app.create("/v1/users/1/tokens", json!({ "label": "second" }))
        .await;

    let revision = |v: &Value| v["revision"].as_i64().unwrap();
    let id = |v: &Value| v["id"].as_i64().unwrap();
    // Each list: its items in its order, all of them, none twice.
    type Key = fn(&Value) -> i64;
    let cases: Vec<(String, Key, Vec<i64>)> = vec![
        (format!("{pa}/revisions"), revision, vec![1, 2, 3, 4]),
        (
            format!("/v1/articles/{article}/revisions"),
            revision,
            vec![1, 2, 3],
        ),
        (
            format!("/v1/speakers/{speaker}/revisions"),
            revision,
            vec![1, 2],
        ),
        (format!("{pa}/comments"), id, vec![1, 2, 3]),
        (format!("{pa}/relations"), id, vec![1, 2, 3]),
        (format!("{pa}/reviews"), id, vec![2, 1]),
        ("/v1/users".into(), id, vec![1, 2]),
        ("/v1/users/1/tokens".into(), id, vec![1, 3]),
    ];
    for (path, key, expected) in cases {
        let items = every_page(&app, &path).await;
        assert_eq!(
            items.iter().map(key).collect::<Vec<_>>(),
            expected,
            "{path}"
        );
    }
    let contested = every_page(&app, &format!("/v1/stories/{story}/contested")).await;
    assert_eq!(
        contested
            .iter()
            .map(|p| p["contradicts"]["id"].as_i64().unwrap())
            .collect::<Vec<_>>(),
        vec![b, c]
    );
    // Search pages by rank: the pages together are the one long answer.
    let whole = app.get_json("/v1/search?q=port&limit=100").await;
    let whole: Vec<(String, i64)> = whole["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| (h["kind"].as_str().unwrap().to_owned(), id(h)))
        .collect();
    assert!(whole.len() >= 4, "{whole:?}");
    let paged: Vec<(String, i64)> = every_page(&app, "/v1/search?q=port")
        .await
        .iter()
        .map(|h| (h["kind"].as_str().unwrap().to_owned(), id(h)))
        .collect();
    assert_eq!(paged, whole);
    let bad = app.get("/v1/search?q=port&cursor=bm90LWEtY3Vyc29y").await;
    assert_eq!(bad.status(), 400);
}
