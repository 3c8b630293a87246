use std::io::Read;
use std::net::TcpListener;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;

use claimtrail::http::server::{self as app, HttpSettings, Limits};
use claimtrail::watcher::WatcherSettings;
mod attribution_corpus;
mod eval_attribution;
mod eval_page_changes;
mod eval_watch;
mod train_attribution;
mod watch_command;

use claimtrail::config::{
    AuditCommand, Cli, Command, DatabaseArgs, ImportArgs, InitArgs, LogKeyArgs, MigrateArgs,
    ServeArgs, TokenCommand, UserCommand,
};
use claimtrail::domain::auth::Role;
use claimtrail::domain::import;
use claimtrail::error::{AppError, AppResult};
use claimtrail::sequencer::{self, SequencerSettings};
use claimtrail::shutdown::StopSignals;
use claimtrail::storage::audit_verify::{self, Verdict};
use claimtrail::storage::cluster::{Cluster, ClusterOptions, NoCluster, holds_cluster};
use claimtrail::storage::events::AuditContext;
use claimtrail::storage::import::{Importer, WriterConnection};
use claimtrail::storage::notifications::Notifications;
use claimtrail::storage::replicas::{Database, ReplicaSettings};
use claimtrail::storage::users;
use claimtrail::storage::{audit_log, distribution, privileges, signing_key};
use claimtrail::storage::{migrate, pool};
use claimtrail::telemetry;
use diesel_async::{AsyncConnection, AsyncPgConnection};

/// The database name used inside the embedded cluster.
const EMBEDDED_DATABASE: &str = "claimtrail";

