//! ClaimReview out (JSON-LD for a reviewed claim) and in (import from
//! fact-checkers' markup), the import idempotent item by item.

use chrono::{DateTime, Utc};
use diesel::{
    BoolExpressionMethods, ExpressionMethods, JoinOnDsl, OptionalExtension, QueryDsl,
    SelectableHelper,
};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde::Serialize;
use serde_json::{Value, json};

use super::claims;
use super::events::AuditContext;
use super::models::{ClaimRow, Speaker};
use super::reviews::{self, ReviewRow};
use super::schema::{
    article_revisions, articles, claim_appearances, claim_reviews, claims as claims_table, speakers,
};
use crate::domain::auth::Role;
use crate::domain::claim::{ClaimFields, ClaimKind, ClaimStatus, ValidNewClaim};
use crate::domain::claimreview::{ReadItem, read_item, schema_type, speaker_kind};
use crate::domain::review::{Evidence, ValidReview};
use crate::domain::revision::IfMatch;
use crate::domain::speaker::NewSpeaker;
use crate::domain::speaker::SpeakerKind;
use crate::domain::text::match_key;
use crate::error::{AppError, AppResult};

/// schema.org ClaimReview JSON-LD for a claim's review in force.
pub async fn export(
    conn: &mut AsyncPgConnection,
    claim_id: i64,
    base_url: &str,
) -> AppResult<Value> {
    let (claim, speaker): (ClaimRow, Speaker) = claims_table::table
        .inner_join(speakers::table)
        .filter(claims_table::id.eq(claim_id))
        .select((ClaimRow::as_select(), Speaker::as_select()))
        .first(conn)
        .await
        .optional()?
        .ok_or_else(|| AppError::not_found(format!("claim {claim_id}")))?;
    let (review, source): (ReviewRow, Option<Value>) = claim_reviews::table
        .filter(claim_reviews::claim_id.eq(claim_id))
        .order(claim_reviews::id.desc())
        .select((ReviewRow::as_select(), claim_reviews::source_document))
        .first(conn)
        .await
        .optional()?
        .ok_or_else(|| AppError::NotFound(format!("claim {claim_id} has no review yet")))?;
    // A fact-checker's review exports as it came: its URL, author, date,
    // rating in its own words and scale, language and claim as published.
    if let Some(mut document) = source {
        if let Some(map) = document.as_object_mut() {
            map.entry("@context")
                .or_insert_with(|| Value::String("https://schema.org".into()));
            map.entry("@type")
                .or_insert_with(|| Value::String("ClaimReview".into()));
        }
        return Ok(document);
    }
    // Where the claim appears: the articles of its current appearances.
    let appearances: Vec<(String, DateTime<Utc>, String)> = claim_appearances::table
        .inner_join(articles::table.on(articles::id.eq(claim_appearances::article_id)))
        .inner_join(
            article_revisions::table.on(article_revisions::article_id
                .eq(claim_appearances::article_id)
                .and(article_revisions::revision.eq(claim_appearances::article_revision))),
        )
        .filter(claim_appearances::claim_id.eq(claim_id))
        .filter(claim_appearances::claim_revision.eq(claim.appearances_revision))
        .select((
            articles::url,
            articles::published_at,
            article_revisions::headline,
        ))
        .distinct()
        .load(conn)
        .await?;
    let (rating_value, rating_name) = review.verdict.rating();
    let mut rating = json!({ "@type": "Rating", "bestRating": 5, "worstRating": 1, "alternateName": rating_name });
    if let Some(v) = rating_value {
        rating["ratingValue"] = json!(v);
    }
    let mut author = json!({ "@type": schema_type(speaker.kind), "name": speaker.name });
    if let Some(role) = &speaker.role {
        author["jobTitle"] = json!(role);
    }
    let said = claim
        .said_start
        .or_else(|| appearances.iter().map(|a| a.1).min());
    let mut item = json!({
        "@type": "Claim",
        "author": author,
        "appearance": appearances.iter().map(|(url, published, headline)| json!({
            "@type": "CreativeWork", "url": url, "headline": headline, "datePublished": published.to_rfc3339(),
        })).collect::<Vec<_>>(),
    });
    if let Some(t) = said {
        item["datePublished"] = json!(t.to_rfc3339());
    }
    if let Some(first) = appearances.iter().min_by_key(|a| a.1) {
        item["firstAppearance"] = json!({ "@type": "CreativeWork", "url": first.0 });
    }
    Ok(json!({
        "@context": "https://schema.org",
        "@type": "ClaimReview",
        "url": format!("{base_url}/v1/claims/{claim_id}/reviews#review-{}", review.id),
        "claimReviewed": claim.text,
        "datePublished": review.created_at.to_rfc3339(),
        "author": { "@type": "Person", "name": review.reviewer },
        "reviewBody": review.rationale,
        "reviewRating": rating,
        "itemReviewed": item,
    }))
}

