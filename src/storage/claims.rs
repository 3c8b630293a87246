//! Claims, their revisions and appearances.
//!
//! A claim is written as a head row (`claims`, the latest state) plus one
//! immutable `claim_revisions` row per change, plus `claim_appearances` rows
//! whenever its spans change, plus an audit event — all in one transaction.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use diesel::{
    BoolExpressionMethods, ExpressionMethods, JoinOnDsl, OptionalExtension, QueryDsl,
    SelectableHelper,
};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde::Serialize;
use serde_json::json;

use super::events::{self, AuditContext, EventRecord};
use super::models::*;
use super::reviews::ReviewRow;
use super::schema::{
    article_revisions, articles, claim_appearances, claim_reviews, claim_revisions, claims,
    speakers,
};
use super::{Page, PageRequest, keyset, stories};
use crate::domain::audit::AuditAction;
use crate::domain::auth::{Role, may_edit_claim};
use crate::domain::claim::{
    Appearance, AppearanceInput, AppearanceState, ClaimFields, ClaimKind, ClaimState, ClaimStatus,
    SpanTarget, ValidClaimPatch, ValidNewClaim, check_span, normalize_appearances,
};
use crate::domain::diff::{Alignment, Carried};
use crate::domain::revision::{IfMatch, RevisionNumber, diff_range};
use crate::domain::speaker::distinct_aliases;
use crate::domain::status;
use crate::domain::text::char_slice;
use crate::domain::validation::Validator;
use crate::domain::when::SaidWhenView;
use crate::error::{AppError, AppResult};

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AppearanceView {
    pub article_id: i64,
    pub article_revision: i32,
    pub start: i32,
    pub end: i32,
    /// The supporting text, as the article revision has it.
    pub excerpt: String,
    /// `present`, or after an article edit `altered` / `removed`.
    pub state: AppearanceState,
    /// For altered and removed appearances: the text before the edit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_excerpt: Option<String>,
}

impl From<&AppearanceRow> for AppearanceView {
    fn from(row: &AppearanceRow) -> Self {
        AppearanceView {
            article_id: row.article_id,
            article_revision: row.article_revision,
            start: row.span_start,
            end: row.span_end,
            excerpt: row.excerpt.clone(),
            state: row.state,
            previous_excerpt: row.previous_excerpt.clone(),
        }
    }
}

/// A claim as the API returns it: its current revision.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ClaimView {
    pub id: i64,
    pub story_id: i64,
    pub revision: i32,
    pub speaker_id: i64,
    pub speaker: SpeakerRef,
    pub text: String,
    pub kind: ClaimKind,
    pub cue: Option<String>,
    pub when: Option<SaidWhenView>,
    pub confidence: Option<f64>,
    pub hedges: Vec<String>,
    pub status: ClaimStatus,
    pub needs_review: bool,
    pub appearances: Vec<AppearanceView>,
    /// Who is working on it (review workflow).
    pub assignee: Option<String>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// One immutable revision of a claim.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ClaimRevisionView {
    pub claim_id: i64,
    pub revision: i32,
    pub story_id: i64,
    pub speaker_id: i64,
    /// The speaker's revision when this claim revision was written:
    /// `GET /v1/speakers/{speaker_id}/revisions/{speaker_revision}` is the
    /// speaker as it was then (its name, role, affiliation).
    pub speaker_revision: i32,
    pub text: String,
    pub kind: ClaimKind,
    pub cue: Option<String>,
    pub when: Option<SaidWhenView>,
    pub confidence: Option<f64>,
    pub hedges: Vec<String>,
    pub status: ClaimStatus,
    pub needs_review: bool,
    pub appearances: Vec<AppearanceView>,
    pub author: String,
    pub reason: Option<String>,
    pub recorded_at: DateTime<Utc>,
}

/// The outcome of a PATCH: the claim after it, and what changed.
#[derive(Debug, Clone)]
pub struct PatchOutcome {
    pub claim: ClaimView,
    pub changed_fields: Vec<&'static str>,
}

