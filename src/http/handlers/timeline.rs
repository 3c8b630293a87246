//! `GET /v1/stories/{id}/timeline`: how a story's claims evolved, event by
//! event, with each claim revision's changes and text diff inline.

use std::fmt::Write as _;

use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};

use crate::domain::audit::AuditAction;
use crate::error::AppError;
use crate::http::auth::Caller;
use crate::http::extract::time_param;
use crate::http::handlers::diffs::{FieldChange, TextDiffBody, claim_changes};
use crate::http::pagination::{PageBody, PageParams};
use crate::http::read_conn::ReadConn;
use crate::http::server::AppState;
use crate::storage::events::{self, EventFilter, EventView};
use crate::storage::{SortOrder, claims, stories};

/// The kinds of timeline entries, and the audit actions behind each.
pub const KINDS: &[(&str, &[AuditAction])] = &[
    ("story_created", &[AuditAction::StoryCreated]),
    ("article_published", &[AuditAction::ArticleCreated]),
    ("article_revised", &[AuditAction::ArticleRevised]),
    ("claim_logged", &[AuditAction::ClaimCreated]),
    (
        "claim_revised",
        &[
            AuditAction::ClaimRevised,
            AuditAction::ClaimAppearancesCarried,
        ],
    ),
    ("status_changed", &[AuditAction::ClaimStatusChanged]),
    ("review_given", &[AuditAction::ReviewCreated]),
    ("relation_added", &[AuditAction::RelationAdded]),
    ("comment_added", &[AuditAction::CommentCreated]),
    ("claim_assigned", &[AuditAction::ClaimAssigned]),
];

fn kind_of(action: &str) -> &'static str {
    KINDS
        .iter()
        .find(|(_, actions)| actions.iter().any(|a| a.as_str() == action))
        .map_or("other", |(kind, _)| kind)
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct TimelineQuery {
    /// Comma-separated entry kinds (see the docs).
    kind: Option<String>,
    actor: Option<String>,
    since: Option<String>,
    until: Option<String>,
    #[param(minimum = 1, maximum = 200)]
    limit: Option<i64>,
    cursor: Option<String>,
    /// `json` (default) or `markdown`.
    #[param(pattern = "^(json|markdown)$")]
    format: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Entry {
    pub kind: &'static str,
    #[serde(flatten)]
    pub event: EventView,
    /// For a claim revision: the fields it changed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub changes: Option<Vec<FieldChange>>,
    /// For a claim revision that changed the text: the word-level diff.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text_diff: Option<TextDiffBody>,
}

/// The audit actions of timeline kinds named in a comma-separated list.
pub fn actions_of_kinds(list: &str) -> Result<Vec<AuditAction>, AppError> {
    let mut actions = Vec::new();
    for kind in list.split(',').map(str::trim).filter(|k| !k.is_empty()) {
        let (_, acts) = KINDS.iter().find(|(k, _)| *k == kind).ok_or_else(|| {
            let known: Vec<&str> = KINDS.iter().map(|(k, _)| *k).collect();
            AppError::invalid(
                "kind",
                format!("unknown kind {kind:?}; known: {}", known.join(", ")),
            )
        })?;
        actions.extend_from_slice(acts);
    }
    Ok(actions)
}

/// A page of a story's timeline: its events, each claim revision with its
/// changed fields and text diff. The JSON, the Markdown report and the
/// timeline page are all made from it.
pub async fn entries(
    conn: &mut diesel_async::AsyncPgConnection,
    state: &AppState,
    filter: EventFilter,
    request: crate::storage::PageRequest,
) -> Result<crate::storage::Page<Entry>, AppError> {
    let page = events::list(conn, filter, request).await?;

    // The revisions behind claim revisions on this page, in one query.
    let revised = |e: &EventView| {
        kind_of(&e.action) == "claim_revised"
            || e.action == "claim.status_changed"
            || e.action == "review.created"
    };
    let keys: Vec<(i64, i32)> = page
        .items
        .iter()
        .filter(|e| revised(e))
        .filter_map(|e| {
            Some([
                (e.subject_id, e.before_revision?),
                (e.subject_id, e.after_revision?),
            ])
        })
        .flatten()
        .collect();
    let revisions = claims::revisions_by_key(conn, &keys).await?;

    let mut entries = Vec::with_capacity(page.items.len());
    for event in page.items {
        let (mut changes, mut text_diff) = (None, None);
        if revised(&event)
            && let (Some(b), Some(a)) = (event.before_revision, event.after_revision)
            && let (Some(old), Some(new)) = (
                revisions.get(&(event.subject_id, b)),
                revisions.get(&(event.subject_id, a)),
            )
        {
            let (c, t) = claim_changes(old, new, state)?;
            changes = Some(c);
            text_diff = t;
        }
        entries.push(Entry {
            kind: kind_of(&event.action),
            event,
            changes,
            text_diff,
        });
    }
    Ok(crate::storage::Page {
        items: entries,
        next_after: page.next_after,
    })
}

#[utoipa::path(
    get,
    path = "/v1/stories/{id}/timeline",
    tag = "stories",
    params(("id" = i64, Path, minimum = 1, description = "The story's id"), TimelineQuery),
    responses(
        (status = 200, description = "A page of the story's timeline, or with `format=markdown` a readable report", content((PageBody<Entry> = "application/json"), (String = "text/markdown"))),
    ),
)]
pub async fn timeline(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
    query: web::Query<TimelineQuery>,
    mut conn: ReadConn,
) -> Result<HttpResponse, AppError> {
    caller.allow_read()?;
    let q = query.into_inner();
    let markdown = match q.format.as_deref() {
        None | Some("json") => false,
        Some("markdown") => true,
        Some(other) => {
            return Err(AppError::invalid(
                "format",
                format!("must be json or markdown, not {other:?}"),
            ));
        }
    };
    let actions = q.kind.as_deref().map(actions_of_kinds).transpose()?;
    let request = PageParams {
        limit: q.limit,
        cursor: q.cursor,
        order: Some(SortOrder::Asc),
    }
    .page_request()?;
    let story = stories::get(&mut conn, id.into_inner()).await?;
    let filter = EventFilter {
        story_id: Some(story.id),
        actor: q.actor,
        actions,
        since: time_param("since", q.since.as_deref())?,
        until: time_param("until", q.until.as_deref())?,
        ..EventFilter::default()
    };
    let page = entries(&mut conn, &state, filter, request).await?;
    drop(conn);
    let entries = page.items;
    let next_after = page.next_after;
    if markdown {
        return Ok(HttpResponse::Ok()
            .content_type("text/markdown; charset=utf-8")
            .body(render_markdown(
                &story.title,
                story.id,
                &entries,
                next_after.is_some(),
            )));
    }
    Ok(HttpResponse::Ok().json(PageBody::new(
        crate::storage::Page {
            items: entries,
            next_after,
        },
        request,
    )))
}

