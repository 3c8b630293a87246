//! Command line and environment configuration.

use std::path::PathBuf;

use crate::domain::attribution::model::training::Options as TrainingOptions;
use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "claimtrail",
    version,
    about = "A fact-claim ledger for newsrooms and fact-checkers"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// Log format.
    #[arg(long, global = true, env = "CLAIMTRAIL_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// Show progress logs (INFO) of one-shot commands; `serve` always logs
    /// them. RUST_LOG overrides both.
    #[arg(short, long, global = true)]
    pub verbose: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP API (and, without DATABASE_URL, its own PostgreSQL cluster).
    Serve(Box<ServeArgs>),
    /// Make the data folder (its PostgreSQL cluster, the service's database
    /// role, the audit log's signing key) and exit. `serve` does it too; every
    /// other command refuses a folder that holds no cluster.
    Init(InitArgs),
    /// Apply pending database migrations and exit.
    Migrate(MigrateArgs),
    /// Manage users.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage bearer tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Check the audit log.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Import claims from an NDJSON file (one claim per line, as for
    /// `POST /v1/claims`), in batches of one transaction each. Prints the
    /// report as JSON; exits non-zero when a batch was rejected.
    Import(ImportArgs),
    /// Score the attribution extractor on a brat-standoff corpus (PolNeAR
    /// layout: text/*.txt and attributions/*.ann): precision, recall and F1
    /// for cue, source and content spans, exact and overlapping.
    EvalAttribution(EvalAttributionArgs),
    /// Train the attribution model on a brat-standoff corpus (PolNeAR's
    /// layout: text/ and attributions/) and write it to a file.
    TrainAttribution(TrainAttributionArgs),
    /// Replay a corpus of multi-version documents (`<title>/<k>.txt`, k = 0
    /// the oldest) as article pages whose chrome changes on every fetch:
    /// how many versions the page reader and the version rule record,
    /// against how many there are (false and missed changes).
    EvalPageChanges(EvalPageChangesArgs),
    /// The same corpus through the whole watcher: each document served as
    /// an article page from a local web server (127.0.0.1), one watch per
    /// document, every version polled twice, on a throwaway PostgreSQL
    /// cluster: revisions recorded against distinct versions.
    EvalWatch(EvalPageChangesArgs),
    /// Watch outlets' feeds and article pages (docs/watching.md).
    #[command(subcommand)]
    Watch(WatchCommand),
    /// Print the OpenAPI document (as served at /v1/openapi.json).
    Openapi,
}

#[derive(Debug, Subcommand)]
pub enum WatchCommand {
    /// Add a watch of a feed (RSS, Atom, JSON Feed) or an article page.
    Add {
        #[command(flatten)]
        db: DatabaseArgs,
        /// The feed's or the page's address.
        #[arg(long)]
        url: String,
        /// The story its articles are filed into (without it, each article
        /// is held until an editor files it).
        #[arg(long)]
        story: Option<i64>,
        /// File only articles whose headline or text holds this word
        /// (repeat for more; needs --story).
        #[arg(long = "keyword")]
        keywords: Vec<String>,
        /// Seconds between two polls [default: 900].
        #[arg(long)]
        interval: Option<i32>,
        /// Propose each new version's attributed claims.
        #[arg(long)]
        extract: bool,
    },
    /// List watches: id, state, last poll and its outcome, address.
    List {
        #[command(flatten)]
        db: DatabaseArgs,
    },
    /// Poll now, once: the watch given, or every watch that is due; prints
    /// what each poll did as one JSON line.
    RunOnce {
        #[command(flatten)]
        db: DatabaseArgs,
        #[command(flatten)]
        fetch: WatchArgs,
        /// The watch's id (default: every due watch).
        #[arg(long)]
        id: Option<i64>,
        /// Longest article text recorded, in characters.
        #[arg(long, env = "CLAIMTRAIL_MAX_ARTICLE_CHARS", default_value_t = 2 * 1024 * 1024)]
        max_article_chars: usize,
    },
}

