//! Every error class: a precise problem+json, and nothing written.

use serde_json::{Value, json};

use crate::helpers::{TEST_MAX_BODY_BYTES, assert_problem, invalid_fields, spawn_app};

/// (method, path, raw body, content type, expected status, field named in a 422)
type Case<'a> = (&'a str, String, String, &'a str, u16, Option<&'a str>);

#[tokio::test]
async fn bad_requests_get_problems_and_write_nothing() {
    let app = spawn_app().await;
    let story = app.story("Errors story").await;
    let speaker = app.speaker("Ana Robles", "person").await;
    let article = app
        .article(story, "https://news.example/errors", "Ten chars.")
        .await;
    let claim = app.claim(story, speaker, "A claim").await["id"]
        .as_i64()
        .unwrap();
    let other_story = app.story("Another story").await;
    let before = app.row_counts().await;

    let valid_claim =
        json!({ "story_id": story, "speaker_id": speaker, "text": "x", "kind": "paraphrase" });
    let with = |key: &str, value: serde_json::Value| {
        let mut body = valid_claim.clone();
        body[key] = value;
        body
    };

    let cases: Vec<Case> = vec![
        ("POST", "/v1/claims".into(), "{\"story_id\": 1,".into(), "application/json", 400, None),
        ("POST", "/v1/claims".into(), "".into(), "application/json", 400, None),
        ("POST", "/v1/claims".into(), "[1, 2]".into(), "application/json", 422, None),
        ("POST", "/v1/claims".into(), with("colour", json!("red")).to_string(), "application/json", 400, None),
        ("POST", "/v1/claims".into(), with("text", json!("   ")).to_string(), "application/json", 422, Some("text")),
        ("POST", "/v1/claims".into(), with("confidence", json!(1.7)).to_string(), "application/json", 422, Some("confidence")),
        ("POST", "/v1/claims".into(), with("confidence", json!(-0.1)).to_string(), "application/json", 422, Some("confidence")),
        ("POST", "/v1/claims".into(), with("kind", json!("rumour")).to_string(), "application/json", 422, Some("kind")),
        ("POST", "/v1/claims".into(), with("speaker_id", json!(999_999)).to_string(), "application/json", 422, Some("speaker_id")),
        ("POST", "/v1/claims".into(), with("story_id", json!(999_999)).to_string(), "application/json", 422, Some("story_id")),
        ("POST", "/v1/claims".into(), with("text", json!("nul\u{0}byte")).to_string(), "application/json", 422, Some("text")),
        ("POST", "/v1/claims".into(),
            with("appearances", json!([{ "article_id": article, "start": 2, "end": 11 }])).to_string(),
            "application/json", 422, Some("appearances[0].end")),
        ("POST", "/v1/claims".into(),
            with("appearances", json!([{ "article_id": article, "start": 5, "end": 3 }])).to_string(),
            "application/json", 422, Some("appearances[0].end")),
        ("POST", "/v1/claims".into(),
            with("appearances", json!([{ "article_id": article, "start": -1, "end": 3 }])).to_string(),
            "application/json", 422, Some("appearances[0].start")),
        ("POST", "/v1/claims".into(),
            with("appearances", json!([{ "article_id": 424_242, "start": 0, "end": 3 }])).to_string(),
            "application/json", 422, Some("appearances[0].article_id")),
        ("POST", "/v1/claims".into(),
            with("appearances", json!([{ "article_id": article, "article_revision": 7, "start": 0, "end": 3 }])).to_string(),
            "application/json", 422, Some("appearances[0].article_revision")),
        ("POST", "/v1/claims".into(),
            with("when", json!({ "start": "2026-05-01", "end": "2026-03-01" })).to_string(),
            "application/json", 422, Some("when.end")),
        ("POST", "/v1/claims".into(),
            with("when", json!({ "at": "yesterday-ish" })).to_string(), "application/json", 422, Some("when.at")),
        ("POST", "/v1/claims".into(), with("story_id", json!(1e300)).to_string(), "application/json", 422, Some("story_id")),
        ("POST", "/v1/claims".into(), valid_claim.to_string(), "text/plain", 415, None),
        ("POST", "/v1/stories".into(), json!({ "title": "Errors story" }).to_string(), "application/json", 409, None),
        ("POST", "/v1/stories".into(), json!({ "title": "" }).to_string(), "application/json", 422, Some("title")),
        ("POST", "/v1/stories".into(), json!({ "title": "T", "slug": "Not A Slug" }).to_string(), "application/json", 422, Some("slug")),
        ("POST", "/v1/speakers".into(), json!({ "name": "X", "kind": "wizard" }).to_string(), "application/json", 422, Some("kind")),
        ("POST", "/v1/speakers".into(), json!({ "kind": "person" }).to_string(), "application/json", 422, Some("name")),
        ("POST", "/v1/articles".into(),
            json!({ "url": "https://news.example/errors", "outlet": "O", "headline": "H",
                    "published_at": "2026-11-20T09:00:00Z", "body": "Other body.", "story_id": other_story }).to_string(),
            "application/json", 409, None),
        ("POST", "/v1/articles".into(),
            json!({ "url": "not a url", "outlet": "O", "headline": "H",
                    "published_at": "2026-11-20T09:00:00Z", "body": "B", "story_id": story }).to_string(),
            "application/json", 422, Some("url")),
        ("POST", "/v1/articles".into(),
            json!({ "url": "https://news.example/x", "outlet": "O", "headline": "H",
                    "published_at": "Friday", "body": "B", "story_id": story }).to_string(),
            "application/json", 422, Some("published_at")),
        ("POST", "/v1/articles".into(),
            json!({ "url": "https://news.example/y", "outlet": "O", "headline": "H",
                    "published_at": "2026-11-20T09:00:00Z", "body": "B", "story_id": 99_999 }).to_string(),
            "application/json", 422, Some("story_id")),
        ("PATCH", format!("/v1/claims/{claim}"), json!({ "text": "changed" }).to_string(), "application/json", 422, Some("reason")),
        ("PATCH", format!("/v1/claims/{claim}"), json!({ "speaker_id": 31_337, "reason": "r" }).to_string(), "application/json", 422, Some("speaker_id")),
        ("PATCH", format!("/v1/claims/{claim}"), json!({ "story_id": 31_337, "reason": "r" }).to_string(), "application/json", 422, Some("story_id")),
        ("PATCH", format!("/v1/claims/{claim}"), json!({ "revision": 9, "reason": "r" }).to_string(), "application/json", 400, None),
        ("PATCH", "/v1/claims/99999".into(), json!({ "text": "x", "reason": "r" }).to_string(), "application/json", 404, None),
        ("GET", "/v1/claims/99999".into(), String::new(), "application/json", 404, None),
        ("GET", "/v1/claims/abc".into(), String::new(), "application/json", 404, None),
        ("GET", format!("/v1/claims/{claim}/revisions/5"), String::new(), "application/json", 404, None),
        ("GET", "/v1/claims/99999/revisions".into(), String::new(), "application/json", 404, None),
        ("GET", "/v1/stories/99999".into(), String::new(), "application/json", 404, None),
        ("GET", "/v1/speakers/99999".into(), String::new(), "application/json", 404, None),
        ("GET", "/v1/articles/99999".into(), String::new(), "application/json", 404, None),
        ("GET", "/v1/nowhere".into(), String::new(), "application/json", 404, None),
        ("DELETE", format!("/v1/claims/{claim}"), String::new(), "application/json", 405, None),
        ("GET", "/v1/claims?limit=0".into(), String::new(), "application/json", 422, Some("limit")),
        ("GET", "/v1/claims?cursor=garbage".into(), String::new(), "application/json", 400, None),
        ("GET", "/v1/claims?page=2".into(), String::new(), "application/json", 400, None),
        ("GET", "/v1/claims?status=rumoured".into(), String::new(), "application/json", 400, None),
        ("GET", "/v1/claims?story=1&story=2".into(), String::new(), "application/json", 400, None),
        ("GET", "/v1/claims?said_from=soon".into(), String::new(), "application/json", 422, Some("said_from")),
    ];

    for (method, path, body, content_type, status, field) in cases {
        let res = app
            .client
            .request(method.parse().unwrap(), app.url(&path))
            .header("content-type", content_type)
            .header("if-match", "\"1\"")
            .body(body.clone())
            .send()
            .await
            .unwrap();
        let problem = assert_problem(res, status).await;
        if let Some(field) = field {
            assert!(
                invalid_fields(&problem).iter().any(|f| f == field),
                "{method} {path} {body}: expected field {field} in {problem}"
            );
        }
        assert_eq!(
            app.row_counts().await,
            before,
            "{method} {path} {body} wrote something"
        );
    }
}

