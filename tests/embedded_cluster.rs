//! `claimtrail serve` without DATABASE_URL: its own cluster, started and
//! stopped with it, reused across restarts, surviving crashes.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use claimtrail::storage::cluster::{Cluster, ClusterOptions};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_claimtrail");

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Service {
    child: Child,
    base: String,
    log: PathBuf,
}

fn start(data_dir: &Path, port: u16, log_name: &str) -> Service {
    let log = data_dir.parent().unwrap().join(log_name);
    let out = std::fs::File::create(&log).unwrap();
    let child = Command::new(BIN)
        .arg("serve")
        .env_remove("DATABASE_URL")
        .env("CLAIMTRAIL_DATA_DIR", data_dir)
        .env("CLAIMTRAIL_BIND", format!("127.0.0.1:{port}"))
        .env("CLAIMTRAIL_WORKERS", "1")
        .env("CLAIMTRAIL_LOG_FORMAT", "json")
        .stdout(Stdio::null())
        .stderr(out)
        .spawn()
        .expect("spawning claimtrail serve");
    Service {
        child,
        base: format!("http://127.0.0.1:{port}"),
        log,
    }
}

impl Service {
    async fn wait_healthy(&mut self, client: &reqwest::Client) {
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            if let Ok(res) = client.get(format!("{}/healthz", self.base)).send().await {
                if res.status() == 200 {
                    return;
                }
            }
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!(
                    "serve exited with {status}: {}",
                    std::fs::read_to_string(&self.log).unwrap_or_default()
                );
            }
            assert!(Instant::now() < deadline, "serve did not become healthy");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn signal(&mut self, signal: Signal) -> std::process::ExitStatus {
        kill(Pid::from_raw(self.child.id() as i32), signal).unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "serve did not exit after {signal}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// Stops whatever cluster is left in the folder when a test ends, even on panic.
struct Cleanup(PathBuf);

impl Drop for Cleanup {
    fn drop(&mut self) {
        if self.0.join("postgres/postmaster.pid").exists() {
            if let Ok(mut cluster) = Cluster::open(&self.0, ClusterOptions::default()) {
                let _ = cluster.stop();
            }
        }
    }
}

fn data_folder() -> (tempfile::TempDir, PathBuf) {
    let root = tempfile::Builder::new()
        .prefix("claimtrail-serve-")
        .tempdir_in("/tmp")
        .unwrap();
    // A folder the postgres system user can enter, as a data folder usually is.
    std::fs::set_permissions(root.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let data = root.path().join("data");
    (root, data)
}

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

/// Runs a CLI command on the data folder's cluster; returns its stdout.
fn cli(data: &Path, args: &[&str]) -> String {
    let out = Command::new(BIN)
        .args(args)
        .env_remove("DATABASE_URL")
        .env("CLAIMTRAIL_DATA_DIR", data)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
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