pub(super) fn view(row: ClaimRow, speaker: SpeakerRef, appearances: &[AppearanceRow]) -> ClaimView {
    ClaimView {
        id: row.id,
        story_id: row.story_id,
        revision: row.revision,
        speaker_id: row.speaker_id,
        speaker,
        when: row.when().map(|w| w.view()),
        text: row.text,
        kind: row.kind,
        cue: row.cue,
        confidence: row.confidence,
        hedges: row.hedges,
        status: row.status,
        needs_review: row.needs_review,
        appearances: appearances.iter().map(AppearanceView::from).collect(),
        assignee: row.assignee,
        created_by: row.created_by,
        created_at: row.created_at,
        updated_at: row.updated_at,
    }
}

fn revision_view(row: ClaimRevisionRow, appearances: &[AppearanceRow]) -> ClaimRevisionView {
    ClaimRevisionView {
        claim_id: row.claim_id,
        revision: row.revision,
        story_id: row.story_id,
        speaker_id: row.speaker_id,
        speaker_revision: row.speaker_revision,
        when: row.when().map(|w| w.view()),
        text: row.text,
        kind: row.kind,
        cue: row.cue,
        confidence: row.confidence,
        hedges: row.hedges,
        status: row.status,
        needs_review: row.needs_review,
        appearances: appearances.iter().map(AppearanceView::from).collect(),
        author: row.author,
        reason: row.reason,
        recorded_at: row.recorded_at,
    }
}

/// Resolves requested spans to article revisions and checks each against its
/// body; problems are added to `v` under `appearances[i]`.
async fn resolve_appearances(
    conn: &mut AsyncPgConnection,
    story_id: i64,
    inputs: &[AppearanceInput],
    v: &mut Validator,
) -> AppResult<Vec<Appearance>> {
    if inputs.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<i64> = inputs
        .iter()
        .map(|a| a.article_id)
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let targets = SpanTargets::load(conn, &ids).await?;
    Ok(targets.resolve(story_id, inputs, v))
}

/// What span checks need to know about some articles: each one's current
/// revision, and the story and body length of each of its revisions.
#[derive(Debug, Default)]
pub struct SpanTargets {
    current: HashMap<i64, i32>,
    revisions: HashMap<(i64, i32), SpanTarget>,
}

impl SpanTargets {
    /// Loads the articles `ids` (one query); unknown ids are simply absent.
    pub async fn load(conn: &mut AsyncPgConnection, ids: &[i64]) -> AppResult<SpanTargets> {
        let mut targets = SpanTargets::default();
        targets.extend(conn, ids).await?;
        Ok(targets)
    }

    /// Adds the articles `ids` to what is known (one query).
    pub async fn extend(&mut self, conn: &mut AsyncPgConnection, ids: &[i64]) -> AppResult<()> {
        if ids.is_empty() {
            return Ok(());
        }
        let found: Vec<(i64, i64, i32, i32, i32)> = articles::table
            .inner_join(article_revisions::table.on(article_revisions::article_id.eq(articles::id)))
            .filter(articles::id.eq_any(ids))
            .select((
                articles::id,
                articles::story_id,
                articles::current_revision,
                article_revisions::revision,
                article_revisions::body_chars,
            ))
            .load(conn)
            .await?;
        for (article_id, article_story, current_revision, revision, body_chars) in found {
            self.current.insert(article_id, current_revision);
            self.revisions.insert(
                (article_id, revision),
                SpanTarget {
                    article_id,
                    article_revision: revision,
                    story_id: article_story,
                    body_chars,
                },
            );
        }
        Ok(())
    }

    pub fn knows(&self, article_id: i64) -> bool {
        self.current.contains_key(&article_id)
    }

    /// Checks each requested span of a claim in `story_id`; problems are
    /// added to `v` under `appearances[i]`.
    pub fn resolve(
        &self,
        story_id: i64,
        inputs: &[AppearanceInput],
        v: &mut Validator,
    ) -> Vec<Appearance> {
        let mut resolved = Vec::with_capacity(inputs.len());
        for (i, input) in inputs.iter().enumerate() {
            let field = format!("appearances[{i}]");
            let Some(&current_revision) = self.current.get(&input.article_id) else {
                v.error(
                    format!("{field}.article_id"),
                    format!("article {} does not exist", input.article_id),
                );
                continue;
            };
            let revision = input.article_revision.unwrap_or(current_revision);
            let Some(target) = self.revisions.get(&(input.article_id, revision)) else {
                v.error(
                    format!("{field}.article_revision"),
                    format!("article {} has no revision {revision}", input.article_id),
                );
                continue;
            };
            if let Some(appearance) = check_span(&field, input, target, story_id, v) {
                resolved.push(appearance);
            }
        }
        normalize_appearances(resolved)
    }
}