#[derive(Debug, Clone, Args)]
pub struct EvalAttributionArgs {
    /// The corpus folder, holding text/ and attributions/.
    #[arg(long)]
    pub corpus: PathBuf,
    /// A metadata table (tab-separated, with `filename` and `publisher`
    /// columns) for scores per publisher.
    #[arg(long)]
    pub metadata: Option<PathBuf>,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Also list the cues most often missed and most often wrongly found
    /// (for error analysis).
    #[arg(long)]
    pub errors: bool,
    /// Write the predicted relations to this file in the format the
    /// field's scorer reads: {"documents": {"<text>": [{"cue": {"start",
    /// "end"}, "sources": […], "contents": […]}, …]}} (character offsets).
    #[arg(long)]
    pub predictions: Option<std::path::PathBuf>,
    /// Score the rule-based extractor alone instead of the model.
    #[arg(long, conflicts_with = "model")]
    pub rules: bool,
    /// Score this model file (as `train-attribution` writes it) instead of
    /// the one built in.
    #[arg(long)]
    pub model: Option<PathBuf>,
}

#[derive(Debug, Clone, Args)]
pub struct EvalPageChangesArgs {
    /// The corpus folder: one folder per document, holding 0.txt, 1.txt, …
    #[arg(long)]
    pub corpus: PathBuf,
    /// Print JSON instead of a summary.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, Args)]
pub struct TrainAttributionArgs {
    /// The training corpus folder, holding text/ and attributions/ (the
    /// first annotation file of each text, in name order, is used).
    #[arg(long)]
    pub corpus: PathBuf,
    /// Where to write the model (the build ships models/attribution.bin).
    #[arg(long)]
    pub out: PathBuf,
    /// Passes over the training set.
    #[arg(long, default_value_t = TrainingOptions::default().epochs)]
    pub epochs: usize,
    /// Seeds the order examples are seen in: the same corpus and seed give
    /// the same file.
    #[arg(long, default_value_t = TrainingOptions::default().seed)]
    pub seed: u64,
    /// Features seen fewer times than this are not learnt.
    #[arg(long, default_value_t = TrainingOptions::default().min_count)]
    pub min_count: u32,
    /// Feature rows whose averaged weights all stay under this are left out
    /// of the file (3 keeps PolNeAR's scores and a quarter of its rows; a
    /// small corpus learns smaller weights and needs a lower one).
    #[arg(long, default_value_t = TrainingOptions::default().keep_above)]
    pub keep_above: f32,
}

#[derive(Debug, Clone, Args)]
pub struct ImportArgs {
    #[command(flatten)]
    pub db: DatabaseArgs,
    /// The NDJSON file, or `-` for standard input.
    pub file: PathBuf,
    /// Lines per batch [default: 1000, at most 5000].
    #[arg(long)]
    pub batch: Option<usize>,
    /// Record the claims as logged by this user (default: the `cli` actor).
    #[arg(long)]
    pub user: Option<String>,
    /// Longest line accepted, in bytes.
    #[arg(long, default_value_t = 4 * 1024 * 1024)]
    pub max_line_bytes: usize,
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Recompute the transparency log from the events and check it against
    /// the latest signed checkpoint and, with --checkpoint, against one saved
    /// earlier. Exit 0: intact; 1: tampered (the first difference is named
    /// where it can be); 2: could not check.
    Verify {
        #[command(flatten)]
        db: DatabaseArgs,
        #[command(flatten)]
        key: LogKeyArgs,
        /// A signed checkpoint saved earlier (`claimtrail audit checkpoint >
        /// FILE`, or `GET /v1/audit/checkpoint`): every event it covers must
        /// be unchanged, in place, with none removed or inserted.
        #[arg(long)]
        checkpoint: Option<PathBuf>,
        /// The log's verifier key (`GET /v1/audit/public-key`), or a file
        /// holding it; by default it is derived from the signing key file.
        #[arg(long)]
        public_key: Option<String>,
    },
    /// Print the latest signed checkpoint (to save it: `> FILE`).
    Checkpoint {
        #[command(flatten)]
        db: DatabaseArgs,
    },
}

/// Where the transparency log's signing key is.
#[derive(Debug, Clone, Args)]
pub struct LogKeyArgs {
    /// The signing key file [default: audit-log.key in the data folder].
    /// Made on first start when missing; never stored in the database.
    #[arg(long, env = "CLAIMTRAIL_LOG_KEY_FILE")]
    pub log_key_file: Option<PathBuf>,
}

impl LogKeyArgs {
    pub fn path(&self, db: &DatabaseArgs) -> PathBuf {
        self.log_key_file
            .clone()
            .unwrap_or_else(|| db.data_dir.join(crate::storage::signing_key::DEFAULT_FILE))
    }
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add a user.
    Add {
        #[command(flatten)]
        db: DatabaseArgs,
        /// The user's name (letters, digits, `.`, `_`, `-`, `@`).
        #[arg(long)]
        name: String,
        /// reporter, reviewer, editor or admin.
        #[arg(long)]
        role: String,
    },
    /// List users (id, name, role).
    List {
        #[command(flatten)]
        db: DatabaseArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Make a token for a user; it is printed alone on the last line, once.
    Create {
        #[command(flatten)]
        db: DatabaseArgs,
        /// The user's name.
        #[arg(long)]
        user: String,
        /// What the token is for ("newsroom importer"), shown by `token list`.
        #[arg(long)]
        label: Option<String>,
    },
    /// List a user's tokens: id (for `token revoke`), label, when made,
    /// last used and revoked.
    List {
        #[command(flatten)]
        db: DatabaseArgs,
        /// The user's name.
        #[arg(long)]
        user: String,
    },
    /// Revoke a token by its id (see `token list`).
    Revoke {
        #[command(flatten)]
        db: DatabaseArgs,
        /// The token's id.
        #[arg(long)]
        id: i64,
    },
}

#[derive(Debug, Clone, Args)]
pub struct InitArgs {
    #[command(flatten)]
    pub db: DatabaseArgs,
    #[command(flatten)]
    pub log_key: LogKeyArgs,
    /// The audit log's origin (its name in checkpoints) [default:
    /// claimtrail-<random>].
    #[arg(long, env = "CLAIMTRAIL_LOG_ORIGIN")]
    pub log_origin: Option<String>,
}

#[derive(Debug, Clone, Args)]
pub struct DatabaseArgs {
    /// PostgreSQL connection URL. Without it claimtrail runs its own cluster
    /// in the data folder.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// A connection URL for the role that owns the schema: migrations run
    /// with it, and the role of DATABASE_URL is granted only what the
    /// service needs (least privilege). Without it, DATABASE_URL's role
    /// migrates and the service runs with all its rights.
    #[arg(long, env = "CLAIMTRAIL_OWNER_DATABASE_URL", hide_env_values = true)]
    pub owner_database_url: Option<String>,
    /// Data folder of the embedded cluster.
    #[arg(long, env = "CLAIMTRAIL_DATA_DIR", default_value = "claimtrail-data")]
    pub data_dir: PathBuf,
}

impl DatabaseArgs {
    /// An empty CLAIMTRAIL_OWNER_DATABASE_URL means "not set"; it counts
    /// only with a DATABASE_URL.
    pub fn owner_database_url(&self) -> Option<&str> {
        self.database_url()?;
        self.owner_database_url.as_deref().filter(|u| !u.is_empty())
    }

