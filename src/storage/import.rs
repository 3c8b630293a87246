//! Bulk import of claims (NDJSON), shared by `POST /v1/import/claims` and
//! `claimtrail import FILE`.
//!
//! Each batch is checked as a whole (one query per kind of reference it
//! names, with what earlier batches looked up kept in memory), then written
//! in one transaction of multi-row INSERTs: claim heads, first revisions,
//! appearances and one `claim.created` audit event per claim, exactly the
//! rows that `POST /v1/claims` writes for each.

use std::collections::{HashMap, HashSet};
use std::time::Instant;

use diesel::{ExpressionMethods, QueryDsl};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde_json::json;

use super::claims::SpanTargets;
use super::events::AuditContext;
use super::schema::{speakers, stories};
use super::speakers::find_ids_by_names;
use crate::domain::claim::{Appearance, ClaimFields, NewClaim, ValidNewClaim};
use crate::domain::import::{
    ImportReport, Line, LineError, LineSplitter, RejectedBatch, field_errors, parse_line,
};
use crate::domain::validation::Validator;
use crate::error::{AppError, AppResult, FieldError};
use crate::storage::models::ClaimColumns;
use crate::storage::text_keys::array_literal;

/// A claim checked and ready to write in bulk.
pub(super) struct ReadyClaim {
    pub fields: ClaimFields,
    pub appearances: Vec<Appearance>,
    /// Added to the `claim.created` event's details: where the claim came
    /// from (`import_line`, `extracted_from`).
    pub origin: (&'static str, serde_json::Value),
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
        }
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

    /// Reads the last line (if the input did not end with a newline), writes
    /// the last, partial batch and reports.
    pub async fn finish(mut self) -> AppResult<ImportReport> {
        let mut lines = Vec::new();
        self.splitter.finish(&mut lines);
        self.take(lines).await?;
        self.flush().await?;
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
        match write_batch(self.conn, &self.ctx, &ready).await {
            Ok(ids) => self.report.committed(&ids),
            // The database refused a row the checks let through (a story or
            // article changed meanwhile): the batch is rolled back and
            // reported; the import goes on.
            Err(e @ (AppError::Validation(_) | AppError::Conflict { .. })) => {
                self.report
                    .rejected(batch(e.to_string()), ready.len() as u64);
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

#[derive(diesel::QueryableByName)]
struct NextId {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    id: i64,
}

// Each table gets one INSERT … SELECT FROM unnest(arrays) per batch: the
// statement text is the same for every batch, so it is parsed once per
// connection, and a batch costs a handful of binds instead of one per value
// (a 1,000-row multi-VALUES INSERT spent ~13 ms parsing and binding).

const INSERT_HEADS: &str = "\
INSERT INTO claims (id, story_id, revision, speaker_id, text, kind, cue, said_start, said_end,
                    said_precision, said_expression, confidence, hedges, status,
                    appearances_revision, needs_review, created_by, text_key, search_terms,
                    duplicate_bands)
SELECT id, story_id, 1, speaker_id, text, kind, cue, said_start, said_end,
       said_precision, said_expression, confidence,
       ARRAY(SELECT jsonb_array_elements_text(hedges)), status, 1, needs_review, $14,
       text_key, search_terms, duplicate_bands::bigint[]
  FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::text[],
              $7::timestamptz[], $8::timestamptz[], $9::text[], $10::text[], $11::float8[],
              $12::jsonb[], $13::text[], $15::bool[], $16::text[], $17::text[], $18::text[])
       AS t(id, story_id, speaker_id, text, kind, cue, said_start, said_end,
            said_precision, said_expression, confidence, hedges, status, needs_review,
            text_key, search_terms, duplicate_bands)";

/// Revision 1 is the head as just written, column for column.
const INSERT_FIRST_REVISIONS: &str = "\
INSERT INTO claim_revisions (claim_id, revision, story_id, speaker_id, text, kind, cue,
                             said_start, said_end, said_precision, said_expression, confidence,
                             hedges, status, appearances_revision, needs_review, author)
SELECT id, revision, story_id, speaker_id, text, kind, cue, said_start, said_end,
       said_precision, said_expression, confidence, hedges, status, appearances_revision,
       needs_review, created_by
  FROM claims WHERE id = ANY($1) ORDER BY id";

const INSERT_APPEARANCES: &str = "\
INSERT INTO claim_appearances (claim_id, claim_revision, article_id, article_revision,
                               span_start, span_end, state)
SELECT claim_id, 1, article_id, article_revision, span_start, span_end, 'present'
  FROM unnest($1::bigint[], $2::bigint[], $3::int[], $4::int[], $5::int[])
       AS t(claim_id, article_id, article_revision, span_start, span_end)";

/// In line order: the log follows the file (events of one transaction
/// join it in id order).
const INSERT_EVENTS: &str = "\
INSERT INTO audit_events (actor, action, subject_type, subject_id, story_id, after_revision,
                          request_id, details)
SELECT $4, 'claim.created', 'claim', subject_id, story_id, 1, $5, details
  FROM unnest($1::bigint[], $2::bigint[], $3::jsonb[]) WITH ORDINALITY
       AS t(subject_id, story_id, details, n)
 ORDER BY n";