/// One appearance row to write: where, and what became of it.
#[derive(Debug, Clone)]
pub struct AppearanceWrite {
    pub appearance: Appearance,
    pub state: AppearanceState,
    pub previous_excerpt: Option<String>,
}

impl AppearanceWrite {
    pub(super) fn present(appearance: Appearance) -> Self {
        AppearanceWrite {
            appearance,
            state: AppearanceState::Present,
            previous_excerpt: None,
        }
    }

    /// An existing row as it is, state and history included.
    pub(super) fn kept(row: &AppearanceRow) -> Self {
        AppearanceWrite {
            appearance: row.appearance(),
            state: row.state,
            previous_excerpt: row.previous_excerpt.clone(),
        }
    }
}

async fn insert_appearances(
    conn: &mut AsyncPgConnection,
    claim_id: i64,
    claim_revision: i32,
    list: &[AppearanceWrite],
) -> AppResult<Vec<AppearanceRow>> {
    if list.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<NewAppearanceRow> = list
        .iter()
        .map(|w| NewAppearanceRow {
            claim_id,
            claim_revision,
            article_id: w.appearance.article_id,
            article_revision: w.appearance.article_revision,
            span_start: w.appearance.start,
            span_end: w.appearance.end,
            state: w.state,
            previous_excerpt: w.previous_excerpt.clone(),
        })
        .collect();
    let mut inserted: Vec<AppearanceRow> = diesel::insert_into(claim_appearances::table)
        .values(&rows)
        .returning(AppearanceRow::as_returning())
        .get_results(conn)
        .await?;
    sort_appearances(&mut inserted);
    Ok(inserted)
}

fn sort_appearances(rows: &mut [AppearanceRow]) {
    rows.sort_by_key(|r| (r.article_id, r.article_revision, r.span_start, r.span_end));
}

pub(super) fn revision_row<'a>(
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

/// Logs a new claim: head, revision 1, appearances and event in one transaction.
pub async fn create(
    conn: &mut AsyncPgConnection,
    ctx: &AuditContext,
    claim: ValidNewClaim,
) -> AppResult<ClaimView> {
    conn.transaction(async |conn| {
        let fields = &claim.fields;
        let mut v = Validator::new();
        if !stories::exists(conn, fields.story_id).await? {
            v.error("story_id", format!("story {} does not exist", fields.story_id));
        }
        let speaker = speaker_ref(conn, fields.speaker_id).await?;
        if speaker.is_none() {
            v.error("speaker_id", format!("speaker {} does not exist", fields.speaker_id));
        }
        let appearances = resolve_appearances(conn, fields.story_id, &claim.appearances, &mut v).await?;
        v.finish()?;
        let speaker = speaker.expect("checked above");

        let first = RevisionNumber::FIRST.get();
        let c = ClaimColumns::of(fields);
        let head: ClaimRow = diesel::insert_into(claims::table)
            .values(NewClaimRow {
                story_id: fields.story_id,
                revision: first,
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
                appearances_revision: first,
                needs_review: c.needs_review,
                created_by: &ctx.actor,
                text_key: &c.keys.text_key,
                search_terms: &c.keys.search_terms,
            })
            .returning(ClaimRow::as_returning())
            .get_result(conn)
            .await?;
        diesel::insert_into(claim_revisions::table)
            .values(revision_row(head.id, first, first, fields, ctx, None))
            .execute(conn)
            .await?;
        let writes: Vec<AppearanceWrite> = appearances.into_iter().map(AppearanceWrite::present).collect();
        let appearance_rows = insert_appearances(conn, head.id, first, &writes).await?;
        events::record(
            conn,
            ctx,
            EventRecord {
                action: AuditAction::ClaimCreated,
                subject_type: "claim",
                subject_id: head.id,
                story_id: Some(head.story_id),
                before_revision: None,
                after_revision: Some(first),
                details: json!({ "speaker_id": head.speaker_id, "appearances": appearance_rows.len() }),
            },
        )
        .await?;
        Ok(view(head, speaker, &appearance_rows))
    })
    .await
}

