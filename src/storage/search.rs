//! Full-text search, and likely duplicates of a claim.

use diesel::sql_types::{BigInt, Double, Nullable, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::Serialize;

use super::Page;
use std::collections::HashMap;

use crate::domain::claim::{ClaimKind, ClaimStatus};
use crate::domain::near_duplicates::Trigrams;
use crate::domain::text::search_query;
use crate::error::AppResult;
use crate::storage::prepared::prepared_statement;
use diesel::sql_types::Array;

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
///
/// Hits are ranked, so pages go by position: `offset` hits are skipped
/// (at most [`MAX_OFFSET`]), and the page's `next_after` is the offset of
/// the next page.
pub async fn search(
    conn: &mut AsyncPgConnection,
    q: &str,
    filter: &SearchFilter,
    limit: i64,
    offset: i64,
) -> AppResult<Page<Hit>> {
    let claim_filtered =
        filter.speaker_id.is_some() || filter.status.is_some() || filter.kind.is_some();
    // Only the filters given become conditions, so that each is planned
    // with its index (an `IS NULL OR` condition can use none).
    let mut claim_conditions = String::new();
    for (given, condition) in [
        (filter.story_id.is_some(), " AND c.story_id = $2"),
        (filter.speaker_id.is_some(), " AND c.speaker_id = $3"),
        (filter.status.is_some(), " AND c.status = $4"),
        (filter.kind.is_some(), " AND c.kind = $5"),
    ] {
        if given {
            claim_conditions.push_str(condition);
        }
    }
    let mut parts = Vec::new();
    if filter.claims {
        parts.push(claim_hits(&claim_conditions));
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
        let story = if filter.story_id.is_some() {
            " AND a.story_id = $2"
        } else {
            ""
        };
        parts.push(format!(
            "SELECT 'article' AS kind, a.id, a.story_id, ts_rank(a.search_vector, q)::float8 AS rank, \
                    ts_headline('english', r.headline, q, {HEADLINE}) AS snippet \
               FROM articles a \
               JOIN article_revisions r ON r.article_id = a.id AND r.revision = a.current_revision, \
                    websearch_to_tsquery('english', $1) q \
              WHERE a.search_vector @@ q{story}"
        ));
    }
    if parts.is_empty() {
        return Ok(Page {
            items: Vec::new(),
            next_after: None,
        });
    }
    // Not prepared: each search is planned for its words (how many claims
    // say them decides between an index walk and a bitmap), which a cached
    // generic plan cannot know. Parameters a text does not name are typed
    // by their binds.
    let sql = format!(
        "{} ORDER BY rank DESC, kind, id LIMIT $6 OFFSET $7",
        parts.join(" UNION ALL ")
    );
    let mut hits: Vec<Hit> = diesel::sql_query(sql)
        .bind::<Text, _>(search_query(q))
        .bind::<Nullable<BigInt>, _>(filter.story_id)
        .bind::<Nullable<BigInt>, _>(filter.speaker_id)
        .bind::<Nullable<Text>, _>(filter.status.map(|s| s.as_str()))
        .bind::<Nullable<Text>, _>(filter.kind.map(|k| k.as_str()))
        .bind::<BigInt, _>(limit + 1)
        .bind::<BigInt, _>(offset)
        .load(conn)
        .await?;
    let more = hits.len() as i64 > limit && offset + limit <= MAX_OFFSET;
    hits.truncate(usize::try_from(limit).unwrap_or(0));
    Ok(Page {
        items: hits,
        next_after: more.then_some(offset + limit),
    })
}

/// The claims part of a search: every match, ranked — except for a query
/// of one lexeme, whose rank depends only on how often a claim repeats it
/// (ts_rank's default weights and no length normalization): all claims
/// that say it once tie and are ordered by id after those that repeat it.
/// Its pages come from the claims that repeat the word (the
/// `repeated_terms` index; few) and the lowest ids among the rest, read in
/// the primary key's order until the page is full — the same hits as
/// ranking every match, at a cost that no longer grows with the number of
/// claims saying a common word. The query's lexeme count is a constant of
/// the statement, so only one of the two branches runs.
fn claim_hits(conditions: &str) -> String {
    const QUERY: &str = "websearch_to_tsquery('english', $1)";
    format!(
        "SELECT 'claim' AS kind, c.id, c.story_id, ts_rank(c.search_vector, q)::float8 AS rank, \
                ts_headline('english', c.text, q, {HEADLINE}) AS snippet \
           FROM claims c, {QUERY} q \
          WHERE numnode({QUERY}) <> 1 AND c.search_vector @@ q{conditions} \
         UNION ALL \
         SELECT 'claim' AS kind, c.id, c.story_id, ts_rank(c.search_vector, q)::float8 AS rank, \
                ts_headline('english', c.text, q, {HEADLINE}) AS snippet \
           FROM claims c, {QUERY} q \
          WHERE c.id IN ( \
                  SELECT c.id FROM claims c \
                   WHERE numnode({QUERY}) = 1 AND c.repeated_terms @@ {QUERY}{conditions} \
                  UNION ALL \
                  (SELECT c.id FROM claims c \
                    WHERE numnode({QUERY}) = 1 AND c.search_vector @@ {QUERY} \
                      AND NOT c.repeated_terms @@ {QUERY}{conditions} \
                    ORDER BY c.id LIMIT $6 + $7))"
    )
}

/// How deep search pages go: ranked hits past the first thousand are
/// better reached with a narrower query.
pub const MAX_OFFSET: i64 = 1_000;

/// A claim already in the ledger that reads like a new one.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LikelyDuplicate {
    pub id: i64,
    pub story_id: i64,
    pub speaker_id: i64,
    pub text: String,
    /// Trigram similarity of the two texts' match keys, 0–1
    /// (see `src/domain/near_duplicates.rs`).
    pub similarity: f64,
}