    /// An empty DATABASE_URL means "not set".
    pub fn database_url(&self) -> Option<&str> {
        self.database_url
            .as_deref()
            .map(str::trim)
            .filter(|u| !u.is_empty())
    }
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub db: DatabaseArgs,
    /// Address to listen on.
    #[arg(long, env = "CLAIMTRAIL_BIND", default_value = "127.0.0.1:8080")]
    pub bind: String,
    /// Database connections in the pool [default: 4 per core, 4–64].
    #[arg(long, env = "CLAIMTRAIL_POOL_SIZE")]
    pub pool_size: Option<usize>,
    /// Milliseconds a request waits for a database connection before a 503.
    #[arg(long, env = "CLAIMTRAIL_POOL_TIMEOUT_MS", default_value_t = 5_000)]
    pub pool_timeout_ms: u64,
    /// Milliseconds one SQL statement may run, waiting on locks included,
    /// before it is cancelled and the request gets a 503 (0: no limit).
    #[arg(
        long,
        env = "CLAIMTRAIL_STATEMENT_TIMEOUT_MS",
        default_value_t = 30_000
    )]
    pub statement_timeout_ms: u64,
    /// Largest request body accepted, in bytes (larger ones get 413).
    #[arg(long, env = "CLAIMTRAIL_MAX_BODY_BYTES", default_value_t = 4 * 1024 * 1024)]
    pub max_body_bytes: usize,
    /// Largest NDJSON stream one bulk import accepts, in bytes (each line is
    /// also held to --max-body-bytes).
    #[arg(long, env = "CLAIMTRAIL_MAX_IMPORT_BYTES", default_value_t = 1024 * 1024 * 1024)]
    pub max_import_bytes: u64,
    /// Longest article body accepted, in characters.
    #[arg(long, env = "CLAIMTRAIL_MAX_ARTICLE_CHARS", default_value_t = 2 * 1024 * 1024)]
    pub max_article_chars: usize,
    /// Milliseconds one diff may search before settling for a coarser one.
    #[arg(long, env = "CLAIMTRAIL_DIFF_TIMEOUT_MS", default_value_t = 250)]
    pub diff_timeout_ms: u64,
    /// Similarity (0.3–1) at which existing claims are reported as likely
    /// duplicates of a new one.
    #[arg(long, env = "CLAIMTRAIL_DUPLICATE_THRESHOLD", default_value_t = 0.5)]
    pub duplicate_threshold: f64,
    /// Allow reads without a token.
    #[arg(long, env = "CLAIMTRAIL_PUBLIC_READS", default_value_t = false)]
    pub public_reads: bool,
    /// HTTP worker threads [default: one per core].
    #[arg(long, env = "CLAIMTRAIL_WORKERS")]
    pub workers: Option<usize>,
    /// Report each request's SQL statement count in a `Server-Timing`
    /// header (off by default: it tells callers about the implementation).
    #[arg(long, env = "CLAIMTRAIL_SERVER_TIMING", default_value_t = false)]
    pub server_timing: bool,
    /// Streaming replicas plain reads may use (comma-separated connection
    /// strings, URL or key=value form). Writes, and reads that must see a
    /// write the replicas have not replayed yet, go to DATABASE_URL's
    /// primary. See docs/scaling.md.
    #[arg(
        long,
        env = "CLAIMTRAIL_REPLICA_URLS",
        value_delimiter = ',',
        hide_env_values = true
    )]
    pub replica_urls: Vec<String>,
    /// Milliseconds a replica's data may be behind the primary's before the
    /// replica leaves the rotation (it comes back once it catches up).
    #[arg(long, env = "CLAIMTRAIL_REPLICA_MAX_LAG_MS", default_value_t = 5_000)]
    pub replica_max_lag_ms: u64,
    /// Milliseconds between checks of each replica's state and lag.
    #[arg(long, env = "CLAIMTRAIL_REPLICA_CHECK_MS", default_value_t = 250, value_parser = clap::value_parser!(u64).range(10..=60_000))]
    pub replica_check_ms: u64,
    /// Milliseconds a validated token is trusted without a database lookup
    /// (0 turns this off). A revoked token is dropped from every instance's
    /// cache at once (the database announces it); should the announcement
    /// be lost, it stops working within this.
    #[arg(long, env = "CLAIMTRAIL_TOKEN_CACHE_MS", default_value_t = 2_000)]
    pub token_cache_ms: u64,
    /// Writes (POST, PATCH, DELETE) per second allowed to one token on
    /// average; 0 turns the limit off. Past it: 429 with Retry-After.
    #[arg(long, env = "CLAIMTRAIL_WRITE_RATE", default_value_t = 50)]
    pub write_rate: u32,
    /// Writes one token may send at once before the rate applies.
    #[arg(long, env = "CLAIMTRAIL_WRITE_BURST", default_value_t = 100)]
    pub write_burst: u32,
    /// Seconds to let in-flight requests finish on shutdown.
    #[arg(long, env = "CLAIMTRAIL_SHUTDOWN_TIMEOUT_S", default_value_t = 30)]
    pub shutdown_timeout_s: u64,
    #[command(flatten)]
    pub log_key: LogKeyArgs,
    /// The transparency log's origin (its name in checkpoints) when a new
    /// signing key is made [default: claimtrail-<random>].
    #[arg(long, env = "CLAIMTRAIL_LOG_ORIGIN")]
    pub log_origin: Option<String>,
    /// Milliseconds the sequencer waits between steps once caught up; with
    /// the time of a step, this bounds the log's merge delay.
    #[arg(long, env = "CLAIMTRAIL_LOG_INTERVAL_MS", default_value_t = 500)]
    pub log_interval_ms: u64,
    /// Most events integrated into the log in one step.
    #[arg(long, env = "CLAIMTRAIL_LOG_BATCH", default_value_t = 10_000, value_parser = clap::value_parser!(i64).range(1..=100_000))]
    pub log_batch: i64,
    #[command(flatten)]
    pub watch: WatchArgs,
    /// Watches polled at once by the background poller.
    #[arg(long, env = "CLAIMTRAIL_WATCH_CONCURRENCY", default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub watch_concurrency: u16,
    /// Milliseconds between two looks for due watches (0: no background
    /// polling; watches then poll only through `POST /v1/watches/{id}/poll`
    /// or `claimtrail watch run-once`).
    #[arg(long, env = "CLAIMTRAIL_WATCH_TICK_MS", default_value_t = 1_000)]
    pub watch_tick_ms: u64,
}

