//! Test harness: one PostgreSQL server per test binary, one database per test.
//!
//! Without DATABASE_URL a throwaway cluster is started in a temporary folder
//! (as the `postgres` user when running as root) and removed when the test
//! binary exits, by a watchdog that waits for the binary's end. With
//! DATABASE_URL that server is used the same way. Either way a template
//! database is migrated once and every test gets a fresh copy of it, then
//! talks to the real app over HTTP on a random port.

use std::net::TcpListener;
use std::process::{ChildStdin, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use claimtrail::domain::audit::LogSigner;
use claimtrail::domain::auth::Role;
use claimtrail::fetcher::FetchSettings;
use claimtrail::fetcher::guard::AddressPolicy;
use claimtrail::http::server::{self as app, HttpSettings, Limits};
use claimtrail::sequencer::{self, SequencerSettings};
use claimtrail::storage::article_intake::IntakeSettings;
use claimtrail::storage::cluster::{Cluster, ClusterLocale, ClusterOptions, quote_ident};
use claimtrail::storage::events::AuditContext;
use claimtrail::storage::notifications::Notifications;
use claimtrail::storage::replicas::{Database, ReplicaSettings};
use claimtrail::storage::{migrate, pool, privileges, users};
use claimtrail::watcher::WatcherSettings;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use reqwest::{Response, StatusCode};
use serde_json::{Value, json};

/// Request bodies larger than this get 413 in tests (kept small to test cheaply).
pub const TEST_MAX_BODY_BYTES: usize = 256 * 1024;
/// Article bodies longer than this get 413 in tests.
pub const TEST_MAX_ARTICLE_CHARS: usize = 100_000;
/// Small enough that a test can go over it.
pub const TEST_MAX_IMPORT_BYTES: u64 = 2 * 1024 * 1024;

struct DatabaseServer {
    /// Builds a connection string for a database on the server.
    url_for: Box<dyn Fn(&str) -> String + Send + Sync>,
    /// The same as the role the service connects as: on the throwaway
    /// cluster the least-privileged role the embedded default uses, so that
    /// a missing grant fails a test; on an external server the URL's own
    /// role (the tests cannot know its other roles' passwords).
    app_url_for: Box<dyn Fn(&str) -> String + Send + Sync>,
    template: String,
    /// The throwaway cluster's superuser connection string and server
    /// binaries, from which replicas are copied (none on an external server).
    replica_source: Option<String>,
    /// Databases on an external server are dropped after each test.
    external: bool,
    /// Closing this pipe (at process exit) tells the watchdog to stop the
    /// throwaway cluster and delete its folder.
    _watchdog: Option<ChildStdin>,
}

static SERVER: OnceLock<DatabaseServer> = OnceLock::new();
static NEXT_DB: AtomicU32 = AtomicU32::new(1);

fn server() -> &'static DatabaseServer {
    SERVER.get_or_init(|| {
        // Set up outside the test's async runtime: migrations use a blocking
        // connection that brings its own runtime.
        std::thread::spawn(start_server)
            .join()
            .expect("database server setup panicked")
    })
}

fn start_server() -> DatabaseServer {
    let template = format!("ct_template_{}", std::process::id());
    let server = match std::env::var("DATABASE_URL")
        .ok()
        .filter(|u| !u.trim().is_empty())
    {
        Some(url) => {
            let base = url.clone();
            let app_base = url.clone();
            let server = DatabaseServer {
                url_for: Box::new(move |db| with_database(&base, db)),
                app_url_for: Box::new(move |db| with_database(&app_base, db)),
                template: template.clone(),
                replica_source: None,
                external: true,
                _watchdog: None,
            };
            let admin = (server.url_for)("postgres");
            run_admin(
                &admin,
                &[format!(
                    "DROP DATABASE IF EXISTS {}",
                    quote_ident(&template)
                )],
            );
            server
        }
        None => start_throwaway_cluster(template.clone()),
    };
    let admin = (server.url_for)("postgres");
    run_admin(
        &admin,
        &[format!("CREATE DATABASE {}", quote_ident(&template))],
    );
    let app_role = (!server.external).then_some(migrate::AppRole::Create(privileges::APP_ROLE));
    migrate::run_pending_for(&(server.url_for)(&template), app_role)
        .expect("migrating the template database");
    server
}

