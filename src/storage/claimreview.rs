//! ClaimReview out (JSON-LD for a reviewed claim) and in (import from
//! fact-checkers' markup), the import idempotent item by item.

use chrono::{DateTime, Utc};
use diesel::{
    BoolExpressionMethods, ExpressionMethods, JoinOnDsl, OptionalExtension,
    PgJsonbExpressionMethods, QueryDsl, SelectableHelper,
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
use crate::domain::article::normalize_url;
use crate::domain::auth::Role;
use crate::domain::claim::{ClaimFields, ClaimKind, ClaimStatus, ValidNewClaim};
use crate::domain::claimreview::{schema_type, speaker_kind, verdict_of};
use crate::domain::review::{Evidence, ValidReview};
use crate::domain::revision::IfMatch;
use crate::domain::speaker::NewSpeaker;
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
    let review: ReviewRow = claim_reviews::table
        .filter(claim_reviews::claim_id.eq(claim_id))
        .order(claim_reviews::id.desc())
        .select(ReviewRow::as_select())
        .first(conn)
        .await
        .optional()?
        .ok_or_else(|| AppError::NotFound(format!("claim {claim_id} has no review yet")))?;
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
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub speaker_id: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub claim_id: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub review_id: Option<i64>,
}

fn text(v: &Value, path: &[&str]) -> Option<String> {
    let mut cur = v;
    for key in path {
        cur = cur.get(key)?;
    }
    let s = match cur {
        Value::String(s) => s.trim().to_owned(),
        Value::Array(list) => list.iter().next()?.as_str()?.trim().to_owned(),
        _ => return None,
    };
    (!s.is_empty()).then_some(s)
}

/// Imports ClaimReview items into a story, each in its own transaction.
/// Importing the same items again writes nothing: speakers are matched by
/// name or alias, claims by text in the story, reviews by their URL.
pub async fn import(
    conn: &mut AsyncPgConnection,
    ctx: &AuditContext,
    role: Role,
    story_id: i64,
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
        let result = conn
            .transaction(async |conn| import_one(conn, ctx, role, story_id, item).await)
            .await;
        reports.push(match result {
            Ok((created, speaker_id, claim_id, review_id)) => ImportReport {
                index,
                outcome: if created { "created" } else { "matched" },
                reason: None,
                speaker_id: Some(speaker_id),
                claim_id: Some(claim_id),
                review_id: Some(review_id),
            },
            Err(AppError::Internal(e)) => return Err(AppError::Internal(e)),
            Err(AppError::Unavailable(e)) => return Err(AppError::Unavailable(e)),
            Err(e) => ImportReport {
                index,
                outcome: "rejected",
                reason: Some(e.to_string()),
                speaker_id: None,
                claim_id: None,
                review_id: None,
            },
        });
    }
    Ok(reports)
}

async fn import_one(
    conn: &mut AsyncPgConnection,
    ctx: &AuditContext,
    role: Role,
    story_id: i64,
    item: &Value,
) -> AppResult<(bool, i64, i64, i64)> {
    let kind = item
        .get("@type")
        .and_then(Value::as_str)
        .unwrap_or("ClaimReview");
    if kind != "ClaimReview" {
        return Err(AppError::invalid(
            "@type",
            format!("expected ClaimReview, found {kind}"),
        ));
    }
    let claimed = text(item, &["claimReviewed"])
        .ok_or_else(|| AppError::invalid("claimReviewed", "is missing"))?;
    if claimed.chars().count() > crate::domain::validation::MAX_CLAIM_TEXT || claimed.contains('\0')
    {
        return Err(AppError::invalid(
            "claimReviewed",
            "is too long or holds NUL characters",
        ));
    }
    let review_url = text(item, &["url"])
        .ok_or_else(|| {
            AppError::invalid("url", "is missing (it identifies the review on re-import)")
        })
        .and_then(|u| normalize_url(&u).map_err(|e| AppError::invalid("url", e)))?;
    let rating = item
        .get("reviewRating")
        .ok_or_else(|| AppError::invalid("reviewRating", "is missing"))?;
    let verdict = verdict_of(rating)
        .ok_or_else(|| AppError::invalid("reviewRating", "holds no rating claimtrail can map"))?;
    let author_name = text(item, &["itemReviewed", "author", "name"])
        .ok_or_else(|| AppError::invalid("itemReviewed.author.name", "is missing"))?;
    let author_type =
        text(item, &["itemReviewed", "author", "@type"]).unwrap_or_else(|| "Person".into());
    let mut created = false;

    // The speaker, by name or alias; else a new one.
    let speaker_id = match super::speakers::find_by_name_or_alias(conn, &author_name).await? {
        Some(s) => s.id,
        None => {
            created = true;
            let speaker = NewSpeaker {
                name: author_name.clone(),
                kind: speaker_kind(&author_type),
                role: text(item, &["itemReviewed", "author", "jobTitle"]),
                affiliation: None,
                aliases: Vec::new(),
            }
            .validate()?;
            super::speakers::create(conn, ctx, speaker).await?.id
        }
    };
    // The claim, by its text in this story; else a new one.
    let existing: Option<i64> = claims_table::table
        .filter(claims_table::story_id.eq(story_id))
        .filter(claims_table::text_key.eq(match_key(&claimed)))
        .select(claims_table::id)
        .first(conn)
        .await
        .optional()?;
    let claim_id = match existing {
        Some(id) => id,
        None => {
            created = true;
            let new = ValidNewClaim {
                fields: ClaimFields {
                    story_id,
                    speaker_id,
                    text: claimed.clone(),
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
    // The review, by its URL among the claim's evidence; else a new one.
    let known: Option<i64> = claim_reviews::table
        .filter(claim_reviews::claim_id.eq(claim_id))
        .filter(claim_reviews::evidence.contains(json!([{ "url": review_url }])))
        .select(claim_reviews::id)
        .first(conn)
        .await
        .optional()?;
    let review_id = match known {
        Some(id) => id,
        None => {
            created = true;
            let reviewer =
                text(item, &["author", "name"]).unwrap_or_else(|| "an outside fact-checker".into());
            let rating_name =
                text(rating, &["alternateName"]).unwrap_or_else(|| verdict.to_string());
            let rationale = text(item, &["reviewBody"])
                .or_else(|| text(item, &["description"]))
                .unwrap_or_else(|| format!("Rated \"{rating_name}\" by {reviewer}."));
            let review = ValidReview {
                verdict,
                rationale: format!("{rationale} (imported from {reviewer})"),
                reviewer_confidence: None,
                evidence: vec![Evidence {
                    url: review_url.clone(),
                    title: text(item, &["headline"]).or_else(|| text(item, &["name"])),
                    excerpt: Some(format!("{reviewer}: {rating_name}")),
                    accessed_at: Some(Utc::now()),
                }],
            };
            reviews::create_review(conn, ctx, role, claim_id, IfMatch::Any, review)
                .await?
                .review
                .id
        }
    };
    Ok((created, speaker_id, claim_id, review_id))
}