#[tokio::test]
async fn an_oversized_body_is_refused_with_413() {
    let app = spawn_app().await;
    let story = app.story("Big").await;
    let before = app.row_counts().await;
    let body = json!({
        "url": "https://news.example/big", "outlet": "O", "headline": "H",
        "published_at": "2026-11-20T09:00:00Z", "body": "x".repeat(TEST_MAX_BODY_BYTES + 1), "story_id": story
    });
    let res = app.post_json("/v1/articles", &body).await;
    assert_problem(res, 413).await;
    assert_eq!(app.row_counts().await, before);
}

#[tokio::test]
async fn an_article_body_over_the_character_limit_is_refused_with_413() {
    let app = spawn_app().await;
    let story = app.story("Long").await;
    let before = app.row_counts().await;
    // Multi-byte characters: under the byte limit, over the character limit.
    let body = "é".repeat(crate::helpers::TEST_MAX_ARTICLE_CHARS + 1);
    assert!(body.len() < TEST_MAX_BODY_BYTES);
    let res = app
        .post_json(
            "/v1/articles",
            &json!({ "url": "https://news.example/long", "outlet": "O", "headline": "H",
                     "published_at": "2026-11-20T09:00:00Z", "body": body, "story_id": story }),
        )
        .await;
    assert_problem(res, 413).await;
    assert_eq!(app.row_counts().await, before);
}