fn start_throwaway_cluster(template: String) -> DatabaseServer {
    let dir = tempfile::Builder::new()
        .prefix("claimtrail-test-")
        .tempdir_in("/tmp")
        .expect("creating a temporary folder")
        .keep();
    let mut cluster = Cluster::open(
        &dir,
        ClusterOptions {
            throwaway: true,
            // The hardest server: nothing may depend on its locale.
            locale: ClusterLocale::C,
            must_exist: false,
        },
    )
    .expect("preparing the test cluster");
    cluster.start().expect("starting the test cluster");
    if let Some(user) = cluster.run_as() {
        std::os::unix::fs::chown(&dir, Some(user.uid), Some(user.gid)).expect("chown test folder");
    }
    // The watchdog outlives this process by design (so it is never waited
    // for): when the pipe closes it stops the cluster and removes the folder.
    let pg_ctl = cluster.bin_dir().join("pg_ctl");
    #[allow(clippy::zombie_processes)]
    let mut watchdog = cluster
        .server_command("/bin/sh")
        .args([
            "-c",
            "cat >/dev/null; \"$1\" -D \"$2\" -m immediate -w stop >/dev/null 2>&1; rm -rf \"$3\"",
            "watchdog",
        ])
        .arg(&pg_ctl)
        .arg(cluster.pgdata())
        .arg(&dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .expect("starting the cluster watchdog");
    let stdin = watchdog.stdin.take();
    let cluster_url = cluster.database_url("postgres");
    let app_url = cluster.database_url_as("postgres", privileges::APP_ROLE);
    DatabaseServer {
        url_for: Box::new(move |db| with_database(&cluster_url, db)),
        app_url_for: Box::new(move |db| with_database(&app_url, db)),
        template,
        replica_source: Some(cluster.database_url("postgres")),
        external: false,
        _watchdog: stdin,
    }
}

use std::os::unix::process::CommandExt;

/// The same server, another database: URLs get a new path, key=value
/// strings a later `dbname` (which wins).
fn with_database(url: &str, db: &str) -> String {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let mut parsed = url::Url::parse(url).expect("DATABASE_URL is not a valid URL");
        parsed.set_path(&format!("/{db}"));
        parsed.to_string()
    } else {
        format!("{url} dbname={db}")
    }
}

fn run_admin(url: &str, statements: &[String]) {
    use diesel::Connection;
    use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
    let mut conn = <AsyncConnectionWrapper<AsyncPgConnection> as Connection>::establish(url)
        .expect("connecting as admin");
    for sql in statements {
        diesel::RunQueryDsl::execute(diesel::sql_query(sql), &mut conn)
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
}

/// A running app on its own database.
pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub database_url: String,
    database: String,
    /// What another instance of the service needs to join this one.
    instance: InstanceConfig,
    /// Only the first instance drops the database (on an external server).
    external: bool,
}

/// One service instance's connection to the test's database.
#[derive(Clone)]
struct InstanceConfig {
    app_url: String,
    options: TestOptions,
    log_signer: Arc<LogSigner>,
}

/// What a test may change about the app it spawns.
#[derive(Clone)]
pub struct TestOptions {
    /// Writes per second per token; 0 (the default in tests) is no limit.
    pub write_rate: u32,
    pub write_burst: u32,
    pub pool_size: usize,
    pub pool_wait: Duration,
    pub statement_timeout: Duration,
    /// Streaming replicas reads may use.
    pub replicas: Vec<Arc<TestReplica>>,
    pub replica_settings: ReplicaSettings,
    /// How often the background poller looks for due watches (`None`, the
    /// default: watches poll only when a test asks).
    pub watch_tick: Option<Duration>,
}

