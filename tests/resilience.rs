//! The real binary under load through a database outage and a crash:
//! - PostgreSQL stopped under load: requests fail fast with 503 and
//!   Retry-After, and the service recovers by itself when it is back;
//! - SIGKILL mid-load: every write that got a 2xx is there after a restart,
//!   with its revision and its audit event, revisions have no gaps, and the
//!   audit chain verifies;
//! - SIGTERM or Ctrl-C with a request in flight: new connections are refused,
//!   the request finishes and is acknowledged, then the service exits; a
//!   second signal stops it at once without acknowledging anything.

mod common;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::time::{Duration, Instant};

use claimtrail::storage::cluster::{Cluster, ClusterOptions};
use common::lock_wait::until_a_session_waits_on_a_lock;
use common::{Cleanup, cli, data_folder, free_port, start_with};
use diesel::QueryableByName;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use nix::sys::signal::Signal;
use serde_json::{Value, json};
use tokio::sync::Mutex;

/// A fresh admin token from the CLI.
fn admin_token(data: &std::path::Path) -> String {
    cli(data, &["user", "add", "--name", "chief", "--role", "admin"]);
    let out = cli(data, &["token", "create", "--user", "chief"]);
    out.lines().last().unwrap().trim().to_owned()
}

fn client(token: &str) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("authorization", format!("Bearer {token}").parse().unwrap());
    reqwest::Client::builder()
        .default_headers(headers)
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap()
}

/// A service started on a data folder of its own, with an admin client. It
/// holds `SERIAL`: these tests run one at a time, each putting the service
/// under load on two cores.
struct Started {
    service: common::Service,
    data: PathBuf,
    port: u16,
    env: Vec<(&'static str, &'static str)>,
    token: String,
    http: reqwest::Client,
    // Dropped in this order: the cluster stops before its folder goes.
    _cleanup: Cleanup,
    _root: tempfile::TempDir,
    _serial: tokio::sync::MutexGuard<'static, ()>,
}

async fn start_service(log: &str, env: &[(&'static str, &'static str)]) -> Started {
    let serial = common::SERIAL.lock().await;
    let (root, data) = data_folder();
    let cleanup = Cleanup(data.clone());
    let port = free_port();
    let mut service = start_with(&data, port, log, env);
    service.wait_healthy(&reqwest::Client::new()).await;
    let token = admin_token(&data);
    Started {
        service,
        port,
        env: env.to_vec(),
        http: client(&token),
        token,
        data,
        _cleanup: cleanup,
        _root: root,
        _serial: serial,
    }
}

impl Started {
    fn base(&self) -> String {
        self.service.base.clone()
    }