/// The API view of a claim head; its speaker is fetched unless already known.
pub(super) async fn view_with_speaker(
    conn: &mut AsyncPgConnection,
    head: ClaimRow,
    known: Option<SpeakerRef>,
    rows: &[AppearanceRow],
) -> AppResult<ClaimView> {
    let speaker = match known {
        Some(s) => s,
        None => speaker_ref(conn, head.speaker_id)
            .await?
            .ok_or_else(|| AppError::not_found(format!("speaker {}", head.speaker_id)))?,
    };
    Ok(view(head, speaker, rows))
}

pub(super) async fn speaker_ref(
    conn: &mut AsyncPgConnection,
    id: i64,
) -> AppResult<Option<SpeakerRef>> {
    Ok(speakers::table
        .find(id)
        .select(SpeakerRef::as_select())
        .first(conn)
        .await
        .optional()?)
}

pub(super) async fn appearances_of(
    conn: &mut AsyncPgConnection,
    claim_id: i64,
    claim_revision: i32,
) -> AppResult<Vec<AppearanceRow>> {
    let mut rows: Vec<AppearanceRow> = claim_appearances::table
        .filter(claim_appearances::claim_id.eq(claim_id))
        .filter(claim_appearances::claim_revision.eq(claim_revision))
        .select(AppearanceRow::as_select())
        .load(conn)
        .await?;
    sort_appearances(&mut rows);
    Ok(rows)
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
pub(super) struct WrittenRevision {
    pub(super) head: ClaimRow,
    /// The new appearance rows, when the revision changed them.
    pub(super) appearances: Option<Vec<AppearanceRow>>,
}

/// Appends revision n+1 of a locked claim: the revision row, its appearance
/// rows when they change, the new head, and the audit event (whose revision
/// numbers are filled in here). The caller holds the head's row lock.
pub(super) async fn write_next_revision(
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

pub async fn get(conn: &mut AsyncPgConnection, id: i64) -> AppResult<ClaimView> {
    let found: Option<(ClaimRow, SpeakerRef)> = claims::table
        .inner_join(speakers::table)
        .filter(claims::id.eq(id))
        .select((ClaimRow::as_select(), SpeakerRef::as_select()))
        .first(conn)
        .await
        .optional()?;
    let (row, speaker) = found.ok_or_else(|| AppError::not_found(format!("claim {id}")))?;
    let appearances = appearances_of(conn, id, row.appearances_revision).await?;
    Ok(view(row, speaker, &appearances))
}

/// Filters for listing claims. `said_from`/`said_to` select claims whose
/// statement time (valid time) overlaps [from, to).
#[derive(Debug, Default, Clone)]
pub struct ClaimFilter {
    pub story_id: Option<i64>,
    pub speaker_id: Option<i64>,
    pub status: Option<ClaimStatus>,
    pub kind: Option<ClaimKind>,
    pub said_from: Option<DateTime<Utc>>,
    pub said_to: Option<DateTime<Utc>>,
    /// When the ledger first recorded the claim (transaction time), in [from, to).
    pub recorded_from: Option<DateTime<Utc>>,
    pub recorded_to: Option<DateTime<Utc>>,
}

pub async fn list(
    conn: &mut AsyncPgConnection,
    filter: ClaimFilter,
    page: PageRequest,
) -> AppResult<Page<ClaimView>> {
    let mut query = claims::table
        .inner_join(speakers::table)
        .select((ClaimRow::as_select(), SpeakerRef::as_select()))
        .into_boxed();
    if let Some(id) = filter.story_id {
        query = query.filter(claims::story_id.eq(id));
    }
    if let Some(id) = filter.speaker_id {
        query = query.filter(claims::speaker_id.eq(id));
    }
    if let Some(status) = filter.status {
        query = query.filter(claims::status.eq(status));
    }
    if let Some(kind) = filter.kind {
        query = query.filter(claims::kind.eq(kind));
    }
    if let Some(to) = filter.said_to {
        query = query.filter(claims::said_start.lt(to));
    }
    if let Some(from) = filter.said_from {
        // An instant at or after `from`, or an interval still open at `from`.
        query = query.filter(
            claims::said_end
                .gt(from)
                .or(claims::said_end.is_null().and(claims::said_start.ge(from))),
        );
    }
    if let Some(t) = filter.recorded_from {
        query = query.filter(claims::created_at.ge(t));
    }
    if let Some(t) = filter.recorded_to {
        query = query.filter(claims::created_at.lt(t));
    }
    let rows: Vec<(ClaimRow, SpeakerRef)> = keyset!(query, claims::id, page).load(conn).await?;
    let page = Page::from_rows(rows, page.limit, |(row, _)| row.id);

    // One query for the appearances of the whole page (no N+1).
    let keys: Vec<(i64, i32)> = page
        .items
        .iter()
        .map(|(r, _)| (r.id, r.appearances_revision))
        .collect();
    let mut by_claim = appearances_for(conn, &keys).await?;
    Ok(page.map(|(row, speaker)| {
        let appearances = by_claim
            .remove(&(row.id, row.appearances_revision))
            .unwrap_or_default();
        view(row, speaker, &appearances)
    }))
}

/// Appearance rows for several (claim, claim revision) pairs, in one query.
pub(super) async fn appearances_for(
    conn: &mut AsyncPgConnection,
    keys: &[(i64, i32)],
) -> AppResult<HashMap<(i64, i32), Vec<AppearanceRow>>> {
    let mut map: HashMap<(i64, i32), Vec<AppearanceRow>> = HashMap::new();
    if keys.is_empty() {
        return Ok(map);
    }
    let claim_ids: Vec<i64> = keys
        .iter()
        .map(|k| k.0)
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let wanted: HashSet<(i64, i32)> = keys.iter().copied().collect();
    let rows: Vec<AppearanceRow> = claim_appearances::table
        .filter(claim_appearances::claim_id.eq_any(&claim_ids))
        .select(AppearanceRow::as_select())
        .load(conn)
        .await?;
    for row in rows {
        let key = (row.claim_id, row.claim_revision);
        if wanted.contains(&key) {
            map.entry(key).or_default().push(row);
        }
    }
    for list in map.values_mut() {
        sort_appearances(list);
    }
    Ok(map)
}

pub async fn revisions(
    conn: &mut AsyncPgConnection,
    claim_id: i64,
) -> AppResult<Vec<ClaimRevisionView>> {
    let rows: Vec<ClaimRevisionRow> = claim_revisions::table
        .filter(claim_revisions::claim_id.eq(claim_id))
        .order(claim_revisions::revision.asc())
        .select(ClaimRevisionRow::as_select())
        .load(conn)
        .await?;
    if rows.is_empty() {
        return Err(AppError::not_found(format!("claim {claim_id}")));
    }
    let keys: Vec<(i64, i32)> = rows
        .iter()
        .map(|r| (r.claim_id, r.appearances_revision))
        .collect();
    let by_revision = appearances_for(conn, &keys).await?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let appearances = by_revision
                .get(&(row.claim_id, row.appearances_revision))
                .cloned()
                .unwrap_or_default();
            revision_view(row, &appearances)
        })
        .collect())
}

