//! The review workflow: status changes, reviews, comments, assignment and the
//! review queue.

use chrono::{DateTime, Utc};
use diesel::{
    BoolExpressionMethods, ExpressionMethods, OptionalExtension, QueryDsl, SelectableHelper,
};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde::Serialize;
use serde_json::json;

use super::claims::{self as claim_store, ClaimView, write_next_revision};
use super::events::{self, AuditContext, EventRecord};
pub use super::models::ReviewRow;
use super::models::{ClaimRow, SpeakerRef};
use super::schema::{claim_comments, claim_reviews, claims, speakers, users};
use super::{Page, PageRequest, keyset};
use crate::domain::audit::AuditAction;
use crate::domain::auth::{Action, Role};
use crate::domain::claim::ClaimStatus;
use crate::domain::review::ValidReview;
use crate::domain::revision::IfMatch;
use crate::domain::status::{StatusTransition, reviewable};
use crate::error::{AppError, AppResult};

async fn lock_claim(conn: &mut AsyncPgConnection, claim_id: i64) -> AppResult<ClaimRow> {
    claims::table
        .find(claim_id)
        .select(ClaimRow::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()?
        .ok_or_else(|| AppError::not_found(format!("claim {claim_id}")))
}

/// Moves a claim to another status: a new revision, checked against the
/// transition table.
pub async fn change_status(
    conn: &mut AsyncPgConnection,
    ctx: &AuditContext,
    role: Role,
    claim_id: i64,
    if_match: IfMatch,
    to: ClaimStatus,
    reason: &str,
) -> AppResult<ClaimView> {
    conn.transaction(async |conn| {
        let head = lock_claim(conn, claim_id).await?;
        if_match.check(head.revision)?;
        let transition = StatusTransition::check(head.status, to, role)?;
        let rows = claim_store::appearances_of(conn, claim_id, head.appearances_revision).await?;
        let mut fields = head.state(&rows).fields;
        fields.status = transition.to;
        let written = write_next_revision(
            conn,
            ctx,
            &head,
            &fields,
            None,
            reason,
            EventRecord {
                action: AuditAction::ClaimStatusChanged,
                subject_type: "claim",
                subject_id: claim_id,
                story_id: Some(head.story_id),
                before_revision: None,
                after_revision: None,
                details: json!({ "from": transition.from, "to": transition.to, "reason": reason }),
            },
        )
        .await?;
        claim_store::view_with_speaker(conn, written.head, None, &rows).await
    })
    .await
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReviewOutcome {
    pub review: ReviewRow,
    /// The claim after the review (its status follows the verdict).
    pub claim: ClaimView,
}

/// Records a verdict on the claim's current revision (named by If-Match),
/// superseding earlier reviews, and moves the claim to the verdict's status.
pub async fn create_review(
    conn: &mut AsyncPgConnection,
    ctx: &AuditContext,
    role: Role,
    claim_id: i64,
    if_match: IfMatch,
    review: ValidReview,
) -> AppResult<ReviewOutcome> {
    role.require(Action::Review)?;
    conn.transaction(async |conn| {
        let head = lock_claim(conn, claim_id).await?;
        if_match.check(head.revision)?;
        if !reviewable(head.status) {
            return Err(AppError::Conflict {
                detail: format!(
                    "the claim is {} and cannot be reviewed; it must be unverified, in review or judged",
                    head.status
                ),
                existing_id: None,
            });
        }
        let supersedes: Option<i64> = claim_reviews::table
            .filter(claim_reviews::claim_id.eq(claim_id))
            .order(claim_reviews::id.desc())
            .select(claim_reviews::id)
            .first(conn)
            .await
            .optional()?;
        let evidence = serde_json::to_value(&review.evidence).map_err(anyhow::Error::from)?;
        let stored: ReviewRow = diesel::insert_into(claim_reviews::table)
            .values((
                claim_reviews::claim_id.eq(claim_id),
                claim_reviews::claim_revision.eq(head.revision),
                claim_reviews::reviewer.eq(&ctx.actor),
                claim_reviews::verdict.eq(review.verdict),
                claim_reviews::rationale.eq(&review.rationale),
                claim_reviews::reviewer_confidence.eq(review.reviewer_confidence),
                claim_reviews::evidence.eq(&evidence),
                claim_reviews::supersedes_id.eq(supersedes),
                claim_reviews::source_url.eq(review.source.as_ref().map(|s| &s.url)),
                claim_reviews::source_author
                    .eq(review.source.as_ref().and_then(|s| s.author.as_ref())),
                claim_reviews::source_date_published.eq(review
                    .source
                    .as_ref()
                    .and_then(|s| s.date_published.as_ref())),
                claim_reviews::source_rating.eq(review.source.as_ref().map(|s| &s.rating)),
                claim_reviews::source_language
                    .eq(review.source.as_ref().and_then(|s| s.language.as_ref())),
                claim_reviews::source_document.eq(review.source.as_ref().map(|s| &s.document)),
            ))
            .returning(ReviewRow::as_returning())
            .get_result(conn)
            .await?;
        let rows = claim_store::appearances_of(conn, claim_id, head.appearances_revision).await?;
        let mut fields = head.state(&rows).fields;
        let status_before = fields.status;
        fields.status = review.verdict.status();
        fields.needs_review = false;
        let details = json!({
            "review_id": stored.id, "verdict": stored.verdict, "claim_revision": head.revision,
            "evidence": review.evidence.len(), "supersedes_id": supersedes,
            "status_from": status_before, "status_to": fields.status,
        });
        let claim = if fields.status != head.status || fields.needs_review != head.needs_review {
            let reason = format!("review {}: {}", stored.id, stored.verdict);
            let written = write_next_revision(
                conn,
                ctx,
                &head,
                &fields,
                None,
                &reason,
                EventRecord {
                    action: AuditAction::ReviewCreated,
                    subject_type: "claim",
                    subject_id: claim_id,
                    story_id: Some(head.story_id),
                    before_revision: None,
                    after_revision: None,
                    details,
                },
            )
            .await?;
            written.head
        } else {
            events::record(
                conn,
                ctx,
                EventRecord {
                    action: AuditAction::ReviewCreated,
                    subject_type: "claim",
                    subject_id: claim_id,
                    story_id: Some(head.story_id),
                    before_revision: Some(head.revision),
                    after_revision: Some(head.revision),
                    details,
                },
            )
            .await?;
            head
        };
        Ok(ReviewOutcome {
            review: stored,
            claim: claim_store::view_with_speaker(conn, claim, None, &rows).await?,
        })
    })
    .await
}

async fn ensure_claim(conn: &mut AsyncPgConnection, claim_id: i64) -> AppResult<ClaimRow> {
    claims::table
        .find(claim_id)
        .select(ClaimRow::as_select())
        .first(conn)
        .await
        .optional()?
        .ok_or_else(|| AppError::not_found(format!("claim {claim_id}")))
}

/// A page of the claim's reviews (newest first by default: the first one
/// is in force).
pub async fn list_reviews(
    conn: &mut AsyncPgConnection,
    claim_id: i64,
    page: PageRequest,
) -> AppResult<Page<ReviewRow>> {
    ensure_claim(conn, claim_id).await?;
    let query = claim_reviews::table
        .filter(claim_reviews::claim_id.eq(claim_id))
        .select(ReviewRow::as_select())
        .into_boxed();
    let rows: Vec<ReviewRow> = keyset!(query, claim_reviews::id, page).load(conn).await?;
    Ok(Page::from_rows(rows, page.limit, |r| r.id))
}

#[derive(Debug, Clone, diesel::Queryable, diesel::Selectable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = claim_comments, check_for_backend(diesel::pg::Pg))]
pub struct CommentRow {
    pub id: i64,
    pub claim_id: i64,
    pub author: String,
    pub body: String,
    pub created_at: DateTime<Utc>,
}

pub async fn add_comment(
    conn: &mut AsyncPgConnection,
    ctx: &AuditContext,
    claim_id: i64,
    body: &str,
) -> AppResult<CommentRow> {
    conn.transaction(async |conn| {
        let head = ensure_claim(conn, claim_id).await?;
        let comment: CommentRow = diesel::insert_into(claim_comments::table)
            .values((
                claim_comments::claim_id.eq(claim_id),
                claim_comments::author.eq(&ctx.actor),
                claim_comments::body.eq(body),
            ))
            .returning(CommentRow::as_returning())
            .get_result(conn)
            .await?;
        events::record(
            conn,
            ctx,
            EventRecord {
                action: AuditAction::CommentCreated,
                subject_type: "claim",
                subject_id: claim_id,
                story_id: Some(head.story_id),
                before_revision: Some(head.revision),
                after_revision: Some(head.revision),
                details: json!({ "comment_id": comment.id }),
            },
        )
        .await?;
        Ok(comment)
    })
    .await
}

/// A page of the claim's comments.
pub async fn list_comments(
    conn: &mut AsyncPgConnection,
    claim_id: i64,
    page: PageRequest,
) -> AppResult<Page<CommentRow>> {
    ensure_claim(conn, claim_id).await?;
    let query = claim_comments::table
        .filter(claim_comments::claim_id.eq(claim_id))
        .select(CommentRow::as_select())
        .into_boxed();
    let rows: Vec<CommentRow> = keyset!(query, claim_comments::id, page).load(conn).await?;
    Ok(Page::from_rows(rows, page.limit, |r| r.id))
}

/// Assigns a claim to a user who can review (or unassigns it with `None`).
pub async fn assign(
    conn: &mut AsyncPgConnection,
    ctx: &AuditContext,
    claim_id: i64,
    assignee: Option<&str>,
) -> AppResult<ClaimView> {
    conn.transaction(async |conn| {
        if let Some(name) = assignee {
            let role: Option<Role> = users::table
                .filter(users::name.eq(name))
                .select(users::role)
                .first(conn)
                .await
                .optional()?;
            match role {
                None => {
                    return Err(AppError::invalid(
                        "assignee",
                        format!("user {name} does not exist"),
                    ));
                }
                Some(role) if !role.may(Action::Review) => {
                    return Err(AppError::invalid(
                        "assignee",
                        format!("{name} is a {role} and cannot review"),
                    ));
                }
                Some(_) => {}
            }
        }
        let head = lock_claim(conn, claim_id).await?;
        let updated: ClaimRow = diesel::update(claims::table.find(claim_id))
            .set((
                claims::assignee.eq(assignee),
                claims::assigned_at.eq(assignee.map(|_| Utc::now())),
            ))
            .returning(ClaimRow::as_returning())
            .get_result(conn)
            .await?;
        events::record(
            conn,
            ctx,
            EventRecord {
                action: AuditAction::ClaimAssigned,
                subject_type: "claim",
                subject_id: claim_id,
                story_id: Some(head.story_id),
                before_revision: Some(head.revision),
                after_revision: Some(head.revision),
                details: json!({ "from": head.assignee, "to": assignee }),
            },
        )
        .await?;
        let rows =
            claim_store::appearances_of(conn, claim_id, updated.appearances_revision).await?;
        claim_store::view_with_speaker(conn, updated, None, &rows).await
    })
    .await
}

/// How the review queue is ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum QueueSort {
    /// Oldest claims first.
    #[default]
    Oldest,
    /// Claims flagged by an edit first, then in review, then the rest; oldest
    /// first within each.
    Priority,
}

#[derive(Debug, Default, Clone)]
pub struct QueueFilter {
    pub story_id: Option<i64>,
    /// A user name, or `none` for unassigned claims.
    pub assignee: Option<String>,
    pub status: Option<ClaimStatus>,
}

/// The priority rank of a claim in the queue (lower comes first).
fn rank(needs_review: bool, status: ClaimStatus) -> i64 {
    match (needs_review, status) {
        (true, _) => 0,
        (false, ClaimStatus::InReview) => 1,
        _ => 2,
    }
}

/// The queue's base query: claims needing attention (unverified, in review,
/// or flagged by an edit; never retracted), with the filters applied.
macro_rules! queue_query {
    ($filter:expr) => {{
        let filter: &QueueFilter = $filter;
        let mut query = claims::table
            .inner_join(speakers::table)
            .select((ClaimRow::as_select(), SpeakerRef::as_select()))
            .filter(
                claims::status
                    .eq_any([ClaimStatus::Unverified, ClaimStatus::InReview])
                    .or(claims::needs_review.eq(true)),
            )
            .filter(claims::status.ne(ClaimStatus::Retracted))
            .into_boxed();
        if let Some(id) = filter.story_id {
            query = query.filter(claims::story_id.eq(id));
        }
        match filter.assignee.as_deref() {
            Some("none") => query = query.filter(claims::assignee.is_null()),
            Some(name) => query = query.filter(claims::assignee.eq(name.to_owned())),
            None => {}
        }
        if let Some(status) = filter.status {
            query = query.filter(claims::status.eq(status));
        }
        query
    }};
}

/// Cursor keys of the priority order: `rank * 2^48 + id`.
const RANK_SHIFT: i64 = 1 << 48;

/// Claims needing attention, oldest first or by priority, keyset-paginated
/// (on id, or on (rank, id) for priority).
pub async fn review_queue(
    conn: &mut AsyncPgConnection,
    filter: QueueFilter,
    sort: QueueSort,
    page: PageRequest,
) -> AppResult<Page<ClaimView>> {
    let rows: Vec<(ClaimRow, SpeakerRef)> = match sort {
        QueueSort::Oldest => {
            let mut query = queue_query!(&filter);
            if let Some(after) = page.after {
                query = query.filter(claims::id.gt(after));
            }
            query
                .order(claims::id.asc())
                .limit(page.limit + 1)
                .load(conn)
                .await?
        }
        QueueSort::Priority => {
            let (after_rank, after_id) = page
                .after
                .map_or((0, 0), |k| (k / RANK_SHIFT, k % RANK_SHIFT));
            let mut rows = Vec::new();
            for r in after_rank..=2 {
                let need = page.limit + 1 - rows.len() as i64;
                if need <= 0 {
                    break;
                }
                let query = queue_query!(&filter);
                let query = match r {
                    0 => query.filter(claims::needs_review.eq(true)),
                    1 => query.filter(
                        claims::needs_review
                            .eq(false)
                            .and(claims::status.eq(ClaimStatus::InReview)),
                    ),
                    _ => query.filter(
                        claims::needs_review
                            .eq(false)
                            .and(claims::status.ne(ClaimStatus::InReview)),
                    ),
                };
                let min_id = if r == after_rank { after_id } else { 0 };
                let found: Vec<(ClaimRow, SpeakerRef)> = query
                    .filter(claims::id.gt(min_id))
                    .order(claims::id.asc())
                    .limit(need)
                    .load(conn)
                    .await?;
                rows.extend(found);
            }
            rows
        }
    };
    let page = Page::from_rows(rows, page.limit, |(row, _)| match sort {
        QueueSort::Oldest => row.id,
        QueueSort::Priority => rank(row.needs_review, row.status) * RANK_SHIFT + row.id,
    });
    let keys: Vec<(i64, i32)> = page
        .items
        .iter()
        .map(|(r, _)| (r.id, r.appearances_revision))
        .collect();
    let mut appearances = claim_store::appearances_for(conn, &keys).await?;
    Ok(page.map(|(row, speaker)| {
        let rows = appearances
            .remove(&(row.id, row.appearances_revision))
            .unwrap_or_default();
        claim_store::view(row, speaker, &rows)
    }))
}
