//! `claimtrail audit verify`: recomputes the whole log from the events and
//! checks it against signed checkpoints, trusting nothing else the database
//! holds: every leaf is re-encoded from its event, every tree hash is
//! recomputed, the latest checkpoint's signature is checked with the log's
//! public key, and a checkpoint saved earlier by anyone must be a prefix of
//! what the events hash to now.

use diesel::QueryableByName;
use diesel::sql_types::{Array, BigInt, Binary};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use tlog_tiles::tlog::{
    self, Hash, HashReader, split_stored_hash_index, stored_hash_count, stored_hash_index,
    stored_hashes_for_record_hash, tree_hash,
};

use super::audit_log::latest_checkpoint;
use super::events::{EventView, VIEW_COLUMNS};
use crate::domain::audit::{VerifiedCheckpoint, verify_checkpoint};
use crate::error::AppResult;

/// What a verification found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Every check held.
    Intact(Summary),
    /// The log does not match its checkpoints: the first problem found.
    Tampered(String),
    /// The check could not be made (no checkpoint yet, a saved checkpoint
    /// not signed by this log's key…).
    CannotCheck(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    pub leaves: u64,
    pub checkpoint_size: u64,
    pub saved_size: Option<u64>,
    /// Committed events the sequencer has not integrated yet.
    pub pending: u64,
}

/// Leaves read per query.
const BATCH: i64 = 5_000;

/// All hashes recomputed so far, in stored-hash order.
struct Recomputed(Vec<Hash>);

impl HashReader for Recomputed {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, tlog::Error> {
        indexes
            .iter()
            .map(|&i| {
                self.0
                    .get(i as usize)
                    .copied()
                    .ok_or(tlog::Error::IndexesNotInTree)
            })
            .collect()
    }
}

pub async fn verify(
    conn: &mut AsyncPgConnection,
    verifier_key: &str,
    saved: Option<&[u8]>,
) -> AppResult<Verdict> {
    let saved = match saved.map(|note| verify_checkpoint(note, verifier_key)) {
        None => None,
        Some(Ok(c)) => Some(c),
        Some(Err(e)) => return Ok(Verdict::CannotCheck(format!("the saved checkpoint: {e}"))),
    };
    let Some(latest_row) = latest_checkpoint(conn).await? else {
        return Ok(match saved {
            Some(s) if s.size > 0 => Verdict::Tampered(format!(
                "the log has no checkpoint, but the saved checkpoint covers {} events",
                s.size
            )),
            _ => Verdict::CannotCheck(
                "the log has no checkpoint yet (the sequencer of a running service makes one within its merge delay)"
                    .into(),
            ),
        });
    };
    let latest = match verify_checkpoint(latest_row.signed_note.as_bytes(), verifier_key) {
        Ok(c) => c,
        Err(e) => {
            return Ok(Verdict::Tampered(format!(
                "the latest checkpoint in the database (size {}): {e}",
                latest_row.tree_size
            )));
        }
    };
    if latest.size != latest_row.tree_size as u64
        || latest.root.0.as_slice() != latest_row.root_hash
    {
        return Ok(Verdict::Tampered(
            "the latest checkpoint's columns disagree with its signed text".into(),
        ));
    }

    let mut recomputed = Recomputed(Vec::new());
    let mut leaves: u64 = 0;
    let mut first_wrong_leaf: Option<String> = None;
    loop {
        let batch: Vec<EventView> = diesel::sql_query(format!(
            "SELECT {VIEW_COLUMNS} FROM audit_log_leaves l JOIN audit_events e ON e.id = l.event_id \
              WHERE l.leaf_index >= $1 ORDER BY l.leaf_index LIMIT $2"
        ))
        .bind::<BigInt, _>(leaves as i64)
        .bind::<BigInt, _>(BATCH)
        .load(conn)
        .await?;
        let stored = stored_level_zero(conn, leaves, batch.len() as u64).await?;
        for (leaf, stored_hash) in batch.iter().zip(stored) {
            let index = leaf.leaf_index.unwrap_or(-1);
            if index != leaves as i64 {
                return Ok(Verdict::Tampered(format!(
                    "leaf {leaves} is missing (the next leaf is {index}): an event was removed"
                )));
            }
            let hash = leaf.leaf_event().hash();
            if first_wrong_leaf.is_none() && stored_hash.is_some_and(|s| s != hash) {
                first_wrong_leaf = Some(format!(
                    "leaf {leaves} (event {}) does not hash to what the log recorded for it: the event was changed",
                    leaf.id
                ));
            }
            let new = stored_hashes_for_record_hash(leaves, hash, &recomputed)
                .map_err(|e| anyhow::anyhow!("recomputing the tree: {e}"))?;
            recomputed.0.extend(new);
            leaves += 1;
        }
        if (batch.len() as i64) < BATCH {
            break;
        }
    }

    let root_at = |size: u64| -> anyhow::Result<Hash> {
        tree_hash(size, &recomputed).map_err(|e| anyhow::anyhow!("recomputing the root: {e}"))
    };
    let located = |what: String| match &first_wrong_leaf {
        Some(leaf) => format!("{what}; first difference: {leaf}"),
        None => what,
    };
    if let Some(saved) = &saved {
        if saved.size > leaves {
            return Ok(Verdict::Tampered(format!(
                "the log has {leaves} events, but the saved checkpoint covers {}: events at the end were removed",
                saved.size
            )));
        }
        if root_at(saved.size)? != saved.root {
            return Ok(Verdict::Tampered(located(format!(
                "the first {} events no longer hash to the saved checkpoint's root: an event it covers was changed, removed, inserted or reordered",
                saved.size
            ))));
        }
    }
    if latest.size > leaves {
        return Ok(Verdict::Tampered(format!(
            "the log has {leaves} events, but its latest checkpoint covers {}: events at the end were removed",
            latest.size
        )));
    }
    if root_at(latest.size)? != latest.root {
        return Ok(Verdict::Tampered(located(format!(
            "the first {} events do not hash to the latest checkpoint's root",
            latest.size
        ))));
    }
    if let Some(problem) = first_wrong_stored_hash(conn, &recomputed, &latest).await? {
        return Ok(Verdict::Tampered(problem));
    }
    if let Some(leaf) = first_wrong_leaf {
        return Ok(Verdict::Tampered(leaf));
    }
    Ok(Verdict::Intact(Summary {
        leaves,
        checkpoint_size: latest.size,
        saved_size: saved.map(|s| s.size),
        pending: pending_events(conn).await?,
    }))
}

