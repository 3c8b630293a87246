//! The claim writer: every new claim is written here, whoever asks. A
//! `POST /v1/claims` is a batch of one; an NDJSON import batch and applied
//! extraction proposals are batches of many. One statement writes all the
//! rows of every claim of the batch — head, revision 1, appearances and the
//! `claim.created` event — and returns the heads with their speakers and
//! appearance rows.
//!
//! The database refuses what breaks an invariant (a story, speaker, article
//! or article revision that does not exist, a span outside its body, an
//! article of another story), so the writer needs no look-up first: a caller
//! that wants each problem named by field checks after a refusal (see
//! [`create`]), or before, as the importer does for whole batches.

use std::sync::LazyLock;

use chrono::{DateTime, Utc};

use diesel::QueryableByName;
use diesel::sql_types::{Array, BigInt, Bool, Double, Integer, Jsonb, Nullable, Text, Timestamptz};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde::Deserialize;
use serde_json::json;

use crate::domain::claim::{
    Appearance, AppearanceInput, AppearanceState, ClaimFields, ValidNewClaim,
};
use crate::domain::speaker::SpeakerKind;
use crate::domain::validation::Validator;
use crate::error::{AppError, AppResult};
use crate::storage::events::AuditContext;
use crate::storage::models::{AppearanceRow, ClaimColumns, ClaimRow, SpeakerRef};
use crate::storage::prepared::prepared_statement;
use crate::storage::text_keys::array_literal;

use super::spans::resolve_appearances;
use super::view;
use crate::storage::stories;

/// A span of a new claim: an article, its revision (the article's current
/// one when `None`), and code points, end exclusive.
#[derive(Debug, Clone, Copy)]
pub struct SpanRequest {
    pub article_id: i64,
    pub article_revision: Option<i32>,
    pub start: i32,
    pub end: i32,
}

/// A span already resolved to its article revision (and checked).
impl From<&Appearance> for SpanRequest {
    fn from(a: &Appearance) -> Self {
        SpanRequest {
            article_id: a.article_id,
            article_revision: Some(a.article_revision),
            start: a.start,
            end: a.end,
        }
    }
}

impl From<&AppearanceInput> for SpanRequest {
    fn from(a: &AppearanceInput) -> Self {
        // Out-of-range numbers cannot name a real span: the database
        // refuses them, and the checks after a refusal name the field.
        SpanRequest {
            article_id: a.article_id,
            article_revision: a.article_revision,
            start: i32::try_from(a.start).unwrap_or(-1),
            end: i32::try_from(a.end).unwrap_or(-1),
        }
    }
}

/// One claim to write.
pub struct ClaimToWrite<'a> {
    pub fields: &'a ClaimFields,
    pub spans: Vec<SpanRequest>,
    /// Added to the `claim.created` event's details: where the claim came
    /// from (`import_line`, `extracted_from`).
    pub origin: Option<(&'static str, serde_json::Value)>,
    /// An id drawn beforehand from the claims' sequence (an import writing
    /// two batches side by side keeps its file's order that way); `None`
    /// draws the next one.
    pub id: Option<i64>,
}

/// A claim as written: its head, speaker and appearance rows.
pub struct WrittenClaim {
    pub head: ClaimRow,
    pub speaker: SpeakerRef,
    pub appearances: Vec<AppearanceRow>,
}

