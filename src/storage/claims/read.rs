//! Reading claims: heads, lists, revisions and their appearances.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use diesel::{
    BoolExpressionMethods, ExpressionMethods, OptionalExtension, QueryDsl, SelectableHelper,
};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::domain::claim::{ClaimKind, ClaimStatus};
use crate::domain::revision::diff_range;
use crate::error::{AppError, AppResult};
use crate::storage::models::*;
use crate::storage::schema::{claim_appearances, claim_revisions, claims, speakers};
use crate::storage::{Page, PageRequest, keyset};

use super::*;

/// The API view of a claim head; its speaker is fetched unless already known.
pub(in crate::storage) async fn view_with_speaker(
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

pub(in crate::storage) async fn speaker_ref(
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

pub(in crate::storage) async fn appearances_of(
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
pub(in crate::storage) async fn appearances_for(
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

/// A page of the claim's revisions, keyed by revision number.
pub async fn revisions(
    conn: &mut AsyncPgConnection,
    claim_id: i64,
    page: PageRequest,
) -> AppResult<Page<ClaimRevisionView>> {
    let query = claim_revisions::table
        .filter(claim_revisions::claim_id.eq(claim_id))
        .select(ClaimRevisionRow::as_select())
        .into_boxed();
    let rows: Vec<ClaimRevisionRow> = keyset!(query, claim_revisions::revision, page, as i32)
        .load(conn)
        .await?;
    // Every claim has revision 1, so an empty page is a missing claim
    // unless the cursor read past the end.
    if rows.is_empty() && (page.after.is_none() || !exists(conn, claim_id).await?) {
        return Err(AppError::not_found(format!("claim {claim_id}")));
    }
    let page = Page::from_rows(rows, page.limit, |r| i64::from(r.revision));
    let keys: Vec<(i64, i32)> = page
        .items
        .iter()
        .map(|r| (r.claim_id, r.appearances_revision))
        .collect();
    let by_revision = appearances_for(conn, &keys).await?;
    Ok(page.map(|row| {
        let appearances = by_revision
            .get(&(row.claim_id, row.appearances_revision))
            .cloned()
            .unwrap_or_default();
        revision_view(row, &appearances)
    }))
}

/// Whether the claim exists (to tell a missing claim from a missing revision).
pub(super) async fn exists(conn: &mut AsyncPgConnection, claim_id: i64) -> AppResult<bool> {
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

/// The spans into one article revision: for each claim that has one (in
/// any of its revisions), its latest appearance rows there. A page marking
/// where claims sit in that revision reads them.
pub async fn appearances_in_article_revision(
    conn: &mut AsyncPgConnection,
    article_id: i64,
    article_revision: i32,
) -> AppResult<Vec<AppearanceRow>> {
    let rows: Vec<AppearanceRow> = claim_appearances::table
        .filter(claim_appearances::article_id.eq(article_id))
        .filter(claim_appearances::article_revision.eq(article_revision))
        .order((
            claim_appearances::claim_id,
            claim_appearances::claim_revision.desc(),
            claim_appearances::span_start,
        ))
        .select(AppearanceRow::as_select())
        .load(conn)
        .await?;
    // The rows of each claim's latest revision there.
    let mut latest: HashMap<i64, i32> = HashMap::new();
    for r in &rows {
        latest.entry(r.claim_id).or_insert(r.claim_revision);
    }
    Ok(rows
        .into_iter()
        .filter(|r| latest.get(&r.claim_id) == Some(&r.claim_revision))
        .collect())
}