#[tokio::test]
async fn a_duplicate_slug_names_the_existing_story() {
    let app = spawn_app().await;
    let id = app.story("Flood relief").await;
    let res = app
        .post_json(
            "/v1/stories",
            &json!({ "title": "Different", "slug": "flood-relief" }),
        )
        .await;
    let problem = assert_problem(res, 409).await;
    assert_eq!(problem["existing_id"], id);
}

#[tokio::test]
async fn health_checks_the_database() {
    let app = spawn_app().await;
    let body = app.get_json("/healthz").await;
    assert_eq!(body["database"], "ok");
}

#[tokio::test]
async fn small_edges_of_the_contract() {
    let app = spawn_app().await;
    let story = app.story("Edges").await;
    let speaker = app.speaker("Ana Robles", "person").await;
    // A speaker named both ways is refused, in a POST and in an import line.
    let res = app
        .post_json(
            "/v1/claims",
            &json!({ "story_id": story, "speaker_id": speaker, "speaker": "Someone Else", "text": "x", "kind": "paraphrase" }),
        )
        .await;
    let problem = assert_problem(res, 422).await;
    assert_eq!(invalid_fields(&problem), ["speaker"]);
    let line = json!({ "story_id": story, "speaker_id": speaker, "speaker": "Ana Robles", "text": "x", "kind": "paraphrase" });
    let res = app
        .client
        .post(app.url("/v1/import/claims"))
        .header("content-type", "application/x-ndjson")
        .body(format!("{line}\n"))
        .send()
        .await
        .unwrap();
    let problem: Value = res.json().await.unwrap();
    let report = &problem["report"];
    assert_eq!(report["imported"], 0, "{problem}");
    assert_eq!(
        report["errors"][0]["errors"][0]["field"], "speaker",
        "{problem}"
    );
    // -0 is stored as 0.
    let claim = app
        .create(
            "/v1/claims",
            json!({ "story_id": story, "speaker_id": speaker, "text": "Zero", "kind": "paraphrase", "confidence": -0.0 }),
        )
        .await;
    assert_eq!(claim["confidence"].to_string(), "0.0");
    // A query string whose escapes are not UTF-8 is refused, not guessed at.
    let problem = assert_problem(app.get("/v1/search?q=%FF").await, 400).await;
    assert!(
        problem["detail"].as_str().unwrap().contains("UTF-8"),
        "{problem}"
    );
    // A browser opening the service is sent to the reviewer pages, which
    // ask it to sign in.
    let res = crate::helpers::client_with(None)
        .get(app.url("/"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.url().path(),
        "/ui/sign-in",
        "followed to the sign-in page"
    );
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn head_is_answered_wherever_get_is() {
    let app = spawn_app().await;
    let story = app.story("Heads").await;
    let speaker = app.speaker("Ana Robles", "person").await;
    let claim = app.claim(story, speaker, "The bridge will reopen").await;
    let path = format!("/v1/claims/{}", claim["id"]);
    let get = app.get(&path).await;
    let head = app.client.head(app.url(&path)).send().await.unwrap();
    assert_eq!(head.status(), 200);
    assert_eq!(head.headers()["etag"], get.headers()["etag"]);
    assert_eq!(
        head.headers()["content-type"],
        get.headers()["content-type"]
    );
    assert_eq!(
        head.headers()["x-content-type-options"],
        get.headers()["x-content-type-options"]
    );
    assert!(head.bytes().await.unwrap().is_empty());
    // Errors too, as GET would answer them.
    let missing = app
        .client
        .head(app.url("/v1/claims/999999"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    // Where GET is not served, HEAD is not either, and Allow says so.
    let post_only = app
        .client
        .head(app.url("/v1/articles"))
        .send()
        .await
        .unwrap();
    assert_eq!(post_only.status(), 405);
    assert_eq!(post_only.headers()["allow"], "POST");
    let res = app.client.delete(app.url(&path)).send().await.unwrap();
    assert_eq!(res.status(), 405);
    assert_eq!(res.headers()["allow"], "GET, PATCH, HEAD");
}

#[tokio::test]
async fn query_ids_below_one_are_refused_and_empty_values_are_left_out() {
    let app = spawn_app().await;
    let story = app.story("Filters").await;
    let speaker = app.speaker("Ana Robles", "person").await;
    let claim = app.claim(story, speaker, "The bridge will reopen").await;
    for path in [
        "/v1/claims?story=0",
        "/v1/claims?speaker=-1",
        "/v1/events?subject_id=0",
        "/v1/search?q=bridge&story=0",
    ] {
        let problem = assert_problem(app.get(path).await, 422).await;
        let field = invalid_fields(&problem);
        assert_eq!(field.len(), 1, "{path}: {problem}");
        assert!(
            path.contains(&format!("{}=", field[0])),
            "{path}: {problem}"
        );
    }
    // An empty value is the parameter left out. (The log first takes in
    // every event, so that both reads of the events see the same leaves.)
    app.log_caught_up().await;
    let one = format!("/v1/claims/{}", claim["id"]);
    for (with_empty, without) in [
        (
            "/v1/claims?cursor=&limit=5".to_owned(),
            "/v1/claims?limit=5".to_owned(),
        ),
        (format!("{one}?as_of="), one.clone()),
        (
            "/v1/events?story=&action=".to_owned(),
            "/v1/events".to_owned(),
        ),
    ] {
        let a = app.get(&with_empty).await;
        assert_eq!(a.status(), 200, "{with_empty}");
        let a: Value = a.json().await.unwrap();
        let b: Value = app.get_json(&without).await;
        assert_eq!(a, b, "{with_empty}");
    }
}

#[tokio::test]
async fn messages_say_what_to_send_not_how_the_server_parsed_it() {
    let app = spawn_app().await;
    let problem = assert_problem(app.get("/v1/claims?stroy=1").await, 400).await;
    let detail = problem["detail"].as_str().unwrap();
    assert!(
        detail.contains("unknown parameter `stroy`; did you mean `story`?"),
        "{detail}"
    );
    assert!(!detail.contains("deserialize"), "{detail}");
    let problem = assert_problem(app.get("/v1/claims/abc").await, 404).await;
    let detail = problem["detail"].as_str().unwrap();
    assert!(detail.contains("ids are whole numbers from 1"), "{detail}");
    assert!(!detail.contains("i64"), "{detail}");
}

#[tokio::test]
async fn a_direct_quote_whose_span_misses_its_words_is_stored_with_a_warning() {
    let app = spawn_app().await;
    let story = app.story("Quotes").await;
    let speaker = app.speaker("Ana Robles", "person").await;
    let body = "The mayor said: \"We will rebuild the bridge\" on Friday.";
    let article = app
        .create(
            "/v1/articles",
            json!({ "url": "https://quotes.example/a", "outlet": "Wire", "headline": "Bridge",
                    "published_at": "2026-11-20T09:00:00Z", "story_id": story, "body": body }),
        )
        .await["id"]
        .clone();
    let quote = |start: i64, end: i64| {
        json!({ "story_id": story, "speaker_id": speaker, "kind": "direct_quote",
                "text": "We will rebuild the bridge",
                "appearances": [{ "article_id": article, "start": start, "end": end }] })
    };
    let exact = app.create("/v1/claims", quote(17, 43)).await;
    assert_eq!(exact["warnings"], Value::Null, "{exact}");
    let off_by_two = app.create("/v1/claims", quote(19, 45)).await;
    let warnings = off_by_two["warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 1, "{off_by_two}");
    assert!(warnings[0].as_str().unwrap().starts_with("appearances[0]:"));
}
