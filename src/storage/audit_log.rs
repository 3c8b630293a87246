//! The transparency log in PostgreSQL: integrating committed events into the
//! Merkle tree (the sequencer's step), signed checkpoints, and the proofs
//! anyone can check against a checkpoint. The rules of leaves, trees and
//! checkpoints are in [`crate::domain::audit`]; docs/audit-log.md has the
//! design.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use diesel::sql_types::{Array, BigInt, Binary, Bool, Nullable, Text, Timestamptz};
use diesel::{OptionalExtension, QueryableByName};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use tlog_tiles::tlog::{
    self, EMPTY_HASH, Hash, HashReader, prove_record, prove_tree, stored_hash_index,
    stored_hashes_for_record_hash, tree_hash,
};

use super::events::{EventView, VIEW_COLUMNS};
use crate::domain::audit::LogSigner;
use crate::error::{AppError, AppResult};

/// Only one sequencer integrates at a time, whichever instance runs it.
const SEQUENCER_LOCK_KEY: i64 = 0x636c_6169_6d6c;

/// What one sequencer step did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Integrated {
    /// Tree size before and after.
    pub from: u64,
    pub to: u64,
    /// Whether the step was bounded by the batch size (more may be waiting).
    pub full: bool,
}

/// One sequencer step, in one transaction: give committed events their
/// leaves, hash them into the tree and sign a checkpoint of the new size.
///
/// Which events: those whose transaction is older than the oldest one still
/// running anywhere (`pg_snapshot_xmin`), in (transaction id, event id)
/// order after the last one integrated. Such a transaction has committed or
/// rolled back: its events are all visible now or never will be, and no
/// event can join it. So the log never skips a committed event, never holds
/// one that rolled back, and grows as a prefix of one order that does not
/// depend on when the sequencer runs; a transaction that took its id early
/// and commits late holds back those after it until it ends.
///
/// Returns `None` when another sequencer holds the lock, or when there was
/// nothing to integrate.
pub async fn integrate(
    conn: &mut AsyncPgConnection,
    signer: &LogSigner,
    max_batch: i64,
) -> AppResult<Option<Integrated>> {
    conn.transaction(async |conn| {
        #[derive(QueryableByName)]
        struct Locked {
            #[diesel(sql_type = Bool)]
            locked: bool,
        }
        let lock: Locked = diesel::sql_query("SELECT pg_try_advisory_xact_lock($1) AS locked")
            .bind::<BigInt, _>(SEQUENCER_LOCK_KEY)
            .get_result(conn)
            .await?;
        if !lock.locked {
            return Ok(None);
        }
        let leaves = leaf_count(conn).await?;
        let checkpointed = latest_checkpoint(conn).await?.map(|c| c.tree_size as u64);
        let hashed = checkpointed.unwrap_or(0);
        // Leaves without hashes (the events carried from the retired
        // chain) are hashed first, a batch at a time.
        let to = if hashed < leaves {
            (hashed + max_batch as u64).min(leaves)
        } else {
            let added = assign_leaves(conn, leaves, max_batch).await?;
            if added == 0 && checkpointed.is_some() {
                return Ok(None);
            }
            // A new log signs its empty tree, so that there is always a
            // checkpoint to save.
            leaves + added
        };
        let batch: Vec<EventView> = diesel::sql_query(format!(
            "SELECT {VIEW_COLUMNS} FROM audit_log_leaves l JOIN audit_events e ON e.id = l.event_id \
              WHERE l.leaf_index >= $1 AND l.leaf_index < $2 ORDER BY l.leaf_index"
        ))
        .bind::<BigInt, _>(hashed as i64)
        .bind::<BigInt, _>(to as i64)
        .load(conn)
        .await?;
        if batch.len() as u64 != to - hashed {
            return Err(AppError::Internal(anyhow::anyhow!(
                "the log's leaves {hashed}..{to} are not all there ({} found)",
                batch.len()
            )));
        }
        let leaf_hashes: Vec<Hash> = batch.iter().map(|l| l.leaf_event().hash()).collect();
        let mut hashes = HashCache::default();
        // Each leaf's stored hashes need at most log n earlier ones; which
        // ones depends only on the positions, so they are read first.
        hashes
            .prefetch(conn, |r| {
                for (i, h) in leaf_hashes.iter().enumerate() {
                    let n = hashed + i as u64;
                    let new = stored_hashes_for_record_hash(n, *h, r)?;
                    r.remember(stored_hash_index(0, n), &new);
                }
                Ok(())
            })
            .await?;
        let mut rows: Vec<(i64, Vec<u8>)> = Vec::new();
        for (i, h) in leaf_hashes.iter().enumerate() {
            let n = hashed + i as u64;
            let new = stored_hashes_for_record_hash(n, *h, &hashes).map_err(log_error)?;
            let start = stored_hash_index(0, n);
            for (k, hash) in new.iter().enumerate() {
                rows.push(((start + k as u64) as i64, hash.0.to_vec()));
                hashes.map.insert(start + k as u64, *hash);
            }
        }
        diesel::sql_query(
            "INSERT INTO audit_log_hashes (hash_index, hash) SELECT * FROM unnest($1::bigint[], $2::bytea[])",
        )
        .bind::<Array<BigInt>, _>(rows.iter().map(|r| r.0).collect::<Vec<_>>())
        .bind::<Array<Binary>, _>(rows.iter().map(|r| r.1.clone()).collect::<Vec<_>>())
        .execute(conn)
        .await?;
        let root = hashes
            .prefetch(conn, |r| tree_hash(to, r).map(|_| ()))
            .await
            .and_then(|()| tree_hash(to, &hashes).map_err(log_error))?;
        let note = signer.sign_checkpoint(to, root).map_err(AppError::Internal)?;
        diesel::sql_query(
            "INSERT INTO audit_log_checkpoints (tree_size, root_hash, signed_note) VALUES ($1, $2, $3)",
        )
        .bind::<BigInt, _>(to as i64)
        .bind::<Binary, _>(root.0.to_vec())
        .bind::<Text, _>(&note)
        .execute(conn)
        .await?;
        super::notifications::log_grew(conn, to as i64).await?;
        Ok(Some(Integrated {
            from: hashed,
            to,
            full: (to - hashed) as i64 >= max_batch,
        }))
    })
    .await
}

