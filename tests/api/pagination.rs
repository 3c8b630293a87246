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