    /// POSTs as the admin and returns the answer's JSON.
    async fn post(&self, path: &str, body: Value) -> Value {
        self.http
            .post(format!("{}{path}", self.service.base))
            .json(&body)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// Starts the service again on the same folder and port (after it
    /// exited or was killed).
    async fn restart(&mut self, log: &str) {
        self.service.child.kill().ok();
        self.service = start_with(&self.data, self.port, log, &self.env);
        self.service.wait_healthy(&reqwest::Client::new()).await;
    }

    fn database_url(&self) -> String {
        Cluster::open(&self.data, ClusterOptions::default())
            .unwrap()
            .database_url("claimtrail")
    }
}

/// Stops or starts the data folder's PostgreSQL from outside the service
/// (off the async workers: `pg_ctl` waits).
async fn on_cluster(data: &std::path::Path, action: fn(&mut Cluster) -> anyhow::Result<()>) {
    let data = data.to_owned();
    tokio::task::spawn_blocking(move || {
        action(&mut Cluster::open(&data, ClusterOptions::default()).unwrap()).unwrap()
    })
    .await
    .unwrap();
}

const BEFORE: u8 = 0;
/// While PostgreSQL shuts down or starts up (or a request spans a change of
/// phase): either answer, never a 500.
const STOPPING: u8 = 1;
const OUTAGE: u8 = 2;
const STARTING: u8 = 3;
const AFTER: u8 = 4;

#[derive(Debug, Clone)]
struct Outcome {
    phase: u8,
    write: bool,
    status: u16,
    took: Duration,
    problem_json: bool,
    retry_after: bool,
    at: Instant,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_database_outage_gets_fast_503s_and_the_service_recovers_by_itself() {
    let pool_timeout = Duration::from_millis(1000);
    let mut run = start_service(
        "outage.log",
        &[
            ("CLAIMTRAIL_POOL_TIMEOUT_MS", "1000"),
            ("CLAIMTRAIL_WRITE_RATE", "0"),
            ("CLAIMTRAIL_WORKERS", "2"),
        ],
    )
    .await;
    let (http, base) = (run.http.clone(), run.base());
    let story_id = run.post("/v1/stories", json!({ "title": "Outage" })).await["id"]
        .as_i64()
        .unwrap();

    // Four clients, each writing a story and reading one, over and over.
    let phase = Arc::new(AtomicU8::new(BEFORE));
    let stop = Arc::new(AtomicBool::new(false));
    let outcomes = Arc::new(Mutex::new(Vec::<Outcome>::new()));
    let mut load = Vec::new();
    for worker in 0..4 {
        let (http, base) = (http.clone(), base.clone());
        let (phase, stop, outcomes) = (phase.clone(), stop.clone(), outcomes.clone());
        load.push(tokio::spawn(async move {
            let mut n = 0;
            while !AtomicBool::load(&stop, Ordering::Relaxed) {
                n += 1;
                let write = n % 2 == 0;
                let at_phase = AtomicU8::load(&phase, Ordering::Relaxed);
                let started = Instant::now();
                let req = if write {
                    http.post(format!("{base}/v1/stories"))
                        .json(&json!({ "title": format!("Story {worker}-{n}") }))
                } else {
                    http.get(format!("{base}/v1/stories/{story_id}"))
                };
                let Ok(res) = req.send().await else {
                    // A refused connection would be a crash: recorded as 0.
                    outcomes.lock().await.push(Outcome {
                        phase: at_phase,
                        write,
                        status: 0,
                        took: started.elapsed(),
                        problem_json: false,
                        retry_after: false,
                        at: Instant::now(),
                    });
                    continue;
                };
                // A request that spans a change of phase counts as a transition.
                let end_phase = AtomicU8::load(&phase, Ordering::Relaxed);
                let outcome = Outcome {
                    phase: if end_phase == at_phase {
                        at_phase
                    } else {
                        STOPPING
                    },
                    write,
                    status: res.status().as_u16(),
                    took: started.elapsed(),
                    problem_json: res
                        .headers()
                        .get("content-type")
                        .is_some_and(|v| v == "application/problem+json"),
                    retry_after: res.headers().get("retry-after").is_some(),
                    at: Instant::now(),
                };
                let _ = res.bytes().await;
                outcomes.lock().await.push(outcome);
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }));
    }
    tokio::time::sleep(Duration::from_secs(1)).await;

    // The outage: PostgreSQL stops under the running service.
    phase.store(STOPPING, Ordering::Relaxed);
    on_cluster(&run.data, Cluster::stop).await;
    phase.store(OUTAGE, Ordering::Relaxed);
    tokio::time::sleep(Duration::from_secs(3)).await;

    // Back: no restart of the service.
    phase.store(STARTING, Ordering::Relaxed);
    on_cluster(&run.data, Cluster::start).await;
    let back_at = Instant::now();
    phase.store(AFTER, Ordering::Relaxed);
    tokio::time::sleep(Duration::from_secs(8)).await;
    stop.store(true, Ordering::Relaxed);
    for task in load {
        task.await.unwrap();
    }

    let outcomes = outcomes.lock().await.clone();
    let in_phase = |p: u8| outcomes.iter().filter(move |o| o.phase == p);
    assert!(
        in_phase(BEFORE).all(|o| matches!(o.status, 200 | 201)),
        "before: {:?}",
        in_phase(BEFORE).collect::<Vec<_>>()
    );
    for o in in_phase(STOPPING).chain(in_phase(STARTING)) {
        assert!(matches!(o.status, 200 | 201 | 503), "in transition: {o:?}");
    }
    let outage: Vec<&Outcome> = in_phase(OUTAGE).collect();
    assert!(
        outage.len() >= 4,
        "the load ran through the outage: {outage:?}"
    );
    for o in &outage {
        assert_eq!(o.status, 503, "during the outage: {o:?}");
        assert!(o.problem_json && o.retry_after, "{o:?}");
        assert!(
            o.took < pool_timeout + Duration::from_millis(1500),
            "no hang beyond the pool timeout: {o:?}"
        );
    }
    // Recovery: reads and writes succeed again within seconds, then stay so.
    let first_ok = |write: bool| {
        in_phase(AFTER)
            .filter(|o| o.write == write && matches!(o.status, 200 | 201))
            .map(|o| o.at.duration_since(back_at))
            .min()
            .unwrap_or_else(|| panic!("no success after the outage (write: {write})"))
    };
    let (read_back, write_back) = (first_ok(false), first_ok(true));
    assert!(
        read_back < Duration::from_secs(5),
        "reads back after {read_back:?}"
    );
    assert!(
        write_back < Duration::from_secs(5),
        "writes back after {write_back:?}"
    );
    let slowest = outage.iter().map(|o| o.took).max().unwrap();
    eprintln!(
        "outage: {} requests, all 503, slowest {slowest:?}; back: reads after {read_back:?}, writes after {write_back:?}",
        outage.len()
    );
    let settled = back_at + Duration::from_secs(5);
    let late: Vec<&Outcome> = in_phase(AFTER)
        .filter(|o| o.at > settled + o.took && !matches!(o.status, 200 | 201))
        .collect();
    assert!(late.is_empty(), "failures after recovery: {late:?}");
    assert!(
        outcomes.iter().all(|o| o.status != 500 && o.status != 0),
        "no 500 and no refused connection"
    );
    assert!(run.service.signal(Signal::SIGTERM).success());
    // The log tells the outage once when refusals begin and once when they
    // end, with the count, not a line per refused request.
    let log = std::fs::read_to_string(&run.service.log).unwrap();
    let began = log.matches("refusing requests with 503").count();
    let ended: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("serving again after"))
        .collect();
    assert!(
        (1..=3).contains(&began) && !ended.is_empty() && ended.len() <= began,
        "began {began}, ended {ended:?}"
    );
    let lines_during = log
        .lines()
        .filter(|l| l.contains("\"level\":\"WARN\"") || l.contains("\"level\":\"ERROR\""))
        .count();
    assert!(
        lines_during < 20 && lines_during * 10 < outage.len(),
        "{lines_during} warning or error lines for {} refused requests:\n{log}",
        outage.len()
    );
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_acknowledged_write_survives_a_sigkill_mid_load() {
    let env = [("CLAIMTRAIL_WRITE_RATE", "0"), ("CLAIMTRAIL_WORKERS", "2")];
    let mut run = start_service("crash-1.log", &env).await;
    let (http, base) = (run.http.clone(), run.base());
    let story = run.post("/v1/stories", json!({ "title": "Crash" })).await["id"]
        .as_i64()
        .unwrap();
    let speaker = run
        .post(
            "/v1/speakers",
            json!({ "name": "Ana Robles", "kind": "person" }),
        )
        .await["id"]
        .as_i64()
        .unwrap();

    // Acknowledged writes: (claim id, revision) → text.
    let acked = Arc::new(Mutex::new(HashMap::<(i64, i32), String>::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let mut load = Vec::new();
    for worker in 0..6 {
        let (http, base) = (http.clone(), base.clone());
        let (acked, stop) = (acked.clone(), stop.clone());
        load.push(tokio::spawn(async move {
            let mut mine: Vec<(i64, i32)> = Vec::new();
            let mut n = 0;
            while !AtomicBool::load(&stop, Ordering::Relaxed) {
                n += 1;
                let text = format!("Claim {worker}-{n}");
                let res = if n % 3 == 0 && !mine.is_empty() {
                    // Revise one of this worker's claims.
                    let (id, rev) = mine[n % mine.len()];
                    http.patch(format!("{base}/v1/claims/{id}"))
                        .header("If-Match", format!("\"{rev}\""))
                        .json(&json!({ "text": text, "reason": "load" }))
                        .send()
                        .await
                } else {
                    http.post(format!("{base}/v1/claims"))
                        .json(&json!({ "story_id": story, "speaker_id": speaker,
                                       "text": text, "kind": "paraphrase" }))
                        .send()
                        .await
                };
                let Ok(res) = res else { break };
                if !res.status().is_success() {
                    continue;
                }
                let Ok(body) = res.json::<Value>().await else {
                    break;
                };
                let (id, rev) = (
                    body["id"].as_i64().unwrap(),
                    body["revision"].as_i64().unwrap() as i32,
                );
                acked.lock().await.insert((id, rev), text);
                match mine.iter_mut().find(|(c, _)| *c == id) {
                    Some(entry) => entry.1 = rev,
                    None => mine.push((id, rev)),
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let status = run.service.signal(Signal::SIGKILL);
    assert!(!status.success(), "killed: {status}");
    stop.store(true, Ordering::Relaxed);
    for task in load {
        task.await.unwrap();
    }
    let acked = acked.lock().await.clone();
    assert!(acked.len() > 50, "the load wrote: {}", acked.len());
    eprintln!("crash: {} acknowledged writes before SIGKILL", acked.len());

    // Restart on the same folder (the cluster survived the crash).
    run.restart("crash-2.log").await;
    for ((id, rev), text) in &acked {
        let revision: Value = http
            .get(format!("{base}/v1/claims/{id}/revisions/{rev}"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(revision["text"], text.as_str(), "claim {id} revision {rev}");
    }

    let mut conn = AsyncPgConnection::establish(&run.database_url())
        .await
        .unwrap();
    // Every acknowledged revision has its audit event.
    for (id, rev) in acked.keys() {
        let found: Count = diesel::sql_query(format!(
            "SELECT count(*) AS n FROM audit_events
              WHERE subject_type = 'claim' AND subject_id = {id} AND after_revision = {rev}"
        ))
        .get_result(&mut conn)
        .await
        .unwrap();
        assert_eq!(found.n, 1, "event of claim {id} revision {rev}");
    }
    // No claim's revisions have a gap, and the head is the last revision.
    let gaps: Count = diesel::sql_query(
        "SELECT count(*) AS n FROM claims c
          WHERE c.revision <> (SELECT count(*) FROM claim_revisions r WHERE r.claim_id = c.id)
             OR c.revision <> (SELECT max(revision) FROM claim_revisions r WHERE r.claim_id = c.id)",
    )
    .get_result(&mut conn)
    .await
    .unwrap();
    assert_eq!(gaps.n, 0, "claims whose revisions have gaps");
    drop(conn);

    assert!(run.service.signal(Signal::SIGTERM).success());
    let verified = cli(&run.data, &["audit", "verify"]);
    assert!(verified.contains("audit log intact"), "{verified}");
}

/// A service with one PATCH in flight: the PATCH waits on a row lock that
/// `locker` holds, for as long as the test keeps it.
struct InFlight {
    claim: i64,
    /// Holds the lock until it is dropped.
    locker: Option<AsyncPgConnection>,
    patch: tokio::task::JoinHandle<(u16, Value)>,
    /// Last: the service and its cluster go after the lock.
    run: Started,
}

const DRAIN_ENV: [(&str, &str); 2] = [
    ("CLAIMTRAIL_WRITE_RATE", "0"),
    ("CLAIMTRAIL_SHUTDOWN_TIMEOUT_S", "20"),
];

async fn patch_in_flight(log: &str) -> InFlight {
    let run = start_service(log, &DRAIN_ENV).await;
    let id = async |path: &str, body: Value| run.post(path, body).await["id"].as_i64().unwrap();
    let story = id("/v1/stories", json!({ "title": "Drain" })).await;
    let speaker = id(
        "/v1/speakers",
        json!({ "name": "Ana Robles", "kind": "person" }),
    )
    .await;
    let claim = id(
        "/v1/claims",
        json!({ "story_id": story, "speaker_id": speaker, "text": "The port reopens", "kind": "paraphrase" }),
    )
    .await;

    let url = run.database_url();
    let mut locker = AsyncPgConnection::establish(&url).await.unwrap();
    locker.begin_test_transaction().await.unwrap();
    diesel::sql_query(format!(
        "SELECT id FROM claims WHERE id = {claim} FOR UPDATE"
    ))
    .execute(&mut locker)
    .await
    .unwrap();
    let patch = {
        // A connection of its own: a pooled one the server has just closed
        // for idleness would fail the request before it is in flight.
        let (http, base) = (client(&run.token), run.base());
        tokio::spawn(async move {
            let res = http
                .patch(format!("{base}/v1/claims/{claim}"))
                .header("If-Match", "\"1\"")
                .json(&json!({ "text": "The port reopens on Monday", "reason": "more precise" }))
                .send()
                .await;
            match res {
                Ok(res) => (res.status().as_u16(), res.json::<Value>().await.unwrap()),
                Err(e) => (0, json!(e.to_string())),
            }
        })
    };
    until_a_session_waits_on_a_lock(&mut AsyncPgConnection::establish(&url).await.unwrap()).await;
    InFlight {
        claim,
        locker: Some(locker),
        patch,
        run,
    }
}

impl InFlight {
    /// The service is still running a second after the signal, and refuses
    /// new connections (or leaves them unanswered) meanwhile.
    async fn assert_draining(&mut self) {
        tokio::time::sleep(Duration::from_millis(1000)).await;
        assert!(
            self.run.service.wait_exit(Duration::ZERO).is_none(),
            "serve exited with a request in flight: {}",
            std::fs::read_to_string(&self.run.service.log).unwrap_or_default()
        );
        let fresh = reqwest::Client::new()
            .get(format!("{}/healthz", self.run.base()))
            .timeout(Duration::from_secs(2))
            .send()
            .await;
        assert!(fresh.is_err(), "a new connection was served while draining");
    }

    /// The claim's revision and text after a restart of the service.
    async fn after_restart(mut self, log: &str) -> (i64, String) {
        self.run.restart(log).await;
        let now: Value = self
            .run
            .http
            .get(format!("{}/v1/claims/{}", self.run.base(), self.claim))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert!(self.run.service.signal(Signal::SIGTERM).success());
        (
            now["revision"].as_i64().unwrap(),
            now["text"].as_str().unwrap().to_owned(),
        )
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigterm_finishes_the_request_in_flight_before_it_exits() {
    let mut flight = patch_in_flight("drain-1.log").await;

    flight.run.service.send(Signal::SIGTERM);
    flight.assert_draining().await;

    // The lock goes: the PATCH completes and is acknowledged, then serve exits.
    flight.locker = None;
    let (status, body) = (&mut flight.patch).await.unwrap();
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["revision"], 2);
    let exit = flight
        .run
        .service
        .wait_exit(Duration::from_secs(30))
        .expect("serve exits after draining");
    assert!(exit.success(), "{exit}");

    // The acknowledged write is there after a restart.
    let (revision, text) = flight.after_restart("drain-2.log").await;
    assert_eq!(revision, 2);
    assert_eq!(text, "The port reopens on Monday");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ctrl_c_drains_too_and_a_second_one_stops_at_once() {
    let mut flight = patch_in_flight("interrupt-1.log").await;

    // Ctrl-C is a drain, like SIGTERM (actix alone would cut the request).
    flight.run.service.send(Signal::SIGINT);
    flight.assert_draining().await;

    // The second Ctrl-C does not wait for the lock, nor for the 20 s
    // shutdown timeout.
    flight.run.service.send(Signal::SIGINT);
    let exit = flight
        .run
        .service
        .wait_exit(Duration::from_secs(10))
        .expect("serve exits at the second signal");
    assert!(
        !exit.success(),
        "a cut-short drain is not a clean exit: {exit}"
    );
    let (status, body) = (&mut flight.patch).await.unwrap();
    assert_ne!(status / 100, 2, "the cut request was acknowledged: {body}");

    // Nothing unacknowledged was written (the lock outlived the service).
    flight.locker = None;
    let (revision, text) = flight.after_restart("interrupt-2.log").await;
    assert_eq!(revision, 1);
    assert_eq!(text, "The port reopens");
}
