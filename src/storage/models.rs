//! Rows as diesel reads and writes them.

use chrono::{DateTime, Utc};
use diesel::{Insertable, Queryable, Selectable};
use serde::Serialize;

use super::schema::*;
use super::text_keys::ClaimKeys;
use crate::domain::claim::{
    Appearance, AppearanceState, ClaimFields, ClaimKind, ClaimState, ClaimStatus,
};
use crate::domain::review::Verdict;
use crate::domain::speaker::{SpeakerFields, SpeakerKind};
use crate::domain::when::{SaidWhen, TimePrecision};

#[derive(Debug, Clone, Queryable, Selectable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = stories, check_for_backend(diesel::pg::Pg))]
pub struct Story {
    pub id: i64,
    pub slug: String,
    pub title: String,
    pub description: Option<String>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = stories)]
pub struct NewStoryRow<'a> {
    pub slug: &'a str,
    pub title: &'a str,
    pub description: Option<&'a str>,
}

#[derive(Debug, Clone, Queryable, Selectable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = speakers, check_for_backend(diesel::pg::Pg))]
pub struct Speaker {
    pub id: i64,
    pub kind: SpeakerKind,
    pub name: String,
    pub role: Option<String>,
    pub affiliation: Option<String>,
    pub aliases: Vec<String>,
    pub created_at: DateTime<Utc>,
    /// Set when this record was merged into another speaker.
    pub merged_into: Option<i64>,
    /// The current revision: the speaker's ETag.
    pub revision: i32,
    pub updated_at: DateTime<Utc>,
}

impl Speaker {
    pub fn fields(&self) -> SpeakerFields {
        SpeakerFields {
            name: self.name.clone(),
            kind: self.kind,
            role: self.role.clone(),
            affiliation: self.affiliation.clone(),
            aliases: self.aliases.clone(),
            merged_into: self.merged_into,
        }
    }
}

/// One immutable revision of a speaker.
#[derive(Debug, Clone, Queryable, Selectable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = speaker_revisions, check_for_backend(diesel::pg::Pg))]
pub struct SpeakerRevisionRow {
    pub speaker_id: i64,
    pub revision: i32,
    pub kind: SpeakerKind,
    pub name: String,
    pub role: Option<String>,
    pub affiliation: Option<String>,
    pub aliases: Vec<String>,
    pub merged_into: Option<i64>,
    pub author: String,
    pub reason: Option<String>,
    pub recorded_at: DateTime<Utc>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = speaker_revisions)]
pub struct NewSpeakerRevisionRow<'a> {
    pub speaker_id: i64,
    pub revision: i32,
    pub kind: SpeakerKind,
    pub name: &'a str,
    pub role: Option<&'a str>,
    pub affiliation: Option<&'a str>,
    pub aliases: &'a [String],
    pub merged_into: Option<i64>,
    pub author: &'a str,
    pub reason: Option<&'a str>,
}

impl<'a> NewSpeakerRevisionRow<'a> {
    pub fn of(
        speaker_id: i64,
        revision: i32,
        fields: &'a SpeakerFields,
        author: &'a str,
        reason: Option<&'a str>,
    ) -> Self {
        NewSpeakerRevisionRow {
            speaker_id,
            revision,
            kind: fields.kind,
            name: &fields.name,
            role: fields.role.as_deref(),
            affiliation: fields.affiliation.as_deref(),
            aliases: &fields.aliases,
            merged_into: fields.merged_into,
            author,
            reason,
        }
    }
}

#[derive(Debug, Insertable)]
#[diesel(table_name = speakers)]
pub struct NewSpeakerRow<'a> {
    pub kind: SpeakerKind,
    pub name: &'a str,
    pub role: Option<&'a str>,
    pub affiliation: Option<&'a str>,
    pub aliases: &'a [String],
    pub name_key: &'a str,
    pub role_name_key: Option<&'a str>,
    pub alias_keys: &'a [String],
    pub search_terms: &'a str,
    pub revision: i32,
}

/// The speaker as embedded in a claim.
#[derive(Debug, Clone, Queryable, Selectable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = speakers, check_for_backend(diesel::pg::Pg))]
pub struct SpeakerRef {
    pub id: i64,
    pub name: String,
    pub kind: SpeakerKind,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = articles, check_for_backend(diesel::pg::Pg))]
pub struct ArticleRow {
    pub id: i64,
    pub story_id: i64,
    pub url: String,
    pub outlet: String,
    pub published_at: DateTime<Utc>,
    pub current_revision: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = articles)]
pub struct NewArticleRow<'a> {
    pub story_id: i64,
    pub url: &'a str,
    pub outlet: &'a str,
    pub published_at: DateTime<Utc>,
    pub current_revision: i32,
    pub search_terms: &'a str,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = article_revisions, check_for_backend(diesel::pg::Pg))]
pub struct ArticleRevisionRow {
    pub article_id: i64,
    pub revision: i32,
    pub headline: String,
    pub body: String,
    pub body_sha256: Vec<u8>,
    pub body_chars: i32,
    pub author: String,
    pub reason: Option<String>,
    pub recorded_at: DateTime<Utc>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = article_revisions)]