/// Whether the claim exists (to tell a missing claim from a missing revision).
async fn exists(conn: &mut AsyncPgConnection, claim_id: i64) -> AppResult<bool> {
    Ok(claims::table
        .find(claim_id)
        .select(claims::id)
        .first::<i64>(conn)
        .await
        .optional()?
        .is_some())
}

pub async fn revision(
    conn: &mut AsyncPgConnection,
    claim_id: i64,
    revision: i32,
) -> AppResult<ClaimRevisionView> {
    let row: Option<ClaimRevisionRow> = claim_revisions::table
        .find((claim_id, revision))
        .select(ClaimRevisionRow::as_select())
        .first(conn)
        .await
        .optional()?;
    let Some(row) = row else {
        return Err(if exists(conn, claim_id).await? {
            AppError::not_found(format!("revision {revision} of claim {claim_id}"))
        } else {
            AppError::not_found(format!("claim {claim_id}"))
        });
    };
    let appearances = appearances_of(conn, claim_id, row.appearances_revision).await?;
    Ok(revision_view(row, &appearances))
}

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
fn carry_one(alignment: &Alignment<'_>, row: &AppearanceRow) -> Carried {
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

fn to_i32(n: usize) -> AppResult<i32> {
    i32::try_from(n).map_err(|_| anyhow::anyhow!("offset {n} does not fit a span").into())
}

/// Two revisions of a claim, for diffing.
pub async fn revision_pair(
    conn: &mut AsyncPgConnection,
    claim_id: i64,
    from: Option<i32>,
    to: Option<i32>,
) -> AppResult<(ClaimRevisionView, ClaimRevisionView)> {
    let current: i32 = claims::table
        .find(claim_id)
        .select(claims::revision)
        .first(conn)
        .await
        .optional()?
        .ok_or_else(|| AppError::not_found(format!("claim {claim_id}")))?;
    let (from, to) = diff_range(current, from, to);
    // Both revisions in one query and their appearances in another.
    let mut rows: HashMap<i32, ClaimRevisionRow> = claim_revisions::table
        .filter(claim_revisions::claim_id.eq(claim_id))
        .filter(claim_revisions::revision.eq_any([from, to]))
        .select(ClaimRevisionRow::as_select())
        .load::<ClaimRevisionRow>(conn)
        .await?
        .into_iter()
        .map(|r| (r.revision, r))
        .collect();
    for n in [from, to] {
        if !rows.contains_key(&n) {
            return Err(AppError::not_found(format!(
                "revision {n} of claim {claim_id}"
            )));
        }
    }
    let keys: Vec<(i64, i32)> = rows
        .values()
        .map(|r| (claim_id, r.appearances_revision))
        .collect();
    let by_revision = appearances_for(conn, &keys).await?;
    let mut view_of = |n: i32| {
        let row = if n == from && from == to {
            rows[&n].clone()
        } else {
            rows.remove(&n).expect("checked above")
        };
        let appearances = by_revision
            .get(&(claim_id, row.appearances_revision))
            .map_or(&[][..], Vec::as_slice);
        revision_view(row, appearances)
    };
    let before = view_of(from);
    let after = view_of(to);
    Ok((before, after))
}

/// A claim as the ledger recorded it at a moment (transaction time).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ClaimAsOf {
    pub as_of: DateTime<Utc>,
    #[serde(flatten)]
    pub claim: ClaimRevisionView,
    /// The review in force at that moment.
    pub latest_review: Option<ReviewRow>,
}

