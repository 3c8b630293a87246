//! Tokens and roles: who may call which route.

use claimtrail::domain::auth::Role;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_problem, client_with, spawn_app};

/// Every route of the API, with a path that names existing records.
fn all_routes(
    claim: i64,
    article: i64,
    story: i64,
    speaker: i64,
    user: i64,
    token: i64,
) -> Vec<(Method, String)> {
    let get = |p: String| (Method::GET, p);
    let post = |p: String| (Method::POST, p);
    vec![
        get("/v1/me".into()),
        get("/v1/stories".into()),
        post("/v1/stories".into()),
        get(format!("/v1/stories/{story}")),
        get(format!("/v1/stories/{story}/claims")),
        get(format!("/v1/stories/{story}/contested")),
        get(format!("/v1/stories/{story}/timeline")),
        get("/v1/speakers".into()),
        post("/v1/speakers".into()),
        get(format!("/v1/speakers/{speaker}")),
        get(format!("/v1/speakers/{speaker}/claims")),
        post(format!("/v1/speakers/{speaker}/merge")),
        get("/v1/search?q=bridge".into()),
        post("/v1/articles".into()),
        get(format!("/v1/articles/{article}")),
        get(format!("/v1/articles/{article}/revisions")),
        get(format!("/v1/articles/{article}/revisions/1")),
        get(format!("/v1/articles/{article}/diff")),
        get("/v1/claims".into()),
        post("/v1/claims".into()),
        get(format!("/v1/claims/{claim}")),
        (Method::PATCH, format!("/v1/claims/{claim}")),
        get(format!("/v1/claims/{claim}/revisions")),
        get(format!("/v1/claims/{claim}/revisions/1")),
        get(format!("/v1/claims/{claim}/diff")),
        post(format!("/v1/claims/{claim}/status")),
        post(format!("/v1/claims/{claim}/reviews")),
        get(format!("/v1/claims/{claim}/reviews")),
        post(format!("/v1/claims/{claim}/comments")),
        get(format!("/v1/claims/{claim}/comments")),
        post(format!("/v1/claims/{claim}/assign")),
        post(format!("/v1/claims/{claim}/relations")),
        get(format!("/v1/claims/{claim}/relations")),
        get(format!("/v1/claims/{claim}/claimreview")),
        post(format!("/v1/import/claimreview?story={story}")),
        get("/v1/review-queue".into()),
        get("/v1/events".into()),
        get("/v1/events/stream".into()),
        get("/v1/users".into()),
        post("/v1/users".into()),
        get(format!("/v1/users/{user}/tokens")),
        post(format!("/v1/users/{user}/tokens")),
        (Method::DELETE, format!("/v1/tokens/{token}")),
    ]
}

struct Fixture {
    story: i64,
    speaker: i64,
    article: i64,
    claim: i64,
}

async fn fixture(app: &TestApp) -> Fixture {
    let story = app.story("Auth").await;
    let speaker = app.speaker("Ana Robles", "person").await;
    let article = app
        .article(
            story,
            "https://news.example/auth",
            "Ana Robles said the bridge would reopen.",
        )
        .await;
    let claim = app.claim(story, speaker, "The bridge will reopen").await["id"]
        .as_i64()
        .unwrap();
    Fixture {
        story,
        speaker,
        article,
        claim,
    }
}

