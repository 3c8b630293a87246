//! Bulk import of claims (NDJSON), shared by `POST /v1/import/claims` and
//! `claimtrail import FILE`.
//!
//! Each batch is checked as a whole (one query per kind of reference it
//! names, with what earlier batches looked up kept in memory), then written
//! by the claim writer that `POST /v1/claims` uses too
//! ([`super::claims::write_claims`]), one statement per batch.
//!
//! Given writer connections ([`Importer::with_writers`]), a batch is written
//! on one of them while the next is read and checked, and two batches are
//! written side by side: one batch at a time left a core idle. Each batch's
//! transaction first takes its place — its transaction id, which orders the
//! audit log, and its claim ids — after the batch before it has taken its
//! own, so the log and the ids still follow the file.

use std::collections::{HashMap, HashSet};
use std::ops::DerefMut;
use std::time::Instant;

use diesel::QueryableByName;
use diesel::sql_types::{Array, BigInt, Bool};
use diesel_async::AsyncConnection;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use diesel::{ExpressionMethods, QueryDsl};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde_json::json;

use super::claims::{ClaimToWrite, SpanRequest, SpanTargets, write_claims};
use super::events::AuditContext;
use super::schema::{speakers, stories};
use super::speakers::find_ids_by_names;
use crate::domain::claim::{Appearance, ClaimFields, NewClaim, ValidNewClaim};
use crate::domain::import::{
    ImportReport, Line, LineError, LineSplitter, RejectedBatch, field_errors, parse_line,
};
use crate::domain::validation::Validator;
use crate::error::{AppError, AppResult, FieldError};

/// A claim checked and ready to write in bulk.
pub(super) struct ReadyClaim {
    pub fields: ClaimFields,
    pub appearances: Vec<Appearance>,
    /// Added to the `claim.created` event's details: where the claim came
    /// from (`import_line`, `extracted_from`).
    pub origin: (&'static str, serde_json::Value),
}

/// A connection of its own for writing batches beside the importer's reads
/// (a pooled one, or one the command line opened).
pub type WriterConnection = Box<dyn DerefMut<Target = AsyncPgConnection> + Send>;

/// A batch being written on a writer connection.
struct InFlight {
    first_line: u64,
    last_line: u64,
    claims: u64,
    task: JoinHandle<(WriterConnection, AppResult<Vec<i64>>)>,
}

/// Reads lines, checks them batch by batch, and writes each valid batch.
pub struct Importer<'c> {
    conn: &'c mut AsyncPgConnection,
    ctx: AuditContext,
    batch_size: usize,
    max_line: usize,
    /// Cuts the incoming bytes into lines.
    splitter: LineSplitter,
    pending: Vec<Line>,
    report: ImportReport,
    started: Instant,
    /// What earlier batches learned: which stories and speakers exist, what
    /// each speaker name resolves to, and the articles spans point into.
    stories: HashMap<i64, bool>,
    speakers: HashMap<i64, bool>,
    speaker_names: HashMap<String, Option<i64>>,
    articles: SpanTargets,
    missing_articles: HashSet<i64>,
    /// Idle writer connections, and the batch being written.
    writers: Vec<WriterConnection>,
    in_flight: Option<InFlight>,
}

impl<'c> Importer<'c> {
    pub fn new(
        conn: &'c mut AsyncPgConnection,
        ctx: AuditContext,
        batch_size: usize,
        max_line: usize,
    ) -> Self {
        Importer {
            conn,
            ctx,
            batch_size,
            max_line,
            splitter: LineSplitter::new(max_line),
            pending: Vec::with_capacity(batch_size),
            report: ImportReport::default(),
            started: Instant::now(),
            stories: HashMap::new(),
            speakers: HashMap::new(),
            speaker_names: HashMap::new(),
            articles: SpanTargets::default(),
            missing_articles: HashSet::new(),
            writers: Vec::new(),
            in_flight: None,
        }
    }

