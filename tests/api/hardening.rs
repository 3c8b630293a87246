//! Security hardening: headers on every response, no CORS, a write rate
//! limit per token, and no way for a reviewer to act as an admin.

use claimtrail::domain::auth::Role;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{
    TestOptions, assert_problem, client_with, raw_request, spawn_app, spawn_app_with,
};

const SECURITY_HEADERS: &[(&str, &str)] = &[
    ("x-content-type-options", "nosniff"),
    ("x-frame-options", "DENY"),
    ("cache-control", "no-store"),
    ("referrer-policy", "no-referrer"),
    (
        "content-security-policy",
        "default-src 'none'; frame-ancestors 'none'",
    ),
    ("cross-origin-resource-policy", "same-origin"),
];

#[tokio::test]
async fn every_response_carries_the_security_headers_and_no_cors() {
    let app = spawn_app().await;
    let anonymous = client_with(None);
    let responses = vec![
        ("200", app.get("/v1/stories").await),
        (
            "healthz",
            anonymous.get(app.url("/healthz")).send().await.unwrap(),
        ),
        (
            "401",
            anonymous.get(app.url("/v1/stories")).send().await.unwrap(),
        ),
        ("404", app.get("/v1/nothing-here").await),
        (
            "405",
            app.client.put(app.url("/v1/stories")).send().await.unwrap(),
        ),
        (
            "422",
            app.post_json("/v1/stories", &json!({ "title": "" })).await,
        ),
        (
            "preflight",
            anonymous
                .request(Method::OPTIONS, app.url("/v1/stories"))
                .header("Origin", "https://evil.example")
                .header("Access-Control-Request-Method", "POST")
                .send()
                .await
                .unwrap(),
        ),
        (
            "cross-origin GET",
            app.client
                .get(app.url("/v1/stories"))
                .header("Origin", "https://evil.example")
                .send()
                .await
                .unwrap(),
        ),
    ];
    for (what, res) in responses {
        for (name, value) in SECURITY_HEADERS {
            assert_eq!(
                res.headers().get(*name).and_then(|v| v.to_str().ok()),
                Some(*value),
                "{what}: {name}"
            );
        }
        assert!(
            res.headers().get("strict-transport-security").is_some(),
            "{what}"
        );
        // CORS is off: no browser on another origin may read anything.
        assert!(
            res.headers().get("access-control-allow-origin").is_none(),
            "{what}"
        );
        assert!(
            res.headers()
                .get("access-control-allow-credentials")
                .is_none(),
            "{what}"
        );
    }

    // A 413 is answered from the Content-Length, before the body is sent.
    let token = app.token_for("big", Role::Reporter).await;
    let answer = raw_request(
        &app.address,
        &format!(
            "POST /v1/stories HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            crate::helpers::TEST_MAX_BODY_BYTES + 1
        ),
    )
    .await
    .to_lowercase();
    assert!(answer.starts_with("http/1.1 413"), "{answer}");
    for (name, value) in SECURITY_HEADERS {
        assert!(
            answer.contains(&format!("{name}: {}", value.to_lowercase())),
            "413: {name} in {answer}"
        );
    }
    assert!(!answer.contains("access-control-allow-origin"));
}

