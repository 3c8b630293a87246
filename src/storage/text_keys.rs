//! The key and search-term columns the service computes for the database
//! (see [`crate::domain::text`]): what each table stores, and the refresh
//! that fills them for rows written before they existed or under an older
//! key version.

use diesel::sql_types::{Array, BigInt, Integer, Nullable, Text};
use diesel::{Connection, QueryableByName, RunQueryDsl};
use diesel_async::AsyncPgConnection;
use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;

use crate::domain::near_duplicates::Trigrams;
use crate::domain::text::{match_key, search_document};

/// Bumped whenever `match_key`, `search_document` or the near-duplicate
/// band keys change what they make
/// (a rule, or the Unicode version of their data): every stored key is then
/// made again at the next start.
pub const VERSION: i32 = 2;

/// Rows refreshed per statement.
const BATCH: i64 = 1_000;

/// The keys of one speaker.
#[derive(Debug, Clone, PartialEq)]
pub struct SpeakerKeys {
    pub name_key: String,
    /// "role name" ("Prime Minister Fumio Kishida"), when there is a role.
    pub role_name_key: Option<String>,
    pub alias_keys: Vec<String>,
    pub search_terms: String,
}

impl SpeakerKeys {
    pub fn of(
        name: &str,
        role: Option<&str>,
        affiliation: Option<&str>,
        aliases: &[String],
    ) -> Self {
        let mut all = vec![name, role.unwrap_or(""), affiliation.unwrap_or("")];
        all.extend(aliases.iter().map(String::as_str));
        SpeakerKeys {
            name_key: match_key(name),
            role_name_key: role.map(|r| match_key(&format!("{r} {name}"))),
            alias_keys: aliases.iter().map(|a| match_key(a)).collect(),
            search_terms: search_document(&all.join(" ")),
        }
    }
}

/// The key of a claim's text, the search terms of its text and cue, and
/// the text's near-duplicate band keys.
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimKeys {
    pub text_key: String,
    pub search_terms: String,
    pub duplicate_bands: Vec<i64>,
}

impl ClaimKeys {
    pub fn of(text: &str, cue: Option<&str>) -> Self {
        let searched = match cue {
            Some(cue) => format!("{text} {cue}"),
            None => text.to_owned(),
        };
        let text_key = match_key(text);
        ClaimKeys {
            duplicate_bands: Trigrams::of_key(&text_key).band_keys(),
            text_key,
            search_terms: search_document(&searched),
        }
    }
}

/// The search terms of an article's current headline.
pub fn article_terms(headline: &str) -> String {
    search_document(headline)
}

type SyncConn = AsyncConnectionWrapper<AsyncPgConnection>;

/// One batch of a table's refresh: rows after an id; the last id refreshed
/// and how many rows, or nothing when no row is left.
type RefreshBatch = fn(&mut SyncConn, i64) -> anyhow::Result<Option<(i64, u64)>>;

/// Makes the keys of every row again when the database's key version is
/// older than [`VERSION`] (after the migration that added them, or after an
/// upgrade that changed the rules). Runs under the migration lock, in
/// batches, each in its own transaction; the version is recorded last, so
/// an interrupted refresh starts over at the next start. Returns how many
/// rows were refreshed.
pub fn refresh(conn: &mut SyncConn) -> anyhow::Result<u64> {
    #[derive(QueryableByName)]
    struct Version {
        #[diesel(sql_type = Integer)]
        version: i32,
    }
    let stored: Version =
        diesel::sql_query("SELECT version FROM text_keys_version").get_result(conn)?;
    if stored.version >= VERSION {
        return Ok(0);
    }
    let mut refreshed = 0;
    refreshed += refresh_table(conn, "speakers", refresh_speakers)?;
    refreshed += refresh_table(conn, "claims", refresh_claims)?;
    refreshed += refresh_table(conn, "articles", refresh_articles)?;
    diesel::sql_query("UPDATE text_keys_version SET version = $1")
        .bind::<Integer, _>(VERSION)
        .execute(conn)?;
    if refreshed > 0 {
        tracing::info!(rows = refreshed, version = VERSION, "text keys refreshed");
    }
    Ok(refreshed)
}