/// What importing one ClaimReview did.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = ClaimReviewImportItem)]
pub struct ImportReport {
    pub index: usize,
    /// `created` (something new was written), `matched` (all of it was
    /// already in the ledger) or `rejected`.
    pub outcome: &'static str,
    /// Why it was rejected: every defect of the record, by field.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<ImportProblem>,
    /// What was read in another way than given (a relative URL resolved, a
    /// rating whose words and value disagree, a missing claimant).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub speaker_id: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub claim_id: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub review_id: Option<i64>,
}

/// One defect of a rejected record.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = ClaimReviewImportProblem)]
pub struct ImportProblem {
    pub field: String,
    pub message: String,
}

/// The name of the speaker for claims whose record names no claimant.
const UNKNOWN_CLAIMANT: &str = "Unknown claimant";

/// Imports ClaimReview items into a story, each in its own transaction.
/// Importing the same items again writes nothing: a review is known by its
/// URL (a fact-checker's, or claimtrail's own `#review-N` address), a
/// speaker by name or alias, a claim by its text (match key) in the story.
/// `page` resolves relative URLs.
pub async fn import(
    conn: &mut AsyncPgConnection,
    ctx: &AuditContext,
    role: Role,
    story_id: i64,
    page: Option<&str>,
    items: &[Value],
) -> AppResult<Vec<ImportReport>> {
    if !super::stories::exists(conn, story_id).await? {
        return Err(AppError::invalid(
            "story",
            format!("story {story_id} does not exist"),
        ));
    }
    let mut reports = Vec::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        let read = match read_item(item, page) {
            Ok(read) => read,
            Err(problems) => {
                reports.push(ImportReport {
                    index,
                    outcome: "rejected",
                    problems: problems
                        .into_iter()
                        .map(|(field, message)| ImportProblem { field, message })
                        .collect(),
                    warnings: Vec::new(),
                    speaker_id: None,
                    claim_id: None,
                    review_id: None,
                });
                continue;
            }
        };
        let warnings = read.warnings.clone();
        let result = conn
            .transaction(async |conn| import_one(conn, ctx, role, story_id, read).await)
            .await;
        reports.push(match result {
            Ok((created, speaker_id, claim_id, review_id)) => ImportReport {
                index,
                outcome: if created { "created" } else { "matched" },
                problems: Vec::new(),
                warnings,
                speaker_id,
                claim_id: Some(claim_id),
                review_id: Some(review_id),
            },
            Err(AppError::Internal(e)) => return Err(AppError::Internal(e)),
            Err(AppError::Unavailable(e)) => return Err(AppError::Unavailable(e)),
            Err(e) => ImportReport {
                index,
                outcome: "rejected",
                problems: problems_of(e),
                warnings,
                speaker_id: None,
                claim_id: None,
                review_id: None,
            },
        });
    }
    Ok(reports)
}

fn problems_of(e: AppError) -> Vec<ImportProblem> {
    match e {
        AppError::Validation(errors) => errors
            .into_iter()
            .map(|f| ImportProblem {
                field: f.field,
                message: f.message,
            })
            .collect(),
        other => vec![ImportProblem {
            field: "item".into(),
            message: other.to_string(),
        }],
    }
}