fn main() -> ExitCode {
    let cli = Cli::parse();
    let logs = match cli.command {
        Command::Serve(_) => telemetry::SERVICE_LOGS,
        _ if cli.verbose => telemetry::SERVICE_LOGS,
        _ => telemetry::COMMAND_LOGS,
    };
    telemetry::init(cli.log_format, logs);
    let result = match cli.command {
        Command::Serve(args) => serve(*args),
        Command::Init(args) => init_command(args),
        Command::Migrate(args) => migrate_command(args),
        Command::User(command) => user_command(command),
        Command::Token(command) => token_command(command),
        Command::Audit(command) => return audit_command(command),
        Command::Import(args) => import_command(args),
        Command::EvalAttribution(args) => eval_attribution::run(&args),
        Command::EvalPageChanges(args) => eval_page_changes::run(&args),
        Command::EvalWatch(args) => eval_watch::run(&args),
        Command::TrainAttribution(args) => train_attribution::run(&args),
        Command::Watch(command) => watch_command::run(command),
        Command::Openapi => {
            println!("{}", claimtrail::http::openapi::document_json());
            Ok(())
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("claimtrail: {err:#}");
            if err.downcast_ref::<NoCluster>().is_some() {
                ExitCode::from(2)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}

/// `claimtrail init`: makes the embedded cluster (or migrates DATABASE_URL),
/// the service's role and the audit log's key, then stops; what `serve`
/// does before it listens.
fn init_command(args: InitArgs) -> anyhow::Result<()> {
    let (owner_url, cluster) = open_database(&args.db, true)?;
    prepare_service_database(&args.db, &owner_url, &cluster)?;
    let key_path = args.log_key.path(&args.db);
    let signer = signing_key::load_or_create(&key_path, args.log_origin.as_deref())?;
    println!(
        "ready: {} (audit log {}, key {})",
        if cluster.0.is_some() {
            args.db.data_dir.display().to_string()
        } else {
            "DATABASE_URL".into()
        },
        signer.origin(),
        key_path.display()
    );
    Ok(())
}

/// Stops the embedded cluster when the command is done, however it ends.
struct ClusterGuard(Option<Cluster>);

impl Drop for ClusterGuard {
    fn drop(&mut self) {
        if let Some(cluster) = self.0.as_mut().filter(|c| c.started_here())
            && let Err(err) = cluster.stop()
        {
            eprintln!("claimtrail: stopping PostgreSQL failed: {err:#}");
        }
    }
}

/// The database to use, as its owner: CLAIMTRAIL_OWNER_DATABASE_URL or
/// DATABASE_URL, or the embedded cluster (started here) as its superuser.
/// Only `serve` and `init` may make the embedded cluster (`create`); every
/// other command refuses a data folder without one.
fn open_database(db: &DatabaseArgs, create: bool) -> anyhow::Result<(String, ClusterGuard)> {
    if let Some(url) = db.owner_database_url().or(db.database_url()) {
        return Ok((url.to_owned(), ClusterGuard(None)));
    }
    let options = ClusterOptions {
        must_exist: !create,
        ..ClusterOptions::default()
    };
    let mut cluster = Cluster::open(&db.data_dir, options)?;
    cluster.start()?;
    let guard_url = cluster.database_url(EMBEDDED_DATABASE);
    let guard = ClusterGuard(Some(cluster));
    if let Some(cluster) = &guard.0 {
        cluster.ensure_database(EMBEDDED_DATABASE)?;
    }
    Ok((guard_url, guard))
}

fn apply_migrations(url: &str) -> anyhow::Result<()> {
    log_migrations(migrate::run_pending(url)?);
    Ok(())
}

/// Migrates as the owner, gives the service's role its rights, and returns
/// the URL the service connects with: on the embedded cluster, the
/// `claimtrail_app` role it makes; with DATABASE_URL and an owner URL,
/// DATABASE_URL's role; with DATABASE_URL alone, that role, which then
/// also migrates.
fn prepare_service_database(
    db: &DatabaseArgs,
    owner_url: &str,
    cluster: &ClusterGuard,
) -> anyhow::Result<String> {
    use migrate::AppRole;
    if let Some(cluster) = &cluster.0 {
        log_migrations(migrate::run_pending_for(
            owner_url,
            Some(AppRole::Create(privileges::APP_ROLE)),
        )?);
        return Ok(cluster.database_url_as(EMBEDDED_DATABASE, privileges::APP_ROLE));
    }
    let app_url = db
        .database_url()
        .ok_or_else(|| anyhow::anyhow!("no database to serve"))?;
    if db.owner_database_url().is_some() {
        let role = privileges::current_user(app_url)?;
        log_migrations(migrate::run_pending_for(
            owner_url,
            Some(AppRole::Existing(&role)),
        )?);
    } else {
        apply_migrations(app_url)?;
    }
    Ok(app_url.to_owned())
}

fn log_migrations(applied: Vec<String>) {
    if applied.is_empty() {
        tracing::info!("database schema is up to date");
    } else {
        tracing::info!(count = applied.len(), versions = ?applied, "applied migrations");
    }
}

fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let (owner_url, cluster) = open_database(&args.db, true)?;
    let url = prepare_service_database(&args.db, &owner_url, &cluster)?;
    let signer = Arc::new(signing_key::load_or_create(
        &args.log_key.path(&args.db),
        args.log_origin.as_deref(),
    )?);
    let embedded = cluster.0.is_some();
    // Read the attribution model now, not on the first extraction request
    // (an unreadable one is logged as an error where it is read).
    if let Some(model) = claimtrail::domain::attribution::model::Model::shipped() {
        let (cue, role) = model.size();
        tracing::info!(cue_rows = cue, role_rows = role, "attribution model loaded");
    }

    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let pool_settings = pool::PoolSettings {
        max_size: args
            .pool_size
            .unwrap_or_else(pool::PoolSettings::default_size),
        wait_timeout: Duration::from_millis(args.pool_timeout_ms),
        statement_timeout: Duration::from_millis(args.statement_timeout_ms),
    };
    let limits = Limits {
        max_body_bytes: args.max_body_bytes,
        max_body_chars: args.max_article_chars,
        max_import_bytes: args.max_import_bytes,
        diff_timeout: Duration::from_millis(args.diff_timeout_ms),
        duplicate_threshold: args.duplicate_threshold.clamp(0.3, 1.0),
    };
    let watch = WatcherSettings {
        fetch: args.watch.fetch_settings(),
        intake: limits.intake(),
        max_body_chars: limits.max_body_chars,
        concurrency: usize::from(args.watch_concurrency),
        tick: (args.watch_tick_ms > 0).then(|| Duration::from_millis(args.watch_tick_ms)),
    };
    let settings = HttpSettings {
        limits,
        watch,
        workers: args.workers.unwrap_or(cores),
        shutdown_timeout: Duration::from_secs(args.shutdown_timeout_s),
        public_reads: args.public_reads,
        server_timing: args.server_timing,
        token_cache_ttl: Duration::from_millis(args.token_cache_ms),
        write_rate: args.write_rate,
        write_burst: args.write_burst,
        log_verifier_key: signer.verifier_key().to_owned(),
    };
    let sequencer_settings = SequencerSettings {
        interval: Duration::from_millis(args.log_interval_ms),
        max_batch: args.log_batch,
    };
    let replica_settings = ReplicaSettings {
        max_lag: Duration::from_millis(args.replica_max_lag_ms),
        check_interval: Duration::from_millis(args.replica_check_ms),
        ..ReplicaSettings::default()
    };
    let listener = TcpListener::bind(&args.bind)
        .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", args.bind))?;
    let address = listener.local_addr()?;
    actix_web::rt::System::new().block_on(async move {
        let db_pool = pool::build_pool(&url, &pool_settings)?;
        let mut conn = db_pool.get().await?;
        let excess = privileges::excess_privileges(&mut conn).await?;
        distribution::log(distribution::status(&mut conn).await?);
        drop(conn);
        if !excess.is_empty() {
            anyhow::ensure!(
                !embedded,
                "the service's role has rights it must not have: {}",
                excess.join("; ")
            );
            tracing::warn!(
                "least privilege is not in force: {}; set CLAIMTRAIL_OWNER_DATABASE_URL to migrate as the owner and serve as a role with only the service's rights (see README)",
                excess.join("; ")
            );
        }
        sequencer::spawn(db_pool.clone(), signer, sequencer_settings);
        let mut replicas = Vec::new();
        for url in args.replica_urls.iter().map(|u| u.trim()).filter(|u| !u.is_empty()) {
            replicas.push((url.to_owned(), pool::build_pool(url, &pool_settings)?));
        }
        let replica_count = replicas.len();
        let database = Arc::new(Database::new(db_pool, replicas, replica_settings));
        database.clone().spawn_monitor();
        let notifications = Arc::new(Notifications::default());
        notifications.clone().spawn_listener(url.clone());
        let server = app::build_server(listener, database, notifications, &settings)?;
        tracing::info!(
            pool_size = pool_settings.max_size,
            workers = settings.workers,
            replicas = replica_count,
            "claimtrail listening on http://{address}"
        );
        // The first SIGTERM or SIGINT stops accepting and lets the requests
        // in flight finish (up to the shutdown timeout); then this returns
        // and the embedded cluster is stopped by its guard. A second signal
        // drops the server at once.
        let signals = StopSignals::listen()?;
        let handle = server.handle();
        let first = signals.clone();
        actix_web::rt::spawn(async move {
            first.nth(1).await;
            handle.stop(true).await;
        });
        tokio::select! {
            result = server => {
                result?;
                tracing::info!("HTTP server stopped");
            }
            () = signals.nth(2) => {
                anyhow::bail!("stopped by a second signal before the requests in flight finished")
            }
        }
        anyhow::Ok(())
    })
}

fn migrate_command(args: MigrateArgs) -> anyhow::Result<()> {
    let (url, _cluster) = open_database(&args.db, false)?;
    if args.revert {
        let version = migrate::revert_last(&url)?;
        println!("reverted {version}");
    } else {
        let applied = migrate::run_pending(&url)?;
        println!("applied {} migration(s)", applied.len());
    }
    Ok(())
}

/// Runs one database task of the CLI on the configured database (the
/// embedded cluster when DATABASE_URL is unset, adopted if `serve` runs it).
fn with_database<T>(
    db: &DatabaseArgs,
    task: impl for<'c> AsyncFnOnce(&'c mut AsyncPgConnection) -> AppResult<T>,
) -> anyhow::Result<T> {
    with_database_at(db, async |conn, _url| task(conn).await)
}

/// [`with_database`], for a task that opens connections of its own too.
fn with_database_at<T>(
    db: &DatabaseArgs,
    task: impl for<'c> AsyncFnOnce(&'c mut AsyncPgConnection, &'c str) -> AppResult<T>,
) -> anyhow::Result<T> {
    let (url, _cluster) = open_database(db, false)?;
    apply_migrations(&url)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let mut conn = AsyncPgConnection::establish(&url).await?;
        task(&mut conn, &url)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))
    })
}