#[tokio::test]
async fn requests_the_parser_refuses_get_problem_json_and_the_security_headers() {
    let app = spawn_app().await;
    let long_url = format!(
        "GET /v1/stories?q={} HTTP/1.1\r\nHost: x\r\n\r\n",
        "a".repeat(64 * 1024)
    );
    let many_headers = format!(
        "GET /v1/stories HTTP/1.1\r\nHost: x\r\n{}\r\n",
        (0..200)
            .map(|i| format!("X-Filler-{i}: {}\r\n", "b".repeat(200)))
            .collect::<String>()
    );
    // Each with the statuses the parser may answer it with.
    let cases: Vec<(&str, Vec<u8>, &[u16])> = vec![
        ("a 64 KB URL", long_url.into_bytes(), &[400, 414, 431]),
        (
            "200 headers of 200 bytes",
            many_headers.into_bytes(),
            &[431],
        ),
        (
            "a control character in a header",
            b"GET /v1/stories HTTP/1.1\r\nHost: x\r\nX-Bad: a\x01b\r\n\r\n".to_vec(),
            &[400],
        ),
        (
            "a raw 0xFF in the path",
            b"GET /v1/stories/\xff HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(),
            &[400],
        ),
        ("not HTTP at all", b"HELLO\x00\r\n\r\n".to_vec(), &[400]),
    ];
    for (what, request, statuses) in cases {
        let answer = crate::helpers::raw_bytes_request(&app.address, &request).await;
        let (head, body) = answer
            .split_once("\r\n\r\n")
            .unwrap_or_else(|| panic!("{what}: no answer: {answer:?}"));
        let head = head.to_lowercase();
        let status: u16 = head
            .strip_prefix("http/1.1 ")
            .and_then(|rest| rest.get(..3))
            .and_then(|code| code.parse().ok())
            .unwrap_or_else(|| panic!("{what}: {head}"));
        assert!(statuses.contains(&status), "{what}: {head}");
        assert!(
            head.contains("content-type: application/problem+json"),
            "{what}: {head}"
        );
        for (name, value) in SECURITY_HEADERS {
            assert!(
                head.contains(&format!("{name}: {}", value.to_lowercase())),
                "{what}: {name} in {head}"
            );
        }
        let problem: Value =
            serde_json::from_str(body).unwrap_or_else(|e| panic!("{what}: {e}: {body:?}"));
        assert_eq!(problem["status"], status, "{what}");
        assert!(
            problem["detail"].as_str().is_some_and(|d| !d.is_empty()),
            "{what}"
        );
    }
    // The service goes on serving.
    assert_eq!(app.get("/v1/stories").await.status(), 200);
}

