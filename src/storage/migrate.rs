//! Embedded migrations, applied at start.
//!
//! They run through diesel's synchronous harness on an `AsyncConnectionWrapper`,
//! outside any async runtime (the async harness cannot run inside actix's
//! current-thread runtimes).

use diesel::Connection;
use diesel::RunQueryDsl;
use diesel_async::AsyncPgConnection;
use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

/// Serializes migrations of several instances starting at once.
const MIGRATION_LOCK_KEY: i64 = 0x636c_6169_6d74;

type SyncConn = AsyncConnectionWrapper<AsyncPgConnection>;

/// Applies pending migrations, then makes the text keys they need (see
/// [`super::text_keys::refresh`]); returns the versions applied. Must not be
/// called from inside an async runtime (use `spawn_blocking` there).
pub fn run_pending(database_url: &str) -> anyhow::Result<Vec<String>> {
    run_pending_for(database_url, None)
}

/// The role the service connects as, to be granted its rights after the
/// migrations (see [`super::privileges`]).
#[derive(Debug, Clone, Copy)]
pub enum AppRole<'a> {
    /// Made if missing (the embedded cluster, whose owner may make roles).
    Create(&'a str),
    /// Made by the database's administrator.
    Existing(&'a str),
}

/// [`run_pending`], then the service's role granted its rights, all under
/// the migration lock (several instances may start at once, and concurrent
/// GRANTs on one table fail).
pub fn run_pending_for(
    database_url: &str,
    app_role: Option<AppRole<'_>>,
) -> anyhow::Result<Vec<String>> {
    let mut conn = SyncConn::establish(database_url)
        .map_err(|e| anyhow::anyhow!("cannot connect to the database to migrate it: {e}"))?;
    diesel::sql_query(format!("SELECT pg_advisory_lock({MIGRATION_LOCK_KEY})"))
        .execute(&mut conn)?;
    let result = conn
        .run_pending_migrations(MIGRATIONS)
        .map(|versions| versions.iter().map(ToString::to_string).collect())
        .map_err(|e| anyhow::anyhow!("migration failed: {e}"))
        .and_then(|applied| {
            super::text_keys::refresh(&mut conn)?;
            match app_role {
                Some(AppRole::Create(role)) => super::privileges::set_up_app_role(&mut conn, role)?,
                Some(AppRole::Existing(role)) => super::privileges::grant(&mut conn, role)?,
                None => {}
            }
            Ok(applied)
        });
    diesel::sql_query(format!("SELECT pg_advisory_unlock({MIGRATION_LOCK_KEY})"))
        .execute(&mut conn)?;
    result
}

/// Reverts the most recent migration (for `claimtrail migrate --revert`).
pub fn revert_last(database_url: &str) -> anyhow::Result<String> {
    let mut conn = SyncConn::establish(database_url)
        .map_err(|e| anyhow::anyhow!("cannot connect to the database: {e}"))?;
    let version = conn
        .revert_last_migration(MIGRATIONS)
        .map_err(|e| anyhow::anyhow!("revert failed: {e}"))?;
    Ok(version.to_string())
}