/// Changes made from the command line are audited as the `cli` actor.
fn cli_actor() -> AuditContext {
    AuditContext::system("cli")
}

/// `claimtrail import FILE`: the same importer as `POST /v1/import/claims`.
fn import_command(args: ImportArgs) -> anyhow::Result<()> {
    let batch = import::batch_size(args.batch).map_err(|e| anyhow::anyhow!("--batch: {e}"))?;
    let (mut input, size): (Box<dyn Read>, Option<u64>) = if args.file.as_os_str() == "-" {
        (Box::new(std::io::stdin().lock()), None)
    } else {
        let file = std::fs::File::open(&args.file)
            .map_err(|e| anyhow::anyhow!("cannot open {}: {e}", args.file.display()))?;
        let size = file.metadata().ok().map(|m| m.len());
        (Box::new(file), size)
    };
    let progress = import_progress(size);
    let report = with_database_at(&args.db, async |conn, url| {
        let ctx = match &args.user {
            Some(name) => AuditContext::system(&users::find_user(conn, name).await?.name),
            None => cli_actor(),
        };
        // Two more connections write batches side by side with reading the
        // next, as the service does.
        let mut writers: Vec<WriterConnection> = Vec::new();
        for _ in 0..2 {
            let writer = AsyncPgConnection::establish(url)
                .await
                .map_err(|e| AppError::Unavailable(format!("opening a writer connection: {e}")))?;
            writers.push(Box::new(Box::new(writer)));
        }
        let mut importer =
            Importer::new(conn, ctx, batch, args.max_line_bytes).with_writers(writers);
        let mut chunk = vec![0u8; 1 << 20];
        loop {
            let n = input
                .read(&mut chunk)
                .map_err(|e| AppError::BadRequest(format!("reading the file: {e}")))?;
            if n == 0 {
                break;
            }
            importer.push_bytes(&chunk[..n]).await?;
            progress.inc(n as u64);
            let so_far = importer.progress();
            progress.set_message(format!(
                "{} imported, {} invalid line(s)",
                so_far.imported, so_far.invalid_lines
            ));
        }
        importer.finish().await
    })?;
    progress.finish_and_clear();
    println!("{}", serde_json::to_string_pretty(&report)?);
    eprintln!(
        "{} ({} claims/s)",
        report.summary(),
        report.claims_per_second
    );
    if report.is_complete() {
        Ok(())
    } else {
        anyhow::bail!("some batches were rejected; see the report")
    }
}

