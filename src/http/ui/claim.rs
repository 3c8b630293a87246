//! The claim page: the claim as it stands, where it appears, its history
//! with word diffs, reviews, comments and relations; and its forms. Each
//! form sends the revision its page showed: a claim that moved on since
//! gets a conflict page with what changed, never a silent overwrite.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;
use serde_json::{Value, json};

use super::diff_view::{Run, field_text, runs};
use super::page::{Chrome, UiError, list_page, next_cursor, render, see_other};
use super::session::Reviewer;
use crate::domain::auth::Action;
use crate::domain::claim::{ClaimPatch, ClaimStatus};
use crate::domain::review::{NewReview, Verdict};
use crate::domain::revision::IfMatch;
use crate::domain::status::StatusTransition;
use crate::domain::validation::{MAX_SHORT_TEXT, Validator};
use crate::error::AppError;
use crate::http::handlers::diffs::claim_changes;
use crate::http::read_conn::ReadConn;
use crate::http::server::AppState;
use crate::storage::claims::{self, ClaimRevisionView, ClaimView};
use crate::storage::models::ReviewRow;
use crate::storage::relations::{self, Relation};
use crate::storage::reviews::{self, CommentRow};
use crate::storage::{PageRequest, SortOrder};
use crate::storage::{articles, stories};

/// Characters of article text shown on each side of a span.
const CONTEXT_CHARS: usize = 160;
/// An appearance as the page shows it: the span inside its sentence.
pub struct AppearanceContext {
    pub article_id: i64,
    pub article_revision: i32,
    pub outlet: String,
    pub state: &'static str,
    pub before: String,
    pub span: String,
    pub after: String,
    pub previous_excerpt: Option<String>,
}

/// `body` cut around the span `[start, end)` (code points).
pub fn around(body: &str, start: usize, end: usize, context: usize) -> (String, String, String) {
    let chars: Vec<char> = body.chars().collect();
    let end = end.min(chars.len());
    let start = start.min(end);
    let from = start.saturating_sub(context);
    let to = (end + context).min(chars.len());
    let mut before: String = chars[from..start].iter().collect();
    if from > 0 {
        before.insert(0, '…');
    }
    let mut after: String = chars[end..to].iter().collect();
    if to < chars.len() {
        after.push('…');
    }
    (before, chars[start..end].iter().collect(), after)
}

/// One changed field of a diff, its values as text.
pub struct ChangedField {
    pub field: &'static str,
    pub old: String,
    pub new: String,
}

/// What changed between two revisions.
pub struct DiffSection {
    pub from: ClaimRevisionView,
    pub to: ClaimRevisionView,
    pub fields: Vec<ChangedField>,
    pub text: Vec<Run>,
}

fn diff_section(
    state: &AppState,
    from: ClaimRevisionView,
    to: ClaimRevisionView,
) -> Result<DiffSection, AppError> {
    let (changes, text_diff) = claim_changes(&from, &to, state)?;
    let fields = changes
        .iter()
        .filter(|c| c.field != "text")
        .map(|c| ChangedField {
            field: c.field,
            old: field_text(c.field, &c.old),
            new: field_text(c.field, &c.new),
        })
        .collect();
    let text = match text_diff {
        Some(diff) => runs(&diff.ops),
        None => vec![Run {
            kind: "same",
            text: to.text.clone(),
        }],
    };
    Ok(DiffSection {
        from,
        to,
        fields,
        text,
    })
}

/// A piece of evidence, linked only when it is a web address.
pub struct EvidenceLink {
    pub url: String,
    pub title: String,
    pub linked: bool,
}

pub struct ReviewItem {
    pub review: ReviewRow,
    pub evidence: Vec<EvidenceLink>,
}

fn evidence_links(evidence: &Value) -> Vec<EvidenceLink> {
    evidence
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|e| {
                    let url = e["url"].as_str()?.to_owned();
                    let lower = url.to_ascii_lowercase();
                    Some(EvidenceLink {
                        title: e["title"].as_str().unwrap_or(&url).to_owned(),
                        linked: lower.starts_with("https://") || lower.starts_with("http://"),
                        url,
                    })
                })
                .collect()
        })
        .unwrap_or_default()
}

#[derive(Template)]
#[template(path = "claim.html")]
struct ClaimPage {
    chrome: Chrome,
    claim: ClaimView,
    story_title: String,
    when: Option<String>,
    appearances: Vec<AppearanceContext>,
    revisions: Vec<ClaimRevisionView>,
    older_revisions: Option<String>,
    diff: Option<DiffSection>,
    reviews: Vec<ReviewItem>,
    older_reviews: Option<String>,
    comments: Vec<CommentRow>,
    older_comments: Option<String>,
    relations: Vec<Relation>,
    older_relations: Option<String>,
    next_statuses: Vec<&'static str>,
    verdicts: Vec<&'static str>,
    can_review: bool,
    can_comment: bool,
    can_edit: bool,
    can_take: bool,
}