pub struct NewArticleRevisionRow<'a> {
    pub article_id: i64,
    pub revision: i32,
    pub headline: &'a str,
    pub body: &'a str,
    pub body_sha256: &'a [u8],
    pub body_chars: i32,
    pub author: &'a str,
    pub reason: Option<&'a str>,
}

/// The head row of a claim: its latest revision, projected for queries.
#[derive(Debug, Clone, Queryable, Selectable, diesel::QueryableByName)]
#[diesel(table_name = claims, check_for_backend(diesel::pg::Pg))]
pub struct ClaimRow {
    pub id: i64,
    pub story_id: i64,
    pub revision: i32,
    pub speaker_id: i64,
    pub text: String,
    pub kind: ClaimKind,
    pub cue: Option<String>,
    pub said_start: Option<DateTime<Utc>>,
    pub said_end: Option<DateTime<Utc>>,
    pub said_precision: Option<TimePrecision>,
    pub said_expression: Option<String>,
    pub confidence: Option<f64>,
    pub hedges: Vec<String>,
    pub status: ClaimStatus,
    pub appearances_revision: i32,
    pub needs_review: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub created_by: String,
    pub assignee: Option<String>,
    pub assigned_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = claim_revisions, check_for_backend(diesel::pg::Pg))]
pub struct ClaimRevisionRow {
    pub claim_id: i64,
    pub revision: i32,
    pub story_id: i64,
    pub speaker_id: i64,
    pub text: String,
    pub kind: ClaimKind,
    pub cue: Option<String>,
    pub said_start: Option<DateTime<Utc>>,
    pub said_end: Option<DateTime<Utc>>,
    pub said_precision: Option<TimePrecision>,
    pub said_expression: Option<String>,
    pub confidence: Option<f64>,
    pub hedges: Vec<String>,
    pub status: ClaimStatus,
    pub appearances_revision: i32,
    pub needs_review: bool,
    pub author: String,
    pub reason: Option<String>,
    pub recorded_at: DateTime<Utc>,
    /// The speaker's revision when this claim revision was written.
    pub speaker_revision: i32,
}

/// The columns a claim head and a claim revision share, in one place.
pub struct ClaimColumns<'a> {
    pub speaker_id: i64,
    pub text: &'a str,
    pub kind: ClaimKind,
    pub cue: Option<&'a str>,
    pub said_start: Option<DateTime<Utc>>,
    pub said_end: Option<DateTime<Utc>>,
    pub said_precision: Option<TimePrecision>,
    pub said_expression: Option<&'a str>,
    pub confidence: Option<f64>,
    pub hedges: &'a [String],
    pub status: ClaimStatus,
    pub needs_review: bool,
    pub keys: ClaimKeys,
}

impl<'a> ClaimColumns<'a> {
    pub fn of(fields: &'a ClaimFields) -> Self {
        let when = fields.when.as_ref();
        ClaimColumns {
            speaker_id: fields.speaker_id,
            text: &fields.text,
            kind: fields.kind,
            cue: fields.cue.as_deref(),
            said_start: when.and_then(|w| w.start),
            said_end: when.and_then(|w| w.end),
            said_precision: when.and_then(|w| w.precision),
            said_expression: when.and_then(|w| w.expression.as_deref()),
            confidence: fields.confidence,
            hedges: &fields.hedges,
            status: fields.status,
            needs_review: fields.needs_review,
            keys: ClaimKeys::of(&fields.text, fields.cue.as_deref()),
        }
    }
}

#[derive(Debug, Insertable)]
#[diesel(table_name = claims)]
pub struct NewClaimRow<'a> {
    pub story_id: i64,
    pub revision: i32,
    pub speaker_id: i64,
    pub text: &'a str,
    pub kind: ClaimKind,
    pub cue: Option<&'a str>,
    pub said_start: Option<DateTime<Utc>>,
    pub said_end: Option<DateTime<Utc>>,
    pub said_precision: Option<TimePrecision>,
    pub said_expression: Option<&'a str>,
    pub confidence: Option<f64>,
    pub hedges: &'a [String],
    pub status: ClaimStatus,
    pub appearances_revision: i32,
    pub needs_review: bool,
    pub created_by: &'a str,
    pub text_key: &'a str,
    pub search_terms: &'a str,
    pub duplicate_bands: &'a [i64],
}

/// The head's new values after a revision.
#[derive(Debug, diesel::AsChangeset)]
#[diesel(table_name = claims, treat_none_as_null = true)]
pub struct ClaimHeadChange<'a> {
    pub revision: i32,
    pub speaker_id: i64,
    pub text: &'a str,
    pub kind: ClaimKind,
    pub cue: Option<&'a str>,
    pub said_start: Option<DateTime<Utc>>,
    pub said_end: Option<DateTime<Utc>>,
    pub said_precision: Option<TimePrecision>,
    pub said_expression: Option<&'a str>,
    pub confidence: Option<f64>,
    pub hedges: &'a [String],
    pub status: ClaimStatus,
    pub appearances_revision: i32,
    pub needs_review: bool,
    pub updated_at: DateTime<Utc>,
    pub text_key: &'a str,
    pub search_terms: &'a str,
    pub duplicate_bands: &'a [i64],
}

