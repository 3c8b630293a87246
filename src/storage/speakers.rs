//! Speakers.

use std::collections::HashMap;

use diesel::{
    BoolExpressionMethods, ExpressionMethods, OptionalExtension, QueryDsl, SelectableHelper,
    TextExpressionMethods,
};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde_json::json;

use super::events::{self, AuditContext, EventRecord};
use super::models::{NewSpeakerRevisionRow, NewSpeakerRow, Speaker, SpeakerRevisionRow};
use super::schema::{speaker_revisions, speakers};
use super::text_keys::SpeakerKeys;
use super::{Page, PageRequest, keyset};
use crate::domain::audit::AuditAction;
use crate::domain::revision::{IfMatch, RevisionNumber};
use crate::domain::speaker::{
    SpeakerFields, SpeakerKind, ValidSpeaker, ValidSpeakerPatch, distinct_aliases,
};
use crate::domain::text::match_key;
use crate::error::{AppError, AppResult};

pub async fn create(
    conn: &mut AsyncPgConnection,
    ctx: &AuditContext,
    speaker: ValidSpeaker,
) -> AppResult<Speaker> {
    let keys = SpeakerKeys::of(
        &speaker.name,
        speaker.role.as_deref(),
        speaker.affiliation.as_deref(),
        &speaker.aliases,
    );
    let fields = speaker.fields();
    let first = RevisionNumber::FIRST.get();
    conn.transaction(async |conn| {
        let created: Speaker = diesel::insert_into(speakers::table)
            .values(NewSpeakerRow {
                kind: speaker.kind,
                name: &speaker.name,
                role: speaker.role.as_deref(),
                affiliation: speaker.affiliation.as_deref(),
                aliases: &speaker.aliases,
                name_key: &keys.name_key,
                role_name_key: keys.role_name_key.as_deref(),
                alias_keys: &keys.alias_keys,
                search_terms: &keys.search_terms,
                revision: first,
            })
            .returning(Speaker::as_returning())
            .get_result(conn)
            .await?;
        diesel::insert_into(speaker_revisions::table)
            .values(NewSpeakerRevisionRow::of(
                created.id, first, &fields, &ctx.actor, None,
            ))
            .execute(conn)
            .await?;
        events::record(
            conn,
            ctx,
            EventRecord {
                action: AuditAction::SpeakerCreated,
                subject_type: "speaker",
                subject_id: created.id,
                story_id: None,
                before_revision: None,
                after_revision: Some(first),
                details: json!({ "name": created.name, "kind": created.kind }),
            },
        )
        .await?;
        Ok(created)
    })
    .await
}

/// The one way a speaker changes: a new revision with the `next` fields,
/// the head rewritten with them (and their match keys), and an audit event,
/// in the caller's transaction, with the head locked by the caller. Returns
/// the head as it is now.
pub async fn write_revision(
    conn: &mut AsyncPgConnection,
    ctx: &AuditContext,
    head: &Speaker,
    next: &SpeakerFields,
    reason: &str,
    details: serde_json::Value,
) -> AppResult<Speaker> {
    let before = RevisionNumber::new(head.revision)
        .ok_or_else(|| anyhow::anyhow!("speaker {} has revision {}", head.id, head.revision))?;
    let revision = before.next()?.get();
    let changed = head.fields().changed_fields(next);
    diesel::insert_into(speaker_revisions::table)
        .values(NewSpeakerRevisionRow::of(
            head.id,
            revision,
            next,
            &ctx.actor,
            Some(reason),
        ))
        .execute(conn)
        .await?;
    let keys = SpeakerKeys::of(
        &next.name,
        next.role.as_deref(),
        next.affiliation.as_deref(),
        &next.aliases,
    );
    let updated: Speaker = diesel::update(speakers::table.find(head.id))
        .set((
            speakers::kind.eq(next.kind),
            speakers::name.eq(&next.name),
            speakers::role.eq(next.role.as_deref()),
            speakers::affiliation.eq(next.affiliation.as_deref()),
            speakers::aliases.eq(&next.aliases),
            speakers::merged_into.eq(next.merged_into),
            speakers::name_key.eq(&keys.name_key),
            speakers::role_name_key.eq(keys.role_name_key.as_deref()),
            speakers::alias_keys.eq(&keys.alias_keys),
            speakers::search_terms.eq(&keys.search_terms),
            speakers::revision.eq(revision),
            speakers::updated_at.eq(diesel::dsl::now),
        ))
        .returning(Speaker::as_returning())
        .get_result(conn)
        .await?;
    let mut details = details;
    details["changed_fields"] = json!(changed);
    details["reason"] = json!(reason);
    events::record(
        conn,
        ctx,
        EventRecord {
            action: AuditAction::SpeakerRevised,
            subject_type: "speaker",
            subject_id: head.id,
            story_id: None,
            before_revision: Some(before.get()),
            after_revision: Some(revision),
            details,
        },
    )
    .await?;
    Ok(updated)
}

