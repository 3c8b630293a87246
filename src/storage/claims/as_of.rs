//! Claims as the ledger recorded them at a moment (transaction time).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use diesel::{ExpressionMethods, OptionalExtension, QueryDsl, SelectableHelper};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::Serialize;

use crate::error::{AppError, AppResult};
use crate::storage::models::ReviewRow;
use crate::storage::models::*;
use crate::storage::prepared::prepared_statement;
use crate::storage::schema::{claim_reviews, claim_revisions};
use crate::storage::{Page, PageRequest};
use diesel::sql_types::{Array, BigInt, Integer, Nullable, Text, Timestamptz};

use super::*;

/// A claim as the ledger recorded it at a moment (transaction time): the
/// same shape as the claim now (its speaker as named then, its assignee
/// then), with the revision's own record and the review in force.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ClaimAsOf {
    pub as_of: DateTime<Utc>,
    #[serde(flatten)]
    pub claim: ClaimView,
    /// The speaker's revision in force for this claim revision:
    /// `GET /v1/speakers/{speaker_id}/revisions/{speaker_revision}`.
    pub speaker_revision: i32,
    /// Who wrote the claim revision in force, and why.
    pub author: String,
    pub reason: Option<String>,
    /// When the claim revision in force was recorded.
    pub recorded_at: DateTime<Utc>,
    /// The review in force at that moment.
    pub latest_review: Option<ReviewRow>,
}

prepared_statement! {
    /// What a claim revision does not hold but the claim's shape shows, as
    /// it stood at `at`: who created the claim and when, the speaker's name
    /// and kind at the revision's speaker revision, and the assignee after
    /// the last assignment recorded by then. One row per claim.
    struct ContextAsOf {
        claim_ids: Vec<i64> as Array<BigInt> = "bigint[]",
        speaker_ids: Vec<i64> as Array<BigInt> = "bigint[]",
        speaker_revisions: Vec<i32> as Array<Integer> = "integer[]",
        at: DateTime<Utc> as Timestamptz = "timestamptz",
    }
    sql = "\
SELECT c.id AS claim_id, c.created_by, c.created_at, s.name AS speaker_name, s.kind AS speaker_kind,
       (SELECT e.details ->> 'to' FROM audit_events e
         WHERE e.subject_type = 'claim' AND e.subject_id = c.id
           AND e.action = 'claim.assigned' AND e.occurred_at <= p.at
         ORDER BY e.id DESC LIMIT 1) AS assignee
  FROM p, unnest(p.claim_ids, p.speaker_ids, p.speaker_revisions) AS k(claim_id, speaker_id, speaker_revision)
  JOIN claims c ON c.id = k.claim_id
  JOIN speaker_revisions s ON s.speaker_id = k.speaker_id AND s.revision = k.speaker_revision";
}

#[derive(diesel::QueryableByName)]
struct ContextRow {
    #[diesel(sql_type = BigInt)]
    claim_id: i64,
    #[diesel(sql_type = Text)]
    created_by: String,
    #[diesel(sql_type = Timestamptz)]
    created_at: DateTime<Utc>,
    #[diesel(sql_type = Text)]
    speaker_name: String,
    #[diesel(sql_type = Text)]
    speaker_kind: String,
    #[diesel(sql_type = Nullable<Text>)]
    assignee: Option<String>,
}

async fn context_as_of(
    conn: &mut AsyncPgConnection,
    rows: &[ClaimRevisionRow],
    at: DateTime<Utc>,
) -> AppResult<HashMap<i64, ContextRow>> {
    let found: Vec<ContextRow> = ContextAsOf {
        claim_ids: rows.iter().map(|r| r.claim_id).collect(),
        speaker_ids: rows.iter().map(|r| r.speaker_id).collect(),
        speaker_revisions: rows.iter().map(|r| r.speaker_revision).collect(),
        at,
    }
    .load(conn)
    .await?;
    Ok(found.into_iter().map(|c| (c.claim_id, c)).collect())
}