    /// Writes batches on these connections, side by side with reading the
    /// next ones (without any, each batch is written on the importer's own
    /// connection before the next is read).
    pub fn with_writers(mut self, writers: Vec<WriterConnection>) -> Self {
        self.writers = writers;
        self
    }

    /// Takes the next bytes of the input, in chunks of any size; each full
    /// batch is checked and written as soon as its last line is complete.
    pub async fn push_bytes(&mut self, chunk: &[u8]) -> AppResult<()> {
        let mut lines = Vec::new();
        self.splitter.push(chunk, &mut lines);
        self.take(lines).await
    }

    async fn take(&mut self, lines: Vec<Line>) -> AppResult<()> {
        for line in lines {
            self.report.lines += 1;
            self.pending.push(line);
            if self.pending.len() >= self.batch_size {
                self.flush().await?;
            }
        }
        Ok(())
    }

    /// What has been read and written so far.
    pub fn progress(&self) -> &ImportReport {
        &self.report
    }

    /// Reads the last line (if the input did not end with a newline), writes
    /// the last, partial batch and reports.
    pub async fn finish(mut self) -> AppResult<ImportReport> {
        let mut lines = Vec::new();
        self.splitter.finish(&mut lines);
        self.take(lines).await?;
        self.flush().await?;
        if let Some(last) = self.in_flight.take() {
            self.settle(last).await?;
        }
        self.report.finish(self.started.elapsed());
        Ok(self.report)
    }

    async fn flush(&mut self) -> AppResult<()> {
        let lines = std::mem::take(&mut self.pending);
        let (Some(first), Some(last)) = (<[Line]>::first(&lines), <[Line]>::last(&lines)) else {
            return Ok(());
        };
        let (first_line, last_line) = (first.number(), last.number());
        let parsed: Vec<(u64, Result<NewClaim, Vec<FieldError>>)> = lines
            .iter()
            .map(|line| (line.number(), parse_line(line, self.max_line)))
            .collect();
        drop(lines);
        self.learn_references(&parsed).await?;

        let mut ready = Vec::with_capacity(parsed.len());
        let mut invalid = 0u64;
        for (line, result) in parsed {
            match result.and_then(|claim| self.check(line, claim)) {
                Ok(claim) => ready.push(claim),
                Err(errors) => {
                    invalid += 1;
                    self.report.line_error(LineError { line, errors });
                }
            }
        }
        let batch = |reason: String| RejectedBatch {
            first_line,
            last_line,
            reason,
        };
        if invalid > 0 {
            let reason = format!("{invalid} invalid line(s) in this batch");
            self.report.rejected(batch(reason), ready.len() as u64);
            return Ok(());
        }
        let Some(writer) = self.writers.pop() else {
            let outcome = write_batch(self.conn, &self.ctx, &ready).await;
            return self.record(first_line, last_line, ready.len() as u64, outcome);
        };
        let (placed, has_place) = oneshot::channel();
        let ctx = self.ctx.clone();
        let claims = ready.len() as u64;
        let task = tokio::spawn(async move {
            let mut writer = writer;
            let outcome = write_in_place(&mut writer, &ctx, ready, placed).await;
            (writer, outcome)
        });
        // The next batch starts only once this one holds its place (a write
        // that failed before taking it is reported when it is settled).
        let _ = has_place.await;
        if let Some(previous) = self.in_flight.replace(InFlight {
            first_line,
            last_line,
            claims,
            task,
        }) {
            self.settle(previous).await?;
        }
        Ok(())
    }

    /// Waits for a batch being written and reports it; its connection is
    /// free again.
    async fn settle(&mut self, batch: InFlight) -> AppResult<()> {
        let (writer, outcome) = batch
            .task
            .await
            .map_err(|e| AppError::Internal(anyhow::anyhow!("a batch's writer stopped: {e}")))?;
        self.writers.push(writer);
        self.record(batch.first_line, batch.last_line, batch.claims, outcome)
    }