#[derive(Deserialize)]
pub struct ClaimQuery {
    from: Option<i32>,
    to: Option<i32>,
    /// Where each list's page starts (its "older" link's cursor).
    revisions: Option<String>,
    reviews: Option<String>,
    comments: Option<String>,
    relations: Option<String>,
}

fn newest_first(cursor: &Option<String>) -> Result<PageRequest, AppError> {
    list_page(cursor.clone(), SortOrder::Desc)
}

/// The address of a list's older page, if there is one.
fn older(claim_id: i64, list: &str, next_after: Option<i64>) -> Option<String> {
    next_cursor(SortOrder::Desc, next_after)
        .map(|cursor| format!("/ui/claims/{claim_id}?{list}={cursor}#{list}-heading"))
}

fn when_text(claim: &ClaimView) -> Option<String> {
    let when = claim.when.as_ref()?;
    let time = |t: chrono::DateTime<chrono::Utc>| t.format("%Y-%m-%d %H:%M UTC").to_string();
    let resolved = match (when.at, when.start, when.end) {
        (Some(at), _, _) => Some(time(at)),
        (None, Some(s), Some(e)) => Some(format!("{} – {}", time(s), time(e))),
        (None, Some(s), None) => Some(format!("from {}", time(s))),
        (None, None, Some(e)) => Some(format!("until {}", time(e))),
        _ => None,
    };
    Some(match (&when.expression, resolved) {
        (Some(words), Some(r)) => format!("“{words}” ({r})"),
        (Some(words), None) => format!("“{words}”"),
        (None, Some(r)) => r,
        (None, None) => return None,
    })
}

pub async fn page(
    state: web::Data<AppState>,
    reviewer: Reviewer,
    id: web::Path<i64>,
    query: web::Query<ClaimQuery>,
    mut conn: ReadConn,
) -> Result<HttpResponse, UiError> {
    let id = id.into_inner();
    crate::http::handlers::diffs::DiffQuery::check_revisions(query.from, query.to)?;
    let claim = claims::get(&mut conn, id).await?;
    let story_title = stories::get(&mut conn, claim.story_id).await?.title;
    let mut appearances = Vec::with_capacity(claim.appearances.len());
    for a in &claim.appearances {
        let article = articles::revision(&mut conn, a.article_id, a.article_revision).await?;
        let (before, span, after) = around(
            &article.body,
            usize::try_from(a.start).unwrap_or(0),
            usize::try_from(a.end).unwrap_or(0),
            CONTEXT_CHARS,
        );
        appearances.push(AppearanceContext {
            article_id: a.article_id,
            article_revision: a.article_revision,
            outlet: article.outlet,
            state: a.state.as_str(),
            before,
            span,
            after,
            previous_excerpt: a.previous_excerpt.clone(),
        });
    }
    let revisions = claims::revisions(&mut conn, id, newest_first(&query.revisions)?).await?;
    let (from, to) = match (query.from, query.to) {
        (None, None) if claim.revision > 1 => (Some(claim.revision - 1), Some(claim.revision)),
        (None, None) => (None, None),
        (from, to) => (Some(from.unwrap_or(1)), Some(to.unwrap_or(claim.revision))),
    };
    let diff = match (from, to) {
        (Some(f), Some(t)) => {
            let (old, new) = claims::revision_pair(&mut conn, id, Some(f), Some(t)).await?;
            Some(diff_section(&state, old, new)?)
        }
        _ => None,
    };
    let reviews = reviews::list_reviews(&mut conn, id, newest_first(&query.reviews)?).await?;
    let comments = reviews::list_comments(&mut conn, id, newest_first(&query.comments)?).await?;
    let relations = relations::of_claim(&mut conn, id, newest_first(&query.relations)?).await?;
    drop(conn);
    let role = reviewer.user().role;
    let next_statuses = ClaimStatus::ALL
        .iter()
        .filter(|s| **s != claim.status && StatusTransition::check(claim.status, **s, role).is_ok())
        .map(|s| s.as_str())
        .collect();
    render(
        StatusCode::OK,
        &ClaimPage {
            chrome: reviewer.chrome(),
            when: when_text(&claim),
            story_title,
            appearances,
            older_revisions: older(id, "revisions", revisions.next_after),
            revisions: revisions.items,
            diff,
            older_reviews: older(id, "reviews", reviews.next_after),
            reviews: reviews
                .items
                .into_iter()
                .map(|review| ReviewItem {
                    evidence: evidence_links(&review.evidence),
                    review,
                })
                .collect(),
            older_comments: older(id, "comments", comments.next_after),
            comments: comments.items,
            older_relations: older(id, "relations", relations.next_after),
            relations: relations.items,
            next_statuses,
            verdicts: Verdict::ALL.iter().map(|v| v.as_str()).collect(),
            can_review: role.may(Action::Review),
            can_comment: role.may(Action::Comment),
            can_edit: role.may(Action::EditClaim),
            can_take: role.may(Action::Assign),
            claim,
        },
    )
}