#[tokio::test]
async fn every_route_refuses_callers_without_a_valid_token() {
    let app = spawn_app().await;
    let f = fixture(&app).await;
    let routes = all_routes(f.claim, f.article, f.story, f.speaker, 1, 1);
    let before = app.row_counts().await;
    let anonymous = client_with(None);
    let forged = client_with(Some("ct_thisisnotarealtokenthisisnotarealtokenabc"));
    for (method, path) in &routes {
        for (who, client) in [("no token", &anonymous), ("unknown token", &forged)] {
            let res = client
                .request(method.clone(), app.url(path))
                .header("content-type", "application/json")
                .header("if-match", "\"1\"")
                .body("{}")
                .send()
                .await
                .unwrap();
            assert!(
                res.headers().contains_key("www-authenticate"),
                "{who} {method} {path}"
            );
            assert_problem(res, 401).await;
        }
    }
    let malformed = reqwest::Client::new()
        .get(app.url("/v1/stories"))
        .header("authorization", "Basic dXNlcjpwYXNz")
        .send()
        .await
        .unwrap();
    assert_problem(malformed, 401).await;
    assert_eq!(
        app.row_counts().await,
        before,
        "a refused request wrote something"
    );
    // Health stays open for load balancers.
    assert_eq!(
        anonymous
            .get(app.url("/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}

#[tokio::test]
async fn a_revoked_token_stops_working_and_last_use_is_recorded() {
    let app = spawn_app().await;
    let token = app.token_for("temp", Role::Reviewer).await;
    let client = client_with(Some(&token));
    let me = app.me_as(&client).await;
    assert_eq!(me["name"], "temp");
    assert_eq!(me["role"], "reviewer");
    let user = me["id"].as_i64().unwrap();
    let tokens = app.get_json(&format!("/v1/users/{user}/tokens")).await;
    let listed = &tokens["items"][0];
    assert!(listed["last_used_at"].is_string(), "{listed}");
    assert!(listed.get("token").is_none(), "secrets are never listed");
    let id = listed["id"].as_i64().unwrap();
    let res = app
        .client
        .delete(app.url(&format!("/v1/tokens/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_problem(client.get(app.url("/v1/me")).send().await.unwrap(), 401).await;
}

#[tokio::test]
async fn admins_make_users_and_tokens_that_are_shown_once() {
    let app = spawn_app().await;
    let user = app
        .create("/v1/users", json!({ "name": "rita", "role": "reviewer" }))
        .await;
    let id = user["id"].as_i64().unwrap();
    let token = app
        .create(
            &format!("/v1/users/{id}/tokens"),
            json!({ "label": "laptop" }),
        )
        .await;
    let secret = token["token"].as_str().unwrap();
    assert!(secret.starts_with("ct_") && secret.len() > 40);
    let rita = client_with(Some(secret));
    assert_eq!(
        rita.get(app.url("/v1/me")).send().await.unwrap().status(),
        200
    );
    // Only the hash is stored.
    let mut conn = app.db().await;
    #[derive(diesel::QueryableByName)]
    struct Found {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let found: Found = diesel_async::RunQueryDsl::get_result(
        diesel::sql_query(
            "SELECT count(*) AS n FROM api_tokens WHERE position($1::bytea in token_sha256) > 0",
        )
        .bind::<diesel::sql_types::Bytea, _>(secret.as_bytes()),
        &mut conn,
    )
    .await
    .unwrap();
    assert_eq!(found.n, 0);
    assert_problem(
        app.post_json("/v1/users", &json!({ "name": "rita", "role": "admin" }))
            .await,
        409,
    )
    .await;
    assert_problem(
        app.post_json("/v1/users", &json!({ "name": "bad name", "role": "admin" }))
            .await,
        422,
    )
    .await;
    assert_problem(
        app.post_json("/v1/users", &json!({ "name": "x", "role": "owner" }))
            .await,
        422,
    )
    .await;
}

/// What each role may do, route by route.
#[tokio::test]
async fn each_role_against_each_mutating_route() {
    let app = spawn_app().await;
    let f = fixture(&app).await;
    let roles = [Role::Reporter, Role::Reviewer, Role::Editor, Role::Admin];
    let mut clients = Vec::new();
    for role in roles {
        let token = app.token_for(&format!("{role}-user"), role).await;
        clients.push((role, client_with(Some(&token))));
    }
    let reporter = &clients[0].1;
    // (method, route, allowed roles, body); each role acts on its own fresh claim.
    for (i, (role, client)) in clients.iter().enumerate() {
        // A claim logged by the reporter, so that the reporter may edit it.
        let claim: Value = reporter
            .post(app.url("/v1/claims"))
            .json(&json!({ "story_id": f.story, "speaker_id": f.speaker, "text": format!("Claim for {role}"), "kind": "paraphrase" }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let claim = claim["id"].as_i64().unwrap();
        let cases: Vec<(Method, String, Value, &[Role])> = vec![
            (
                Method::POST,
                "/v1/stories".into(),
                json!({ "title": format!("Story {i}") }),
                &[Role::Reporter, Role::Editor, Role::Admin],
            ),
            (
                Method::POST,
                "/v1/speakers".into(),
                json!({ "name": "S", "kind": "person" }),
                &[Role::Reporter, Role::Editor, Role::Admin],
            ),
            (
                Method::POST,
                "/v1/articles".into(),
                json!({ "url": format!("https://news.example/r{i}"), "outlet": "O", "headline": "H",
                        "published_at": "2026-11-20T09:00:00Z", "body": "Body.", "story_id": f.story }),
                &[Role::Reporter, Role::Editor, Role::Admin],
            ),
            (
                Method::POST,
                "/v1/claims".into(),
                json!({ "story_id": f.story, "speaker_id": f.speaker, "text": "t", "kind": "assertion" }),
                &[Role::Reporter, Role::Editor, Role::Admin],
            ),
            (
                Method::PATCH,
                format!("/v1/claims/{claim}"),
                json!({ "cue": "said", "reason": "r" }),
                &[Role::Reporter, Role::Editor, Role::Admin],
            ),
            (
                Method::POST,
                format!("/v1/claims/{claim}/status"),
                json!({ "status": "in_review", "reason": "r" }),
                &[Role::Reviewer, Role::Editor, Role::Admin],
            ),
            (
                Method::POST,
                format!("/v1/claims/{claim}/reviews"),
                json!({ "verdict": "true", "rationale": "checked" }),
                &[Role::Reviewer, Role::Editor, Role::Admin],
            ),
            (
                Method::POST,
                format!("/v1/claims/{claim}/comments"),
                json!({ "body": "a note" }),
                &[Role::Reviewer, Role::Editor, Role::Admin],
            ),
            (
                Method::POST,
                format!("/v1/claims/{claim}/assign"),
                json!({ "assignee": "reviewer-user" }),
                &[Role::Reviewer, Role::Editor, Role::Admin],
            ),
            (
                Method::POST,
                format!("/v1/claims/{claim}/status"),
                json!({ "status": "retracted", "reason": "r" }),
                &[Role::Editor, Role::Admin],
            ),
            (
                Method::POST,
                format!("/v1/claims/{claim}/relations"),
                json!({ "kind": "supports", "target_id": f.claim }),
                &[Role::Editor, Role::Admin],
            ),
            (
                Method::POST,
                "/v1/users".into(),
                json!({ "name": format!("new-{i}"), "role": "admin" }),
                &[Role::Admin],
            ),
            (Method::GET, "/v1/users".into(), json!({}), &[Role::Admin]),
            (
                Method::POST,
                "/v1/users/1/tokens".into(),
                json!({}),
                &[Role::Admin],
            ),
        ];
        for (method, path, body, allowed) in cases {
            let etag = app.etag(&format!("/v1/claims/{claim}")).await;
            let mut req = client
                .request(method.clone(), app.url(&path))
                .header("if-match", etag);
            if method != Method::GET {
                req = req.json(&body);
            }
            let res = req.send().await.unwrap();
            let status = res.status().as_u16();
            let text = res.text().await.unwrap();
            if allowed.contains(role) {
                assert!(
                    (200..300).contains(&status),
                    "{role} {method} {path}: expected success, got {status} {text}"
                );
            } else {
                assert_eq!(status, 403, "{role} {method} {path}: {text}");
            }
        }
    }
}

#[tokio::test]
async fn reporters_edit_only_their_own_unreviewed_claims() {
    let app = spawn_app().await;
    let f = fixture(&app).await;
    let ana = client_with(Some(&app.token_for("ana", Role::Reporter).await));
    let luis = client_with(Some(&app.token_for("luis", Role::Reporter).await));
    let claim: Value = ana
        .post(app.url("/v1/claims"))
        .json(&json!({ "story_id": f.story, "speaker_id": f.speaker, "text": "Mine", "kind": "paraphrase" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(claim["created_by"], "ana");
    let path = format!("/v1/claims/{}", claim["id"]);
    let edit = |client: &reqwest::Client, tag: &str| {
        client
            .patch(app.url(&path))
            .header("if-match", tag)
            .json(&json!({ "text": "Edited", "reason": "r" }))
            .send()
    };
    assert_problem(edit(&luis, "\"1\"").await.unwrap(), 403).await;
    assert_eq!(edit(&ana, "\"1\"").await.unwrap().status(), 200);
    // Once review starts, only an editor can change it.
    let res = app
        .client
        .post(app.url(&format!("{path}/status")))
        .header("if-match", "\"2\"")
        .json(&json!({ "status": "in_review", "reason": "picked up" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_problem(edit(&ana, "\"3\"").await.unwrap(), 403).await;
}

#[tokio::test]
async fn a_reviewer_cannot_escalate_to_admin() {
    let app = spawn_app().await;
    let token = app.token_for("rev", Role::Reviewer).await;
    let reviewer = client_with(Some(&token));
    let me = app.me_as(&reviewer).await;
    let id = me["id"].as_i64().unwrap();
    for (method, path, body) in [
        (
            Method::POST,
            "/v1/users".to_owned(),
            json!({ "name": "rev2", "role": "admin" }),
        ),
        (Method::POST, format!("/v1/users/{id}/tokens"), json!({})),
        (Method::POST, "/v1/users/1/tokens".to_owned(), json!({})),
        (Method::GET, "/v1/users".to_owned(), json!({})),
        (Method::GET, format!("/v1/users/{id}/tokens"), json!({})),
        (Method::DELETE, "/v1/tokens/1".to_owned(), json!({})),
    ] {
        let res = reviewer
            .request(method.clone(), app.url(&path))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_problem(res, 403).await;
    }
    let me = app.me_as(&reviewer).await;
    assert_eq!(me["role"], "reviewer");
}

#[tokio::test]
async fn a_token_cannot_be_made_with_an_idempotency_key() {
    let app = spawn_app().await;
    let rita = app
        .create(
            "/v1/users",
            serde_json::json!({ "name": "rita", "role": "reviewer" }),
        )
        .await["id"]
        .as_i64()
        .unwrap();
    let path = format!("/v1/users/{rita}/tokens");
    for _ in 0..2 {
        let res = app
            .client
            .post(app.url(&path))
            .header("idempotency-key", "make-rita-token")
            .json(&serde_json::json!({ "label": "laptop" }))
            .send()
            .await
            .unwrap();
        let problem = assert_problem(res, 400).await;
        assert!(
            problem["detail"].as_str().unwrap().contains("never stored"),
            "{problem}"
        );
    }
    let tokens = app.get_json(&path).await;
    assert_eq!(
        tokens["items"].as_array().unwrap().len(),
        0,
        "no token was minted"
    );
}