    /// Reports a written batch, or one the database refused.
    fn record(
        &mut self,
        first_line: u64,
        last_line: u64,
        claims: u64,
        outcome: AppResult<Vec<i64>>,
    ) -> AppResult<()> {
        match outcome {
            Ok(ids) => self.report.committed(&ids),
            // The database refused a row the checks let through (a story or
            // article changed meanwhile): the batch is rolled back and
            // reported; the import goes on.
            Err(e @ (AppError::Validation(_) | AppError::Conflict { .. })) => {
                self.report.rejected(
                    RejectedBatch {
                        first_line,
                        last_line,
                        reason: e.to_string(),
                    },
                    claims,
                );
            }
            Err(e) => return Err(e),
        }
        Ok(())
    }

    /// Looks up, in one query per kind, every story, speaker and article the
    /// batch names that earlier batches did not, and each new speaker name.
    async fn learn_references(
        &mut self,
        parsed: &[(u64, Result<NewClaim, Vec<FieldError>>)],
    ) -> AppResult<()> {
        let claims = || parsed.iter().filter_map(|(_, r)| r.as_ref().ok());
        let new_stories: Vec<i64> = unseen(claims().map(|c| c.story_id), |id| {
            self.stories.contains_key(id)
        });
        let new_speakers: Vec<i64> = unseen(claims().filter_map(|c| c.speaker_id), |id| {
            self.speakers.contains_key(id)
        });
        let new_articles: Vec<i64> = unseen(
            claims().flat_map(|c| c.appearances.iter().map(|a| a.article_id)),
            |id| self.articles.knows(*id) || self.missing_articles.contains(id),
        );
        // Keyed for the cache, sent as written (the database decides what
        // "ignoring case" means, as it does for POST /v1/claims).
        let new_names: HashMap<String, String> = claims()
            .filter(|c| c.speaker_id.is_none())
            .filter_map(|c| c.speaker.as_deref())
            .map(|n| (name_key(n), n.trim().to_owned()))
            .filter(|(key, _)| !self.speaker_names.contains_key(key))
            .collect();

        if !new_stories.is_empty() {
            let found: HashSet<i64> = stories::table
                .filter(stories::id.eq_any(&new_stories))
                .select(stories::id)
                .load::<i64>(self.conn)
                .await?
                .into_iter()
                .collect();
            for id in new_stories {
                self.stories.insert(id, found.contains(&id));
            }
        }
        if !new_speakers.is_empty() {
            let found: HashSet<i64> = speakers::table
                .filter(speakers::id.eq_any(&new_speakers))
                .select(speakers::id)
                .load::<i64>(self.conn)
                .await?
                .into_iter()
                .collect();
            for id in new_speakers {
                self.speakers.insert(id, found.contains(&id));
            }
        }
        if !new_articles.is_empty() {
            self.articles.extend(self.conn, &new_articles).await?;
            for id in new_articles {
                if !self.articles.knows(id) {
                    self.missing_articles.insert(id);
                }
            }
        }
        // Names repeat across an import (one minister, many claims): each
        // distinct name is looked up once, all of a batch's in one query.
        if !new_names.is_empty() {
            let names: Vec<String> = new_names.values().cloned().collect();
            let found = find_ids_by_names(self.conn, &names).await?;
            for (key, name) in new_names {
                self.speaker_names.insert(key, found.get(&name).copied());
            }
        }
        Ok(())
    }