/// Gives leaves to up to `max_batch` committed events after the last
/// integrated one, numbering each story's events on; returns how many.
async fn assign_leaves(
    conn: &mut AsyncPgConnection,
    leaves: u64,
    max_batch: i64,
) -> AppResult<u64> {
    #[derive(QueryableByName)]
    struct Next {
        #[diesel(sql_type = BigInt)]
        id: i64,
        #[diesel(sql_type = Nullable<BigInt>)]
        story_id: Option<i64>,
    }
    // The last integrated event's place in the order; events carried from
    // the chain have no transaction id and come before every other. It is
    // compared as a pair of scalar subqueries (run once, before the scan),
    // which the order's index can start from; compared with a joined row,
    // it was a filter on every event ever integrated (330 ms per poll at a
    // million events).
    let next: Vec<Next> = diesel::sql_query(
        "WITH last AS MATERIALIZED (
             SELECT xact_id, id FROM (
                 SELECT 1 AS pick, coalesce(e.xact_id, '0'::xid8) AS xact_id,
                        CASE WHEN e.xact_id IS NULL THEN 0 ELSE e.id END AS id
                   FROM audit_log_leaves l JOIN audit_events e ON e.id = l.event_id
                  WHERE l.leaf_index = $1 - 1
                 UNION ALL SELECT 2, '0'::xid8, 0) candidates
              ORDER BY pick LIMIT 1)
         SELECT e.id, e.story_id
           FROM audit_events e
          WHERE e.xact_id IS NOT NULL
            AND (e.xact_id, e.id) > ((SELECT xact_id FROM last), (SELECT id FROM last))
            AND e.xact_id < pg_snapshot_xmin(pg_current_snapshot())
          ORDER BY e.xact_id, e.id
          LIMIT $2",
    )
    .bind::<BigInt, _>(leaves as i64)
    .bind::<BigInt, _>(max_batch)
    .load(conn)
    .await?;
    if next.is_empty() {
        return Ok(0);
    }
    #[derive(QueryableByName)]
    struct Head {
        #[diesel(sql_type = BigInt)]
        story_id: i64,
        #[diesel(sql_type = BigInt)]
        last: i64,
    }
    let stories: Vec<i64> = next.iter().filter_map(|n| n.story_id).collect();
    let heads: Vec<Head> = diesel::sql_query(
        "SELECT s AS story_id, coalesce((SELECT max(story_seq) FROM audit_log_leaves WHERE story_id = s), 0) AS last
           FROM unnest($1::bigint[]) s GROUP BY s",
    )
    .bind::<Array<BigInt>, _>(&stories)
    .load(conn)
    .await?;
    let mut last: HashMap<i64, i64> = heads.into_iter().map(|h| (h.story_id, h.last)).collect();
    let story_seqs: Vec<Option<i64>> = next
        .iter()
        .map(|n| {
            n.story_id.map(|s| {
                let seq = last.entry(s).or_insert(0);
                *seq += 1;
                *seq
            })
        })
        .collect();
    diesel::sql_query(
        "INSERT INTO audit_log_leaves (leaf_index, event_id, story_id, story_seq)
         SELECT $1 + ord - 1, event_id, story_id, story_seq
           FROM unnest($2::bigint[], $3::bigint[], $4::bigint[]) WITH ORDINALITY AS t(event_id, story_id, story_seq, ord)",
    )
    .bind::<BigInt, _>(leaves as i64)
    .bind::<Array<BigInt>, _>(next.iter().map(|n| n.id).collect::<Vec<_>>())
    .bind::<Array<Nullable<BigInt>>, _>(next.iter().map(|n| n.story_id).collect::<Vec<_>>())
    .bind::<Array<Nullable<BigInt>>, _>(&story_seqs)
    .execute(conn)
    .await?;
    Ok(next.len() as u64)
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