/// Calls `batch(conn, after_id)` until it returns no last id.
fn refresh_table(conn: &mut SyncConn, table: &str, batch: RefreshBatch) -> anyhow::Result<u64> {
    let mut after = 0;
    let mut rows = 0;
    while let Some((last, n)) = conn.transaction(|conn| batch(conn, after))? {
        after = last;
        rows += n;
        tracing::debug!(table, after, "text keys refreshed up to id");
    }
    Ok(rows)
}

fn refresh_speakers(conn: &mut SyncConn, after: i64) -> anyhow::Result<Option<(i64, u64)>> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = BigInt)]
        id: i64,
        #[diesel(sql_type = Text)]
        name: String,
        #[diesel(sql_type = Nullable<Text>)]
        role: Option<String>,
        #[diesel(sql_type = Nullable<Text>)]
        affiliation: Option<String>,
        #[diesel(sql_type = Array<Text>)]
        aliases: Vec<String>,
    }
    let rows: Vec<Row> = diesel::sql_query(
        "SELECT id, name, role, affiliation, aliases FROM speakers WHERE id > $1 ORDER BY id LIMIT $2",
    )
    .bind::<BigInt, _>(after)
    .bind::<BigInt, _>(BATCH)
    .load(conn)?;
    let Some(last) = rows.last().map(|r| r.id) else {
        return Ok(None);
    };
    let keys: Vec<SpeakerKeys> = rows
        .iter()
        .map(|r| {
            SpeakerKeys::of(
                &r.name,
                r.role.as_deref(),
                r.affiliation.as_deref(),
                &r.aliases,
            )
        })
        .collect();
    // Arrays of arrays cannot be unnested into rows, so aliases travel as JSON.
    let alias_keys: Vec<serde_json::Value> = keys
        .iter()
        .map(|k| serde_json::json!(k.alias_keys))
        .collect();
    diesel::sql_query(
        "UPDATE speakers s
            SET name_key = t.name_key, role_name_key = t.role_name_key,
                alias_keys = ARRAY(SELECT jsonb_array_elements_text(t.alias_keys)),
                search_terms = t.search_terms
           FROM unnest($1::bigint[], $2::text[], $3::text[], $4::jsonb[], $5::text[])
                AS t(id, name_key, role_name_key, alias_keys, search_terms)
          WHERE s.id = t.id",
    )
    .bind::<Array<BigInt>, _>(rows.iter().map(|r| r.id).collect::<Vec<_>>())
    .bind::<Array<Text>, _>(keys.iter().map(|k| k.name_key.as_str()).collect::<Vec<_>>())
    .bind::<Array<Nullable<Text>>, _>(
        keys.iter()
            .map(|k| k.role_name_key.as_deref())
            .collect::<Vec<_>>(),
    )
    .bind::<Array<diesel::sql_types::Jsonb>, _>(alias_keys)
    .bind::<Array<Text>, _>(
        keys.iter()
            .map(|k| k.search_terms.as_str())
            .collect::<Vec<_>>(),
    )
    .execute(conn)?;
    Ok(Some((last, rows.len() as u64)))
}