/// The statement's text after its parameter row `p`. Ids are drawn first
/// (`numbered`), so that revisions, appearances and events name their claim
/// without relying on the order RETURNING yields; events are inserted in
/// input order (the log follows an import file). A span's revision defaults
/// to the article's current one; a span into another story's article is
/// refused by `claim_span_refused`; identical spans are written once.
static WRITE_CLAIMS: LazyLock<String> = LazyLock::new(|| {
    let events = if cfg!(feature = "bench-unaudited") {
        // bench/audit measures the log's cost against a build without events.
        ""
    } else {
        ",
events AS (
  INSERT INTO audit_events (actor, action, subject_type, subject_id, story_id, after_revision,
                            request_id, details)
  SELECT p.actor, 'claim.created', 'claim', n.id, n.story_id, 1, p.request_id,
         jsonb_build_object('speaker_id', n.speaker_id,
                            'appearances', (SELECT count(*) FROM spans s WHERE s.claim_id = n.id))
           || n.details
    FROM numbered n, p ORDER BY n.ord
)"
    };
    format!(
        "\
, numbered AS MATERIALIZED (
  SELECT i.*, coalesce(i.given_id, nextval(pg_get_serial_sequence('claims', 'id'))) AS id
    FROM p, unnest(p.story_ids, p.speaker_ids, p.texts, p.kinds, p.cues, p.said_starts,
                   p.said_ends, p.said_precisions, p.said_expressions, p.confidences, p.hedges,
                   p.statuses, p.needs_reviews, p.text_keys, p.search_terms, p.duplicate_bands,
                   p.details, p.ids) WITH ORDINALITY
         AS i(story_id, speaker_id, text, kind, cue, said_start, said_end, said_precision,
              said_expression, confidence, hedges, status, needs_review, text_key,
              search_terms, duplicate_bands, details, given_id, ord)
   ORDER BY i.ord
),
heads AS (
  INSERT INTO claims (id, story_id, revision, speaker_id, text, kind, cue, said_start, said_end,
                      said_precision, said_expression, confidence, hedges, status,
                      appearances_revision, needs_review, created_by, text_key, search_terms,
                      duplicate_bands)
  SELECT n.id, n.story_id, 1, n.speaker_id, n.text, n.kind, n.cue, n.said_start, n.said_end,
         n.said_precision, n.said_expression, n.confidence,
         ARRAY(SELECT jsonb_array_elements_text(n.hedges)), n.status, 1, n.needs_review,
         p.actor, n.text_key, n.search_terms, n.duplicate_bands::bigint[]
    FROM numbered n, p ORDER BY n.ord
  RETURNING *
),
revisions AS (
  INSERT INTO claim_revisions (claim_id, revision, story_id, speaker_id, text, kind, cue,
                               said_start, said_end, said_precision, said_expression,
                               confidence, hedges, status, appearances_revision, needs_review,
                               author)
  SELECT id, revision, story_id, speaker_id, text, kind, cue, said_start, said_end,
         said_precision, said_expression, confidence, hedges, status, appearances_revision,
         needs_review, created_by
    FROM heads
),
spans AS (
  INSERT INTO claim_appearances (claim_id, claim_revision, article_id, article_revision,
                                 span_start, span_end, state)
  SELECT DISTINCT n.id, 1, s.article_id,
         CASE WHEN a.story_id = n.story_id THEN coalesce(s.article_revision, a.current_revision)
              ELSE claim_span_refused(s.article_id, a.story_id, n.story_id) END,
         s.span_start, s.span_end, 'present'
    FROM p, unnest(p.span_claims, p.span_articles, p.span_revisions, p.span_starts, p.span_ends)
         AS s(ord, article_id, article_revision, span_start, span_end)
    JOIN numbered n ON n.ord = s.ord
    LEFT JOIN articles a ON a.id = s.article_id
  RETURNING claim_id, claim_revision, article_id, article_revision, span_start, span_end,
            excerpt, state, previous_excerpt
){events}
SELECT h.*, sp.name AS speaker_name, sp.kind AS speaker_kind,
       coalesce((SELECT jsonb_agg(to_jsonb(s)) FROM spans s WHERE s.claim_id = h.id), '[]')
         AS appearances
  FROM heads h JOIN speakers sp ON sp.id = h.speaker_id
 ORDER BY h.id"
    )
});

prepared_statement! {
    /// Every new claim of a batch, one array per column; spans as arrays of
    /// their own, `span_claims` naming each one's claim by its place (1, 2…).
    struct WriteClaims {
        story_ids: Vec<i64> as Array<BigInt> = "bigint[]",
        speaker_ids: Vec<i64> as Array<BigInt> = "bigint[]",
        texts: Vec<String> as Array<Text> = "text[]",
        kinds: Vec<&'static str> as Array<Text> = "text[]",
        cues: Vec<Option<String>> as Array<Nullable<Text>> = "text[]",
        said_starts: Vec<Option<DateTime<Utc>>> as Array<Nullable<Timestamptz>> = "timestamptz[]",
        said_ends: Vec<Option<DateTime<Utc>>> as Array<Nullable<Timestamptz>> = "timestamptz[]",
        said_precisions: Vec<Option<&'static str>> as Array<Nullable<Text>> = "text[]",
        said_expressions: Vec<Option<String>> as Array<Nullable<Text>> = "text[]",
        confidences: Vec<Option<f64>> as Array<Nullable<Double>> = "float8[]",
        hedges: Vec<serde_json::Value> as Array<Jsonb> = "jsonb[]",
        statuses: Vec<&'static str> as Array<Text> = "text[]",
        needs_reviews: Vec<bool> as Array<Bool> = "bool[]",
        text_keys: Vec<String> as Array<Text> = "text[]",
        search_terms: Vec<String> as Array<Text> = "text[]",
        duplicate_bands: Vec<String> as Array<Text> = "text[]",
        details: Vec<serde_json::Value> as Array<Jsonb> = "jsonb[]",
        ids: Vec<Option<i64>> as Array<Nullable<BigInt>> = "bigint[]",
        actor: String as Text = "text",
        request_id: Option<String> as Nullable<Text> = "text",
        span_claims: Vec<i64> as Array<BigInt> = "bigint[]",
        span_articles: Vec<i64> as Array<BigInt> = "bigint[]",
        span_revisions: Vec<Option<i32>> as Array<Nullable<Integer>> = "int[]",
        span_starts: Vec<i32> as Array<Integer> = "int[]",
        span_ends: Vec<i32> as Array<Integer> = "int[]",
    }
    sql = WRITE_CLAIMS.as_str();
}