async fn leaf_count(conn: &mut AsyncPgConnection) -> AppResult<u64> {
    let c: Count =
        diesel::sql_query("SELECT coalesce(max(leaf_index) + 1, 0) AS n FROM audit_log_leaves")
            .get_result(conn)
            .await?;
    Ok(c.n as u64)
}

/// The size of the latest checkpoint: the leaves that are hashed.
async fn checkpointed_size(conn: &mut AsyncPgConnection) -> AppResult<u64> {
    let c: Count =
        diesel::sql_query("SELECT coalesce(max(tree_size), 0) AS n FROM audit_log_checkpoints")
            .get_result(conn)
            .await?;
    Ok(c.n as u64)
}

/// The latest signed checkpoint.
#[derive(Debug, Clone, QueryableByName)]
pub struct CheckpointRow {
    #[diesel(sql_type = BigInt)]
    pub tree_size: i64,
    #[diesel(sql_type = Binary)]
    pub root_hash: Vec<u8>,
    #[diesel(sql_type = Text)]
    pub signed_note: String,
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
}

pub async fn latest_checkpoint(conn: &mut AsyncPgConnection) -> AppResult<Option<CheckpointRow>> {
    Ok(diesel::sql_query(
        "SELECT tree_size, root_hash, signed_note, created_at FROM audit_log_checkpoints \
          ORDER BY tree_size DESC LIMIT 1",
    )
    .get_result(conn)
    .await
    .optional()?)
}

/// The tree size a proof is asked for: the latest checkpoint's when not
/// given; never more than it.
async fn proof_size(conn: &mut AsyncPgConnection, asked: Option<u64>) -> AppResult<u64> {
    let latest = checkpointed_size(conn).await?;
    match asked {
        None => Ok(latest),
        Some(n) if n > latest => Err(AppError::invalid(
            "tree_size",
            format!("the log's latest checkpoint has {latest} leaves; ask for at most that"),
        )),
        Some(n) => Ok(n),
    }
}