/// A form refused because the claim moved on: what changed since the
/// revision the person was looking at, and their form again, to re-apply
/// on the current revision.
#[derive(Template)]
#[template(path = "conflict.html")]
struct ConflictPage {
    chrome: Chrome,
    claim_id: i64,
    action: String,
    seen: i32,
    current: i32,
    diff: DiffSection,
    /// The form's fields as sent (but the revision and CSRF token).
    fields: Vec<(String, String)>,
}

async fn conflict(
    state: &AppState,
    reviewer: &Reviewer,
    claim_id: i64,
    action: &str,
    seen: i32,
    fields: Vec<(String, String)>,
) -> Result<HttpResponse, UiError> {
    let mut conn = state.pool.get().await?;
    let (old, new) = claims::revision_pair(&mut conn, claim_id, Some(seen), None).await?;
    drop(conn);
    let current = new.revision;
    render(
        StatusCode::CONFLICT,
        &ConflictPage {
            chrome: reviewer.chrome(),
            claim_id,
            action: format!("/ui/claims/{claim_id}/{action}"),
            seen,
            current,
            diff: diff_section(state, old, new)?,
            fields,
        },
    )
}

/// What a form's write came to: back to the claim page, a conflict page,
/// or an error page.
async fn finish<T>(
    outcome: Result<T, AppError>,
    state: &AppState,
    reviewer: &Reviewer,
    claim_id: i64,
    action: &str,
    seen: i32,
    fields: Vec<(String, String)>,
) -> Result<HttpResponse, UiError> {
    match outcome {
        Ok(_) => Ok(see_other(&format!("/ui/claims/{claim_id}"))),
        Err(AppError::PreconditionFailed { .. }) => {
            conflict(state, reviewer, claim_id, action, seen, fields).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct StatusForm {
    csrf: String,
    revision: i32,
    status: String,
    reason: String,
}

pub async fn change_status(
    state: web::Data<AppState>,
    reviewer: Reviewer,
    id: web::Path<i64>,
    form: web::Form<StatusForm>,
) -> Result<HttpResponse, UiError> {
    let form = form.into_inner();
    reviewer.check_form(&form.csrf)?;
    let id = id.into_inner();
    let mut v = Validator::new();
    let reason = v.required_text("reason", &form.reason, MAX_SHORT_TEXT);
    let to = form.status.parse::<ClaimStatus>();
    v.check(to.is_ok(), "status", "choose a status");
    v.finish()?;
    let to = to.map_err(|e| AppError::invalid("status", e))?;
    let ctx = reviewer.audit();
    let mut conn = state.pool.get().await?;
    let outcome = reviews::change_status(
        &mut conn,
        &ctx,
        reviewer.user().role,
        id,
        IfMatch::Revisions(vec![form.revision]),
        to,
        &reason,
    )
    .await;
    drop(conn);
    let fields = vec![
        ("status".into(), form.status),
        ("reason".into(), form.reason),
    ];
    finish(
        outcome,
        &state,
        &reviewer,
        id,
        "status",
        form.revision,
        fields,
    )
    .await
}

#[derive(Deserialize)]
pub struct ReviewForm {
    csrf: String,
    revision: i32,
    verdict: String,
    rationale: String,
    #[serde(default)]
    evidence_url: String,
    #[serde(default)]
    evidence_title: String,
    #[serde(default)]
    confidence: String,
}

pub async fn review(
    state: web::Data<AppState>,
    reviewer: Reviewer,
    id: web::Path<i64>,
    form: web::Form<ReviewForm>,
) -> Result<HttpResponse, UiError> {
    let form = form.into_inner();
    reviewer.check_form(&form.csrf)?;
    let role = reviewer.user().role;
    role.require(Action::Review)?;
    let id = id.into_inner();
    // The form becomes the API's request body, so that it is read and
    // checked by the same rules.
    let mut body = json!({ "verdict": form.verdict, "rationale": form.rationale });
    if !form.evidence_url.trim().is_empty() {
        let title = form.evidence_title.trim();
        body["evidence"] = json!([{
            "url": form.evidence_url.trim(),
            "title": (!title.is_empty()).then_some(title),
        }]);
    }
    if !form.confidence.trim().is_empty() {
        let c: f64 = form
            .confidence
            .trim()
            .parse()
            .map_err(|_| AppError::invalid("reviewer_confidence", "a number from 0 to 1"))?;
        body["reviewer_confidence"] = json!(c);
    }
    let review: NewReview =
        serde_json::from_value(body).map_err(|e| AppError::invalid("verdict", e.to_string()))?;
    let review = review.validate()?;
    let ctx = reviewer.audit();
    let mut conn = state.pool.get().await?;
    let outcome = reviews::create_review(
        &mut conn,
        &ctx,
        role,
        id,
        IfMatch::Revisions(vec![form.revision]),
        review,
    )
    .await;
    drop(conn);
    let fields = vec![
        ("verdict".into(), form.verdict),
        ("rationale".into(), form.rationale),
        ("evidence_url".into(), form.evidence_url),
        ("evidence_title".into(), form.evidence_title),
        ("confidence".into(), form.confidence),
    ];
    finish(
        outcome,
        &state,
        &reviewer,
        id,
        "reviews",
        form.revision,
        fields,
    )
    .await
}

#[derive(Deserialize)]
pub struct EditForm {
    csrf: String,
    revision: i32,
    text: String,
    reason: String,
}

/// Editors (and reporters, on their drafts) correct the claim's text.
pub async fn edit(
    state: web::Data<AppState>,
    reviewer: Reviewer,
    id: web::Path<i64>,
    form: web::Form<EditForm>,
) -> Result<HttpResponse, UiError> {
    let form = form.into_inner();
    reviewer.check_form(&form.csrf)?;
    let role = reviewer.user().role;
    role.require(Action::EditClaim)?;
    let id = id.into_inner();
    let patch: ClaimPatch =
        serde_json::from_value(json!({ "text": form.text, "reason": form.reason }))
            .map_err(|e| AppError::invalid("text", e.to_string()))?;
    let patch = patch.validate()?;
    let ctx = reviewer.audit();
    let mut conn = state.pool.get().await?;
    let outcome = claims::append_revision(
        &mut conn,
        &ctx,
        role,
        id,
        patch,
        IfMatch::Revisions(vec![form.revision]),
    )
    .await;
    drop(conn);
    let fields = vec![("text".into(), form.text), ("reason".into(), form.reason)];
    finish(
        outcome,
        &state,
        &reviewer,
        id,
        "edit",
        form.revision,
        fields,
    )
    .await
}

#[derive(Deserialize)]
pub struct CommentForm {
    csrf: String,
    body: String,
}

/// Comments do not change the claim: they need no revision.
pub async fn comment(
    state: web::Data<AppState>,
    reviewer: Reviewer,
    id: web::Path<i64>,
    form: web::Form<CommentForm>,
) -> Result<HttpResponse, UiError> {
    reviewer.check_form(&form.csrf)?;
    reviewer.user().role.require(Action::Comment)?;
    let mut v = Validator::new();
    let body = v.required_text("body", &form.body, 20_000);
    v.finish()?;
    let id = id.into_inner();
    let ctx = reviewer.audit();
    let mut conn = state.pool.get().await?;
    reviews::add_comment(&mut conn, &ctx, id, &body).await?;
    Ok(see_other(&format!("/ui/claims/{id}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn context_is_cut_in_code_points_around_the_span() {
        let body = "Ο υπουργός δήλωσε ότι 17 πολίτες ταυτοποιήθηκαν.";
        let start = body.chars().position(|c| c == '1').unwrap();
        let (before, span, after) = around(body, start, start + 2, 6);
        assert_eq!(span, "17");
        assert_eq!(before, "…ε ότι ");
        assert_eq!(after, " πολίτ…");
    }

    #[test]
    fn spans_past_the_end_are_clamped_not_a_panic() {
        let (before, span, after) = around("short", 3, 99, 10);
        assert_eq!(
            (before.as_str(), span.as_str(), after.as_str()),
            ("sho", "rt", "")
        );
    }

    #[test]
    fn only_web_addresses_become_links() {
        let links = evidence_links(&json!([
            { "url": "https://stats.example/table", "title": "Table 4" },
            { "url": "javascript:alert(1)" }
        ]));
        assert!(links[0].linked);
        assert_eq!(links[0].title, "Table 4");
        assert!(!links[1].linked);
    }
}