async fn reviews_as_of(
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

/// Several claim revisions at once, by (claim, revision).
pub async fn revisions_by_key(
    conn: &mut AsyncPgConnection,
    keys: &[(i64, i32)],
) -> AppResult<HashMap<(i64, i32), ClaimRevisionView>> {
    if keys.is_empty() {
        return Ok(HashMap::new());
    }
    let wanted: HashSet<(i64, i32)> = keys.iter().copied().collect();
    let ids: Vec<i64> = wanted
        .iter()
        .map(|k| k.0)
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let revisions: Vec<i32> = wanted
        .iter()
        .map(|k| k.1)
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let rows: Vec<ClaimRevisionRow> = claim_revisions::table
        .filter(claim_revisions::claim_id.eq_any(&ids))
        .filter(claim_revisions::revision.eq_any(&revisions))
        .select(ClaimRevisionRow::as_select())
        .load(conn)
        .await?;
    let rows: Vec<ClaimRevisionRow> = rows
        .into_iter()
        .filter(|r| wanted.contains(&(r.claim_id, r.revision)))
        .collect();
    let appearance_keys: Vec<(i64, i32)> = rows
        .iter()
        .map(|r| (r.claim_id, r.appearances_revision))
        .collect();
    let appearances = appearances_for(conn, &appearance_keys).await?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let key = (row.claim_id, row.revision);
            let list = appearances
                .get(&(row.claim_id, row.appearances_revision))
                .cloned()
                .unwrap_or_default();
            (key, revision_view(row, &list))
        })
        .collect())
}