fn refresh_claims(conn: &mut SyncConn, after: i64) -> anyhow::Result<Option<(i64, u64)>> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = BigInt)]
        id: i64,
        #[diesel(sql_type = Text)]
        text: String,
        #[diesel(sql_type = Nullable<Text>)]
        cue: Option<String>,
    }
    let rows: Vec<Row> =
        diesel::sql_query("SELECT id, text, cue FROM claims WHERE id > $1 ORDER BY id LIMIT $2")
            .bind::<BigInt, _>(after)
            .bind::<BigInt, _>(BATCH)
            .load(conn)?;
    let Some(last) = rows.last().map(|r| r.id) else {
        return Ok(None);
    };
    let keys: Vec<ClaimKeys> = rows
        .iter()
        .map(|r| ClaimKeys::of(&r.text, r.cue.as_deref()))
        .collect();
    diesel::sql_query(
        "UPDATE claims c SET text_key = t.text_key, search_terms = t.search_terms,
                duplicate_bands = t.duplicate_bands::bigint[]
           FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[])
                AS t(id, text_key, search_terms, duplicate_bands)
          WHERE c.id = t.id",
    )
    .bind::<Array<BigInt>, _>(rows.iter().map(|r| r.id).collect::<Vec<_>>())
    .bind::<Array<Text>, _>(keys.iter().map(|k| k.text_key.as_str()).collect::<Vec<_>>())
    .bind::<Array<Text>, _>(
        keys.iter()
            .map(|k| k.search_terms.as_str())
            .collect::<Vec<_>>(),
    )
    .bind::<Array<Text>, _>(
        keys.iter()
            .map(|k| array_literal(&k.duplicate_bands))
            .collect::<Vec<_>>(),
    )
    .execute(conn)?;
    Ok(Some((last, rows.len() as u64)))
}

/// An array of keys as a PostgreSQL array literal (`{1,-2}`): one row's
/// array inside an `unnest` of many rows, which a 2-D array cannot carry
/// (its rows would need one length).
pub fn array_literal(keys: &[i64]) -> String {
    let items: Vec<String> = keys.iter().map(i64::to_string).collect();
    format!("{{{}}}", items.join(","))
}

fn refresh_articles(conn: &mut SyncConn, after: i64) -> anyhow::Result<Option<(i64, u64)>> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = BigInt)]
        id: i64,
        #[diesel(sql_type = Text)]
        headline: String,
    }
    let rows: Vec<Row> = diesel::sql_query(
        "SELECT a.id, r.headline FROM articles a
           JOIN article_revisions r ON r.article_id = a.id AND r.revision = a.current_revision
          WHERE a.id > $1 ORDER BY a.id LIMIT $2",
    )
    .bind::<BigInt, _>(after)
    .bind::<BigInt, _>(BATCH)
    .load(conn)?;
    let Some(last) = rows.last().map(|r| r.id) else {
        return Ok(None);
    };
    diesel::sql_query(
        "UPDATE articles a SET search_terms = t.search_terms
           FROM unnest($1::bigint[], $2::text[]) AS t(id, search_terms)
          WHERE a.id = t.id",
    )
    .bind::<Array<BigInt>, _>(rows.iter().map(|r| r.id).collect::<Vec<_>>())
    .bind::<Array<Text>, _>(
        rows.iter()
            .map(|r| article_terms(&r.headline))
            .collect::<Vec<_>>(),
    )
    .execute(conn)?;
    Ok(Some((last, rows.len() as u64)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_speaker_is_found_by_role_and_name_only_when_it_has_a_role() {
        let with = SpeakerKeys::of("Fumio Kishida", Some("Prime Minister"), None, &[]);
        assert_eq!(
            with.role_name_key.as_deref(),
            Some("prime minister fumio kishida")
        );
        let without = SpeakerKeys::of("Fumio Kishida", None, None, &["KISHIDA".into()]);
        assert_eq!(without.role_name_key, None);
        assert_eq!(without.alias_keys, ["kishida"]);
    }

    #[test]
    fn a_speaker_is_searched_by_every_name_it_has() {
        let keys = SpeakerKeys::of(
            "ÉMILE ZOLA",
            Some("Écrivain"),
            Some("L'Aurore"),
            &["Zola".into()],
        );
        assert_eq!(keys.search_terms, "émile zola écrivain l'aurore zola");
    }

    #[test]
    fn a_claim_is_searched_by_its_text_and_cue() {
        let keys = ClaimKeys::of("L'ÉCOLE est fermée", Some("a déclaré"));
        assert_eq!(keys.text_key, "l'école est fermée");
        assert_eq!(keys.search_terms, "l'école est fermée a déclaré");
    }
}
