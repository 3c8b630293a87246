//! How claims, their revisions and appearances look in the API.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::domain::claim::{AppearanceState, ClaimKind, ClaimStatus};
use crate::domain::when::SaidWhenView;
use crate::storage::models::*;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AppearanceView {
    pub article_id: i64,
    pub article_revision: i32,
    pub start: i32,
    pub end: i32,
    /// The supporting text, as the article revision has it.
    pub excerpt: String,
    /// `present`, or after an article edit `altered` / `removed`.
    pub state: AppearanceState,
    /// For altered and removed appearances: the text before the edit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_excerpt: Option<String>,
}

impl From<&AppearanceRow> for AppearanceView {
    fn from(row: &AppearanceRow) -> Self {
        AppearanceView {
            article_id: row.article_id,
            article_revision: row.article_revision,
            start: row.span_start,
            end: row.span_end,
            excerpt: row.excerpt.clone(),
            state: row.state,
            previous_excerpt: row.previous_excerpt.clone(),
        }
    }
}

/// A claim as the API returns it: its current revision.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ClaimView {
    pub id: i64,
    pub story_id: i64,
    pub revision: i32,
    pub speaker_id: i64,
    pub speaker: SpeakerRef,
    pub text: String,
    pub kind: ClaimKind,
    pub cue: Option<String>,
    pub when: Option<SaidWhenView>,
    pub confidence: Option<f64>,
    pub hedges: Vec<String>,
    pub status: ClaimStatus,
    pub needs_review: bool,
    pub appearances: Vec<AppearanceView>,
    /// Who is working on it (review workflow).
    pub assignee: Option<String>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// One immutable revision of a claim.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ClaimRevisionView {
    pub claim_id: i64,
    pub revision: i32,
    pub story_id: i64,
    pub speaker_id: i64,
    /// The speaker's revision when this claim revision was written:
    /// `GET /v1/speakers/{speaker_id}/revisions/{speaker_revision}` is the
    /// speaker as it was then (its name, role, affiliation).
    pub speaker_revision: i32,
    pub text: String,
    pub kind: ClaimKind,
    pub cue: Option<String>,
    pub when: Option<SaidWhenView>,
    pub confidence: Option<f64>,
    pub hedges: Vec<String>,
    pub status: ClaimStatus,
    pub needs_review: bool,
    pub appearances: Vec<AppearanceView>,
    pub author: String,
    pub reason: Option<String>,
    pub recorded_at: DateTime<Utc>,
}

/// The outcome of a PATCH: the claim after it, and what changed.
#[derive(Debug, Clone)]
pub struct PatchOutcome {
    pub claim: ClaimView,
    pub changed_fields: Vec<&'static str>,
}

pub(in crate::storage) fn view(
    row: ClaimRow,
    speaker: SpeakerRef,
    appearances: &[AppearanceRow],
) -> ClaimView {
    ClaimView {
        id: row.id,
        story_id: row.story_id,
        revision: row.revision,
        speaker_id: row.speaker_id,
        speaker,
        when: row.when().map(|w| w.view()),
        text: row.text,
        kind: row.kind,
        cue: row.cue,
        confidence: row.confidence,
        hedges: row.hedges,
        status: row.status,
        needs_review: row.needs_review,
        appearances: appearances.iter().map(AppearanceView::from).collect(),
        assignee: row.assignee,
        created_by: row.created_by,
        created_at: row.created_at,
        updated_at: row.updated_at,
    }
}

pub(super) fn revision_view(
    row: ClaimRevisionRow,
    appearances: &[AppearanceRow],
) -> ClaimRevisionView {
    ClaimRevisionView {
        claim_id: row.claim_id,
        revision: row.revision,
        story_id: row.story_id,
        speaker_id: row.speaker_id,
        speaker_revision: row.speaker_revision,
        when: row.when().map(|w| w.view()),
        text: row.text,
        kind: row.kind,
        cue: row.cue,
        confidence: row.confidence,
        hedges: row.hedges,
        status: row.status,
        needs_review: row.needs_review,
        appearances: appearances.iter().map(AppearanceView::from).collect(),
        author: row.author,
        reason: row.reason,
        recorded_at: row.recorded_at,
    }
}
