//! Claims as the ledger recorded them at a moment (transaction time).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use diesel::{ExpressionMethods, OptionalExtension, QueryDsl, SelectableHelper};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::Serialize;

use crate::error::{AppError, AppResult};
use crate::storage::models::ReviewRow;
use crate::storage::models::*;
use crate::storage::schema::{claim_reviews, claim_revisions};
use crate::storage::{Page, PageRequest};

use super::*;

/// A claim as the ledger recorded it at a moment (transaction time).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ClaimAsOf {
    pub as_of: DateTime<Utc>,
    #[serde(flatten)]
    pub claim: ClaimRevisionView,
    /// The review in force at that moment.
    pub latest_review: Option<ReviewRow>,
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
    Ok(ClaimAsOf {
        as_of: at,
        latest_review: reviews.remove(&claim_id),
        claim: revision_view(row, &appearances),
    })
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
    Ok(page.map(|row| {
        let rows = appearances
            .remove(&(row.claim_id, row.appearances_revision))
            .unwrap_or_default();
        ClaimAsOf {
            as_of: at,
            latest_review: reviews.remove(&row.claim_id),
            claim: revision_view(row, &rows),
        }
    }))
}