/// The stored leaf hashes of leaves `from..from + count` (None where absent).
async fn stored_level_zero(
    conn: &mut AsyncPgConnection,
    from: u64,
    count: u64,
) -> AppResult<Vec<Option<Hash>>> {
    let indexes: Vec<i64> = (from..from + count)
        .map(|n| stored_hash_index(0, n) as i64)
        .collect();
    let found = read_stored(conn, &indexes).await?;
    Ok(indexes
        .iter()
        .map(|i| found.get(&(*i as u64)).copied())
        .collect())
}

#[derive(QueryableByName)]
struct StoredHash {
    #[diesel(sql_type = BigInt)]
    hash_index: i64,
    #[diesel(sql_type = Binary)]
    hash: Vec<u8>,
}

async fn read_stored(
    conn: &mut AsyncPgConnection,
    indexes: &[i64],
) -> AppResult<std::collections::HashMap<u64, Hash>> {
    let rows: Vec<StoredHash> = diesel::sql_query(
        "SELECT hash_index, hash FROM audit_log_hashes WHERE hash_index = ANY($1)",
    )
    .bind::<Array<BigInt>, _>(indexes)
    .load(conn)
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            let bytes: [u8; 32] = r.hash.try_into().ok()?;
            Some((r.hash_index as u64, Hash(bytes)))
        })
        .collect())
}

/// The stored tree hashes (what proofs are made from) against the
/// recomputed ones, up to the latest checkpoint.
async fn first_wrong_stored_hash(
    conn: &mut AsyncPgConnection,
    recomputed: &Recomputed,
    latest: &VerifiedCheckpoint,
) -> AppResult<Option<String>> {
    let count = stored_hash_count(latest.size);
    let mut from: u64 = 0;
    while from < count {
        let rows: Vec<StoredHash> = diesel::sql_query(
            "SELECT hash_index, hash FROM audit_log_hashes WHERE hash_index >= $1 AND hash_index < $2 \
              ORDER BY hash_index",
        )
        .bind::<BigInt, _>(from as i64)
        .bind::<BigInt, _>(count.min(from + BATCH as u64) as i64)
        .load(conn)
        .await?;
        let mut expected = from;
        for row in &rows {
            let index = row.hash_index as u64;
            if index != expected || row.hash.as_slice() != recomputed.0[index as usize].0.as_slice()
            {
                let at = if index != expected { expected } else { index };
                let (level, n) = split_stored_hash_index(at);
                return Ok(Some(format!(
                    "the stored tree hash {at} (level {level}, node {n}) is missing or wrong: proofs made from it would not verify"
                )));
            }
            expected += 1;
        }
        if rows.is_empty() {
            let (level, n) = split_stored_hash_index(from);
            return Ok(Some(format!(
                "the stored tree hash {from} (level {level}, node {n}) is missing"
            )));
        }
        from = expected;
    }
    Ok(None)
}

async fn pending_events(conn: &mut AsyncPgConnection) -> AppResult<u64> {
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let c: Count = diesel::sql_query(
        "SELECT count(*) AS n FROM audit_events e \
          WHERE NOT EXISTS (SELECT FROM audit_log_leaves l WHERE l.event_id = e.id)",
    )
    .get_result(conn)
    .await?;
    Ok(c.n as u64)
}