/// How watches fetch outlets' pages (docs/watching.md).
#[derive(Debug, Clone, Args)]
pub struct WatchArgs {
    /// Fetch private, loopback and link-local addresses too (an intranet
    /// outlet, a test site). Off by default: a watch could otherwise make
    /// the service read its own network (SSRF).
    #[arg(long, env = "CLAIMTRAIL_WATCH_ALLOW_PRIVATE", default_value_t = false)]
    pub watch_allow_private: bool,
    /// How an outlet reaches whoever runs this service (an address or a
    /// URL), added to the User-Agent of every request.
    #[arg(long, env = "CLAIMTRAIL_WATCH_CONTACT")]
    pub watch_contact: Option<String>,
    /// Milliseconds between two requests to one host.
    #[arg(long, env = "CLAIMTRAIL_WATCH_HOST_DELAY_MS", default_value_t = 1_000)]
    pub watch_host_delay_ms: u64,
    /// Seconds one request may take, connection to last byte.
    #[arg(long, env = "CLAIMTRAIL_WATCH_TIMEOUT_S", default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..=300))]
    pub watch_timeout_s: u64,
    /// Largest page or feed read, in bytes after decompression.
    #[arg(long, env = "CLAIMTRAIL_WATCH_MAX_PAGE_BYTES", default_value_t = 5 * 1024 * 1024)]
    pub watch_max_page_bytes: usize,
}

impl WatchArgs {
    pub fn fetch_settings(&self) -> crate::fetcher::FetchSettings {
        crate::fetcher::FetchSettings {
            policy: crate::fetcher::guard::AddressPolicy {
                allow_private: self.watch_allow_private,
            },
            timeout: std::time::Duration::from_secs(self.watch_timeout_s),
            max_body_bytes: self.watch_max_page_bytes,
            host_delay: std::time::Duration::from_millis(self.watch_host_delay_ms),
            contact: self
                .watch_contact
                .as_deref()
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .map(|c| format!("({c})")),
            ..crate::fetcher::FetchSettings::default()
        }
    }
}

#[derive(Debug, Clone, Args)]
pub struct MigrateArgs {
    #[command(flatten)]
    pub db: DatabaseArgs,
    /// Revert the most recent migration instead.
    #[arg(long)]
    pub revert: bool,
}