impl Default for TestOptions {
    fn default() -> Self {
        TestOptions {
            write_rate: 0,
            write_burst: 0,
            pool_size: 8,
            pool_wait: Duration::from_secs(10),
            statement_timeout: Duration::from_secs(30),
            replicas: Vec::new(),
            replica_settings: ReplicaSettings {
                max_lag: Duration::from_secs(60),
                check_interval: Duration::from_millis(50),
                connect_timeout: Duration::from_millis(500),
            },
            watch_tick: None,
        }
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(TestOptions::default()).await
}

pub async fn spawn_app_with(options: TestOptions) -> TestApp {
    let server = server();
    let database = format!(
        "ct_test_{}_{}",
        std::process::id(),
        NEXT_DB.fetch_add(1, Ordering::Relaxed)
    );
    let mut admin = AsyncPgConnection::establish(&(server.url_for)("postgres"))
        .await
        .expect("admin connection");
    diesel::sql_query(format!(
        "CREATE DATABASE {} TEMPLATE {}",
        quote_ident(&database),
        quote_ident(&server.template)
    ))
    .execute(&mut admin)
    .await
    .expect("creating the test database");
    let database_url = (server.url_for)(&database);

    let instance = InstanceConfig {
        app_url: (server.app_url_for)(&database),
        log_signer: Arc::new(
            LogSigner::from_key(&LogSigner::generate("claimtrail.test/log").unwrap()).unwrap(),
        ),
        options,
    };
    let address = start_instance(&instance, &database);
    let mut app = TestApp {
        address,
        client: reqwest::Client::new(),
        database_url,
        database,
        instance,
        external: server_is_external(),
    };
    let admin = app.token_for("admin", Role::Admin).await;
    app.client = client_with(Some(&admin));
    app
}

/// A new, empty database on the test server (no migrations), as its
/// superuser: for tests of the migrations themselves.
pub fn empty_database() -> String {
    let server = server();
    let name = format!(
        "ct_empty_{}_{}",
        std::process::id(),
        NEXT_DB.fetch_add(1, Ordering::Relaxed)
    );
    let admin = (server.url_for)("postgres");
    let create = format!("CREATE DATABASE {}", quote_ident(&name));
    std::thread::spawn(move || run_admin(&admin, &[create]))
        .join()
        .unwrap();
    (server.url_for)(&name)
}

/// An HTTP client that sends this bearer token (or none).
pub fn client_with(token: Option<&str>) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    if let Some(token) = token {
        headers.insert("authorization", format!("Bearer {token}").parse().unwrap());
    }
    reqwest::Client::builder()
        .default_headers(headers)
        .build()
        .unwrap()
}

