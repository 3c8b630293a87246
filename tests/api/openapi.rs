//! The OpenAPI document: served without a token, describing every route
//! the server has and no other, and true of the responses the server gives.

use std::collections::BTreeSet;

use claimtrail::http::{PUBLIC_ROUTES, V1_ROUTES};
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, client_with, spawn_app};

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

async fn document(app: &TestApp) -> Value {
    let res = client_with(None)
        .get(app.url("/v1/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "the document needs no token");
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    res.json().await.unwrap()
}

fn documented(doc: &Value) -> BTreeSet<(String, String)> {
    doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, item)| {
            METHODS
                .iter()
                .filter(|m| item.get(**m).is_some())
                .map(move |m| (m.to_string(), path.clone()))
        })
        .collect()
}

/// The routes the server is built from, with their paths as OpenAPI spells
/// them (`{file:.*}`, a matching rule for actix, is the parameter `{file}`).
fn served() -> BTreeSet<(String, String)> {
    PUBLIC_ROUTES
        .iter()
        .chain(V1_ROUTES)
        .map(|(m, p)| (m.to_string(), p.replace(":.*}", "}")))
        .collect()
}

/// A path of the table with real values for its parameters.
fn concrete(path: &str) -> String {
    path.replace("{id}", "1")
        .replace("{n}", "1")
        .replace("{file}", "index.html")
}

#[tokio::test]
async fn the_document_describes_every_route_and_no_other() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1."));
    let (documented, served) = (documented(&doc), served());
    let undocumented: Vec<_> = served.difference(&documented).collect();
    assert!(
        undocumented.is_empty(),
        "routes the document does not describe: {undocumented:?}"
    );
    let phantom: Vec<_> = documented.difference(&served).collect();
    assert!(phantom.is_empty(), "documented but not served: {phantom:?}");
    assert!(served.len() > 40, "{}", served.len());

    for (method, path) in &served {
        let op = &doc["paths"][path][method];
        let responses = op["responses"].as_object().unwrap();
        // Every path parameter is declared.
        let declared: BTreeSet<&str> = op["parameters"]
            .as_array()
            .map(|ps| {
                ps.iter()
                    .filter(|p| p["in"] == "path")
                    .map(|p| p["name"].as_str().unwrap())
                    .collect()
            })
            .unwrap_or_default();
        let in_path: BTreeSet<&str> = path
            .split('/')
            .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
            .collect();
        assert_eq!(declared, in_path, "{method} {path}");
        // A success, and the errors as problem+json.
        assert!(
            responses
                .keys()
                .any(|s| s.starts_with('2') || s == "307" || s == "308"),
            "{method} {path}"
        );
        assert!(
            responses["503"]["content"]["application/problem+json"]["schema"]["$ref"]
                == "#/components/schemas/Problem",
            "{method} {path}"
        );
        let public = op["security"] == json!([{}]);
        assert_eq!(
            public,
            matches!(
                path.as_str(),
                "/" | "/healthz" | "/v1/openapi.json" | "/docs" | "/docs/{file}"
            ),
            "{method} {path}"
        );
        if !public {
            assert!(responses.contains_key("401"), "{method} {path}");
            assert!(responses.contains_key("403"), "{method} {path}");
        }
        if path.contains('{') {
            assert!(responses.contains_key("404"), "{method} {path}");
        }
        if method != "get" && !public {
            assert!(responses.contains_key("429"), "{method} {path}");
        }
    }
}

#[tokio::test]
async fn other_methods_get_405_with_allow() {
    // Regression (found by schemathesis): 405 came without `Allow`.
    let app = spawn_app().await;
    let mut by_path: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for (method, path) in served() {
        let methods = by_path.entry(path).or_default();
        methods.push(method.to_uppercase());
        // HEAD is answered wherever GET is.
        if method == "get" {
            methods.push("HEAD".into());
        }
    }
    for (path, mut methods) in by_path {
        let url = app.url(&concrete(&path));
        let res = app
            .client
            .request(Method::from_bytes(b"TRACE").unwrap(), url)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 405, "{path}");
        let allow = res.headers()["allow"].to_str().unwrap().to_owned();
        let mut listed: Vec<String> = allow.split(", ").map(str::to_owned).collect();
        listed.sort();
        methods.sort();
        assert_eq!(listed, methods, "{path}");
        assert_eq!(
            res.headers()["content-type"],
            "application/problem+json",
            "{path}"
        );
    }
}