/// An RFC 6962 inclusion proof of one event.
#[derive(Debug, Clone)]
pub struct InclusionProof {
    pub event_id: i64,
    pub leaf_index: u64,
    pub tree_size: u64,
    pub leaf: Vec<u8>,
    pub hashes: Vec<Hash>,
}

/// The proof that the tree of `tree_size` leaves (the latest checkpoint's
/// when `None`) holds the event.
pub async fn inclusion_proof(
    conn: &mut AsyncPgConnection,
    event_id: i64,
    tree_size: Option<u64>,
) -> AppResult<InclusionProof> {
    let leaf: Option<EventView> = diesel::sql_query(format!(
        "SELECT {VIEW_COLUMNS} FROM audit_log_leaves l JOIN audit_events e ON e.id = l.event_id \
          WHERE l.event_id = $1"
    ))
    .bind::<BigInt, _>(event_id)
    .get_result(conn)
    .await
    .optional()?;
    let Some(leaf) = leaf else {
        let exists: Option<i64> =
            diesel::sql_query("SELECT id AS n FROM audit_events WHERE id = $1")
                .bind::<BigInt, _>(event_id)
                .get_result::<Count>(conn)
                .await
                .optional()?
                .map(|c| c.n);
        return Err(match exists {
            Some(_) => AppError::Conflict {
                detail: format!(
                    "event {event_id} is not in the log yet (events join it within the merge delay); retry shortly"
                ),
                existing_id: None,
            },
            None => AppError::not_found(format!("event {event_id}")),
        });
    };
    let size = proof_size(conn, tree_size).await?;
    let index = leaf.leaf_index.unwrap_or_default() as u64;
    if index >= size {
        return Err(AppError::invalid(
            "tree_size",
            format!(
                "event {event_id} is leaf {index}: the tree must have more than {index} leaves"
            ),
        ));
    }
    let hashes = prove(conn, |r| prove_record(size, index, r)).await?;
    Ok(InclusionProof {
        event_id,
        leaf_index: index,
        tree_size: size,
        leaf: leaf.leaf_event().encode(),
        hashes,
    })
}

/// The RFC 6962 consistency proof from the tree of `from` leaves to the tree
/// of `to` (the latest checkpoint's when `None`).
pub async fn consistency_proof(
    conn: &mut AsyncPgConnection,
    from: u64,
    to: Option<u64>,
) -> AppResult<(u64, Vec<Hash>)> {
    let to = proof_size(conn, to).await?;
    if from > to {
        return Err(AppError::invalid(
            "from",
            format!("must be at most the later tree size ({to})"),
        ));
    }
    if from == 0 || from == to {
        return Ok((to, Vec::new()));
    }
    Ok((to, prove(conn, |r| prove_tree(to, from, r)).await?))
}

/// A story's events in the log, each with its inclusion proof.
pub async fn story_proofs(
    conn: &mut AsyncPgConnection,
    story_id: i64,
    tree_size: Option<u64>,
    after_seq: i64,
    limit: i64,
) -> AppResult<(u64, Vec<(i64, InclusionProof)>)> {
    let size = proof_size(conn, tree_size).await?;
    let leaves: Vec<EventView> = diesel::sql_query(format!(
        "SELECT {VIEW_COLUMNS} FROM audit_log_leaves l JOIN audit_events e ON e.id = l.event_id \
          WHERE l.story_id = $1 AND l.story_seq > $2 AND l.leaf_index < $3 \
          ORDER BY l.story_seq LIMIT $4"
    ))
    .bind::<BigInt, _>(story_id)
    .bind::<BigInt, _>(after_seq)
    .bind::<BigInt, _>(size as i64)
    .bind::<BigInt, _>(limit)
    .load(conn)
    .await?;
    let mut out = Vec::with_capacity(leaves.len());
    for leaf in leaves {
        let index = leaf.leaf_index.unwrap_or_default() as u64;
        let hashes = prove(conn, |r| prove_record(size, index, r)).await?;
        out.push((
            leaf.story_seq.unwrap_or(0),
            InclusionProof {
                event_id: leaf.id,
                leaf_index: index,
                tree_size: size,
                leaf: leaf.leaf_event().encode(),
                hashes,
            },
        ));
    }
    Ok((size, out))
}

