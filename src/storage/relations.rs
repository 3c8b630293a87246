//! Typed links between claims, and the contested pairs of a story.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use diesel::{
    BoolExpressionMethods, ExpressionMethods, OptionalExtension, QueryDsl, SelectableHelper,
};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde::Serialize;
use serde_json::json;

use super::events::{self, AuditContext, EventRecord};
use super::models::SpeakerRef;
use super::schema::{claim_relations, claim_reviews, claims, speakers};
use super::{Page, PageRequest, keyset};
use crate::domain::audit::AuditAction;
use crate::domain::claim::ClaimStatus;
use crate::domain::relation::{RelationKind, ValidRelation};
use crate::domain::review::Verdict;
use crate::error::{AppError, AppResult};

#[derive(Debug, Clone, diesel::Queryable, diesel::Selectable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = claim_relations, check_for_backend(diesel::pg::Pg))]
pub struct Relation {
    pub id: i64,
    pub claim_id: i64,
    pub kind: RelationKind,
    pub target_id: i64,
    pub note: Option<String>,
    pub author: String,
    pub created_at: DateTime<Utc>,
}

pub async fn add(
    conn: &mut AsyncPgConnection,
    ctx: &AuditContext,
    claim_id: i64,
    relation: ValidRelation,
) -> AppResult<Relation> {
    conn.transaction(async |conn| {
        let found: Vec<(i64, i64)> = claims::table
            .filter(claims::id.eq_any([claim_id, relation.target_id]))
            .select((claims::id, claims::story_id))
            .load(conn)
            .await?;
        let story_id = found
            .iter()
            .find(|(id, _)| *id == claim_id)
            .map(|(_, s)| *s)
            .ok_or_else(|| AppError::not_found(format!("claim {claim_id}")))?;
        if !found.iter().any(|(id, _)| *id == relation.target_id) {
            return Err(AppError::invalid(
                "target_id",
                format!("claim {} does not exist", relation.target_id),
            ));
        }
        let existing: Option<i64> = claim_relations::table
            .filter(claim_relations::claim_id.eq(claim_id))
            .filter(claim_relations::kind.eq(relation.kind))
            .filter(claim_relations::target_id.eq(relation.target_id))
            .select(claim_relations::id)
            .first(conn)
            .await
            .optional()?;
        if let Some(id) = existing {
            return Err(AppError::Conflict {
                detail: format!("claim {claim_id} already {} claim {}", relation.kind, relation.target_id),
                existing_id: Some(id),
            });
        }
        let stored: Relation = diesel::insert_into(claim_relations::table)
            .values((
                claim_relations::claim_id.eq(claim_id),
                claim_relations::kind.eq(relation.kind),
                claim_relations::target_id.eq(relation.target_id),
                claim_relations::note.eq(&relation.note),
                claim_relations::author.eq(&ctx.actor),
            ))
            .returning(Relation::as_returning())
            .get_result(conn)
            .await?;
        events::record(
            conn,
            ctx,
            EventRecord {
                action: AuditAction::RelationAdded,
                subject_type: "claim",
                subject_id: claim_id,
                story_id: Some(story_id),
                before_revision: None,
                after_revision: None,
                details: json!({ "relation_id": stored.id, "kind": stored.kind, "target_id": stored.target_id }),
            },
        )
        .await?;
        Ok(stored)
    })
    .await
}

/// A page of the links from and to a claim.
pub async fn of_claim(
    conn: &mut AsyncPgConnection,
    claim_id: i64,
    page: PageRequest,
) -> AppResult<Page<Relation>> {
    let exists: Option<i64> = claims::table
        .find(claim_id)
        .select(claims::id)
        .first(conn)
        .await
        .optional()?;
    exists.ok_or_else(|| AppError::not_found(format!("claim {claim_id}")))?;
    let query = claim_relations::table
        .filter(
            claim_relations::claim_id
                .eq(claim_id)
                .or(claim_relations::target_id.eq(claim_id)),
        )
        .select(Relation::as_select())
        .into_boxed();
    let rows: Vec<Relation> = keyset!(query, claim_relations::id, page).load(conn).await?;
    Ok(Page::from_rows(rows, page.limit, |r| r.id))
}

/// One side of a contested pair.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ContestedClaim {
    pub id: i64,
    pub story_id: i64,
    pub text: String,
    pub status: ClaimStatus,
    pub speaker: SpeakerRef,
    /// The verdict of the review in force, if any.
    pub latest_verdict: Option<Verdict>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ContestedPair {
    pub relation_id: i64,
    pub note: Option<String>,
    pub claim: ContestedClaim,
    pub contradicts: ContestedClaim,
}

/// A page of the pairs of claims in contradiction where either side
/// belongs to the story, keyed by the relation.
pub async fn contested(
    conn: &mut AsyncPgConnection,
    story_id: i64,
    page: PageRequest,
) -> AppResult<Page<ContestedPair>> {
    let in_story = || {
        claims::table
            .filter(claims::story_id.eq(story_id))
            .select(claims::id)
    };
    let query = claim_relations::table
        .filter(claim_relations::kind.eq(RelationKind::Contradicts))
        .filter(
            claim_relations::claim_id
                .eq_any(in_story())
                .or(claim_relations::target_id.eq_any(in_story())),
        )
        .select(Relation::as_select())
        .into_boxed();
    let links: Vec<Relation> = keyset!(query, claim_relations::id, page).load(conn).await?;
    let links = Page::from_rows(links, page.limit, |l| l.id);
    let mut ids: Vec<i64> = links
        .items
        .iter()
        .flat_map(|l| [l.claim_id, l.target_id])
        .collect();
    ids.sort_unstable();
    ids.dedup();
    type Row = (i64, i64, String, ClaimStatus, SpeakerRef);
    let rows: Vec<Row> = claims::table
        .inner_join(speakers::table)
        .filter(claims::id.eq_any(&ids))
        .select((
            claims::id,
            claims::story_id,
            claims::text,
            claims::status,
            SpeakerRef::as_select(),
        ))
        .load(conn)
        .await?;
    let verdicts: Vec<(i64, Verdict)> = claim_reviews::table
        .filter(claim_reviews::claim_id.eq_any(&ids))
        .order((claim_reviews::claim_id, claim_reviews::id.desc()))
        .distinct_on(claim_reviews::claim_id)
        .select((claim_reviews::claim_id, claim_reviews::verdict))
        .load(conn)
        .await?;
    let verdicts: HashMap<i64, Verdict> = verdicts.into_iter().collect();
    let by_id: HashMap<i64, ContestedClaim> = rows
        .into_iter()
        .map(|(id, story_id, text, status, speaker)| {
            let claim = ContestedClaim {
                id,
                story_id,
                text,
                status,
                speaker,
                latest_verdict: verdicts.get(&id).copied(),
            };
            (id, claim)
        })
        .collect();
    let next_after = links.next_after;
    Ok(Page {
        items: links
            .items
            .into_iter()
            .filter_map(|l| {
                Some(ContestedPair {
                    relation_id: l.id,
                    note: l.note,
                    claim: by_id.get(&l.claim_id)?.clone(),
                    contradicts: by_id.get(&l.target_id)?.clone(),
                })
            })
            .collect(),
        next_after,
    })
}
