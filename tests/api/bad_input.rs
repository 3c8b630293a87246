//! A corpus of hostile input: each gets a precise 4xx and leaves every
//! table exactly as it was (an MD5 over all rows of all tables). What is
//! accepted (SQL and HTML in text) is stored verbatim and returned as JSON.

use serde_json::{Value, json};

use crate::helpers::{assert_problem, invalid_fields, raw_request, spawn_app};
use claimtrail::domain::auth::Role;

struct Case {
    what: &'static str,
    method: &'static str,
    path: String,
    body: Vec<u8>,
    content_type: &'static str,
    status: u16,
    field: Option<&'static str>,
}

fn case(
    what: &'static str,
    method: &'static str,
    path: impl Into<String>,
    body: impl Into<Vec<u8>>,
    status: u16,
    field: Option<&'static str>,
) -> Case {
    Case {
        what,
        method,
        path: path.into(),
        body: body.into(),
        content_type: "application/json",
        status,
        field,
    }
}

#[tokio::test]
async fn hostile_input_gets_a_precise_4xx_and_changes_no_table() {
    let app = spawn_app().await;
    let story = app.story("Hostile input").await;
    let speaker = app.speaker("Ana Robles", "person").await;
    // Multi-byte characters: a span is counted in characters, never bytes.
    let article = app
        .article(
            story,
            "https://news.example/hostile",
            "Zürich 東京 🙂 e\u{301}.",
        )
        .await;
    let claim = app.claim(story, speaker, "A claim").await["id"]
        .as_i64()
        .unwrap();
    let etag = app.etag(&format!("/v1/claims/{claim}")).await;
    let claim_with = |key: &str, value: Value| {
        let mut body =
            json!({ "story_id": story, "speaker_id": speaker, "text": "x", "kind": "paraphrase" });
        body[key] = value;
        body.to_string()
    };
    let article_with = |key: &str, value: Value| {
        let mut body = json!({ "url": "https://news.example/new", "outlet": "O", "headline": "H",
                               "published_at": "2026-11-20T09:00:00Z", "body": "B", "story_id": story });
        body[key] = value;
        body.to_string()
    };
    let span =
        |start: i64, end: i64| json!([{ "article_id": article, "start": start, "end": end }]);

    let mut invalid_utf8 = br#"{"title": "caf"#.to_vec();
    invalid_utf8.extend_from_slice(&[0xC3, 0x28]);
    invalid_utf8.extend_from_slice(br#""}"#);
    // Inside an object: a body that is an array is refused at its first byte.
    let deep = format!(
        "{{\"story_id\": {story}, \"speaker_id\": {speaker}, \"text\": \"x\", \"kind\": \"paraphrase\", \"hedges\": {}{}}}",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let deep_object = format!(
        "{{\"story_id\": {story}, \"extra\": {}1{}}}",
        "{\"a\":".repeat(5_000),
        "}".repeat(5_000)
    );

    let cases = vec![
        // Encoding.
        case(
            "invalid UTF-8",
            "POST",
            "/v1/stories",
            invalid_utf8,
            400,
            None,
        ),
        case(
            "NUL in a title",
            "POST",
            "/v1/stories",
            json!({ "title": "a\u{0}b" }).to_string(),
            422,
            Some("title"),
        ),
        case(
            "NUL in a speaker name",
            "POST",
            "/v1/speakers",
            json!({ "name": "a\u{0}b", "kind": "person" }).to_string(),
            422,
            Some("name"),
        ),
        case(
            "NUL in an alias",
            "POST",
            "/v1/speakers",
            json!({ "name": "A", "kind": "person", "aliases": ["b\u{0}"] }).to_string(),
            422,
            Some("aliases[0]"),
        ),
        case(
            "NUL in an article body",
            "POST",
            "/v1/articles",
            article_with("body", json!("x\u{0}y")),
            422,
            Some("body"),
        ),
        case(
            "NUL in a headline",
            "POST",
            "/v1/articles",
            article_with("headline", json!("x\u{0}y")),
            422,
            Some("headline"),
        ),
        case(
            "NUL in a URL",
            "POST",
            "/v1/articles",
            article_with("url", json!("https://news.example/\u{0}")),
            422,
            Some("url"),
        ),
        case(
            "NUL in a cue",
            "POST",
            "/v1/claims",
            claim_with("cue", json!("sa\u{0}id")),
            422,
            Some("cue"),
        ),
        case(
            "NUL in a hedge",
            "POST",
            "/v1/claims",
            claim_with("hedges", json!(["a\u{0}"])),
            422,
            Some("hedges[0]"),
        ),
        case(
            "NUL in a time expression",
            "POST",
            "/v1/claims",
            claim_with("when", json!({ "expression": "Fri\u{0}day" })),
            422,
            Some("when.expression"),
        ),
        case(
            "NUL in a search",
            "GET",
            "/v1/search?q=a%00b",
            Vec::new(),
            400,
            None,
        ),
        case(
            "NUL in a filter",
            "GET",
            "/v1/speakers?q=a%00b",
            Vec::new(),
            400,
            None,
        ),
        // Size and shape.
        case("deeply nested array", "POST", "/v1/claims", deep, 422, None),
        // Found by schemathesis: serde reads a struct from an array, field by
        // field, so `["a label"]` made a token.
        case(
            "an array for an object",
            "POST",
            "/v1/users/1/tokens",
            r#"["a label"]"#,
            422,
            Some("body"),
        ),
        case(
            "an array for a nested appearance",
            "POST",
            "/v1/claims",
            json!({ "story_id": story, "speaker_id": speaker, "text": "x", "kind": "paraphrase",
                    "appearances": [[article, null, 0, 5]] })
            .to_string(),
            422,
            Some("appearances[0]"),
        ),
        case(
            "an array for a statement time",
            "POST",
            "/v1/claims",
            json!({ "story_id": story, "speaker_id": speaker, "text": "x", "kind": "paraphrase",
                    "when": ["2026-11-20"] })
            .to_string(),
            422,
            Some("when"),
        ),
        case(
            "an array for a story",
            "POST",
            "/v1/stories",
            r#"["Title", "slug", null]"#,
            422,
            Some("body"),
        ),
        case(
            "deeply nested object",
            "POST",
            "/v1/claims",
            deep_object,
            400,
            None,
        ),
        // Numbers.
        case(
            "integer past i64",
            "POST",
            "/v1/claims",
            claim_with("story_id", json!(18_446_744_073_709_551_615u64)),
            422,
            Some("story_id"),
        ),
        case(
            "huge float",
            "POST",
            "/v1/claims",
            claim_with("confidence", json!(1e308)),
            422,
            Some("confidence"),
        ),
        case(
            "huge literal",
            "POST",
            "/v1/claims",
            format!("{{\"story_id\": 1{}}}", "0".repeat(400)),
            400,
            None,
        ),
        case(
            "negative id",
            "POST",
            "/v1/claims",
            claim_with("story_id", json!(-5)),
            422,
            Some("story_id"),
        ),
        case(
            "huge limit",
            "GET",
            "/v1/claims?limit=99999999999999999999",
            Vec::new(),
            400,
            None,
        ),
        // Spans.
        case(
            "negative span",
            "POST",
            "/v1/claims",
            claim_with("appearances", span(-3, 2)),
            422,
            Some("appearances[0].start"),
        ),
        case(
            "reversed span",
            "POST",
            "/v1/claims",
            claim_with("appearances", span(5, 2)),
            422,
            Some("appearances[0].end"),
        ),
        case(
            "empty span",
            "POST",
            "/v1/claims",
            claim_with("appearances", span(2, 2)),
            422,
            Some("appearances[0].end"),
        ),
        case(
            "span past the body",
            "POST",
            "/v1/claims",
            claim_with("appearances", span(0, 20)),
            422,
            Some("appearances[0].end"),
        ),
        case(
            "span past i32",
            "POST",
            "/v1/claims",
            claim_with("appearances", span(0, 1 << 40)),
            422,
            Some("appearances[0].end"),
        ),
        // Times.
        case(
            "year 9999",
            "POST",
            "/v1/claims",
            claim_with("when", json!({ "at": "9999-12-31T23:59:59Z" })),
            422,
            Some("when.at"),
        ),
        case(
            "year 1",
            "POST",
            "/v1/claims",
            claim_with("when", json!({ "at": "0001-01-01T00:00:00Z" })),
            422,
            Some("when.at"),
        ),
        case(
            "year past chrono",
            "POST",
            "/v1/claims",
            claim_with("when", json!({ "at": "+275760-09-13T00:00:00Z" })),
            422,
            Some("when.at"),
        ),
        case(
            "publication in 3000",
            "POST",
            "/v1/articles",
            article_with("published_at", json!("3000-01-01T00:00:00Z")),
            422,
            Some("published_at"),
        ),
        case(
            "as_of far away",
            "GET",
            format!("/v1/claims/{claim}?as_of=9999-01-01T00:00:00Z"),
            Vec::new(),
            422,
            Some("as_of"),
        ),
        // Enums.
        case(
            "unknown claim kind",
            "POST",
            "/v1/claims",
            claim_with("kind", json!("opinion")),
            422,
            Some("kind"),
        ),
        case(
            "unknown speaker kind",
            "POST",
            "/v1/speakers",
            json!({ "name": "A", "kind": "alien" }).to_string(),
            422,
            Some("kind"),
        ),
        case(
            "enum in the wrong case",
            "POST",
            "/v1/claims",
            claim_with("kind", json!("Paraphrase")),
            422,
            Some("kind"),
        ),
        case(
            "unknown status",
            "POST",
            format!("/v1/claims/{claim}/status"),
            json!({ "status": "maybe" }).to_string(),
            422,
            Some("status"),
        ),
        case(
            "unknown sort",
            "GET",
            "/v1/claims?order=sideways",
            Vec::new(),
            400,
            None,
        ),
        // Query strings.
        case(
            "duplicate story filter",
            "GET",
            "/v1/claims?story=1&story=2",
            Vec::new(),
            400,
            None,
        ),
        case(
            "duplicate limit",
            "GET",
            "/v1/stories?limit=5&limit=6",
            Vec::new(),
            400,
            None,
        ),
        case(
            "duplicate apply",
            "POST",
            format!("/v1/articles/{article}/extract?apply=true&apply=false"),
            Vec::new(),
            400,
            None,
        ),
        case(
            "unknown parameter",
            "GET",
            "/v1/claims?colour=red",
            Vec::new(),
            400,
            None,
        ),
    ];

    let before = app.checksum().await;
    for c in cases {
        let mut req = app
            .client
            .request(c.method.parse().unwrap(), app.url(&c.path))
            .header("if-match", etag.as_str());
        if !c.body.is_empty() {
            req = req
                .header("content-type", c.content_type)
                .body(c.body.clone());
        }
        let res = req
            .send()
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", c.what));
        let got = res.status().as_u16();
        let problem = if got == c.status {
            assert_problem(res, c.status).await
        } else {
            let text = res.text().await.unwrap();
            panic!("{}: expected {}, got {got}: {text}", c.what, c.status);
        };
        if let Some(field) = c.field {
            assert!(
                invalid_fields(&problem).iter().any(|f| f == field),
                "{}: expected field {field} in {problem}",
                c.what
            );
        }
        assert_eq!(app.checksum().await, before, "{} changed a table", c.what);
    }

    // A 10 MB body is refused from its Content-Length, before it is sent:
    // the client writes the head alone and reads the answer.
    let admin_token = app.token_for("big", Role::Reporter).await;
    let before = app.checksum().await;
    let answer = raw_request(
        &app.address,
        &format!(
            "POST /v1/stories HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {admin_token}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{{\"title\": \"",
            10 * 1024 * 1024
        ),
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("application/problem+json"), "{answer}");
    // (Only the token's first use is recorded.)
    let after = app.checksum().await;
    let changed: Vec<&str> = before
        .iter()
        .zip(&after)
        .filter(|(b, a)| b != a)
        .map(|(b, _)| b.0.as_str())
        .collect();
    assert!(changed.iter().all(|t| *t == "api_tokens"), "{changed:?}");
}

#[tokio::test]
async fn sql_and_html_are_stored_verbatim_and_returned_as_json() {
    let app = spawn_app().await;
    let payloads = [
        "Robert'); DROP TABLE claims;--",
        "<script>alert('x')</script> & <img src=x onerror=alert(1)>",
        "\" OR 1=1 --",
        "%00 \\u0000 ${jndi:ldap://x} {{7*7}}",
    ];
    let story = app.story("Payloads").await;
    let speaker = app.speaker(payloads[1], "person").await;
    for text in payloads {
        let created = app.claim(story, speaker, text).await;
        let id = created["id"].as_i64().unwrap();
        let res = app.get(&format!("/v1/claims/{id}")).await;
        assert_eq!(res.status(), 200);
        assert_eq!(
            res.headers()["content-type"].to_str().unwrap(),
            "application/json"
        );
        assert_eq!(res.headers()["x-content-type-options"], "nosniff");
        let claim: Value = res.json().await.unwrap();
        assert_eq!(claim["text"], text);
        assert_eq!(claim["speaker"]["name"], payloads[1]);
    }
    // The table the first payload names is still there, with every claim.
    let list = app.get_json(&format!("/v1/claims?story={story}")).await;
    assert_eq!(list["items"].as_array().unwrap().len(), payloads.len());
    // Search with the same payloads answers normally.
    for q in payloads {
        let res = app
            .client
            .get(app.url("/v1/search"))
            .query(&[("q", q)])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "search {q:?}");
    }
}

#[tokio::test]
async fn a_span_counts_characters_so_it_cannot_split_one() {
    let app = spawn_app().await;
    let story = app.story("Characters").await;
    let speaker = app.speaker("Ana Robles", "person").await;
    let body = "Zürich 東京 🙂 e\u{301}.";
    let article = app.article(story, "https://news.example/chars", body).await;
    // Each multi-byte character is one position.
    for (start, end, excerpt) in [
        (1, 2, "ü"),
        (7, 9, "東京"),
        (10, 11, "🙂"),
        (12, 14, "e\u{301}"),
    ] {
        let res = app
            .post_json(
                "/v1/claims",
                &json!({ "story_id": story, "speaker_id": speaker, "text": excerpt, "kind": "paraphrase",
                         "appearances": [{ "article_id": article, "start": start, "end": end }] }),
            )
            .await;
        assert_eq!(res.status(), 201);
        let claim: Value = res.json().await.unwrap();
        assert_eq!(claim["appearances"][0]["excerpt"], excerpt);
    }
}
