//! Full-text search, and likely duplicates of a claim.

use diesel::sql_types::{BigInt, Double, Nullable, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::Serialize;
use std::collections::HashMap;

use crate::domain::claim::{ClaimKind, ClaimStatus};
use crate::domain::text::search_query;
use crate::error::AppResult;

/// One search hit: a claim, a speaker or an article.
#[derive(Debug, Clone, diesel::QueryableByName, Serialize, utoipa::ToSchema)]
pub struct Hit {
    /// `claim`, `speaker` or `article`.
    #[diesel(sql_type = Text)]
    pub kind: String,
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub story_id: Option<i64>,
    #[diesel(sql_type = Double)]
    pub rank: f64,
    /// The matching passage with matched words between `**`.
    #[diesel(sql_type = Text)]
    pub snippet: String,
}

#[derive(Debug, Default, Clone)]
pub struct SearchFilter {
    pub story_id: Option<i64>,
    pub speaker_id: Option<i64>,
    pub status: Option<ClaimStatus>,
    pub kind: Option<ClaimKind>,
    /// Which kinds of hits: claims, speakers, articles.
    pub claims: bool,
    pub speakers: bool,
    pub articles: bool,
}

const HEADLINE: &str = "'StartSel=**, StopSel=**, MaxWords=35, MinWords=12, MaxFragments=2'";

/// Ranked hits for a web-search style query (`"exact phrase"`, `-not`, `or`).
/// The query's words are made into search terms the way stored texts were
/// ([`search_query`]), so matching ignores case and normalization in every
/// script, whatever the server's locale.
/// Claim filters narrow claims; a story filter narrows articles too; speakers
/// are shared by all stories and are matched only when no claim filter is set.
pub async fn search(
    conn: &mut AsyncPgConnection,
    q: &str,
    filter: &SearchFilter,
    limit: i64,
) -> AppResult<Vec<Hit>> {
    let claim_filtered =
        filter.speaker_id.is_some() || filter.status.is_some() || filter.kind.is_some();
    let mut parts = Vec::new();
    if filter.claims {
        parts.push(format!(
            "SELECT 'claim' AS kind, c.id, c.story_id, ts_rank(c.search_vector, q)::float8 AS rank, \
                    ts_headline('english', c.text, q, {HEADLINE}) AS snippet \
               FROM claims c, websearch_to_tsquery('english', $1) q, p \
              WHERE c.search_vector @@ q \
                AND (p.story IS NULL OR c.story_id = p.story) AND (p.speaker IS NULL OR c.speaker_id = p.speaker) \
                AND (p.status IS NULL OR c.status = p.status) AND (p.kind IS NULL OR c.kind = p.kind)"
        ));
    }
    if filter.speakers && !claim_filtered && filter.story_id.is_none() {
        parts.push(format!(
            "SELECT 'speaker' AS kind, s.id, NULL::int8 AS story_id, ts_rank(s.search_vector, q)::float8 AS rank, \
                    ts_headline('simple', s.name || coalesce(' — ' || s.role, ''), q, {HEADLINE}) AS snippet \
               FROM speakers s, websearch_to_tsquery('simple', $1) q \
              WHERE s.search_vector @@ q"
        ));
    }
    if filter.articles && !claim_filtered {
        parts.push(format!(
            "SELECT 'article' AS kind, a.id, a.story_id, ts_rank(a.search_vector, q)::float8 AS rank, \
                    ts_headline('english', r.headline, q, {HEADLINE}) AS snippet \
               FROM articles a \
               JOIN article_revisions r ON r.article_id = a.id AND r.revision = a.current_revision, \
                    websearch_to_tsquery('english', $1) q, \
                    p \
              WHERE a.search_vector @@ q AND (p.story IS NULL OR a.story_id = p.story)"
        ));
    }
    if parts.is_empty() {
        return Ok(Vec::new());
    }
    // Every parameter is typed once here, whichever parts use it.
    let sql = format!(
        "WITH p AS (SELECT $2::int8 AS story, $3::int8 AS speaker, $4::text AS status, $5::text AS kind) \
         {} ORDER BY rank DESC, kind, id LIMIT $6",
        parts.join(" UNION ALL ")
    );
    Ok(diesel::sql_query(sql)
        .bind::<Text, _>(search_query(q))
        .bind::<Nullable<BigInt>, _>(filter.story_id)
        .bind::<Nullable<BigInt>, _>(filter.speaker_id)
        .bind::<Nullable<Text>, _>(filter.status.map(|s| s.as_str()))
        .bind::<Nullable<Text>, _>(filter.kind.map(|k| k.as_str()))
        .bind::<BigInt, _>(limit)
        .load(conn)
        .await?)
}

/// A claim already in the ledger that reads like a new one.
#[derive(Debug, Clone, diesel::QueryableByName, Serialize, utoipa::ToSchema)]
pub struct LikelyDuplicate {
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = BigInt)]
    pub story_id: i64,
    #[diesel(sql_type = BigInt)]
    pub speaker_id: i64,
    #[diesel(sql_type = Text)]
    pub text: String,
    /// Trigram similarity of the lowercased texts, 0–1.
    #[diesel(sql_type = Double)]
    pub similarity: f64,
}

