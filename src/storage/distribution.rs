//! Whether the ledger is spread over a Citus cluster by story. The plan
//! lives in the schema (migration `plan_distribution_by_story`): where each
//! table goes, what still blocks the story tables, and the Citus calls,
//! which run when the extension is installed. See docs/scaling.md.

use diesel::sql_types::{BigInt, Bool};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::error::AppResult;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Distribution {
    /// Citus is not installed: every table is on this server.
    NotInstalled,
    /// Citus is installed; the reference tables are on every node, and this
    /// many constraints keep the story tables on the coordinator.
    Blocked(i64),
    /// The story tables are distributed by story.
    ByStory,
}

#[derive(diesel::QueryableByName)]
struct Row {
    #[diesel(sql_type = Bool)]
    installed: bool,
    #[diesel(sql_type = BigInt)]
    blockers: i64,
}

pub async fn status(conn: &mut AsyncPgConnection) -> AppResult<Distribution> {
    let row: Row = diesel::sql_query(
        "SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus') AS installed, \
                (SELECT count(*) FROM claimtrail_distribution_blockers()) AS blockers",
    )
    .get_result(conn)
    .await?;
    Ok(match (row.installed, row.blockers) {
        (false, _) => Distribution::NotInstalled,
        (true, 0) => Distribution::ByStory,
        (true, n) => Distribution::Blocked(n),
    })
}

/// One line at start-up saying where the tables are.
pub fn log(status: Distribution) {
    match status {
        Distribution::NotInstalled => tracing::info!(
            "Citus is not installed: every table stays on this server (docs/scaling.md)"
        ),
        Distribution::Blocked(n) => tracing::warn!(
            blockers = n,
            "Citus is installed, but constraints keep the story tables on the coordinator: \
             SELECT * FROM claimtrail_distribution_blockers() lists them (docs/scaling.md)"
        ),
        Distribution::ByStory => {
            tracing::info!("the story tables are distributed by story over the Citus cluster")
        }
    }
}