/// The review a ClaimReview URL names, if the ledger has it: claimtrail's
/// own export address (`…/v1/claims/{claim}/reviews#review-{id}`), or a
/// fact-checker's review imported before from that URL.
async fn known_review(conn: &mut AsyncPgConnection, url: &str) -> AppResult<Option<(i64, i64)>> {
    if let Some((claim_id, review_id)) = own_review_address(url) {
        let found: Option<i64> = claim_reviews::table
            .filter(claim_reviews::id.eq(review_id))
            .filter(claim_reviews::claim_id.eq(claim_id))
            .select(claim_reviews::claim_id)
            .first(conn)
            .await
            .optional()?;
        if found.is_some() {
            return Ok(Some((claim_id, review_id)));
        }
    }
    Ok(claim_reviews::table
        .filter(claim_reviews::source_url.eq(url))
        .order(claim_reviews::id.asc())
        .select((claim_reviews::claim_id, claim_reviews::id))
        .first(conn)
        .await
        .optional()?)
}

/// (claim, review) of a URL of the form claimtrail's export gives reviews.
fn own_review_address(url: &str) -> Option<(i64, i64)> {
    let parsed = url::Url::parse(url).ok()?;
    let review = parsed.fragment()?.strip_prefix("review-")?.parse().ok()?;
    let mut segments = parsed.path_segments()?;
    let (v1, claims, claim, reviews) = (
        segments.next()?,
        segments.next()?,
        segments.next()?,
        segments.next()?,
    );
    (v1 == "v1" && claims == "claims" && reviews == "reviews" && segments.next().is_none())
        .then_some(())?;
    Some((claim.parse().ok()?, review))
}

/// Writes what a read ClaimReview needs: (whether it wrote anything,
/// speaker, claim, review). A review the ledger knows by URL writes nothing;
/// any other writes a review, and the speaker and claim when the ledger has
/// none to match.
async fn import_one(
    conn: &mut AsyncPgConnection,
    ctx: &AuditContext,
    role: Role,
    story_id: i64,
    read: ReadItem,
) -> AppResult<(bool, Option<i64>, i64, i64)> {
    if let Some((claim_id, review_id)) = known_review(conn, &read.source.url).await? {
        return Ok((false, None, claim_id, review_id));
    }
    // The speaker, by name or alias; else a new one.
    let (name, kind, role_title) = match &read.claimant {
        Some((name, kind, job)) => (name.clone(), speaker_kind(kind), job.clone()),
        None => (UNKNOWN_CLAIMANT.to_owned(), SpeakerKind::Anonymous, None),
    };
    let speaker_id = match super::speakers::find_by_name_or_alias(conn, &name).await? {
        Some(s) => s.id,
        None => {
            let speaker = NewSpeaker {
                name,
                kind,
                role: role_title,
                affiliation: None,
                aliases: Vec::new(),
            }
            .validate()?;
            super::speakers::create(conn, ctx, speaker).await?.id
        }
    };
    // The claim, by its text in this story (typographic quotes, case and
    // white space aside); else a new one.
    let existing: Option<i64> = claims_table::table
        .filter(claims_table::story_id.eq(story_id))
        .filter(claims_table::text_key.eq(match_key(&read.claimed)))
        .select(claims_table::id)
        .first(conn)
        .await
        .optional()?;
    let claim_id = match existing {
        Some(id) => id,
        None => {
            let new = ValidNewClaim {
                fields: ClaimFields {
                    story_id,
                    speaker_id,
                    text: read.claimed.clone(),
                    kind: ClaimKind::Paraphrase,
                    cue: None,
                    when: None,
                    confidence: None,
                    hedges: Vec::new(),
                    status: ClaimStatus::LOGGED,
                    needs_review: false,
                },
                appearances: Vec::new(),
            };
            claims::create(conn, ctx, new).await?.id
        }
    };
    let review = ValidReview {
        verdict: read.verdict,
        rationale: read.rationale,
        reviewer_confidence: None,
        evidence: vec![Evidence {
            url: read.source.url.clone(),
            title: read.title,
            excerpt: Some(format!(
                "{}: {}",
                read.reviewer,
                read.source
                    .rating
                    .get("alternateName")
                    .and_then(Value::as_str)
                    .unwrap_or(read.verdict.as_str())
            )),
            accessed_at: Some(Utc::now()),
        }],
        source: Some(read.source),
    };
    let review_id = reviews::create_review(conn, ctx, role, claim_id, IfMatch::Any, review)
        .await?
        .review
        .id;
    Ok((true, Some(speaker_id), claim_id, review_id))
}