#[derive(Debug, Insertable)]
#[diesel(table_name = claim_revisions)]
pub struct NewClaimRevisionRow<'a> {
    pub claim_id: i64,
    pub revision: i32,
    pub story_id: i64,
    pub speaker_id: i64,
    pub text: &'a str,
    pub kind: ClaimKind,
    pub cue: Option<&'a str>,
    pub said_start: Option<DateTime<Utc>>,
    pub said_end: Option<DateTime<Utc>>,
    pub said_precision: Option<TimePrecision>,
    pub said_expression: Option<&'a str>,
    pub confidence: Option<f64>,
    pub hedges: &'a [String],
    pub status: ClaimStatus,
    pub appearances_revision: i32,
    pub needs_review: bool,
    pub author: &'a str,
    pub reason: Option<&'a str>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = claim_appearances, check_for_backend(diesel::pg::Pg))]
pub struct AppearanceRow {
    pub claim_id: i64,
    pub claim_revision: i32,
    pub article_id: i64,
    pub article_revision: i32,
    pub span_start: i32,
    pub span_end: i32,
    pub excerpt: String,
    pub state: AppearanceState,
    pub previous_excerpt: Option<String>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = claim_appearances)]
pub struct NewAppearanceRow {
    pub claim_id: i64,
    pub claim_revision: i32,
    pub article_id: i64,
    pub article_revision: i32,
    pub span_start: i32,
    pub span_end: i32,
    pub state: AppearanceState,
    pub previous_excerpt: Option<String>,
}

impl AppearanceRow {
    pub fn appearance(&self) -> Appearance {
        Appearance {
            article_id: self.article_id,
            article_revision: self.article_revision,
            start: self.span_start,
            end: self.span_end,
        }
    }
}

fn said_when(
    start: Option<DateTime<Utc>>,
    end: Option<DateTime<Utc>>,
    precision: Option<TimePrecision>,
    expression: &Option<String>,
) -> Option<SaidWhen> {
    (start.is_some() || expression.is_some()).then(|| SaidWhen {
        start,
        end,
        precision,
        expression: expression.clone(),
    })
}

impl ClaimRow {
    pub fn state(&self, appearances: &[AppearanceRow]) -> ClaimState {
        ClaimState {
            fields: ClaimFields {
                story_id: self.story_id,
                speaker_id: self.speaker_id,
                text: self.text.clone(),
                kind: self.kind,
                cue: self.cue.clone(),
                when: said_when(
                    self.said_start,
                    self.said_end,
                    self.said_precision,
                    &self.said_expression,
                ),
                confidence: self.confidence,
                hedges: self.hedges.clone(),
                status: self.status,
                needs_review: self.needs_review,
            },
            // A removed appearance is history, not a place the claim appears.
            appearances: crate::domain::claim::normalize_appearances(
                appearances
                    .iter()
                    .filter(|a| a.state != AppearanceState::Removed)
                    .map(AppearanceRow::appearance)
                    .collect(),
            ),
        }
    }

    pub fn when(&self) -> Option<SaidWhen> {
        said_when(
            self.said_start,
            self.said_end,
            self.said_precision,
            &self.said_expression,
        )
    }
}

impl ClaimRevisionRow {
    pub fn when(&self) -> Option<SaidWhen> {
        said_when(
            self.said_start,
            self.said_end,
            self.said_precision,
            &self.said_expression,
        )
    }
}

#[derive(Debug, Insertable)]
#[diesel(table_name = audit_events)]
pub struct NewAuditEvent<'a> {
    pub actor: &'a str,
    pub action: &'a str,
    pub subject_type: &'a str,
    pub subject_id: i64,
    pub story_id: Option<i64>,
    pub before_revision: Option<i32>,
    pub after_revision: Option<i32>,
    pub request_id: Option<&'a str>,
    pub details: serde_json::Value,
}

/// A verdict on a claim revision (append-only).
#[derive(Debug, Clone, diesel::Queryable, diesel::Selectable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = claim_reviews, check_for_backend(diesel::pg::Pg))]
pub struct ReviewRow {
    pub id: i64,
    pub claim_id: i64,
    /// The claim revision the verdict is about.
    pub claim_revision: i32,
    pub reviewer: String,
    pub verdict: Verdict,
    pub rationale: String,
    pub reviewer_confidence: Option<f64>,
    pub evidence: serde_json::Value,
    pub supersedes_id: Option<i64>,
    pub created_at: DateTime<Utc>,
    /// For a review imported from a fact-checker: its URL, author, date,
    /// rating and language as published.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_author: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_date_published: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_rating: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_language: Option<String>,
}