fn server_is_external() -> bool {
    server().external
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if !self.external {
            return; // the whole throwaway cluster goes away with the test binary
        }
        let admin = (server().url_for)("postgres");
        let sql = format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            quote_ident(&self.database)
        );
        let _ = std::thread::spawn(move || run_admin(&admin, &[sql])).join();
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn get(&self, path: &str) -> Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("GET failed")
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> Response {
        self.client
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .expect("POST failed")
    }

    /// PATCHes with `If-Match`; without one given, with the current ETag.
    pub async fn patch_json(&self, path: &str, body: &Value, if_match: Option<&str>) -> Response {
        let tag = match if_match {
            Some(tag) => tag.to_owned(),
            None => self.etag(path).await,
        };
        self.client
            .patch(self.url(path))
            .header("If-Match", tag)
            .json(body)
            .send()
            .await
            .expect("PATCH failed")
    }

    /// The ETag of a resource, as a GET reports it.
    pub async fn etag(&self, path: &str) -> String {
        let res = self.get(path).await;
        res.headers()
            .get("etag")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_else(|| "\"0\"".into())
    }

    /// A user with this role, and a token for them.
    pub async fn token_for(&self, name: &str, role: Role) -> String {
        let mut conn = self.db().await;
        let ctx = AuditContext::system("test");
        let user = users::create_user(&mut conn, &ctx, name, role)
            .await
            .expect("creating a user");
        users::create_token(&mut conn, &ctx, user.id, None)
            .await
            .expect("creating a token")
            .token
    }

    /// POSTs and expects 201; returns the created resource.
    pub async fn create(&self, path: &str, body: Value) -> Value {
        let res = self.post_json(path, &body).await;
        let status = res.status();
        let text = res.text().await.unwrap();
        assert_eq!(status, StatusCode::CREATED, "POST {path} {body} -> {text}");
        serde_json::from_str(&text).unwrap()
    }

    pub async fn get_json(&self, path: &str) -> Value {
        let res = self.get(path).await;
        let status = res.status();
        let text = res.text().await.unwrap();
        assert_eq!(status, StatusCode::OK, "GET {path} -> {text}");
        serde_json::from_str(&text).unwrap()
    }

    /// `GET /v1/me` as another client: who its token belongs to.
    pub async fn me_as(&self, client: &reqwest::Client) -> Value {
        let res = client.get(self.url("/v1/me")).send().await.unwrap();
        let status = res.status();
        let text = res.text().await.unwrap();
        assert_eq!(status, StatusCode::OK, "GET /v1/me -> {text}");
        serde_json::from_str(&text).unwrap()
    }

    pub async fn story(&self, title: &str) -> i64 {
        self.create("/v1/stories", json!({ "title": title })).await["id"]
            .as_i64()
            .unwrap()
    }

    pub async fn speaker(&self, name: &str, kind: &str) -> i64 {
        self.create("/v1/speakers", json!({ "name": name, "kind": kind }))
            .await["id"]
            .as_i64()
            .unwrap()
    }

    pub async fn article(&self, story_id: i64, url: &str, body: &str) -> i64 {
        self.create("/v1/articles", article_post(story_id, url, body))
            .await["id"]
            .as_i64()
            .unwrap()
    }

    /// Posts the article at `url` again with a new body: its next revision.
    pub async fn repost(&self, story_id: i64, url: &str, body: &str) {
        let res = self
            .post_json("/v1/articles", &article_post(story_id, url, body))
            .await;
        assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    }

    /// A paraphrase quoting `part` of the article's `body` (where it first
    /// occurs): its id.
    pub async fn claim_quoting(
        &self,
        story_id: i64,
        speaker_id: i64,
        article_id: i64,
        body: &str,
        part: &str,
    ) -> i64 {
        let (start, end) = crate::example_story::span(body, part);
        self.create(
            "/v1/claims",
            json!({ "story_id": story_id, "speaker_id": speaker_id, "text": part, "kind": "paraphrase",
                    "appearances": [{ "article_id": article_id, "start": start, "end": end }] }),
        )
        .await["id"]
            .as_i64()
            .unwrap()
    }

    pub async fn claim(&self, story_id: i64, speaker_id: i64, text: &str) -> Value {
        self.create(
            "/v1/claims",
            json!({ "story_id": story_id, "speaker_id": speaker_id, "text": text, "kind": "paraphrase" }),
        )
        .await
    }

    /// Waits until the transparency log holds every committed event and a
    /// checkpoint covers them; returns that signed checkpoint.
    pub async fn log_caught_up(&self) -> String {
        #[derive(diesel::QueryableByName)]
        struct State {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            events: i64,
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            size: i64,
            #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
            note: Option<String>,
        }
        let mut conn = self.db().await;
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        loop {
            let state: State = diesel::sql_query(
                "SELECT (SELECT count(*) FROM audit_events) AS events, \
                        coalesce((SELECT max(tree_size) FROM audit_log_checkpoints), -1) AS size, \
                        (SELECT signed_note FROM audit_log_checkpoints ORDER BY tree_size DESC LIMIT 1) AS note",
            )
            .get_result(&mut conn)
            .await
            .unwrap();
            if state.size == state.events {
                return state.note.unwrap();
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the log did not catch up: {} events, checkpoint of {}",
                state.events,
                state.size
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// A direct connection to the test's database, for checks the API cannot make.
    pub async fn db(&self) -> AsyncPgConnection {
        AsyncPgConnection::establish(&self.database_url)
            .await
            .expect("connecting to the test database")
    }

    /// An MD5 of every row of every table of the schema, by table: equal
    /// before and after a request means the request wrote nothing at all.
    /// The transparency log's tables are left out: the sequencer fills them
    /// from `audit_events` on its own schedule, so they change whenever it
    /// catches up with events written before; `audit_events` itself says
    /// whether the request wrote one.
    pub async fn checksum(&self) -> Vec<(String, String)> {
        #[derive(diesel::QueryableByName)]
        struct Table {
            #[diesel(sql_type = diesel::sql_types::Text)]
            name: String,
        }
        #[derive(diesel::QueryableByName)]
        struct Sum {
            #[diesel(sql_type = diesel::sql_types::Text)]
            sum: String,
        }
        let mut conn = self.db().await;
        let tables: Vec<Table> = diesel::sql_query(
            "SELECT table_name::text AS name FROM information_schema.tables
              WHERE table_schema = 'public' AND table_type = 'BASE TABLE'
                AND table_name NOT LIKE 'audit_log\\_%' ORDER BY 1",
        )
        .load(&mut conn)
        .await
        .expect("listing tables");
        let mut sums = Vec::new();
        for t in tables {
            let sum: Sum = diesel::sql_query(format!(
                "SELECT coalesce(md5(string_agg(r::text, E'\\n' ORDER BY r::text)), 'empty') AS sum FROM {} r",
                quote_ident(&t.name)
            ))
            .get_result(&mut conn)
            .await
            .expect("summing a table");
            sums.push((t.name, sum.sum));
        }
        sums
    }

    /// Row counts of every table, to show that a rejected request wrote nothing.
    pub async fn row_counts(&self) -> Vec<(String, i64)> {
        #[derive(diesel::QueryableByName)]
        struct Count {
            #[diesel(sql_type = diesel::sql_types::Text)]
            name: String,
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let mut conn = self.db().await;
        let rows: Vec<Count> = diesel::sql_query(
            "SELECT 'stories' AS name, count(*) AS n FROM stories
             UNION ALL SELECT 'speakers', count(*) FROM speakers
             UNION ALL SELECT 'articles', count(*) FROM articles
             UNION ALL SELECT 'article_revisions', count(*) FROM article_revisions
             UNION ALL SELECT 'claims', count(*) FROM claims
             UNION ALL SELECT 'claim_revisions', count(*) FROM claim_revisions
             UNION ALL SELECT 'claim_appearances', count(*) FROM claim_appearances
             UNION ALL SELECT 'audit_events', count(*) FROM audit_events",
        )
        .load(&mut conn)
        .await
        .expect("counting rows");
        rows.into_iter().map(|c| (c.name, c.n)).collect()
    }
}

/// Asserts a problem+json response with the given status; returns its body.
pub async fn assert_problem(res: Response, status: u16) -> Value {
    let got = res.status().as_u16();
    let content_type = res
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let text = res.text().await.unwrap();
    assert_eq!(got, status, "expected {status}, got {got}: {text}");
    assert_eq!(content_type, "application/problem+json", "body: {text}");
    let body: Value = serde_json::from_str(&text).expect("problem body is JSON");
    assert_eq!(body["status"].as_u64(), Some(u64::from(status)));
    assert!(body["type"].as_str().is_some_and(|t| !t.is_empty()));
    assert!(body["title"].as_str().is_some_and(|t| !t.is_empty()));
    assert!(
        body["detail"].as_str().is_some_and(|d| d.len() > 5),
        "detail missing: {text}"
    );
    body
}

/// The invalid field names of a 422 problem.
pub fn invalid_fields(problem: &Value) -> Vec<String> {
    problem["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .map(|e| e["field"].as_str().unwrap_or("").to_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// Sends `head` on a new connection and returns what the server answers
/// (until it closes the connection or stops sending for a second).
pub async fn raw_request(address: &str, head: &str) -> String {
    raw_bytes_request(address, head.as_bytes()).await
}

/// `raw_request` with bytes that need not be UTF-8; the server may close
/// the connection before it has read them all.
pub async fn raw_bytes_request(address: &str, head: &[u8]) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = address.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let _ = stream.write_all(head).await;
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match tokio::time::timeout(std::time::Duration::from_secs(1), stream.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => out.extend_from_slice(&buf[..n]),
            _ => break,
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The largest page or feed a test's watches read.
pub const TEST_MAX_PAGE_BYTES: usize = 256 * 1024;

/// What `app.article` and `app.repost` post.
fn article_post(story_id: i64, url: &str, body: &str) -> Value {
    json!({
        "url": url, "outlet": "Test Wire", "headline": "A headline",
        "published_at": "2026-11-20T09:00:00Z", "body": body, "story_id": story_id
    })
}

/// Starts one instance of the service (server, sequencer, replica monitor,
/// notification listener) on the test's database; returns its address.
fn start_instance(instance: &InstanceConfig, database: &str) -> String {
    let options = &instance.options;
    let pool_settings = pool::PoolSettings {
        max_size: options.pool_size,
        wait_timeout: options.pool_wait,
        statement_timeout: options.statement_timeout,
    };
    let db_pool = pool::build_pool(&instance.app_url, &pool_settings).expect("building the pool");
    let replicas = options
        .replicas
        .iter()
        .map(|r| {
            let url = r.app_url_for(database);
            let pool = pool::build_pool(&url, &pool_settings).expect("building a replica pool");
            (url, pool)
        })
        .collect();
    let database = Arc::new(Database::new(
        db_pool.clone(),
        replicas,
        options.replica_settings,
    ));
    database.clone().spawn_monitor();
    let notifications = Arc::new(Notifications::default());
    notifications
        .clone()
        .spawn_listener(instance.app_url.clone());
    let listener = TcpListener::bind("127.0.0.1:0").expect("binding a random port");
    let port = listener.local_addr().unwrap().port();
    let settings = HttpSettings {
        limits: Limits {
            max_body_bytes: TEST_MAX_BODY_BYTES,
            max_body_chars: TEST_MAX_ARTICLE_CHARS,
            max_import_bytes: TEST_MAX_IMPORT_BYTES,
            diff_timeout: Duration::from_millis(250),
            duplicate_threshold: 0.5,
        },
        workers: 2,
        shutdown_timeout: Duration::from_secs(1),
        public_reads: false,
        server_timing: true,
        // Long enough that statement counts never depend on timing.
        token_cache_ttl: Duration::from_secs(600),
        write_rate: options.write_rate,
        write_burst: options.write_burst,
        log_verifier_key: instance.log_signer.verifier_key().to_owned(),
        watch: WatcherSettings {
            // Tests serve outlets from 127.0.0.1: allowed here explicitly.
            fetch: FetchSettings {
                policy: AddressPolicy {
                    allow_private: true,
                },
                timeout: Duration::from_secs(5),
                max_body_bytes: TEST_MAX_PAGE_BYTES,
                host_delay: Duration::from_millis(5),
                ..FetchSettings::default()
            },
            intake: IntakeSettings {
                diff_timeout: Duration::from_millis(250),
                duplicate_threshold: 0.5,
            },
            max_body_chars: TEST_MAX_ARTICLE_CHARS,
            concurrency: 2,
            tick: options.watch_tick,
        },
    };
    let server = app::build_server(listener, database, notifications, &settings)
        .expect("building the server");
    tokio::spawn(server);
    // The sequencer runs often, so that tests wait little for the log.
    sequencer::spawn(
        db_pool,
        instance.log_signer.clone(),
        SequencerSettings {
            interval: Duration::from_millis(50),
            max_batch: 10_000,
        },
    );
    format!("http://127.0.0.1:{port}")
}

impl TestApp {
    /// Another instance of the service on the same database (its own pool,
    /// sequencer, token cache and listener), as `serve` run twice would be.
    /// It answers the same tokens.
    pub fn another_instance(&self) -> TestApp {
        TestApp {
            address: start_instance(&self.instance, &self.database),
            client: self.client.clone(),
            database_url: self.database_url.clone(),
            database: self.database.clone(),
            instance: self.instance.clone(),
            external: false,
        }
    }

    /// `/healthz`'s report of the replicas.
    pub async fn replica_states(&self) -> Vec<String> {
        let health = self.get_json("/healthz").await;
        health["replicas"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["state"].as_str().unwrap().to_owned())
            .collect()
    }

    /// Waits (up to 30 s) until `/healthz` reports every replica in `state`.
    pub async fn wait_replicas(&self, state: &str) {
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        loop {
            let states = self.replica_states().await;
            if states.iter().all(|s| s == state) {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "replicas did not become {state}: {states:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// A streaming replica of the test cluster (`pg_basebackup -R` into a
/// folder of its own, its own unix socket), stopped and removed on drop.
pub struct TestReplica {
    cluster: std::sync::Mutex<Cluster>,
    /// Its replication slot on the test cluster.
    slot: String,
    _dir: tempfile::TempDir,
}

impl TestReplica {
    /// Copies the test cluster and starts the copy as its replica (on the
    /// blocking pool: it waits on pg_basebackup and pg_ctl).
    pub async fn start() -> Arc<TestReplica> {
        let source = server()
            .replica_source
            .clone()
            .expect("replicas are made of the throwaway test cluster; unset DATABASE_URL");
        tokio::task::spawn_blocking(move || {
            // One copy at a time: each forces a checkpoint, which could
            // remove WAL another copy still streams.
            static COPYING: std::sync::Mutex<()> = std::sync::Mutex::new(());
            let _copying = COPYING.lock().unwrap_or_else(|e| e.into_inner());
            let dir = tempfile::Builder::new()
                .prefix("claimtrail-replica-")
                .tempdir_in("/tmp")
                .expect("creating a temporary folder");
            std::fs::set_permissions(
                dir.path(),
                <std::fs::Permissions as std::os::unix::fs::PermissionsExt>::from_mode(0o755),
            )
            .unwrap();
            static NEXT_SLOT: AtomicU32 = AtomicU32::new(1);
            let slot = format!(
                "test_replica_{}_{}",
                std::process::id(),
                NEXT_SLOT.fetch_add(1, Ordering::Relaxed)
            );
            let mut cluster = Cluster::open_replica(
                dir.path(),
                &source,
                &slot,
                ClusterOptions {
                    throwaway: true,
                    locale: ClusterLocale::C,
                    must_exist: true,
                },
            )
            .expect("copying the test cluster");
            cluster.start().expect("starting the replica");
            Arc::new(TestReplica {
                cluster: std::sync::Mutex::new(cluster),
                slot,
                _dir: dir,
            })
        })
        .await
        .unwrap()
    }

    /// A connection string for `database` on the replica, as the service's role.
    pub fn app_url_for(&self, database: &str) -> String {
        self.cluster
            .lock()
            .unwrap()
            .database_url_as(database, privileges::APP_ROLE)
    }

    async fn run(&self, sql: &str) {
        let url = self.cluster.lock().unwrap().database_url("postgres");
        let mut conn = AsyncPgConnection::establish(&url)
            .await
            .expect("connecting to the replica");
        diesel::sql_query(sql)
            .execute(&mut conn)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    /// Stops replaying the primary's WAL: the replica answers, with old
    /// data. Returns once replay has stopped (a pause is only requested
    /// at first).
    pub async fn pause(&self) {
        self.run("SELECT pg_wal_replay_pause()").await;
        let url = self.cluster.lock().unwrap().database_url("postgres");
        let mut conn = AsyncPgConnection::establish(&url).await.unwrap();
        #[derive(diesel::QueryableByName)]
        struct PauseState {
            #[diesel(sql_type = diesel::sql_types::Text)]
            state: String,
        }
        loop {
            let now: PauseState =
                diesel::sql_query("SELECT pg_get_wal_replay_pause_state() AS state")
                    .get_result(&mut conn)
                    .await
                    .unwrap();
            if now.state == "paused" {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    pub async fn resume(&self) {
        self.run("SELECT pg_wal_replay_resume()").await;
    }

    /// Stops the replica's server (fast shutdown).
    pub async fn stop(self: &Arc<Self>) {
        let me = self.clone();
        tokio::task::spawn_blocking(move || me.cluster.lock().unwrap().stop().expect("stopping"))
            .await
            .unwrap();
    }

    pub async fn restart(self: &Arc<Self>) {
        let me = self.clone();
        tokio::task::spawn_blocking(move || me.cluster.lock().unwrap().start().expect("starting"))
            .await
            .unwrap();
    }
}

impl Drop for TestReplica {
    fn drop(&mut self) {
        let cluster = self.cluster.get_mut().unwrap_or_else(|e| e.into_inner());
        if cluster.started_here() {
            let _ = cluster.stop();
        }
        // Stopped, it no longer uses its slot: drop it, or the test
        // cluster would keep WAL for it until the test binary ends.
        if let Some(source) = server().replica_source.clone() {
            let drop_slot = format!("SELECT pg_drop_replication_slot('{}')", self.slot);
            let _ = std::thread::spawn(move || run_admin(&source, &[drop_slot])).join();
        }
    }
}