/// The speaker, locked for a change (404 when there is none).
pub async fn lock(conn: &mut AsyncPgConnection, id: i64) -> AppResult<Speaker> {
    speakers::table
        .find(id)
        .select(Speaker::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()?
        .ok_or_else(|| AppError::not_found(format!("speaker {id}")))
}

/// `PATCH /v1/speakers/{id}`: checks If-Match against the current revision,
/// applies the patch, and writes a revision unless nothing changes.
pub async fn revise(
    conn: &mut AsyncPgConnection,
    ctx: &AuditContext,
    id: i64,
    patch: ValidSpeakerPatch,
    if_match: IfMatch,
) -> AppResult<(Speaker, Vec<&'static str>)> {
    conn.transaction(async |conn| {
        let head = lock(conn, id).await?;
        if_match.check(head.revision)?;
        if let Some(into) = head.merged_into {
            return Err(AppError::Conflict {
                detail: format!("speaker {id} was merged into speaker {into}; change that one"),
                existing_id: Some(into),
            });
        }
        let change = head.fields().apply(&patch);
        if change.changed_fields.is_empty() {
            return Ok((head, change.changed_fields));
        }
        let updated =
            write_revision(conn, ctx, &head, &change.next, &patch.reason, json!({})).await?;
        Ok((updated, change.changed_fields))
    })
    .await
}

/// A page of the speaker's revisions, keyed by revision number.
pub async fn revisions(
    conn: &mut AsyncPgConnection,
    id: i64,
    page: PageRequest,
) -> AppResult<Page<SpeakerRevisionRow>> {
    let query = speaker_revisions::table
        .filter(speaker_revisions::speaker_id.eq(id))
        .select(SpeakerRevisionRow::as_select())
        .into_boxed();
    let rows: Vec<SpeakerRevisionRow> = keyset!(query, speaker_revisions::revision, page, as i32)
        .load(conn)
        .await?;
    // Every speaker has revision 1: an empty page is a missing speaker
    // unless the cursor read past the end.
    if rows.is_empty() && (page.after.is_none() || !exists(conn, id).await?) {
        return Err(AppError::not_found(format!("speaker {id}")));
    }
    Ok(Page::from_rows(rows, page.limit, |r| i64::from(r.revision)))
}

/// One revision of a speaker.
pub async fn revision(
    conn: &mut AsyncPgConnection,
    id: i64,
    revision: i32,
) -> AppResult<SpeakerRevisionRow> {
    speaker_revisions::table
        .find((id, revision))
        .select(SpeakerRevisionRow::as_select())
        .first(conn)
        .await
        .optional()?
        .ok_or_else(|| AppError::not_found(format!("revision {revision} of speaker {id}")))
}

/// The speaker revisions named by `keys` (speaker, revision), as claim
/// revisions point at them.
pub async fn revisions_named(
    conn: &mut AsyncPgConnection,
    keys: &[(i64, i32)],
) -> AppResult<HashMap<(i64, i32), SpeakerRevisionRow>> {
    if keys.is_empty() {
        return Ok(HashMap::new());
    }
    let ids: Vec<i64> = keys.iter().map(|k| k.0).collect();
    let rows: Vec<SpeakerRevisionRow> = speaker_revisions::table
        .filter(speaker_revisions::speaker_id.eq_any(&ids))
        .select(SpeakerRevisionRow::as_select())
        .load(conn)
        .await?;
    Ok(rows
        .into_iter()
        .filter(|r| keys.contains(&(r.speaker_id, r.revision)))
        .map(|r| ((r.speaker_id, r.revision), r))
        .collect())
}

pub async fn get(conn: &mut AsyncPgConnection, id: i64) -> AppResult<Speaker> {
    speakers::table
        .find(id)
        .select(Speaker::as_select())
        .first(conn)
        .await
        .optional()?
        .ok_or_else(|| AppError::not_found(format!("speaker {id}")))
}

pub async fn exists(conn: &mut AsyncPgConnection, id: i64) -> AppResult<bool> {
    Ok(speakers::table
        .find(id)
        .select(speakers::id)
        .first::<i64>(conn)
        .await
        .optional()?
        .is_some())
}

#[derive(Debug, Default)]
pub struct SpeakerFilter {
    pub kind: Option<SpeakerKind>,
    /// Part of the name or of an alias, compared by match key (any case,
    /// any normalization form).
    pub name_contains: Option<String>,
}

pub async fn list(
    conn: &mut AsyncPgConnection,
    filter: SpeakerFilter,
    page: PageRequest,
) -> AppResult<Page<Speaker>> {
    let mut query = speakers::table.select(Speaker::as_select()).into_boxed();
    if let Some(kind) = filter.kind {
        query = query.filter(speakers::kind.eq(kind));
    }
    if let Some(text) = filter.name_contains {
        let pattern = format!("%{}%", escape_like(&match_key(&text)));
        query = query.filter(
            speakers::name_key.like(pattern.clone()).or(
                diesel::dsl::sql::<diesel::sql_types::Bool>(
                    "EXISTS (SELECT FROM unnest(speakers.alias_keys) k WHERE k LIKE ",
                )
                .bind::<diesel::sql_types::Text, _>(pattern)
                .sql(")"),
            ),
        );
    }
    let rows: Vec<Speaker> = keyset!(query, speakers::id, page).load(conn).await?;
    Ok(Page::from_rows(rows, page.limit, |s| s.id))
}

/// Escapes LIKE wildcards so that user text matches literally.
fn escape_like(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// A speaker whose name, one of whose aliases, or whose role and name
/// together are `name` by match key (any case, normalization form or width;
/// see [`match_key`]): "Kishida" (an alias) and "Prime Minister Fumio
/// Kishida" (role and name) both find "Fumio Kishida".
pub async fn find_by_name_or_alias(
    conn: &mut AsyncPgConnection,
    name: &str,
) -> AppResult<Option<Speaker>> {
    let names = [name.to_owned()];
    let Some(&id) = find_ids_by_names(conn, &names).await?.get(name) else {
        return Ok(None);
    };
    Ok(speakers::table
        .find(id)
        .select(Speaker::as_select())
        .first(conn)
        .await
        .optional()?)
}

/// The speaker each of `names` names, by the rule of [`find_by_name_or_alias`]
/// (the lowest id wins when several match); names that match nobody are
/// absent. One query however many names: every speaker's keys are listed
/// once and hash-joined with the names.
pub async fn find_ids_by_names(
    conn: &mut AsyncPgConnection,
    names: &[String],
) -> AppResult<HashMap<String, i64>> {
    #[derive(diesel::QueryableByName)]
    struct Match {
        #[diesel(sql_type = diesel::sql_types::Text)]
        name: String,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        id: i64,
    }
    if names.is_empty() {
        return Ok(HashMap::new());
    }
    let keys: Vec<String> = names.iter().map(|n| match_key(n)).collect();
    let found: Vec<Match> = diesel::sql_query(
        "WITH live AS (SELECT id, name_key, role_name_key, alias_keys FROM speakers WHERE merged_into IS NULL),
              keys AS (SELECT id, name_key AS k FROM live
                       UNION ALL SELECT id, role_name_key FROM live WHERE role_name_key IS NOT NULL
                       UNION ALL SELECT id, a FROM live, unnest(alias_keys) a)
         SELECT DISTINCT ON (n.name) n.name, keys.id
           FROM unnest($1::text[], $2::text[]) n(name, key) JOIN keys ON keys.k = n.key
          ORDER BY n.name, keys.id",
    )
    .bind::<diesel::sql_types::Array<diesel::sql_types::Text>, _>(names)
    .bind::<diesel::sql_types::Array<diesel::sql_types::Text>, _>(&keys)
    .load(conn)
    .await?;
    Ok(found.into_iter().map(|m| (m.name, m.id)).collect())
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
    use crate::storage::claims::{appearances_of, write_next_revision};
    use crate::storage::models::ClaimRow;
    use crate::storage::schema::claims;
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
        let merged = write_revision(
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
        write_revision(conn, ctx, &source, &gone, &reason, json!({})).await?;
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