    /// Validates one decoded line against what the database holds.
    fn check(&self, line: u64, mut claim: NewClaim) -> Result<ReadyClaim, Vec<FieldError>> {
        let name = match claim.speaker_name_to_resolve() {
            Ok(name) => name.map(str::to_owned),
            Err(AppError::Validation(errors)) => return Err(errors),
            Err(other) => return Err(vec![FieldError::new("speaker", other.to_string())]),
        };
        if let Some(name) = name {
            match self.speaker_names.get(&name_key(&name)).copied().flatten() {
                Some(id) => claim.speaker_id = Some(id),
                None => {
                    return Err(vec![FieldError::new(
                        "speaker",
                        format!("no speaker is named or aliased {name:?}; add the speaker first"),
                    )]);
                }
            }
        }
        let ValidNewClaim {
            fields,
            appearances,
        } = claim.validate().map_err(field_errors)?;
        let mut v = Validator::new();
        if self.stories.get(&fields.story_id) != Some(&true) {
            v.error(
                "story_id",
                format!("story {} does not exist", fields.story_id),
            );
        }
        if self.speakers.get(&fields.speaker_id) == Some(&false) {
            v.error(
                "speaker_id",
                format!("speaker {} does not exist", fields.speaker_id),
            );
        }
        let appearances = self.articles.resolve(fields.story_id, &appearances, &mut v);
        v.finish().map_err(field_errors)?;
        Ok(ReadyClaim {
            fields,
            appearances,
            origin: ("import_line", json!(line)),
        })
    }
}

/// A speaker name as the lookup cache keys it.
fn name_key(name: &str) -> String {
    name.trim().to_lowercase()
}

/// The distinct ids in `ids` that `known` does not know yet.
fn unseen(ids: impl Iterator<Item = i64>, known: impl Fn(&i64) -> bool) -> Vec<i64> {
    ids.filter(|id| !known(id))
        .collect::<HashSet<_>>()
        .into_iter()
        .collect()
}

/// Writes checked claims through the one claim writer
/// ([`super::claims::write_claims`]): one statement however many claims.
/// Returns the new ids in order.
pub(super) async fn write_batch(
    conn: &mut AsyncPgConnection,
    ctx: &AuditContext,
    batch: &[ReadyClaim],
) -> AppResult<Vec<i64>> {
    write_batch_as(conn, ctx, batch, None).await
}

/// Writes a batch in a transaction that first takes its place — its
/// transaction id (the audit log's order) and its claim ids — and says so
/// on `placed`, so that the next batch takes its place after it.
async fn write_in_place(
    conn: &mut AsyncPgConnection,
    ctx: &AuditContext,
    batch: Vec<ReadyClaim>,
    placed: oneshot::Sender<()>,
) -> AppResult<Vec<i64>> {
    #[derive(QueryableByName)]
    struct Place {
        #[diesel(sql_type = Bool)]
        #[allow(dead_code)]
        transaction_id_taken: bool,
        #[diesel(sql_type = Array<BigInt>)]
        ids: Vec<i64>,
    }
    conn.transaction(async |conn| {
        let place: Place = diesel::sql_query(
            "SELECT pg_current_xact_id() IS NOT NULL AS transaction_id_taken, \
                    ARRAY(SELECT nextval(pg_get_serial_sequence('claims', 'id')) \
                            FROM generate_series(1, $1)) AS ids",
        )
        .bind::<BigInt, _>(batch.len() as i64)
        .get_result(conn)
        .await?;
        let _ = placed.send(());
        write_batch_as(conn, ctx, &batch, Some(&place.ids)).await
    })
    .await
}

/// [`write_batch`], with the claims' ids drawn beforehand when given.
async fn write_batch_as(
    conn: &mut AsyncPgConnection,
    ctx: &AuditContext,
    batch: &[ReadyClaim],
    ids: Option<&[i64]>,
) -> AppResult<Vec<i64>> {
    let writes: Vec<ClaimToWrite> = batch
        .iter()
        .enumerate()
        .map(|(i, claim)| ClaimToWrite {
            fields: &claim.fields,
            spans: claim.appearances.iter().map(SpanRequest::from).collect(),
            origin: Some(claim.origin.clone()),
            id: ids.and_then(|ids| ids.get(i).copied()),
        })
        .collect();
    Ok(write_claims(conn, ctx, &writes)
        .await?
        .into_iter()
        .map(|w| w.head.id)
        .collect())
}
