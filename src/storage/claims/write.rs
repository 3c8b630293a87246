//! Writing claims: a new claim, and each next revision (under the head's
//! row lock, with its appearance rows and audit event).

use chrono::Utc;
use diesel::{OptionalExtension, QueryDsl, SelectableHelper};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde_json::json;

use crate::domain::audit::AuditAction;
use crate::domain::auth::Role;
use crate::domain::claim::{ClaimFields, ClaimState, ValidClaimPatch};
use crate::domain::revision::{IfMatch, RevisionNumber};
use crate::domain::status::may_edit_claim;
use crate::domain::validation::Validator;
use crate::error::{AppError, AppResult};
use crate::storage::events::{self, AuditContext, EventRecord};
use crate::storage::models::*;
use crate::storage::schema::{claim_revisions, claims};

use super::*;

pub(in crate::storage) fn revision_row<'a>(
    claim_id: i64,
    revision: i32,
    appearances_revision: i32,
    fields: &'a ClaimFields,
    ctx: &'a AuditContext,
    reason: Option<&'a str>,
) -> NewClaimRevisionRow<'a> {
    let c = ClaimColumns::of(fields);
    NewClaimRevisionRow {
        claim_id,
        revision,
        story_id: fields.story_id,
        speaker_id: c.speaker_id,
        text: c.text,
        kind: c.kind,
        cue: c.cue,
        said_start: c.said_start,
        said_end: c.said_end,
        said_precision: c.said_precision,
        said_expression: c.said_expression,
        confidence: c.confidence,
        hedges: c.hedges,
        status: c.status,
        appearances_revision,
        needs_review: c.needs_review,
        author: &ctx.actor,
        reason,
    }
}

/// Appends the next revision of a claim. A patch that changes nothing
/// writes nothing and reports no changed fields.
pub async fn append_revision(
    conn: &mut AsyncPgConnection,
    ctx: &AuditContext,
    role: Role,
    claim_id: i64,
    patch: ValidClaimPatch,
    if_match: IfMatch,
) -> AppResult<PatchOutcome> {
    conn.transaction(async |conn| {
        // The row lock serializes writers of one claim, so revision numbers
        // are computed from a head nobody else is changing.
        let head: ClaimRow = claims::table
            .find(claim_id)
            .select(ClaimRow::as_select())
            .for_update()
            .first(conn)
            .await
            .optional()?
            .ok_or_else(|| AppError::not_found(format!("claim {claim_id}")))?;
        may_edit_claim(role, &ctx.actor, &head.created_by, head.status)?;
        if_match.check(head.revision)?;
        let current_rows = appearances_of(conn, claim_id, head.appearances_revision).await?;
        let current: ClaimState = head.state(&current_rows);

        let mut v = Validator::new();
        let mut speaker = None;
        if let Some(id) = patch.speaker_id {
            speaker = speaker_ref(conn, id).await?;
            if speaker.is_none() {
                v.error("speaker_id", format!("speaker {id} does not exist"));
            }
        }
        let resolved = match &patch.appearances {
            Some(list) => Some(resolve_appearances(conn, head.story_id, list, &mut v).await?),
            None => None,
        };
        v.finish()?;

        let change = current.apply(&patch, resolved)?;
        if change.is_noop() {
            return Ok(PatchOutcome {
                claim: view_with_speaker(conn, head, speaker, &current_rows).await?,
                changed_fields: Vec::new(),
            });
        }

        let appearance_writes = change.appearances_changed().then(|| {
            change
                .next
                .appearances
                .iter()
                .copied()
                .map(AppearanceWrite::present)
                .collect::<Vec<_>>()
        });
        let written = write_next_revision(
            conn,
            ctx,
            &head,
            &change.next.fields,
            appearance_writes.as_deref(),
            &patch.reason,
            EventRecord {
                action: AuditAction::ClaimRevised,
                subject_type: "claim",
                subject_id: claim_id,
                story_id: Some(head.story_id),
                before_revision: None,
                after_revision: None,
                details: json!({ "changed_fields": change.changed_fields, "reason": patch.reason }),
            },
        )
        .await?;
        let updated = written.head;
        let appearance_rows = written.appearances.unwrap_or(current_rows);
        Ok(PatchOutcome {
            claim: view_with_speaker(conn, updated, speaker, &appearance_rows).await?,
            changed_fields: change.changed_fields,
        })
    })
    .await
}

/// What `write_next_revision` wrote.
pub(in crate::storage) struct WrittenRevision {
    pub(in crate::storage) head: ClaimRow,
    /// The new appearance rows, when the revision changed them.
    pub(in crate::storage) appearances: Option<Vec<AppearanceRow>>,
}

/// Appends revision n+1 of a locked claim: the revision row, its appearance
/// rows when they change, the new head, and the audit event (whose revision
/// numbers are filled in here). The caller holds the head's row lock.
pub(in crate::storage) async fn write_next_revision(
    conn: &mut AsyncPgConnection,
    ctx: &AuditContext,
    head: &ClaimRow,
    fields: &ClaimFields,
    appearances: Option<&[AppearanceWrite]>,
    reason: &str,
    mut event: EventRecord<'_>,
) -> AppResult<WrittenRevision> {
    let before = RevisionNumber::new(head.revision)
        .ok_or_else(|| anyhow::anyhow!("claim {} has revision {}", head.id, head.revision))?;
    let next = before.next()?.get();
    let appearances_revision = if appearances.is_some() {
        next
    } else {
        head.appearances_revision
    };
    diesel::insert_into(claim_revisions::table)
        .values(revision_row(
            head.id,
            next,
            appearances_revision,
            fields,
            ctx,
            Some(reason),
        ))
        .execute(conn)
        .await?;
    let appearance_rows = match appearances {
        Some(list) => Some(insert_appearances(conn, head.id, next, list).await?),
        None => None,
    };
    let c = ClaimColumns::of(fields);
    let updated: ClaimRow = diesel::update(claims::table.find(head.id))
        .set(ClaimHeadChange {
            revision: next,
            speaker_id: c.speaker_id,
            text: c.text,
            kind: c.kind,
            cue: c.cue,
            said_start: c.said_start,
            said_end: c.said_end,
            said_precision: c.said_precision,
            said_expression: c.said_expression,
            confidence: c.confidence,
            hedges: c.hedges,
            status: c.status,
            appearances_revision,
            needs_review: c.needs_review,
            updated_at: Utc::now(),
            text_key: &c.keys.text_key,
            search_terms: &c.keys.search_terms,
            duplicate_bands: &c.keys.duplicate_bands,
        })
        .returning(ClaimRow::as_returning())
        .get_result(conn)
        .await?;
    event.before_revision = Some(before.get());
    event.after_revision = Some(next);
    events::record(conn, ctx, event).await?;
    Ok(WrittenRevision {
        head: updated,
        appearances: appearance_rows,
    })
}
