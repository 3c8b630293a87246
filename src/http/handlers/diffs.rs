//! Claim diffs, and what claim and article diffs share.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::domain::diff::{Alignment, TextOp, split_lines, unified};
use crate::error::AppError;
use crate::http::auth::Caller;
use crate::http::read_conn::ReadConn;
use crate::http::server::AppState;
use crate::storage::articles::ArticleView;
use crate::storage::claims::{self, ClaimRevisionView};

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DiffQuery {
    #[param(minimum = 1)]
    from: Option<i32>,
    #[param(minimum = 1)]
    to: Option<i32>,
    /// `json` (default) or `unified`.
    #[param(pattern = "^(json|unified)$")]
    format: Option<String>,
}

impl DiffQuery {
    pub fn check_revisions(from: Option<i32>, to: Option<i32>) -> Result<(), AppError> {
        for (name, value) in [("from", from), ("to", to)] {
            if value.is_some_and(|n| n < 1) {
                return Err(AppError::invalid(name, "revisions are numbered from 1"));
            }
        }
        Ok(())
    }
}

/// `?format=unified` or `Accept: text/x-diff` asks for the unified diff alone.
pub fn wants_unified(req: &HttpRequest, format: Option<&str>) -> Result<bool, AppError> {
    match format {
        Some("unified") => return Ok(true),
        Some("json") => return Ok(false),
        Some(other) => {
            return Err(AppError::invalid(
                "format",
                format!("must be json or unified, not {other:?}"),
            ));
        }
        None => {}
    }
    let accept = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    Ok(accept
        .split(',')
        .any(|a| a.trim().starts_with("text/x-diff")))
}

/// Which revision a side of a diff is, and who wrote it when.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RevisionMeta {
    pub revision: i32,
    pub author: Option<String>,
    pub reason: Option<String>,
    pub recorded_at: DateTime<Utc>,
}

impl RevisionMeta {
    pub fn of_speaker(s: &crate::storage::models::SpeakerRevisionRow) -> Self {
        RevisionMeta {
            revision: s.revision,
            author: Some(s.author.clone()),
            reason: s.reason.clone(),
            recorded_at: s.recorded_at,
        }
    }

    pub fn of_article(a: &ArticleView) -> Self {
        RevisionMeta {
            revision: a.revision,
            author: None,
            reason: None,
            recorded_at: a.recorded_at,
        }
    }

    fn of_claim(c: &ClaimRevisionView) -> Self {
        RevisionMeta {
            revision: c.revision,
            author: Some(c.author.clone()),
            reason: c.reason.clone(),
            recorded_at: c.recorded_at,
        }
    }
}

/// One changed field of a claim.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FieldChange {
    pub field: &'static str,
    pub old: Value,
    pub new: Value,
}

/// The fields a claim diff compares, in the order it reports them.
const CLAIM_FIELDS: &[&str] = &[
    "speaker_id",
    "text",
    "kind",
    "cue",
    "when",
    "confidence",
    "hedges",
    "status",
    "needs_review",
    "appearances",
];

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TextDiffBody {
    /// Word-level operations turning the old text into the new one.
    pub ops: Vec<TextOp>,
    pub unified: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
struct ClaimDiff {
    claim_id: i64,
    from: RevisionMeta,
    to: RevisionMeta,
    /// Only the fields that differ.
    changes: Vec<FieldChange>,
    /// The text diff, when the text differs.
    text: Option<TextDiffBody>,
}

fn claim_text_unified(
    claim_id: i64,
    old: &ClaimRevisionView,
    new: &ClaimRevisionView,
    state: &AppState,
) -> String {
    unified(
        &split_lines(&old.text),
        &split_lines(&new.text),
        (
            &format!("claim {claim_id} revision {}", old.revision),
            &format!("claim {claim_id} revision {}", new.revision),
        ),
        3,
        10_000,
        state.limits.diff_timeout,
    )
    .0
}

/// What differs between two revisions of a claim: the changed fields and,
/// when the text changed, its word-level diff.
pub fn claim_changes(
    old: &ClaimRevisionView,
    new: &ClaimRevisionView,
    state: &AppState,
) -> Result<(Vec<FieldChange>, Option<TextDiffBody>), AppError> {
    let old_json = serde_json::to_value(old).map_err(anyhow::Error::from)?;
    let new_json = serde_json::to_value(new).map_err(anyhow::Error::from)?;
    let changes: Vec<FieldChange> = CLAIM_FIELDS
        .iter()
        .filter(|f| old_json[**f] != new_json[**f])
        .map(|f| FieldChange {
            field: f,
            old: old_json[*f].clone(),
            new: new_json[*f].clone(),
        })
        .collect();
    let text = (old.text != new.text).then(|| TextDiffBody {
        ops: Alignment::words(&old.text, &new.text, state.limits.diff_timeout).ops(true),
        unified: claim_text_unified(old.claim_id, old, new, state),
    });
    Ok((changes, text))
}

#[utoipa::path(
    get,
    path = "/v1/claims/{id}/diff",
    tag = "claims",
    params(("id" = i64, Path, minimum = 1, description = "The claim's id"), DiffQuery),
    responses(
        (status = 200, description = "What changed between two revisions (JSON, or with `format=unified` or `Accept: text/x-diff` a unified diff of the text)", content((ClaimDiff = "application/json"), (String = "text/x-diff"))),
    ),
)]
pub async fn claim_diff(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
    query: web::Query<DiffQuery>,
    mut conn: ReadConn,
) -> Result<HttpResponse, AppError> {
    caller.allow_read()?;
    let query = query.into_inner();
    DiffQuery::check_revisions(query.from, query.to)?;
    let unified_only = wants_unified(&req, query.format.as_deref())?;
    let id = id.into_inner();
    let (old, new) = claims::revision_pair(&mut conn, id, query.from, query.to).await?;
    drop(conn);

    if unified_only {
        let text = claim_text_unified(id, &old, &new, &state);
        return Ok(HttpResponse::Ok()
            .content_type("text/x-diff; charset=utf-8")
            .body(text));
    }
    let (changes, text) = claim_changes(&old, &new, &state)?;
    Ok(HttpResponse::Ok().json(ClaimDiff {
        claim_id: id,
        from: RevisionMeta::of_claim(&old),
        to: RevisionMeta::of_claim(&new),
        changes,
        text,
    }))
}