/// Writes claims in bulk, in one transaction (a savepoint inside an open
/// one): heads, first revisions, appearances and one `claim.created` event
/// each, four statements however many claims. Returns the new ids in order.
pub(super) async fn write_batch(
    conn: &mut AsyncPgConnection,
    ctx: &AuditContext,
    batch: &[ReadyClaim],
) -> AppResult<Vec<i64>> {
    use diesel::sql_types::{
        Array, BigInt, Bool, Double, Integer, Jsonb, Nullable, Text, Timestamptz,
    };
    conn.transaction(async |conn| {
        // Ids are drawn first so that revisions, appearances and events can
        // name their claim without relying on the order RETURNING yields.
        let ids: Vec<i64> = diesel::sql_query(
            "SELECT nextval(pg_get_serial_sequence('claims', 'id')) AS id FROM generate_series(1, $1)",
        )
        .bind::<BigInt, _>(batch.len() as i64)
        .load::<NextId>(conn)
        .await?
        .into_iter()
        .map(|r| r.id)
        .collect();

        let columns: Vec<ClaimColumns> = batch.iter().map(|c| ClaimColumns::of(&c.fields)).collect();
        let column = |f: for<'r> fn(&'r ClaimColumns<'r>) -> Option<&'r str>| {
            columns.iter().map(f).collect::<Vec<_>>()
        };
        let story_ids: Vec<i64> = batch.iter().map(|c| c.fields.story_id).collect();
        diesel::sql_query(INSERT_HEADS)
            .bind::<Array<BigInt>, _>(&ids)
            .bind::<Array<BigInt>, _>(&story_ids)
            .bind::<Array<BigInt>, _>(columns.iter().map(|c| c.speaker_id).collect::<Vec<_>>())
            .bind::<Array<Text>, _>(columns.iter().map(|c| c.text).collect::<Vec<_>>())
            .bind::<Array<Text>, _>(columns.iter().map(|c| c.kind.as_str()).collect::<Vec<_>>())
            .bind::<Array<Nullable<Text>>, _>(column(|c| c.cue))
            .bind::<Array<Nullable<Timestamptz>>, _>(columns.iter().map(|c| c.said_start).collect::<Vec<_>>())
            .bind::<Array<Nullable<Timestamptz>>, _>(columns.iter().map(|c| c.said_end).collect::<Vec<_>>())
            .bind::<Array<Nullable<Text>>, _>(column(|c| c.said_precision.map(|p| p.as_str())))
            .bind::<Array<Nullable<Text>>, _>(column(|c| c.said_expression))
            .bind::<Array<Nullable<Double>>, _>(columns.iter().map(|c| c.confidence).collect::<Vec<_>>())
            .bind::<Array<Jsonb>, _>(columns.iter().map(|c| json!(c.hedges)).collect::<Vec<_>>())
            .bind::<Array<Text>, _>(columns.iter().map(|c| c.status.as_str()).collect::<Vec<_>>())
            .bind::<Text, _>(&ctx.actor)
            .bind::<Array<Bool>, _>(columns.iter().map(|c| c.needs_review).collect::<Vec<_>>())
            .bind::<Array<Text>, _>(columns.iter().map(|c| c.keys.text_key.as_str()).collect::<Vec<_>>())
            .bind::<Array<Text>, _>(columns.iter().map(|c| c.keys.search_terms.as_str()).collect::<Vec<_>>())
            .bind::<Array<Text>, _>(columns.iter().map(|c| array_literal(&c.keys.duplicate_bands)).collect::<Vec<_>>())
            .execute(conn)
            .await?;

        diesel::sql_query(INSERT_FIRST_REVISIONS)
            .bind::<Array<BigInt>, _>(&ids)
            .execute(conn)
            .await?;

        let spans: Vec<(i64, &Appearance)> = batch
            .iter()
            .zip(&ids)
            .flat_map(|(claim, &id)| claim.appearances.iter().map(move |a| (id, a)))
            .collect();
        if !spans.is_empty() {
            diesel::sql_query(INSERT_APPEARANCES)
                .bind::<Array<BigInt>, _>(spans.iter().map(|(id, _)| *id).collect::<Vec<_>>())
                .bind::<Array<BigInt>, _>(spans.iter().map(|(_, a)| a.article_id).collect::<Vec<_>>())
                .bind::<Array<Integer>, _>(spans.iter().map(|(_, a)| a.article_revision).collect::<Vec<_>>())
                .bind::<Array<Integer>, _>(spans.iter().map(|(_, a)| a.start).collect::<Vec<_>>())
                .bind::<Array<Integer>, _>(spans.iter().map(|(_, a)| a.end).collect::<Vec<_>>())
                .execute(conn)
                .await?;
        }

        let details: Vec<serde_json::Value> = batch
            .iter()
            .map(|claim| {
                let mut details = json!({
                    "speaker_id": claim.fields.speaker_id,
                    "appearances": claim.appearances.len(),
                });
                details[claim.origin.0] = claim.origin.1.clone();
                details
            })
            .collect();
        diesel::sql_query(INSERT_EVENTS)
            .bind::<Array<BigInt>, _>(&ids)
            .bind::<Array<BigInt>, _>(&story_ids)
            .bind::<Array<Jsonb>, _>(&details)
            .bind::<Text, _>(&ctx.actor)
            .bind::<Nullable<Text>, _>(ctx.request_id.as_deref())
            .execute(conn)
            .await?;
        Ok(ids)
    })
    .await
}

#[cfg(test)]
mod event_action_tests {
    #[test]
    fn imported_claims_are_recorded_with_the_claim_created_action() {
        let action = crate::domain::audit::AuditAction::ClaimCreated.as_str();
        assert!(super::INSERT_EVENTS.contains(&format!("'{action}'")));
    }
}
