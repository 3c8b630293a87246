//! Running the real `claimtrail serve` binary on a data folder of its own
//! (its own PostgreSQL cluster), for tests of restarts, crashes and outages.

#![allow(dead_code)]

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub mod fixture_site;
pub mod lock_wait;

use claimtrail::storage::cluster::{Cluster, ClusterOptions};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

/// Held by each test of a binary that runs `serve` under load: on two
/// cores, several such services at once starve each other's timing.
pub static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

pub const BIN: &str = env!("CARGO_BIN_EXE_claimtrail");

/// A port no other test of this binary was given: the kernel may hand the
/// same free port to two tests that ask at once (each releases it for its
/// `serve` to bind), and two services on one port answer each other's tests.
pub fn free_port() -> u16 {
    static GIVEN: std::sync::Mutex<Vec<u16>> = std::sync::Mutex::new(Vec::new());
    let mut given = GIVEN.lock().unwrap_or_else(|e| e.into_inner());
    loop {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        if !given.contains(&port) {
            given.push(port);
            return port;
        }
    }
}

pub struct Service {
    pub child: Child,
    pub base: String,
    pub log: PathBuf,
}

pub fn start(data_dir: &Path, port: u16, log_name: &str) -> Service {
    start_with(data_dir, port, log_name, &[])
}

/// `start` with more environment variables.
pub fn start_with(data_dir: &Path, port: u16, log_name: &str, env: &[(&str, &str)]) -> Service {
    let log = data_dir.parent().unwrap().join(log_name);
    let out = std::fs::File::create(&log).unwrap();
    let child = Command::new(BIN)
        .arg("serve")
        .env_remove("DATABASE_URL")
        .env("CLAIMTRAIL_DATA_DIR", data_dir)
        .env("CLAIMTRAIL_BIND", format!("127.0.0.1:{port}"))
        .env("CLAIMTRAIL_WORKERS", "1")
        .env("CLAIMTRAIL_LOG_FORMAT", "json")
        .envs(env.iter().copied())
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
    pub async fn wait_healthy(&mut self, client: &reqwest::Client) {
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            let healthy = client
                .get(format!("{}/healthz", self.base))
                .send()
                .await
                .is_ok_and(|res| res.status() == 200);
            // Healthy only if it is this child answering: it must still run.
            let exited = self.child.try_wait().unwrap();
            if healthy && exited.is_none() {
                return;
            }
            if let Some(status) = exited {
                panic!(
                    "serve exited with {status}: {}",
                    std::fs::read_to_string(&self.log).unwrap_or_default()
                );
            }
            assert!(Instant::now() < deadline, "serve did not become healthy");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Sends `signal` and waits (up to a minute) for the process to exit.
    pub fn signal(&mut self, signal: Signal) -> std::process::ExitStatus {
        self.send(signal);
        self.wait_exit(Duration::from_secs(60)).unwrap_or_else(|| {
            panic!(
                "serve did not exit after {signal}: {}",
                std::fs::read_to_string(&self.log).unwrap_or_default()
            )
        })
    }

    pub fn send(&self, signal: Signal) {
        kill(Pid::from_raw(self.child.id() as i32), signal).unwrap();
    }

    /// The exit status, once the process has exited within `timeout`.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// Stops whatever cluster is left in the folder when a test ends, even on panic.
pub struct Cleanup(pub PathBuf);

impl Drop for Cleanup {
    fn drop(&mut self) {
        if self.0.join("postgres/postmaster.pid").exists()
            && let Ok(mut cluster) = Cluster::open(&self.0, ClusterOptions::default())
        {
            let _ = cluster.stop();
        }
    }
}

pub fn data_folder() -> (tempfile::TempDir, PathBuf) {
    let root = tempfile::Builder::new()
        .prefix("claimtrail-serve-")
        .tempdir_in("/tmp")
        .unwrap();
    // A folder the postgres system user can enter, as a data folder usually is.
    std::fs::set_permissions(root.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let data = root.path().join("data");
    (root, data)
}

/// Runs a CLI command on the data folder's cluster; returns its stdout.
pub fn cli(data: &Path, args: &[&str]) -> String {
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
