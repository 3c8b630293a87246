//! `claimtrail serve` without DATABASE_URL: its own cluster, started and
//! stopped with it, reused across restarts, surviving crashes.

mod common;

use std::process::Command;

use claimtrail::storage::cluster::{Cluster, ClusterOptions};
use common::{BIN, Cleanup, cli, data_folder, free_port, start};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use nix::sys::signal::Signal;
use serde_json::{Value, json};

#[tokio::test]
async fn serve_runs_its_own_cluster_across_restarts_and_crashes() {
    let (_root, data) = data_folder();
    let _cleanup = Cleanup(data.clone());
    let client = reqwest::Client::new();
    let port = free_port();

    // First start: initdb, start, migrate, serve.
    let mut service = start(&data, port, "first.log");
    service.wait_healthy(&client).await;
    // The first admin token comes from the CLI, on the cluster serve is running.
    let token = cli(
        &data,
        &["user", "add", "--name", "chief", "--role", "admin"],
    );
    assert!(token.contains("chief"), "{token}");
    let token = cli(&data, &["token", "create", "--user", "chief"]);
    let token = token.lines().last().unwrap().trim().to_owned();
    assert!(token.starts_with("ct_"), "{token}");
    assert!(
        data.join("postgres/postmaster.pid").exists(),
        "the CLI must leave serve's cluster running"
    );
    // Tokens are listed with the ids `token revoke` needs; lists have a header.
    let tokens = cli(&data, &["token", "list", "--user", "chief"]);
    let mut lines = tokens.lines();
    assert_eq!(lines.next(), Some("id\tlabel\tcreated\tlast used\trevoked"));
    assert!(
        lines.next().is_some_and(|l| l.split('\t').count() == 5),
        "{tokens}"
    );
    let users = cli(&data, &["user", "list"]);
    assert!(
        users.starts_with("id\tname\trole\n") && users.contains("\tchief\tadmin"),
        "{users}"
    );
    // A one-shot command logs only warnings unless asked (-v), and no colours
    // when its output is not a terminal.
    let quiet = std::process::Command::new(common::BIN)
        .args(["user", "list"])
        .env_remove("DATABASE_URL")
        .env_remove("RUST_LOG")
        .env("CLAIMTRAIL_DATA_DIR", &data)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&quiet.stderr);
    assert!(!stderr.contains("INFO"), "{stderr}");
    let verbose = std::process::Command::new(common::BIN)
        .args(["user", "list", "-v"])
        .env_remove("DATABASE_URL")
        .env_remove("RUST_LOG")
        .env("CLAIMTRAIL_DATA_DIR", &data)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&verbose.stderr);
    assert!(stderr.contains("INFO"), "{stderr}");
    assert!(
        !stderr.contains('\u{1b}'),
        "no ANSI escapes off a terminal: {stderr}"
    );
    let res = client
        .post(format!("{}/v1/stories", service.base))
        .bearer_auth(&token)
        .json(&json!({ "title": "Kept across restarts" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let story: Value = res.json().await.unwrap();
    assert!(
        data.join("postgres/PG_VERSION").is_file(),
        "cluster lives in the data folder"
    );
    // The embedded cluster knows Unicode (ICU or C.UTF-8), so ad-hoc SQL
    // lowercases every script, and a title in any script makes a story.
    let cluster = Cluster::open(&data, ClusterOptions::default()).unwrap();
    let mut conn = AsyncPgConnection::establish(&cluster.database_url("claimtrail"))
        .await
        .unwrap();
    #[derive(diesel::QueryableByName)]
    struct Lowered {
        #[diesel(sql_type = diesel::sql_types::Text)]
        lowered: String,
    }
    let row: Lowered = diesel::sql_query("SELECT lower('ÉCOLE ΕΛΛΗΝΙΚΆ') AS lowered")
        .get_result(&mut conn)
        .await
        .unwrap();
    assert_eq!(row.lowered, "école ελληνικά");
    let res = client
        .post(format!("{}/v1/stories", service.base))
        .bearer_auth(&token)
        .json(&json!({ "title": "日本・北朝鮮" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let unicode_story: Value = res.json().await.unwrap();
    assert_eq!(unicode_story["slug"], "日本-北朝鮮");
    drop(conn);

    // A refused request with a distinctive body: neither it nor the token
    // may reach the log.
    let res = client
        .post(format!("{}/v1/claims", service.base))
        .bearer_auth(&token)
        .json(&json!({ "text": "secret-body-4b1d", "kind": "paraphrase", "story_id": -1 }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);

    // SIGTERM stops the API, then the cluster.
    let status = service.signal(Signal::SIGTERM);
    assert!(status.success(), "{status}");
    let log = std::fs::read_to_string(&service.log).unwrap();
    assert!(log.contains("/v1/claims"), "requests are logged: {log}");
    assert!(!log.contains(&token), "the token was logged");
    assert!(!log.contains(&token[3..]), "part of the token was logged");
    assert!(!log.contains("secret-body-4b1d"), "a body was logged");
    assert!(!log.contains("Kept across restarts"), "a body was logged");
    assert!(
        !data.join("postgres/postmaster.pid").exists(),
        "cluster left running after SIGTERM"
    );

    // Second start reuses the data.
    let mut service = start(&data, port, "second.log");
    service.wait_healthy(&client).await;
    let again: Value = client
        .get(format!("{}/v1/stories/{}", service.base, story["id"]))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(again["title"], "Kept across restarts");

    // A crash (SIGKILL) leaves the server running; the next start adopts it.
    service.signal(Signal::SIGKILL);
    assert!(data.join("postgres/postmaster.pid").exists());
    let mut service = start(&data, port, "third.log");
    service.wait_healthy(&client).await;
    let log = std::fs::read_to_string(&service.log).unwrap();
    assert!(log.contains("already running"), "{log}");
    service.signal(Signal::SIGTERM);
    // It did not start the adopted server, so it leaves it running; stop it.
    let mut cluster = Cluster::open(&data, ClusterOptions::default()).unwrap();
    cluster.stop().unwrap();

    // A stale postmaster.pid (its pid now belongs to another process) must
    // not stop the next start.
    let stale = format!(
        "{}\n{}\n0\n5432\n\n\n",
        std::process::id(),
        data.join("postgres").display()
    );
    std::fs::write(data.join("postgres/postmaster.pid"), stale).unwrap();
    let mut service = start(&data, port, "fourth.log");
    service.wait_healthy(&client).await;
    let log = std::fs::read_to_string(&service.log).unwrap();
    assert!(log.contains("stale postmaster.pid"), "{log}");
    assert!(service.signal(Signal::SIGTERM).success());
    assert!(!data.join("postgres/postmaster.pid").exists());
}

#[test]
fn missing_server_binaries_give_one_clear_line() {
    let empty = tempfile::tempdir().unwrap();
    let out = Command::new(BIN)
        .arg("serve")
        .env_remove("DATABASE_URL")
        .env("CLAIMTRAIL_PG_BINDIR", empty.path())
        .env("CLAIMTRAIL_DATA_DIR", empty.path().join("data"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("install the PostgreSQL server package"),
        "{stderr}"
    );
}

#[test]
fn commands_other_than_serve_and_init_refuse_a_folder_without_a_cluster() {
    let (_root, data) = data_folder();
    let _cleanup = Cleanup(data.clone());
    let typo = data.with_file_name("dtaa");
    for args in [
        &["audit", "verify"][..],
        &["user", "add", "--name", "chief", "--role", "admin"],
        &["token", "create", "--user", "chief"],
        &["migrate"],
    ] {
        let out = Command::new(BIN)
            .args(args)
            .env_remove("DATABASE_URL")
            .env("CLAIMTRAIL_DATA_DIR", &typo)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert_eq!(stderr.trim().lines().count(), 1, "{args:?}: {stderr}");
        assert!(stderr.contains("holds no claimtrail cluster"), "{stderr}");
        assert!(!typo.exists(), "{args:?} made the folder");
    }
    // `init` makes it; then the same commands work on it.
    let made = cli(&data, &["init"]);
    assert!(made.contains("ready"), "{made}");
    assert!(data.join("postgres/PG_VERSION").is_file());
    assert!(data.join("audit-log.key").is_file());
    let added = cli(
        &data,
        &["user", "add", "--name", "chief", "--role", "admin"],
    );
    assert!(added.contains("chief"), "{added}");
    assert!(
        !data.join("postgres/postmaster.pid").exists(),
        "the CLI stops the cluster it started"
    );
}