/// A bar over the file's bytes (a counter for standard input), drawn on
/// standard error only when it is a terminal.
fn import_progress(size: Option<u64>) -> indicatif::ProgressBar {
    use indicatif::{ProgressBar, ProgressStyle};
    let (bar, template) = match size {
        Some(size) => (
            ProgressBar::new(size),
            "{bar:40} {bytes}/{total_bytes} ({bytes_per_sec}, {eta} left) {msg}",
        ),
        None => (
            ProgressBar::no_length(),
            "{spinner} {bytes} read ({bytes_per_sec}) {msg}",
        ),
    };
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style);
    }
    bar
}

fn user_command(command: UserCommand) -> anyhow::Result<()> {
    match command {
        UserCommand::Add { db, name, role } => {
            let role: Role = role.parse().map_err(|e| anyhow::anyhow!("--role: {e}"))?;
            let user = with_database(&db, async |conn| {
                users::create_user(conn, &cli_actor(), &name, role).await
            })?;
            println!(
                "user {} ({}) added with id {}",
                user.name, user.role, user.id
            );
        }
        UserCommand::List { db } => {
            println!("id\tname\trole");
            for user in with_database(&db, async |conn| {
                claimtrail::storage::all_pages(async |page| users::list_users(conn, page).await)
                    .await
            })? {
                println!("{}\t{}\t{}", user.id, user.name, user.role);
            }
        }
    }
    Ok(())
}