/// Runs a proof function of the tree with the stored hashes it needs.
async fn prove<T>(
    conn: &mut AsyncPgConnection,
    f: impl Fn(&HashCache) -> Result<T, tlog::Error>,
) -> AppResult<T> {
    let mut cache = HashCache::default();
    cache.prefetch(conn, |r| f(r).map(|_| ())).await?;
    f(&cache).map_err(log_error)
}

fn log_error(e: tlog::Error) -> AppError {
    AppError::Internal(anyhow::anyhow!("the audit log's tree: {e}"))
}

/// Stored hashes read from the database, for tlog's synchronous reader.
/// What a tlog function reads depends only on tree sizes and positions, not
/// on hash values: [`HashCache::prefetch`] runs it once to learn which
/// hashes it asks for (answering with placeholders), reads those, and the
/// caller runs it again on the cache.
#[derive(Default)]
struct HashCache {
    map: HashMap<u64, Hash>,
    recording: Option<std::cell::RefCell<Vec<u64>>>,
    /// Placeholders remembered during a recording run.
    scratch: std::cell::RefCell<HashMap<u64, Hash>>,
}

impl HashCache {
    async fn prefetch(
        &mut self,
        conn: &mut AsyncPgConnection,
        run: impl FnOnce(&Self) -> Result<(), tlog::Error>,
    ) -> AppResult<()> {
        self.recording = Some(std::cell::RefCell::new(Vec::new()));
        self.scratch.borrow_mut().clear();
        let result = run(self);
        let wanted = self
            .recording
            .take()
            .map(|r| r.into_inner())
            .unwrap_or_default();
        result.map_err(log_error)?;
        let missing: Vec<i64> = wanted
            .into_iter()
            .filter(|i| !self.map.contains_key(i))
            .map(|i| i as i64)
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        #[derive(QueryableByName)]
        struct Row {
            #[diesel(sql_type = BigInt)]
            hash_index: i64,
            #[diesel(sql_type = Binary)]
            hash: Vec<u8>,
        }
        let rows: Vec<Row> = diesel::sql_query(
            "SELECT hash_index, hash FROM audit_log_hashes WHERE hash_index = ANY($1)",
        )
        .bind::<Array<BigInt>, _>(&missing)
        .load(conn)
        .await?;
        for row in rows {
            let hash: [u8; 32] = row.hash.try_into().map_err(|_| {
                AppError::Internal(anyhow::anyhow!("a stored log hash is not 32 bytes"))
            })?;
            self.map.insert(row.hash_index as u64, Hash(hash));
        }
        Ok(())
    }

    /// During a recording run: hashes a step computed, so that later steps
    /// of the same run do not ask the database for them.
    fn remember(&self, start: u64, hashes: &[Hash]) {
        if self.recording.is_some() {
            let mut scratch = self.scratch.borrow_mut();
            for (k, h) in hashes.iter().enumerate() {
                scratch.insert(start + k as u64, *h);
            }
        }
    }
}

impl HashReader for HashCache {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, tlog::Error> {
        if let Some(recording) = &self.recording {
            let scratch = self.scratch.borrow();
            let mut wanted = recording.borrow_mut();
            return Ok(indexes
                .iter()
                .map(|i| match self.map.get(i).or_else(|| scratch.get(i)) {
                    Some(h) => *h,
                    None => {
                        wanted.push(*i);
                        EMPTY_HASH
                    }
                })
                .collect());
        }
        indexes
            .iter()
            .map(|i| {
                self.map
                    .get(i)
                    .copied()
                    .ok_or(tlog::Error::IndexesNotInTree)
            })
            .collect()
    }
}
