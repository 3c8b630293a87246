//! Reads on streaming replicas: a real replica of the test cluster
//! (`pg_basebackup -R`), paused, lagging and stopped under the service.

use std::time::Duration;

use reqwest::Response;
use serde_json::{Value, json};

use crate::helpers::{TestApp, TestOptions, TestReplica, spawn_app_with};

async fn app_with_replica(max_lag: Duration) -> (TestApp, std::sync::Arc<TestReplica>) {
    let replica = TestReplica::start().await;
    let mut options = TestOptions {
        replicas: vec![replica.clone()],
        ..TestOptions::default()
    };
    options.replica_settings.max_lag = max_lag;
    let app = spawn_app_with(options).await;
    app.wait_replicas("healthy").await;
    (app, replica)
}

fn header(res: &Response, name: &str) -> Option<String> {
    res.headers()
        .get(name)
        .map(|v| v.to_str().unwrap().to_owned())
}

async fn get_after(app: &TestApp, path: &str, lsn: Option<&str>) -> (u16, Option<String>) {
    let mut req = app.client.get(app.url(path));
    if let Some(lsn) = lsn {
        req = req.header("claimtrail-lsn", lsn);
    }
    let res = req.send().await.unwrap();
    (res.status().as_u16(), header(&res, "claimtrail-read-from"))
}

/// Posts and returns (body, Claimtrail-LSN).
async fn write(app: &TestApp, path: &str, body: Value) -> (Value, String) {
    let res = app.post_json(path, &body).await;
    assert_eq!(res.status(), 201);
    let lsn = header(&res, "claimtrail-lsn").expect("a write names its WAL position");
    (res.json().await.unwrap(), lsn)
}

#[tokio::test]
async fn a_write_is_read_back_while_the_replica_that_would_serve_reads_is_paused() {
    let (app, replica) = app_with_replica(Duration::from_secs(60)).await;
    let (story, _) = write(&app, "/v1/stories", json!({ "title": "Replicated" })).await;
    let story = story["id"].as_i64().unwrap();
    let (speaker, _) = write(
        &app,
        "/v1/speakers",
        json!({ "name": "Ντόρα Μπακογιάννη", "kind": "person" }),
    )
    .await;
    let speaker = speaker["id"].as_i64().unwrap();
    app.wait_replicas("healthy").await;

    replica.pause().await;
    let (claim, lsn) = write(
        &app,
        "/v1/claims",
        json!({ "story_id": story, "speaker_id": speaker, "text": "Η συμφωνία υπογράφεται αύριο.", "kind": "paraphrase" }),
    )
    .await;
    let path = format!("/v1/claims/{}", claim["id"]);
    // Sent back, the position makes the read see the write: the paused
    // replica cannot, so the primary serves it.
    assert_eq!(
        get_after(&app, &path, Some(&lsn)).await,
        (200, Some("primary".into()))
    );
    // Without it the read goes to the replica, which is within the lag
    // bound and does not have the claim yet.
    assert_eq!(
        get_after(&app, &path, None).await,
        (404, Some("replica-1".into()))
    );

    // Resumed, the replica replays past the position and serves the read.
    replica.resume().await;
    wait_served_by_replica(&app, &path, &lsn).await;
}

#[tokio::test]
async fn a_replica_past_the_lag_bound_leaves_the_rotation_until_it_catches_up() {
    let (app, replica) = app_with_replica(Duration::from_millis(300)).await;
    let (story, lsn) = write(&app, "/v1/stories", json!({ "title": "Lagging" })).await;
    let story = story["id"].as_i64().unwrap();
    wait_served_by_replica(&app, &format!("/v1/stories/{story}"), &lsn).await;

    replica.pause().await;
    app.story("Written while the replica is paused").await;
    app.wait_replicas("lagging").await;
    let health = app.get_json("/healthz").await;
    let report = &health["replicas"][0];
    assert_eq!(report["name"], "replica-1");
    assert!(report["lag_ms"].as_u64().unwrap() > 300, "{report}");
    assert!(
        !report["url"].as_str().unwrap().contains("user="),
        "{report}"
    );
    // Reads no longer go to it.
    assert_eq!(
        get_after(&app, &format!("/v1/stories/{story}"), None).await,
        (200, Some("primary".into()))
    );

    replica.resume().await;
    app.wait_replicas("healthy").await;
    assert_eq!(
        get_after(&app, &format!("/v1/stories/{story}"), None)
            .await
            .1,
        Some("replica-1".into())
    );
}

/// Waits (up to 30 s) until the replica serves `path` to a read that has
/// seen `lsn`.
async fn wait_served_by_replica(app: &TestApp, path: &str, lsn: &str) {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let (status, from) = get_after(app, path, Some(lsn)).await;
        assert_eq!(status, 200, "GET {path}");
        if from.as_deref() == Some("replica-1") {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the replica never caught up"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn reads_go_to_the_primary_when_the_replica_stops_and_back_when_it_returns() {
    let (app, replica) = app_with_replica(Duration::from_secs(60)).await;
    let (story, lsn) = write(&app, "/v1/stories", json!({ "title": "Failover" })).await;
    let path = format!("/v1/stories/{}", story["id"]);
    wait_served_by_replica(&app, &path, &lsn).await;

    replica.stop().await;
    // No read fails: the first to find the replica gone takes it out of
    // rotation and goes to the primary.
    for _ in 0..20 {
        assert_eq!(
            get_after(&app, &path, None).await,
            (200, Some("primary".into()))
        );
    }
    app.wait_replicas("down").await;

    replica.restart().await;
    app.wait_replicas("healthy").await;
    wait_served_by_replica(&app, &path, &lsn).await;
}

#[tokio::test]
async fn a_malformed_position_is_refused_and_a_write_that_fails_names_none() {
    let (app, _replica) = app_with_replica(Duration::from_secs(60)).await;
    let res = app
        .client
        .get(app.url("/v1/stories"))
        .header("claimtrail-lsn", "yesterday")
        .send()
        .await
        .unwrap();
    let problem = crate::helpers::assert_problem(res, 400).await;
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("Claimtrail-LSN")
    );
    let res = app.post_json("/v1/stories", &json!({ "title": "" })).await;
    assert_eq!(res.status(), 422);
    assert_eq!(header(&res, "claimtrail-lsn"), None);
}