/// Merges speaker `from` into `into`: every claim attributed to `from` gets a
/// new revision attributed to `into`; `from`'s name and aliases become aliases
/// of `into`, and `from` points at it. One transaction.
pub async fn merge_speakers(
    conn: &mut AsyncPgConnection,
    ctx: &AuditContext,
    from: i64,
    into: i64,
) -> AppResult<(Speaker, Vec<i64>)> {
    use super::schema::speakers as sp;
    if from == into {
        return Err(AppError::invalid(
            "into",
            "a speaker cannot be merged into itself",
        ));
    }
    conn.transaction(async |conn| {
        let mut both: Vec<Speaker> = sp::table
            .filter(sp::id.eq_any([from, into]))
            .order(sp::id)
            .select(Speaker::as_select())
            .for_update()
            .load(conn)
            .await?;
        let source_pos = both
            .iter()
            .position(|s| s.id == from)
            .ok_or_else(|| AppError::not_found(format!("speaker {from}")))?;
        let source = both.remove(source_pos);
        let target = both
            .pop()
            .ok_or_else(|| AppError::invalid("into", format!("speaker {into} does not exist")))?;
        if let Some(other) = source.merged_into {
            return Err(AppError::Conflict {
                detail: format!("speaker {from} was already merged into speaker {other}"),
                existing_id: Some(other),
            });
        }
        if target.merged_into.is_some() {
            return Err(AppError::invalid(
                "into",
                format!("speaker {into} was itself merged away"),
            ));
        }
        // Both speakers get a revision first, so that the moved claims'
        // revisions point at the survivor as it is after the merge: it
        // takes the other's name and aliases as aliases, and the other
        // records where it went.
        let reason = format!(
            "speaker {from} ({}) merged into speaker {into} ({})",
            source.name, target.name
        );
        let mut survivor = target.fields();
        survivor.aliases.push(source.name.clone());
        survivor.aliases.extend(source.aliases.iter().cloned());
        survivor.aliases = distinct_aliases(&survivor.name, survivor.aliases);
        let merged = super::speakers::write_revision(
            conn,
            ctx,
            &target,
            &survivor,
            &reason,
            json!({ "merged_from": from }),
        )
        .await?;
        let mut gone = source.fields();
        gone.merged_into = Some(into);
        super::speakers::write_revision(conn, ctx, &source, &gone, &reason, json!({})).await?;
        // Lock every claim to move before writing, in id order (no deadlock
        // with another writer of the same claims).
        let ids: Vec<i64> = claims::table
            .filter(claims::speaker_id.eq(from))
            .order(claims::id)
            .select(claims::id)
            .for_update()
            .load(conn)
            .await?;
        for id in &ids {
            let head: ClaimRow = claims::table
                .find(*id)
                .select(ClaimRow::as_select())
                .first(conn)
                .await?;
            let rows = appearances_of(conn, *id, head.appearances_revision).await?;
            let mut fields = head.state(&rows).fields;
            fields.speaker_id = into;
            write_next_revision(
                conn,
                ctx,
                &head,
                &fields,
                None,
                &reason,
                EventRecord {
                    action: AuditAction::ClaimRevised,
                    subject_type: "claim",
                    subject_id: *id,
                    story_id: Some(head.story_id),
                    before_revision: None,
                    after_revision: None,
                    details: json!({ "changed_fields": ["speaker_id"], "reason": reason }),
                },
            )
            .await?;
        }
        events::record(
            conn,
            ctx,
            EventRecord {
                action: AuditAction::SpeakerMerged,
                subject_type: "speaker",
                subject_id: into,
                story_id: None,
                before_revision: None,
                after_revision: None,
                details: json!({ "from": from, "into": into, "claims_moved": ids }),
            },
        )
        .await?;
        Ok((merged, ids))
    })
    .await
}