fn token_command(command: TokenCommand) -> anyhow::Result<()> {
    match command {
        TokenCommand::Create { db, user, label } => {
            let token = with_database(&db, async |conn| {
                let user = users::find_user(conn, &user).await?;
                users::create_token(conn, &cli_actor(), user.id, label.as_deref()).await
            })?;
            println!(
                "token {} for user {} (shown once; only its hash is stored):",
                token.info.id, user
            );
            println!("{}", token.token);
        }
        TokenCommand::List { db, user } => {
            let tokens = with_database(&db, async |conn| {
                let user = users::find_user(conn, &user).await?;
                claimtrail::storage::all_pages(async |page| {
                    users::list_tokens(conn, user.id, page).await
                })
                .await
            })?;
            let when = |t: Option<chrono::DateTime<chrono::Utc>>| {
                t.map_or_else(
                    || "-".to_owned(),
                    |t| t.format("%Y-%m-%d %H:%M").to_string(),
                )
            };
            println!("id\tlabel\tcreated\tlast used\trevoked");
            for t in tokens {
                println!(
                    "{}\t{}\t{}\t{}\t{}",
                    t.id,
                    t.label.as_deref().unwrap_or("-"),
                    when(Some(t.created_at)),
                    when(t.last_used_at),
                    when(t.revoked_at)
                );
            }
        }
        TokenCommand::Revoke { db, id } => {
            let info = with_database(&db, async |conn| {
                users::revoke_token(conn, &cli_actor(), id).await
            })?;
            println!("token {} revoked", info.id);
        }
    }
    Ok(())
}

/// `claimtrail audit …`: exit 0 when intact, 1 when tampered, 2 when the
/// check could not be made.
fn audit_command(command: AuditCommand) -> ExitCode {
    const TAMPERED: u8 = 1;
    const CANNOT_CHECK: u8 = 2;
    let result = match command {
        AuditCommand::Verify {
            db,
            key,
            checkpoint,
            public_key,
        } => audit_verify(&db, &key, checkpoint.as_deref(), public_key.as_deref()),
        AuditCommand::Checkpoint { db } => {
            with_database(&db, async |conn| audit_log::latest_checkpoint(conn).await).and_then(
                |latest| {
                    let latest = latest.ok_or_else(|| {
                        anyhow::anyhow!(
                            "the log has no checkpoint yet (serve makes one when it starts)"
                        )
                    })?;
                    print!("{}", latest.signed_note);
                    Ok(Verdict::Intact(audit_verify::Summary {
                        leaves: latest.tree_size as u64,
                        checkpoint_size: latest.tree_size as u64,
                        saved_size: None,
                        pending: 0,
                    }))
                },
            )
        }
    };
    match result {
        Ok(Verdict::Intact(_)) => ExitCode::SUCCESS,
        Ok(Verdict::Tampered(why)) => {
            eprintln!("claimtrail: audit log TAMPERED: {why}");
            ExitCode::from(TAMPERED)
        }
        Ok(Verdict::CannotCheck(why)) => {
            eprintln!("claimtrail: the audit log could not be checked: {why}");
            ExitCode::from(CANNOT_CHECK)
        }
        Err(err) => {
            eprintln!("claimtrail: the audit log could not be checked: {err:#}");
            ExitCode::from(CANNOT_CHECK)
        }
    }
}

fn audit_verify(
    db: &DatabaseArgs,
    key: &LogKeyArgs,
    saved: Option<&std::path::Path>,
    public_key: Option<&str>,
) -> anyhow::Result<Verdict> {
    if db.database_url().is_none() && !holds_cluster(&db.data_dir) {
        return Err(NoCluster(db.data_dir.clone()).into());
    }
    let verifier_key = match public_key {
        // A key given inline has the `name+id+key` shape; anything else is
        // a file holding one.
        Some(k) if k.contains('+') && !std::path::Path::new(k).exists() => k.trim().to_owned(),
        Some(path) => std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("cannot read the public key {path}: {e}"))?
            .trim()
            .to_owned(),
        None => signing_key::load(&key.path(db))
            .map_err(|e| anyhow::anyhow!("{e:#} (give the log's public key with --public-key)"))?
            .verifier_key()
            .to_owned(),
    };
    let saved = match saved {
        Some(path) => Some(
            std::fs::read(path)
                .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?,
        ),
        None => None,
    };
    let verdict = with_database(db, async |conn| {
        audit_verify::verify(conn, &verifier_key, saved.as_deref()).await
    })?;
    if let Verdict::Intact(summary) = &verdict {
        println!(
            "audit log intact: {} events; the latest checkpoint (size {}) is signed by {} and matches them{}{}",
            summary.leaves,
            summary.checkpoint_size,
            verifier_key.split('+').next().unwrap_or(""),
            match summary.saved_size {
                Some(n) => format!("; the saved checkpoint (size {n}) is a prefix of it"),
                None => String::new(),
            },
            if summary.pending > 0 {
                format!("; {} newer events are not in the log yet", summary.pending)
            } else {
                String::new()
            }
        );
    }
    Ok(verdict)
}