/// Likely duplicates returned per claim.
const SHOWN: usize = 5;

/// Band keys read per claim at most: a key that many claims share (a wire
/// text logged a thousand times) yields its newest claims. This bounds the
/// cost of a look-up whatever the size of the ledger.
const READ_PER_BAND: i64 = 8;
/// Candidates per claim whose exact similarity is computed: those sharing
/// the most band keys with it.
const CANDIDATES: i64 = 32;

prepared_statement! {
    /// Per band key of each new claim, its newest holders; per claim, the
    /// holders sharing the most keys, with their texts' match keys.
    ///
    /// The shape is pinned down, because each connection plans this once
    /// and keeps the plan while the ledger changes under it. The bounds
    /// come from the CTE (unknown to the planner), so that each band is
    /// read newest first from its index and stopped after 8 (with the
    /// bounds as literals, a connection that planned on a young ledger
    /// sorted every holder of a band on each look-up, and writes of one
    /// repeated text fell from ~850 to ~300 a second). Each candidate's
    /// claim is looked up by id (`OFFSET 0` keeps it a per-row look-up), so
    /// that no statistics can turn it into a join with every claim (once
    /// ANALYZE saw one text logged 14,000 times, the planner merge-joined
    /// the candidates with all claims: 205 ms a look-up, writes of that
    /// text fell from 725 to 40 a second).
    struct Candidates {
        of_ids: Vec<i64> as Array<BigInt> = "bigint[]",
        bands: Vec<i64> as Array<BigInt> = "bigint[]",
        read_per_band: i64 as BigInt = "bigint",
        candidates: i64 as BigInt = "bigint",
    }
    sql = "\
SELECT t.of_id, c.id, c.story_id, c.speaker_id, c.text, c.text_key
  FROM (SELECT q.of_id, d.claim_id,
               row_number() OVER (PARTITION BY q.of_id ORDER BY count(*) DESC, d.claim_id DESC) AS place
          FROM p, unnest(p.of_ids, p.bands) AS q(of_id, band)
               CROSS JOIN LATERAL (
                 SELECT b.claim_id FROM claim_duplicate_bands b
                  WHERE b.band = q.band AND b.claim_id <> q.of_id
                  ORDER BY b.claim_id DESC LIMIT p.read_per_band) d
         GROUP BY q.of_id, d.claim_id) t
  CROSS JOIN p
  CROSS JOIN LATERAL (
    SELECT c.id, c.story_id, c.speaker_id, c.text, c.text_key
      FROM claims c WHERE c.id = t.claim_id OFFSET 0) c
 WHERE t.place <= p.candidates";
}

/// For each new claim `(id, text)`: the claims already logged whose text is
/// at least `threshold` similar to it (see [`crate::domain::near_duplicates`]),
/// most similar first (the newest first among equals), at most five. One
/// statement for all of them.
pub async fn likely_duplicates_many(
    conn: &mut AsyncPgConnection,
    claims: &[(i64, &str)],
    threshold: f64,
) -> AppResult<HashMap<i64, Vec<LikelyDuplicate>>> {
    use diesel::QueryableByName;
    #[derive(QueryableByName)]
    struct Candidate {
        #[diesel(sql_type = BigInt)]
        of_id: i64,
        #[diesel(sql_type = BigInt)]
        id: i64,
        #[diesel(sql_type = BigInt)]
        story_id: i64,
        #[diesel(sql_type = BigInt)]
        speaker_id: i64,
        #[diesel(sql_type = Text)]
        text: String,
        #[diesel(sql_type = Text)]
        text_key: String,
    }
    let trigrams: HashMap<i64, Trigrams> = claims
        .iter()
        .map(|&(id, text)| (id, Trigrams::of_text(text)))
        .collect();
    let (of_ids, bands): (Vec<i64>, Vec<i64>) = trigrams
        .iter()
        .flat_map(|(&id, t)| t.band_keys().into_iter().map(move |band| (id, band)))
        .unzip();
    let mut out: HashMap<i64, Vec<LikelyDuplicate>> = HashMap::new();
    if bands.is_empty() {
        return Ok(out);
    }
    let candidates: Vec<Candidate> = Candidates {
        of_ids,
        bands,
        read_per_band: READ_PER_BAND,
        candidates: CANDIDATES,
    }
    .load(conn)
    .await?;
    for c in candidates {
        let similarity = trigrams[&c.of_id].similarity(&Trigrams::of_key(&c.text_key));
        if similarity >= threshold {
            out.entry(c.of_id).or_default().push(LikelyDuplicate {
                id: c.id,
                story_id: c.story_id,
                speaker_id: c.speaker_id,
                text: c.text,
                similarity,
            });
        }
    }
    for found in out.values_mut() {
        // Equally similar: the newest first, as the band keys were read.
        found.sort_by(|a, b| b.similarity.total_cmp(&a.similarity).then(b.id.cmp(&a.id)));
        found.truncate(SHOWN);
    }
    Ok(out)
}

/// The likely duplicates of one claim (see [`likely_duplicates_many`]).
pub async fn likely_duplicates(
    conn: &mut AsyncPgConnection,
    text: &str,
    except_id: i64,
    threshold: f64,
) -> AppResult<Vec<LikelyDuplicate>> {
    Ok(
        likely_duplicates_many(conn, &[(except_id, text)], threshold)
            .await?
            .remove(&except_id)
            .unwrap_or_default(),
    )
}