/// The claim's shape from a revision and what stood beside it at `at`.
fn claim_as_of(
    at: DateTime<Utc>,
    row: ClaimRevisionRow,
    context: Option<ContextRow>,
    appearances: &[AppearanceRow],
    latest_review: Option<ReviewRow>,
) -> AppResult<ClaimAsOf> {
    let context = context.ok_or_else(|| {
        anyhow::anyhow!(
            "claim {} revision {} has no claim or speaker revision row",
            row.claim_id,
            row.revision
        )
    })?;
    let speaker_kind = context.speaker_kind.parse().map_err(|_| {
        anyhow::anyhow!(
            "speaker {} has kind {:?}",
            row.speaker_id,
            context.speaker_kind
        )
    })?;
    let revision = revision_view(row, appearances);
    Ok(ClaimAsOf {
        as_of: at,
        claim: ClaimView {
            id: revision.claim_id,
            story_id: revision.story_id,
            revision: revision.revision,
            speaker_id: revision.speaker_id,
            speaker: SpeakerRef {
                id: revision.speaker_id,
                name: context.speaker_name,
                kind: speaker_kind,
            },
            text: revision.text,
            kind: revision.kind,
            cue: revision.cue,
            when: revision.when,
            confidence: revision.confidence,
            hedges: revision.hedges,
            status: revision.status,
            needs_review: revision.needs_review,
            appearances: revision.appearances,
            assignee: context.assignee,
            created_by: context.created_by,
            created_at: context.created_at,
            updated_at: revision.recorded_at,
        },
        speaker_revision: revision.speaker_revision,
        author: revision.author,
        reason: revision.reason,
        recorded_at: revision.recorded_at,
        latest_review,
    })
}

pub(super) async fn reviews_as_of(
    conn: &mut AsyncPgConnection,
    claim_ids: &[i64],
    at: DateTime<Utc>,
) -> AppResult<HashMap<i64, ReviewRow>> {
    let rows: Vec<ReviewRow> = claim_reviews::table
        .filter(claim_reviews::claim_id.eq_any(claim_ids))
        .filter(claim_reviews::created_at.le(at))
        .order((claim_reviews::claim_id, claim_reviews::id.desc()))
        .distinct_on(claim_reviews::claim_id)
        .select(ReviewRow::as_select())
        .load(conn)
        .await?;
    Ok(rows.into_iter().map(|r| (r.claim_id, r)).collect())
}

/// The claim's latest revision recorded at or before `at`; 404 when it did
/// not exist yet.
pub async fn as_of(
    conn: &mut AsyncPgConnection,
    claim_id: i64,
    at: DateTime<Utc>,
) -> AppResult<ClaimAsOf> {
    let row: Option<ClaimRevisionRow> = claim_revisions::table
        .filter(claim_revisions::claim_id.eq(claim_id))
        .filter(claim_revisions::recorded_at.le(at))
        .order(claim_revisions::revision.desc())
        .select(ClaimRevisionRow::as_select())
        .first(conn)
        .await
        .optional()?;
    let Some(row) = row else {
        return Err(AppError::NotFound(if exists(conn, claim_id).await? {
            format!(
                "claim {claim_id} was not yet recorded at {}",
                at.to_rfc3339()
            )
        } else {
            format!("claim {claim_id} does not exist")
        }));
    };
    let appearances = appearances_of(conn, claim_id, row.appearances_revision).await?;
    let mut reviews = reviews_as_of(conn, &[claim_id], at).await?;
    let mut context = context_as_of(conn, std::slice::from_ref(&row), at).await?;
    claim_as_of(
        at,
        row,
        context.remove(&claim_id),
        &appearances,
        reviews.remove(&claim_id),
    )
}

/// A story's claims as recorded at `at` (each at its latest revision then),
/// keyset-paginated by claim id, oldest first.
pub async fn story_as_of(
    conn: &mut AsyncPgConnection,
    story_id: i64,
    at: DateTime<Utc>,
    page: PageRequest,
) -> AppResult<Page<ClaimAsOf>> {
    let rows: Vec<ClaimRevisionRow> = claim_revisions::table
        .filter(claim_revisions::story_id.eq(story_id))
        .filter(claim_revisions::recorded_at.le(at))
        .filter(claim_revisions::claim_id.gt(page.after.unwrap_or(0)))
        .order((
            claim_revisions::claim_id.asc(),
            claim_revisions::revision.desc(),
        ))
        .distinct_on(claim_revisions::claim_id)
        .limit(page.limit + 1)
        .select(ClaimRevisionRow::as_select())
        .load(conn)
        .await?;
    let page = Page::from_rows(rows, page.limit, |r| r.claim_id);
    let keys: Vec<(i64, i32)> = page
        .items
        .iter()
        .map(|r| (r.claim_id, r.appearances_revision))
        .collect();
    let ids: Vec<i64> = page.items.iter().map(|r| r.claim_id).collect();
    let mut appearances = appearances_for(conn, &keys).await?;
    let mut reviews = reviews_as_of(conn, &ids, at).await?;
    let mut context = context_as_of(conn, &page.items, at).await?;
    page.try_map(|row| {
        let rows = appearances
            .remove(&(row.claim_id, row.appearances_revision))
            .unwrap_or_default();
        let id = row.claim_id;
        claim_as_of(at, row, context.remove(&id), &rows, reviews.remove(&id))
    })
}