#[derive(QueryableByName)]
struct Written {
    #[diesel(embed)]
    head: ClaimRow,
    #[diesel(sql_type = Text)]
    speaker_name: String,
    #[diesel(sql_type = Text)]
    speaker_kind: SpeakerKind,
    #[diesel(sql_type = Jsonb)]
    appearances: serde_json::Value,
}

/// An appearance row as the statement returns it.
#[derive(Deserialize)]
struct WrittenSpan {
    claim_id: i64,
    claim_revision: i32,
    article_id: i64,
    article_revision: i32,
    span_start: i32,
    span_end: i32,
    excerpt: String,
    state: AppearanceState,
    previous_excerpt: Option<String>,
}

/// Writes a batch of new claims in one statement (inside a savepoint when a
/// transaction is open, so that a refusal leaves it usable). Returns them
/// in input order.
pub async fn write_claims(
    conn: &mut AsyncPgConnection,
    ctx: &AuditContext,
    batch: &[ClaimToWrite<'_>],
) -> AppResult<Vec<WrittenClaim>> {
    if batch.is_empty() {
        return Ok(Vec::new());
    }
    if in_transaction(conn) {
        conn.transaction(async |conn| run(conn, ctx, batch).await)
            .await
    } else {
        run(conn, ctx, batch).await
    }
}

fn in_transaction(conn: &mut AsyncPgConnection) -> bool {
    use diesel_async::AnsiTransactionManager;
    use diesel_async::TransactionManager;
    AnsiTransactionManager::transaction_manager_status_mut(conn)
        .transaction_depth()
        .map_or(true, |depth| depth.is_some())
}

async fn run(
    conn: &mut AsyncPgConnection,
    ctx: &AuditContext,
    batch: &[ClaimToWrite<'_>],
) -> AppResult<Vec<WrittenClaim>> {
    let columns: Vec<ClaimColumns> = batch.iter().map(|c| ClaimColumns::of(c.fields)).collect();
    let owned = |f: for<'r> fn(&'r ClaimColumns<'r>) -> Option<&'r str>| {
        columns
            .iter()
            .map(|c| f(c).map(str::to_owned))
            .collect::<Vec<_>>()
    };
    let spans: Vec<(i64, SpanRequest)> = batch
        .iter()
        .enumerate()
        .flat_map(|(i, c)| c.spans.iter().map(move |s| (i as i64 + 1, *s)))
        .collect();
    let statement = WriteClaims {
        story_ids: batch.iter().map(|c| c.fields.story_id).collect(),
        speaker_ids: columns.iter().map(|c| c.speaker_id).collect(),
        texts: columns.iter().map(|c| c.text.to_owned()).collect(),
        kinds: columns.iter().map(|c| c.kind.as_str()).collect(),
        cues: owned(|c| c.cue),
        said_starts: columns.iter().map(|c| c.said_start).collect(),
        said_ends: columns.iter().map(|c| c.said_end).collect(),
        said_precisions: columns
            .iter()
            .map(|c| c.said_precision.map(|p| p.as_str()))
            .collect(),
        said_expressions: owned(|c| c.said_expression),
        confidences: columns.iter().map(|c| c.confidence).collect(),
        hedges: columns.iter().map(|c| json!(c.hedges)).collect(),
        statuses: columns.iter().map(|c| c.status.as_str()).collect(),
        needs_reviews: columns.iter().map(|c| c.needs_review).collect(),
        text_keys: columns.iter().map(|c| c.keys.text_key.clone()).collect(),
        search_terms: columns
            .iter()
            .map(|c| c.keys.search_terms.clone())
            .collect(),
        duplicate_bands: columns
            .iter()
            .map(|c| array_literal(&c.keys.duplicate_bands))
            .collect(),
        details: batch
            .iter()
            .map(|c| match &c.origin {
                Some((key, value)) => json!({ *key: value }),
                None => json!({}),
            })
            .collect(),
        ids: batch.iter().map(|c| c.id).collect(),
        actor: ctx.actor.clone(),
        request_id: ctx.request_id.clone(),
        span_claims: spans.iter().map(|(ord, _)| *ord).collect(),
        span_articles: spans.iter().map(|(_, s)| s.article_id).collect(),
        span_revisions: spans.iter().map(|(_, s)| s.article_revision).collect(),
        span_starts: spans.iter().map(|(_, s)| s.start).collect(),
        span_ends: spans.iter().map(|(_, s)| s.end).collect(),
    };
    let rows: Vec<Written> = statement.load(conn).await?;
    rows.into_iter()
        .map(|row| {
            let spans: Vec<WrittenSpan> = serde_json::from_value(row.appearances)
                .map_err(|e| AppError::Internal(anyhow::anyhow!("appearance rows: {e}")))?;
            let mut appearances: Vec<AppearanceRow> = spans
                .into_iter()
                .map(|s| AppearanceRow {
                    claim_id: s.claim_id,
                    claim_revision: s.claim_revision,
                    article_id: s.article_id,
                    article_revision: s.article_revision,
                    span_start: s.span_start,
                    span_end: s.span_end,
                    excerpt: s.excerpt,
                    state: s.state,
                    previous_excerpt: s.previous_excerpt,
                })
                .collect();
            super::spans::sort_appearances(&mut appearances);
            Ok(WrittenClaim {
                speaker: SpeakerRef {
                    id: row.head.speaker_id,
                    name: row.speaker_name,
                    kind: row.speaker_kind,
                },
                head: row.head,
                appearances,
            })
        })
        .collect()
}

/// Logs a new claim: one statement when the database accepts it. When it
/// refuses, the claim is checked against what the database holds, so that
/// every problem is named by its field; a claim the checks pass (its spans
/// named one place twice, or the database changed meanwhile) is written
/// again with its spans resolved.
pub async fn create(
    conn: &mut AsyncPgConnection,
    ctx: &AuditContext,
    claim: ValidNewClaim,
) -> AppResult<super::ClaimView> {
    let fields = &claim.fields;
    let first_try = ClaimToWrite {
        fields,
        spans: claim.appearances.iter().map(SpanRequest::from).collect(),
        origin: None,
        id: None,
    };
    let refusal = match write_claims(conn, ctx, std::slice::from_ref(&first_try)).await {
        Ok(mut written) => return Ok(into_view(written.remove(0))),
        Err(e @ (AppError::Validation(_) | AppError::Conflict { .. } | AppError::NotFound(_))) => e,
        Err(e) => return Err(e),
    };
    let mut v = Validator::new();
    if !stories::exists(conn, fields.story_id).await? {
        v.error(
            "story_id",
            format!("story {} does not exist", fields.story_id),
        );
    }
    if super::speaker_ref(conn, fields.speaker_id).await?.is_none() {
        v.error(
            "speaker_id",
            format!("speaker {} does not exist", fields.speaker_id),
        );
    }
    let resolved = resolve_appearances(conn, fields.story_id, &claim.appearances, &mut v).await?;
    v.finish()?;
    let second_try = ClaimToWrite {
        fields,
        spans: resolved.iter().map(SpanRequest::from).collect(),
        origin: None,
        id: None,
    };
    match write_claims(conn, ctx, std::slice::from_ref(&second_try)).await {
        Ok(mut written) => Ok(into_view(written.remove(0))),
        // Still refused with nothing the checks can name: the first answer.
        Err(AppError::Validation(_) | AppError::Conflict { .. } | AppError::NotFound(_)) => {
            Err(refusal)
        }
        Err(e) => Err(e),
    }
}

fn into_view(written: WrittenClaim) -> super::ClaimView {
    view(written.head, written.speaker, &written.appearances)
}

#[cfg(test)]
mod tests {
    #[test]
    fn new_claims_are_recorded_with_the_claim_created_action() {
        let action = crate::domain::audit::AuditAction::ClaimCreated.as_str();
        assert!(super::WRITE_CLAIMS.contains(&format!("'{action}'")));
    }
}
