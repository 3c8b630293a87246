//! Carrying claims' spans across an article edit.

use diesel::{BoolExpressionMethods, ExpressionMethods, JoinOnDsl, QueryDsl, SelectableHelper};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::Serialize;
use serde_json::json;

use crate::domain::audit::AuditAction;
use crate::domain::claim::{Appearance, AppearanceState};
use crate::domain::diff::{Alignment, Carried};
use crate::domain::status;
use crate::domain::text::char_slice;
use crate::error::AppResult;
use crate::storage::events::{AuditContext, EventRecord};
use crate::storage::models::*;
use crate::storage::schema::{claim_appearances, claims};

use super::*;

/// One appearance carried from an article revision to the next.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CarriedAppearance {
    pub state: AppearanceState,
    pub old: SpanText,
    /// Absent when the text was removed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new: Option<SpanText>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SpanText {
    pub article_revision: i32,
    pub start: i32,
    pub end: i32,
    pub text: String,
}

/// A claim that an article edit touched, and its new revision.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ClaimCarry {
    pub claim_id: i64,
    pub revision: i32,
    pub needs_review: bool,
    pub appearances: Vec<CarriedAppearance>,
}

/// Carries every current appearance on `from_rev` of an article to `to_rev`
/// through the alignment of the two bodies: each touched claim gets a new
/// revision whose appearance rows say whether its text is present (moved or
/// not, to the copy with the same surroundings when the text repeats),
/// altered, removed, or — for a text an earlier revision removed — found
/// again (`restored`); a text still missing stays a `removed` row of the new
/// revision. A change of state (altered, newly removed, restored) flags the
/// claim for review. Runs inside the article's transaction.
pub async fn carry_appearances(
    conn: &mut AsyncPgConnection,
    ctx: &AuditContext,
    article_id: i64,
    from_rev: i32,
    to_rev: i32,
    alignment: &Alignment<'_>,
) -> AppResult<Vec<ClaimCarry>> {
    let ids: Vec<i64> = claims::table
        .inner_join(
            claim_appearances::table.on(claim_appearances::claim_id
                .eq(claims::id)
                .and(claim_appearances::claim_revision.eq(claims::appearances_revision))),
        )
        .filter(claim_appearances::article_id.eq(article_id))
        .filter(claim_appearances::article_revision.eq(from_rev))
        .select(claims::id)
        .distinct()
        .order(claims::id)
        .load(conn)
        .await?;
    // Every claim is locked before anything is written, in id order, so
    // that two transactions touching the same claims cannot deadlock.
    let _: Vec<i64> = claims::table
        .filter(claims::id.eq_any(&ids))
        .order(claims::id)
        .select(claims::id)
        .for_update()
        .load(conn)
        .await?;
    let reason = format!("article {article_id} revised from revision {from_rev} to {to_rev}");
    let mut carried_claims = Vec::with_capacity(ids.len());
    for id in ids {
        let head: ClaimRow = claims::table
            .find(id)
            .select(ClaimRow::as_select())
            .first(conn)
            .await?;
        let rows = appearances_of(conn, id, head.appearances_revision).await?;
        let mut writes = Vec::with_capacity(rows.len());
        let mut report = Vec::new();
        let mut state_changed = false;
        for row in &rows {
            if row.article_id != article_id || row.article_revision != from_rev {
                // Another article's appearance (or one of its history) stays.
                writes.push(AppearanceWrite::kept(row));
                continue;
            }
            let carried = carry_one(alignment, row);
            let (state, start, end, previous) = match carried {
                Carried::Present { start, end } if row.state == AppearanceState::Removed => (
                    AppearanceState::Restored,
                    start,
                    end,
                    row.previous_excerpt.clone(),
                ),
                Carried::Present { start, end } => (AppearanceState::Present, start, end, None),
                Carried::Altered { start, end } => (
                    AppearanceState::Altered,
                    start,
                    end,
                    Some(row.excerpt.clone()),
                ),
                Carried::Removed { at } => {
                    let previous = match row.state {
                        // Still missing: what it said before it went.
                        AppearanceState::Removed => row.previous_excerpt.clone(),
                        _ => Some(row.excerpt.clone()),
                    };
                    (AppearanceState::Removed, at, at, previous)
                }
            };
            state_changed |= match state {
                AppearanceState::Present => false,
                AppearanceState::Removed => row.state != AppearanceState::Removed,
                AppearanceState::Altered | AppearanceState::Restored => true,
            };
            let (start, end) = (to_i32(start)?, to_i32(end)?);
            writes.push(AppearanceWrite {
                appearance: Appearance {
                    article_id,
                    article_revision: to_rev,
                    start,
                    end,
                },
                state,
                previous_excerpt: previous.clone(),
            });
            report.push(CarriedAppearance {
                state,
                old: SpanText {
                    article_revision: from_rev,
                    start: row.span_start,
                    end: row.span_end,
                    text: if row.state == AppearanceState::Removed {
                        previous.clone().unwrap_or_default()
                    } else {
                        row.excerpt.clone()
                    },
                },
                new: (state != AppearanceState::Removed).then(|| SpanText {
                    article_revision: to_rev,
                    start,
                    end,
                    text: char_slice(alignment.new, start as usize, end as usize).to_owned(),
                }),
            });
        }
        let mut fields = head.state(&rows).fields;
        if state_changed {
            fields.needs_review = true;
            fields.status = status::reopened(fields.status);
        }
        let count = |s: AppearanceState| report.iter().filter(|a| a.state == s).count();
        let written = write_next_revision(
            conn,
            ctx,
            &head,
            &fields,
            Some(&writes),
            &reason,
            EventRecord {
                action: AuditAction::ClaimAppearancesCarried,
                subject_type: "claim",
                subject_id: id,
                story_id: Some(head.story_id),
                before_revision: None,
                after_revision: None,
                details: json!({
                    "article_id": article_id, "from_article_revision": from_rev, "to_article_revision": to_rev,
                    "present": count(AppearanceState::Present), "altered": count(AppearanceState::Altered),
                    "removed": count(AppearanceState::Removed),
                    "restored": count(AppearanceState::Restored),
                }),
            },
        )
        .await?;
        carried_claims.push(ClaimCarry {
            claim_id: id,
            revision: written.head.revision,
            needs_review: written.head.needs_review,
            appearances: report,
        });
    }
    Ok(carried_claims)
}

/// Where one appearance of the old revision is in the new one: a live span
/// through the alignment (to the copy with the same surroundings when its
/// text repeats); a removed one by looking for the text it had, near where
/// it was.
pub(super) fn carry_one(alignment: &Alignment<'_>, row: &AppearanceRow) -> Carried {
    let (start, end) = (row.span_start as usize, row.span_end as usize);
    if row.state != AppearanceState::Removed {
        return alignment.carry_in_context(start, end, &row.excerpt);
    }
    let gone = row.previous_excerpt.as_deref().unwrap_or_default();
    match alignment.find_again(gone, start) {
        Some((start, end)) => Carried::Present { start, end },
        None => match alignment.carry(start, start) {
            Carried::Present { start, .. } | Carried::Altered { start, .. } => {
                Carried::Removed { at: start }
            }
            removed => removed,
        },
    }
}

pub(super) fn to_i32(n: usize) -> AppResult<i32> {
    i32::try_from(n).map_err(|_| anyhow::anyhow!("offset {n} does not fit a span").into())
}