/// One line saying what an entry's event did.
pub fn describe(e: &Entry) -> String {
    let ev = &e.event;
    let d = &ev.details;
    match ev.action.as_str() {
        "story.created" => format!(
            "created the story \"{}\"",
            d["title"].as_str().unwrap_or("")
        ),
        "article.created" => format!(
            "published article {} ({})",
            ev.subject_id,
            d["url"].as_str().unwrap_or("")
        ),
        "article.revised" => format!(
            "revised article {} to revision {}: {} claims carried ({} present, {} altered, {} removed)",
            ev.subject_id,
            ev.after_revision.unwrap_or(0),
            d["claims_affected"],
            d["present"],
            d["altered"],
            d["removed"]
        ),
        "claim.created" => format!("logged claim {}", ev.subject_id),
        "claim.revised" => format!(
            "revised claim {} to revision {} ({})",
            ev.subject_id,
            ev.after_revision.unwrap_or(0),
            d["reason"].as_str().unwrap_or("")
        ),
        "claim.appearances_carried" => format!(
            "carried claim {} to revision {} after an article edit",
            ev.subject_id,
            ev.after_revision.unwrap_or(0)
        ),
        "claim.status_changed" => format!(
            "moved claim {} from {} to {} ({})",
            ev.subject_id,
            d["from"].as_str().unwrap_or(""),
            d["to"].as_str().unwrap_or(""),
            d["reason"].as_str().unwrap_or("")
        ),
        "review.created" => format!(
            "reviewed claim {} (revision {}): {}",
            ev.subject_id,
            d["claim_revision"],
            d["verdict"].as_str().unwrap_or("")
        ),
        "relation.added" => format!(
            "linked claim {}: {} claim {}",
            ev.subject_id,
            d["kind"].as_str().unwrap_or(""),
            d["target_id"]
        ),
        "comment.created" => format!("commented on claim {}", ev.subject_id),
        "claim.assigned" => format!(
            "assigned claim {} to {}",
            ev.subject_id,
            d["to"].as_str().unwrap_or("nobody")
        ),
        other => format!("{other} on {} {}", ev.subject_type, ev.subject_id),
    }
}

/// A readable audit report of the same entries.
fn render_markdown(title: &str, story_id: i64, entries: &[Entry], more: bool) -> String {
    let mut out = format!("# Timeline: {title} (story {story_id})\n\n");
    for e in entries {
        let _ = writeln!(
            out,
            "- **{}** — {} {} _(event {}, request {})_",
            e.event.occurred_at.format("%Y-%m-%d %H:%M:%S UTC"),
            e.event.actor,
            describe(e),
            e.event.id,
            e.event.request_id.as_deref().unwrap_or("-")
        );
        for change in e.changes.iter().flatten().filter(|c| c.field != "text") {
            let _ = writeln!(
                out,
                "  - {}: `{}` → `{}`",
                change.field, change.old, change.new
            );
        }
        if let Some(diff) = &e.text_diff {
            out.push_str("\n  ```diff\n");
            for line in diff.unified.lines() {
                let _ = writeln!(out, "  {line}");
            }
            out.push_str("  ```\n");
        }
    }
    if more {
        out.push_str(
            "\n_More entries follow; request the next page with the JSON format's cursor._\n",
        );
    }
    out
}
