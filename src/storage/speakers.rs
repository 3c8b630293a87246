//! Speakers.

use std::collections::HashMap;

use diesel::{
    BoolExpressionMethods, ExpressionMethods, OptionalExtension, QueryDsl, SelectableHelper,
    TextExpressionMethods,
};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde_json::json;

use super::events::{self, AuditContext, EventRecord};
use super::models::{NewSpeakerRow, Speaker};
use super::schema::speakers;
use super::text_keys::SpeakerKeys;
use super::{Page, PageRequest, keyset};
use crate::domain::speaker::{SpeakerKind, ValidSpeaker};
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
            })
            .returning(Speaker::as_returning())
            .get_result(conn)
            .await?;
        events::record(
            conn,
            ctx,
            EventRecord {
                action: "speaker.created",
                subject_type: "speaker",
                subject_id: created.id,
                story_id: None,
                before_revision: None,
                after_revision: None,
                details: json!({ "name": created.name, "kind": created.kind }),
            },
        )
        .await?;
        Ok(created)
    })
    .await
}

/// Gives `speaker` these aliases (less those that share a match key with
/// its name or an earlier alias), with their keys.
pub async fn set_aliases(
    conn: &mut AsyncPgConnection,
    speaker: &Speaker,
    aliases: Vec<String>,
) -> AppResult<Speaker> {
    let mut seen = vec![match_key(&speaker.name)];
    let mut kept = Vec::with_capacity(aliases.len());
    for alias in aliases {
        let key = match_key(&alias);
        if !seen.contains(&key) {
            seen.push(key);
            kept.push(alias);
        }
    }
    let keys = SpeakerKeys::of(
        &speaker.name,
        speaker.role.as_deref(),
        speaker.affiliation.as_deref(),
        &kept,
    );
    Ok(diesel::update(speakers::table.find(speaker.id))
        .set((
            speakers::aliases.eq(&kept),
            speakers::alias_keys.eq(&keys.alias_keys),
            speakers::search_terms.eq(&keys.search_terms),
        ))
        .returning(Speaker::as_returning())
        .get_result(conn)
        .await?)
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
