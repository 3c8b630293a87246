//! Least privilege: the service connects as a role that can do its job and
//! nothing more. It is not a superuser and owns no table, so it cannot
//! disable the append-only triggers or alter the history tables; it may
//! only read and append to the history (revisions, appearances, reviews,
//! comments, relations, audit events and the transparency log), and read
//! and change the head rows that project it. Migrations run as the owner.

use diesel::QueryableByName;
use diesel::sql_types::{Bool, Text};
use diesel_async::AsyncPgConnection;
use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;

use crate::storage::cluster::quote_ident;

/// The role the embedded default makes for the service.
pub const APP_ROLE: &str = "claimtrail_app";

/// History: read and appended to, never changed.
const APPEND_ONLY: &[&str] = &[
    "article_revisions",
    "speaker_revisions",
    "claim_revisions",
    "claim_appearances",
    "claim_reviews",
    "claim_comments",
    "claim_relations",
    "audit_events",
    "audit_log_leaves",
    "audit_log_hashes",
    "audit_log_checkpoints",
    "article_captures",
];

/// Heads and service state: read, written and updated.
const MUTABLE: &[&str] = &[
    "stories",
    "speakers",
    "articles",
    "claims",
    // Derived from `claims.duplicate_bands` by triggers.
    "claim_duplicate_bands",
    "users",
    "api_tokens",
    "idempotency_keys",
    "browser_sessions",
    "watches",
    "watch_items",
];

type SyncConn = AsyncConnectionWrapper<AsyncPgConnection>;

/// The statements that give `role` exactly the service's rights.
pub fn grants(role: &str) -> Vec<String> {
    let role = quote_ident(role);
    let mut out = vec![format!("GRANT USAGE ON SCHEMA public TO {role}")];
    for table in APPEND_ONLY {
        out.push(format!("REVOKE ALL ON {table} FROM {role}"));
        out.push(format!("GRANT SELECT, INSERT ON {table} TO {role}"));
    }
    for table in MUTABLE {
        out.push(format!(
            "GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO {role}"
        ));
    }
    // Identity columns draw from sequences.
    out.push(format!(
        "GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}"
    ));
    out
}

/// Makes the service's role if it does not exist (a login role with no
/// other power), then grants it its rights. Run as the owner after
/// migrations, so that tables added by a migration are granted too.
pub fn set_up_app_role(conn: &mut SyncConn, role: &str) -> anyhow::Result<()> {
    use diesel::RunQueryDsl;
    #[derive(QueryableByName)]
    struct Exists {
        #[diesel(sql_type = Bool)]
        exists: bool,
    }
    let found: Exists =
        diesel::sql_query("SELECT EXISTS (SELECT FROM pg_roles WHERE rolname = $1) AS exists")
            .bind::<Text, _>(role)
            .get_result(conn)?;
    if !found.exists {
        diesel::sql_query(format!(
            "CREATE ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS",
            quote_ident(role)
        ))
        .execute(conn)
        .map_err(|e| anyhow::anyhow!("creating the role {role}: {e}"))?;
    }
    grant(conn, role)
}

/// Grants `role` the service's rights (it must exist).
pub fn grant(conn: &mut SyncConn, role: &str) -> anyhow::Result<()> {
    use diesel::RunQueryDsl;
    for sql in grants(role) {
        diesel::sql_query(&sql)
            .execute(conn)
            .map_err(|e| anyhow::anyhow!("{sql}: {e}"))?;
    }
    Ok(())
}

/// The role a connection URL logs in as.
pub fn current_user(url: &str) -> anyhow::Result<String> {
    use diesel::{Connection, RunQueryDsl};
    #[derive(QueryableByName)]
    struct Me {
        #[diesel(sql_type = Text)]
        name: String,
    }
    let mut conn = SyncConn::establish(url)
        .map_err(|e| anyhow::anyhow!("cannot connect with DATABASE_URL: {e}"))?;
    let me: Me = diesel::sql_query("SELECT current_user::text AS name").get_result(&mut conn)?;
    Ok(me.name)
}

/// What the connected role may do that the service should not be able to:
/// empty when least privilege holds.
pub async fn excess_privileges(conn: &mut AsyncPgConnection) -> anyhow::Result<Vec<String>> {
    use diesel_async::RunQueryDsl;
    #[derive(QueryableByName)]
    struct Powers {
        #[diesel(sql_type = Text)]
        role: String,
        #[diesel(sql_type = Bool)]
        superuser: bool,
        #[diesel(sql_type = Bool)]
        owns_history: bool,
        #[diesel(sql_type = Bool)]
        may_update_events: bool,
    }
    let p: Powers = diesel::sql_query(
        "SELECT current_user::text AS role,
                (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) AS superuser,
                pg_has_role(current_user, (SELECT tableowner FROM pg_tables
                                           WHERE schemaname = 'public' AND tablename = 'audit_events'), 'USAGE')
                    AS owns_history,
                has_table_privilege('audit_events', 'UPDATE') AS may_update_events",
    )
    .get_result(conn)
    .await?;
    let mut out = Vec::new();
    if p.superuser {
        out.push(format!("{} is a superuser", p.role));
    }
    if p.owns_history {
        out.push(format!(
            "{} owns the history tables (it could disable their triggers)",
            p.role
        ));
    }
    if p.may_update_events {
        out.push(format!("{} may update audit events", p.role));
    }
    Ok(out)
}