#[tokio::test]
async fn writes_past_the_rate_get_429_with_retry_after_and_write_nothing() {
    let app = spawn_app_with(TestOptions {
        write_rate: 1,
        write_burst: 3,
        ..TestOptions::default()
    })
    .await;
    for i in 0..3 {
        let res = app
            .post_json("/v1/stories", &json!({ "title": format!("Story {i}") }))
            .await;
        assert_eq!(res.status(), 201);
    }
    // The burst is spent; a refill of one write a second cannot keep up
    // with back-to-back writes, so a 429 comes within a few more.
    let mut refused = None;
    for i in 0..3 {
        let before = app.checksum().await;
        let res = app
            .post_json(
                "/v1/stories",
                &json!({ "title": format!("One too many {i}") }),
            )
            .await;
        if res.status() == 429 {
            refused = Some((res, before));
            break;
        }
        assert_eq!(res.status(), 201);
    }
    let (res, before) = refused.expect("a 429 after the burst");
    let retry_after: u64 = res
        .headers()
        .get("retry-after")
        .expect("Retry-After")
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=2).contains(&retry_after), "{retry_after}");
    let problem = assert_problem(res, 429).await;
    assert_eq!(problem["type"], "urn:claimtrail:problem:rate-limited");
    assert_eq!(
        app.checksum().await,
        before,
        "a refused write wrote nothing"
    );

    // Reads are not limited, and another token has its own quota.
    for _ in 0..10 {
        assert_eq!(app.get("/v1/stories").await.status(), 200);
    }
    let other = client_with(Some(&app.token_for("luis", Role::Reporter).await));
    let res = other
        .post(app.url("/v1/stories"))
        .json(&json!({ "title": "Another desk" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);

    // The bucket refills at the rate.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let res = app
        .post_json("/v1/stories", &json!({ "title": "After a pause" }))
        .await;
    assert_eq!(res.status(), 201);
}

#[tokio::test]
async fn a_reviewer_cannot_escalate_to_admin_through_any_route() {
    let app = spawn_app().await;
    let story = app.story("Escalation").await;
    let speaker = app.speaker("Ana Robles", "person").await;
    let other_speaker = app.speaker("A. Robles", "person").await;
    let claim = app
        .claim(story, speaker, "The port reopens on Monday")
        .await["id"]
        .as_i64()
        .unwrap();
    let other_claim = app.claim(story, speaker, "The port stays shut").await["id"]
        .as_i64()
        .unwrap();
    let article = app
        .article(
            story,
            "https://news.example/escalation",
            "The minister said the port reopens.",
        )
        .await;
    let admin = app.get_json("/v1/me").await;
    let admin_id = admin["id"].as_i64().unwrap();
    let tokens = app.get_json(&format!("/v1/users/{admin_id}/tokens")).await;
    let admin_token = tokens["items"][0]["id"].as_i64().unwrap();

    let reviewer = client_with(Some(&app.token_for("rita", Role::Reviewer).await));
    let me = app.me_as(&reviewer).await;
    assert_eq!(me["role"], "reviewer");
    let reviewer_id = me["id"].as_i64().unwrap();
    let before = app.checksum().await;

    let attempts: Vec<(Method, String, Value)> = vec![
        (
            Method::POST,
            "/v1/users".into(),
            json!({ "name": "rita2", "role": "admin" }),
        ),
        (
            Method::POST,
            "/v1/users".into(),
            json!({ "name": "rita", "role": "admin" }),
        ),
        (Method::GET, "/v1/users".into(), json!(null)),
        (
            Method::POST,
            format!("/v1/users/{reviewer_id}/tokens"),
            json!({}),
        ),
        (
            Method::POST,
            format!("/v1/users/{admin_id}/tokens"),
            json!({}),
        ),
        (
            Method::GET,
            format!("/v1/users/{admin_id}/tokens"),
            json!(null),
        ),
        (
            Method::GET,
            format!("/v1/users/{reviewer_id}/tokens"),
            json!(null),
        ),
        (
            Method::DELETE,
            format!("/v1/tokens/{admin_token}"),
            json!(null),
        ),
        (
            Method::POST,
            "/v1/stories".into(),
            json!({ "title": "Mine" }),
        ),
        (
            Method::POST,
            "/v1/speakers".into(),
            json!({ "name": "X", "kind": "person" }),
        ),
        (
            Method::POST,
            format!("/v1/speakers/{other_speaker}/merge"),
            json!({ "into": speaker }),
        ),
        (
            Method::POST,
            "/v1/articles?extract=true".into(),
            json!({ "url": "https://news.example/r", "outlet": "O", "headline": "H",
                    "published_at": "2026-11-20T09:00:00Z", "body": "Officials said it rained.", "story_id": story }),
        ),
        (
            Method::POST,
            format!("/v1/articles/{article}/extract?apply=true"),
            json!({}),
        ),
        (
            Method::POST,
            "/v1/claims".into(),
            json!({ "story_id": story, "speaker_id": speaker, "text": "t", "kind": "paraphrase" }),
        ),
        (
            Method::PATCH,
            format!("/v1/claims/{claim}"),
            json!({ "text": "changed" }),
        ),
        (
            Method::POST,
            format!("/v1/claims/{claim}/status"),
            json!({ "status": "retracted", "reason": "no" }),
        ),
        (
            Method::POST,
            format!("/v1/claims/{claim}/relations"),
            json!({ "kind": "contradicts", "target_id": other_claim }),
        ),
        (Method::POST, "/v1/import/claims".into(), json!(null)),
    ];
    for (method, path, body) in attempts {
        let mut req = reviewer
            .request(method.clone(), app.url(&path))
            .header("If-Match", "\"1\"");
        if path == "/v1/import/claims" {
            req = req
                .header("Content-Type", "application/x-ndjson")
                .body(format!(
                    "{}\n",
                    json!({ "story_id": story, "speaker_id": speaker, "text": "t", "kind": "paraphrase" })
                ));
        } else if !body.is_null() {
            req = req.json(&body);
        }
        let res = req.send().await.unwrap();
        let problem = assert_problem(res, 403).await;
        assert!(
            problem["detail"]
                .as_str()
                .unwrap()
                .starts_with("the reviewer role may not"),
            "{method} {path}: {problem}"
        );
    }
    assert_eq!(app.checksum().await, before, "nothing was written");
    // Still a reviewer, and the admin's token still works.
    let me = app.me_as(&reviewer).await;
    assert_eq!(me["role"], "reviewer");
    assert_eq!(app.get("/v1/users").await.status(), 200);
}