/// Every read route, served by a replica (a read-only server): none may
/// write, so none fails there.
#[tokio::test]
async fn every_read_route_is_answered_by_a_replica() {
    let (app, _replica) = app_with_replica(Duration::from_secs(60)).await;
    let story = app.story("Every route").await;
    let speaker = app.speaker("محمد", "person").await;
    let body = "The minister said on Friday that talks would resume. 「交渉は続く」と述べた。";
    let article = app.article(story, "https://example.org/routes", body).await;
    let claim = app
        .claim_quoting(story, speaker, article, body, "talks would resume")
        .await;
    app.patch_json(
        &format!("/v1/claims/{claim}"),
        &json!({ "text": "talks would resume soon", "reason": "wording" }),
        None,
    )
    .await;
    app.log_caught_up().await;
    // Let the replica replay all of it.
    let (_, lsn) = write(&app, "/v1/stories", json!({ "title": "Marker" })).await;
    wait_served_by_replica(&app, "/v1/stories", &lsn).await;
    let users = app.get_json("/v1/users").await;
    let user = users["items"][0]["id"].as_i64().unwrap();
    let event = app.get_json("/v1/events?order=asc").await["items"][0]["id"]
        .as_i64()
        .unwrap();

    let mut served = 0;
    for (method, path) in claimtrail::http::V1_ROUTES {
        if *method != "get" || path.ends_with("/stream") {
            continue;
        }
        let id = if path.starts_with("/v1/stories") {
            story
        } else if path.starts_with("/v1/speakers") {
            speaker
        } else if path.starts_with("/v1/articles") {
            article
        } else if path.starts_with("/v1/users") {
            user
        } else if path.starts_with("/v1/audit/events") {
            event
        } else {
            claim
        };
        let mut path = path.replace("{id}", &id.to_string()).replace("{n}", "1");
        path.push_str(match path.as_str() {
            "/v1/search" => "?q=talks",
            p if p.ends_with("/diff") => "?from=1&to=2",
            "/v1/audit/consistency" => "?from=1&to=2",
            _ => "",
        });
        let (status, from) = get_after(&app, &path, None).await;
        assert!(status < 500, "GET {path} -> {status}");
        // (A route that needs no database, such as /v1/me, names none.)
        assert_ne!(from.as_deref(), Some("primary"), "GET {path}");
        if status == 200 && from.is_some() {
            served += 1;
        }
    }
    for page in [
        "/ui/queue".to_owned(),
        format!("/ui/claims/{claim}"),
        format!("/ui/articles/{article}"),
        format!("/ui/stories/{story}/timeline"),
    ] {
        let (status, _) = get_after(&app, &page, None).await;
        assert!(status < 500, "GET {page} -> {status}");
    }
    assert!(served >= 25, "only {served} read routes answered 200");
}

#[tokio::test]
async fn a_verdict_given_on_a_page_shows_on_the_next_page_while_the_replica_is_paused() {
    use crate::pages::{census_verdict, signed_in};
    let (app, replica) = app_with_replica(Duration::from_secs(60)).await;
    let story = app.story("Census").await;
    let speaker = app.speaker("Statistics office", "organization").await;
    let (claim, _) = write(
        &app,
        "/v1/claims",
        json!({ "story_id": story, "speaker_id": speaker, "text": "Το 2021 η χώρα είχε 10,4 εκατομμύρια κατοίκους", "kind": "paraphrase" }),
    )
    .await;
    let id = claim["id"].as_i64().unwrap();
    let (browser, _) = signed_in(&app, "eleni", claimtrail::domain::auth::Role::Reviewer).await;
    let (_, lsn) = write(&app, "/v1/stories", json!({ "title": "Marker" })).await;
    wait_served_by_replica(&app, &format!("/v1/claims/{id}"), &lsn).await;

    replica.pause().await;
    let page = browser.get(&format!("/ui/claims/{id}")).await;
    assert_eq!(
        header(&page, "claimtrail-read-from").as_deref(),
        Some("replica-1")
    );
    let page = page.text().await.unwrap();
    let res = census_verdict(&browser, id, &page).await;
    assert_eq!(res.status(), 303);
    let cookie = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap())
        .find(|c| c.starts_with("claimtrail_lsn="))
        .expect("the form's answer keeps the write's position")
        .to_owned();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("Path=/ui/"),
        "{cookie}"
    );
    // The paused replica has not replayed the verdict: the page comes from
    // the primary and shows it.
    let page = browser.get(&format!("/ui/claims/{id}")).await;
    assert_eq!(
        header(&page, "claimtrail-read-from").as_deref(),
        Some("primary")
    );
    assert!(page.text().await.unwrap().contains("status-verified"));
}