#[tokio::test]
async fn every_route_in_the_table_is_served() {
    // The table the document is checked against is the one the server is
    // built from; this checks that each entry is reachable as listed.
    let app = spawn_app().await;
    for (method, path) in served() {
        let path = concrete(&path);
        let res = app
            .client
            .request(
                Method::from_bytes(method.to_uppercase().as_bytes()).unwrap(),
                app.url(&path),
            )
            .send()
            .await
            .unwrap();
        let status = res.status().as_u16();
        let body = res.text().await.unwrap_or_default();
        assert!(
            status != 405 && !body.contains("no route for"),
            "{method} {path}: {status} {body}"
        );
    }
}

/// Validates a response body against the schema the document gives for
/// this operation, status and media type.
fn conforms(doc: &Value, method: &str, template: &str, status: u16, media: &str, body: &Value) {
    let responses = &doc["paths"][template][method]["responses"];
    let response = &responses[status.to_string()];
    assert!(
        response.is_object(),
        "{method} {template}: status {status} is not documented"
    );
    let media = media.split(';').next().unwrap().trim();
    let schema = &response["content"][media]["schema"];
    assert!(
        schema.is_object(),
        "{method} {template} {status}: {media} is not documented"
    );
    // The schema refers into the document's components; give it them.
    let mut rooted = schema.clone();
    rooted["components"] = doc["components"].clone();
    let validator = jsonschema::validator_for(&rooted).expect("the schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(body)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{method} {template} {status} does not match the document: {errors:?}\n{body:#}"
    );
}