/// For each new claim `(id, text)`: the likely duplicates of
/// [`likely_duplicates`], in one statement for all of them.
pub async fn likely_duplicates_many(
    conn: &mut AsyncPgConnection,
    claims: &[(i64, &str)],
    threshold: f64,
) -> AppResult<HashMap<i64, Vec<LikelyDuplicate>>> {
    use diesel::QueryableByName;
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = BigInt)]
        of_id: i64,
        #[diesel(embed)]
        duplicate: LikelyDuplicate,
    }
    if claims.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<Row> = diesel::sql_query(
        "SELECT t.id AS of_id, d.id, d.story_id, d.speaker_id, d.text, d.similarity \
           FROM unnest($1::bigint[], $2::text[]) AS t(id, text) \
           CROSS JOIN LATERAL ( \
             SELECT id, story_id, speaker_id, text, similarity FROM ( \
               SELECT id, story_id, speaker_id, text, (1 - (lower(text) <-> lower(t.text)))::float8 AS similarity \
                 FROM claims WHERE id <> t.id \
                ORDER BY lower(text) <-> lower(t.text) LIMIT 5) nearest \
              WHERE similarity >= $3) d \
          ORDER BY t.id, d.similarity DESC, d.id",
    )
    .bind::<diesel::sql_types::Array<BigInt>, _>(claims.iter().map(|c| c.0).collect::<Vec<_>>())
    .bind::<diesel::sql_types::Array<Text>, _>(claims.iter().map(|c| c.1).collect::<Vec<_>>())
    .bind::<Double, _>(threshold)
    .load(conn)
    .await?;
    let mut out: HashMap<i64, Vec<LikelyDuplicate>> = HashMap::new();
    for row in rows {
        out.entry(row.of_id).or_default().push(row.duplicate);
    }
    Ok(out)
}

/// Claims whose text is at least `threshold` similar to `text` (trigram
/// similarity of the lowercased texts), most similar first.
pub async fn likely_duplicates(
    conn: &mut AsyncPgConnection,
    text: &str,
    except_id: i64,
    threshold: f64,
) -> AppResult<Vec<LikelyDuplicate>> {
    // The 5 nearest by trigram distance (a GiST index walk), then the threshold.
    Ok(diesel::sql_query(
        "SELECT id, story_id, speaker_id, text, similarity FROM ( \
           SELECT id, story_id, speaker_id, text, (1 - (lower(text) <-> lower($1)))::float8 AS similarity \
             FROM claims WHERE id <> $2 \
            ORDER BY lower(text) <-> lower($1) LIMIT 5) nearest \
          WHERE similarity >= $3 ORDER BY similarity DESC, id",
    )
    .bind::<Text, _>(text)
    .bind::<BigInt, _>(except_id)
    .bind::<Double, _>(threshold)
    .load(conn)
    .await?)
}