#[tokio::test]
async fn real_responses_match_the_document() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    let story = app.story("Harbor reopening").await;
    let speaker = app.speaker("Ana Robles", "person").await;
    let article = app
        .article(
            story,
            "https://news.example/harbor",
            "The harbor reopens on Monday, Mayor Ana Robles said Friday. Officials said the \
             dredging cost 4 million.",
        )
        .await;
    let claim = app
        .claim(story, speaker, "The harbor reopens on Monday")
        .await["id"]
        .as_i64()
        .unwrap();
    let other = app.claim(story, speaker, "The harbor stays shut").await["id"]
        .as_i64()
        .unwrap();
    let fill = |t: &str| {
        t.replace("{story}", &story.to_string())
            .replace("{speaker}", &speaker.to_string())
            .replace("{article}", &article.to_string())
            .replace("{claim}", &claim.to_string())
            .replace("{other}", &other.to_string())
    };

    // Writes first, so that the reads below have history to show.
    let tag = app.etag(&format!("/v1/claims/{claim}")).await;
    let writes: Vec<(Method, &str, &str, Option<&str>, Value)> = vec![
        (
            Method::PATCH,
            "/v1/claims/{id}",
            "/v1/claims/{claim}",
            Some(tag.as_str()),
            json!({ "text": "The harbor reopens on Monday at noon", "reason": "precision" }),
        ),
        (
            Method::POST,
            "/v1/claims/{id}/reviews",
            "/v1/claims/{claim}/reviews",
            Some("\"2\""),
            json!({ "verdict": "mostly_true", "rationale": "The port authority confirms it.",
                    "evidence": [{ "url": "https://port.example/notice", "title": "Notice" }] }),
        ),
        (
            Method::POST,
            "/v1/claims/{id}/comments",
            "/v1/claims/{claim}/comments",
            None,
            json!({ "text": "Check the noon part" }),
        ),
        (
            Method::POST,
            "/v1/claims/{id}/relations",
            "/v1/claims/{other}/relations",
            None,
            json!({ "kind": "contradicts", "target_id": claim }),
        ),
        (
            Method::POST,
            "/v1/articles/{id}/extract",
            "/v1/articles/{article}/extract",
            None,
            Value::Null,
        ),
        (
            Method::POST,
            "/v1/articles/{id}/extract",
            "/v1/articles/{article}/extract?apply=true",
            None,
            Value::Null,
        ),
        // Errors are documented too.
        (
            Method::POST,
            "/v1/claims",
            "/v1/claims",
            None,
            json!({ "story_id": story, "speaker_id": speaker, "text": "", "kind": "rumour" }),
        ),
        (
            Method::PATCH,
            "/v1/claims/{id}",
            "/v1/claims/{claim}",
            Some("\"1\""),
            json!({ "text": "Stale" }),
        ),
    ];
    for (method, template, path, if_match, body) in writes {
        let mut req = app.client.request(method.clone(), app.url(&fill(path)));
        if let Some(tag) = if_match {
            req = req.header("If-Match", tag);
        }
        if !body.is_null() {
            req = req.json(&body);
        }
        let res = req.send().await.unwrap();
        let status = res.status().as_u16();
        let media = res.headers()["content-type"].to_str().unwrap().to_owned();
        let body: Value = res.json().await.unwrap();
        let method = method.as_str().to_lowercase();
        conforms(&doc, &method, template, status, &media, &body);
    }

    let reads = [
        ("/healthz", "/healthz"),
        ("/v1/me", "/v1/me"),
        ("/v1/users", "/v1/users"),
        ("/v1/users/{id}/tokens", "/v1/users/1/tokens"),
        ("/v1/stories", "/v1/stories"),
        ("/v1/stories/{id}", "/v1/stories/{story}"),
        ("/v1/stories/{id}/claims", "/v1/stories/{story}/claims"),
        (
            "/v1/stories/{id}/contested",
            "/v1/stories/{story}/contested",
        ),
        ("/v1/stories/{id}/timeline", "/v1/stories/{story}/timeline"),
        ("/v1/speakers", "/v1/speakers"),
        ("/v1/speakers/{id}", "/v1/speakers/{speaker}"),
        ("/v1/speakers/{id}/claims", "/v1/speakers/{speaker}/claims"),
        ("/v1/articles/{id}", "/v1/articles/{article}"),
        (
            "/v1/articles/{id}",
            "/v1/articles/{article}?as_of=2030-01-01T00:00:00Z",
        ),
        (
            "/v1/articles/{id}/revisions",
            "/v1/articles/{article}/revisions",
        ),
        (
            "/v1/articles/{id}/revisions/{n}",
            "/v1/articles/{article}/revisions/1",
        ),
        (
            "/v1/articles/{id}/diff",
            "/v1/articles/{article}/diff?from=1&to=1",
        ),
        ("/v1/claims", "/v1/claims"),
        ("/v1/claims/{id}", "/v1/claims/{claim}"),
        (
            "/v1/claims/{id}",
            "/v1/claims/{claim}?as_of=2030-01-01T00:00:00Z",
        ),
        ("/v1/claims/{id}/revisions", "/v1/claims/{claim}/revisions"),
        (
            "/v1/claims/{id}/revisions/{n}",
            "/v1/claims/{claim}/revisions/2",
        ),
        (
            "/v1/claims/{id}/diff",
            "/v1/claims/{claim}/diff?from=1&to=3",
        ),
        ("/v1/claims/{id}/reviews", "/v1/claims/{claim}/reviews"),
        ("/v1/claims/{id}/comments", "/v1/claims/{claim}/comments"),
        ("/v1/claims/{id}/relations", "/v1/claims/{claim}/relations"),
        (
            "/v1/claims/{id}/claimreview",
            "/v1/claims/{claim}/claimreview",
        ),
        ("/v1/review-queue", "/v1/review-queue"),
        ("/v1/events", "/v1/events"),
        ("/v1/search", "/v1/search?q=harbor"),
        // Errors: unknown record, invalid parameter, unreadable parameter.
        ("/v1/claims/{id}", "/v1/claims/999999"),
        ("/v1/claims", "/v1/claims?limit=0"),
        ("/v1/claims", "/v1/claims?cursor=garbage"),
    ];
    let mut checked = 0;
    for (template, path) in reads {
        let res = app.get(&fill(path)).await;
        let status = res.status().as_u16();
        let media = res.headers()["content-type"].to_str().unwrap().to_owned();
        let body: Value = res.json().await.unwrap();
        conforms(&doc, "get", template, status, &media, &body);
        checked += 1;
    }
    assert_eq!(checked, reads.len());

    // The check itself can fail: a claim with a text id is refused.
    let wrong = std::panic::catch_unwind(|| {
        conforms(
            &doc,
            "get",
            "/v1/claims/{id}",
            200,
            "application/json",
            &json!({ "id": "one" }),
        )
    });
    assert!(wrong.is_err());

    // Without a token.
    let res = client_with(None)
        .get(app.url("/v1/claims"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    let body: Value = res.json().await.unwrap();
    conforms(
        &doc,
        "get",
        "/v1/claims",
        401,
        "application/problem+json",
        &body,
    );
}

#[tokio::test]
async fn text_vocabularies_are_documented_as_they_travel() {
    // Regression: the document once listed `ClaimStatus` as "Proposed",
    // "InReview"… (the Rust names) while the API sends "proposed",
    // "in_review"; schemathesis flagged every claim it read.
    use claimtrail::domain::claim::{ClaimKind, ClaimStatus};
    use claimtrail::domain::speaker::SpeakerKind;
    let app = spawn_app().await;
    let doc = document(&app).await;
    let listed = |name: &str| -> Vec<String> {
        doc["components"]["schemas"][name]["enum"]
            .as_array()
            .unwrap_or_else(|| panic!("{name} has no enum"))
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect()
    };
    let wire = |all: &[&str]| all.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(
        listed("ClaimStatus"),
        wire(
            &ClaimStatus::ALL
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
        )
    );
    assert_eq!(
        listed("ClaimKind"),
        wire(
            &ClaimKind::ALL
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
        )
    );
    assert_eq!(
        listed("SpeakerKind"),
        wire(
            &SpeakerKind::ALL
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
        )
    );
    // Regression: hashes travel as hex text, not as arrays of bytes.
    assert_eq!(
        doc["components"]["schemas"]["ArticleRevisionSummary"]["properties"]["body_sha256"]["type"],
        "string"
    );
}

#[tokio::test]
async fn the_docs_page_works_offline() {
    let app = spawn_app().await;
    let anonymous = client_with(None);
    let res = anonymous.get(app.url("/docs/")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let csp = res.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.contains("script-src 'self'"), "{csp}");
    assert!(!csp.contains("http"), "{csp}");
    let page = res.text().await.unwrap();
    assert!(page.contains("swagger-ui-bundle.js"), "{page}");
    // Nothing is loaded from another origin.
    for attr in ["src=\"", "href=\""] {
        for part in page.split(attr).skip(1) {
            let target = part.split('"').next().unwrap();
            assert!(!target.contains("//"), "{target} is not local");
        }
    }
    let folder = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(app.url("/docs"))
        .send()
        .await
        .unwrap();
    assert_eq!(folder.status(), 308);
    assert_eq!(folder.headers()["location"], "/docs/");
    let missing = anonymous
        .get(app.url("/docs/nothing-here.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    assert_eq!(
        missing.headers()["content-type"],
        "application/problem+json"
    );
    for asset in [
        "swagger-ui-bundle.js",
        "swagger-ui.css",
        "swagger-initializer.js",
    ] {
        let res = anonymous
            .get(app.url(&format!("/docs/{asset}")))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{asset}");
        let text = res.text().await.unwrap();
        if asset == "swagger-initializer.js" {
            assert!(text.contains("/v1/openapi.json"), "{text}");
        }
    }
}

/// Every `$ref` of the document names a schema it defines, and no two
/// operations share an id: a client generator reads the whole document.
#[tokio::test]
async fn every_reference_in_the_document_resolves() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    fn refs(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(map) => {
                for (k, x) in map {
                    match (k.as_str(), x) {
                        ("$ref", Value::String(r)) => out.push(r.clone()),
                        _ => refs(x, out),
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|x| refs(x, out)),
            _ => {}
        }
    }
    let mut found = Vec::new();
    refs(&doc, &mut found);
    assert!(!found.is_empty());
    let missing: BTreeSet<&String> = found
        .iter()
        .filter(|r| {
            let name = r.trim_start_matches("#/components/schemas/");
            !r.starts_with("#/components/schemas/") || doc["components"]["schemas"][name].is_null()
        })
        .collect();
    assert!(missing.is_empty(), "references to nothing: {missing:?}");
    let mut ids = BTreeSet::new();
    for (_, item) in doc["paths"].as_object().unwrap() {
        for method in METHODS {
            if let Some(id) = item[method]["operationId"].as_str() {
                assert!(ids.insert(id.to_owned()), "operationId {id} is used twice");
            }
        }
    }
}

#[tokio::test]
async fn docs_files_are_cached_by_browsers_and_revalidated() {
    let app = spawn_app().await;
    let anonymous = client_with(None);
    let url = app.url("/docs/swagger-ui-bundle.js");
    let first = anonymous.get(&url).send().await.unwrap();
    assert_eq!(first.status(), 200);
    assert_eq!(first.headers()["cache-control"], "no-cache");
    let tag = first.headers()["etag"].to_str().unwrap().to_owned();
    assert!(first.bytes().await.unwrap().len() > 100_000);
    let again = anonymous
        .get(&url)
        .header("If-None-Match", &tag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
    assert!(again.bytes().await.unwrap().is_empty());
    // Another file has another tag.
    let css = anonymous
        .get(app.url("/docs/swagger-ui.css"))
        .header("If-None-Match", &tag)
        .send()
        .await
        .unwrap();
    assert_eq!(css.status(), 200);
    assert_ne!(css.headers()["etag"].to_str().unwrap(), tag);
}
