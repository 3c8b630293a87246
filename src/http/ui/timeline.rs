//! The story timeline page: the story's events in order, grouped by day,
//! each claim change with its word diff; filters by kind and actor; and the
//! story's claims as recorded at a chosen moment.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::{DateTime, NaiveDateTime, Utc};
use serde::Deserialize;

use super::diff_view::{Run, field_text, runs};
use super::page::{Chrome, UiError, list_page, next_cursor, render, url_component};
use super::session::Reviewer;
use crate::error::AppError;
use crate::http::extract::time_param;
use crate::http::handlers::timeline::{KINDS, actions_of_kinds, describe, entries};
use crate::http::pagination::PageParams;
use crate::http::read_conn::ReadConn;
use crate::http::server::AppState;
use crate::storage::claims::{self, ClaimAsOf};
use crate::storage::events::EventFilter;
use crate::storage::models::Story;
use crate::storage::{SortOrder, stories};

pub struct Item {
    pub time: String,
    pub actor: String,
    pub kind: &'static str,
    pub line: String,
    pub claim_id: Option<i64>,
    pub runs: Vec<Run>,
    /// Other changed fields: name, old, new.
    pub fields: Vec<(String, String, String)>,
}

pub struct Day {
    pub day: String,
    pub items: Vec<Item>,
}

#[derive(Template)]
#[template(path = "timeline.html")]
struct TimelinePage {
    chrome: Chrome,
    story: Story,
    kinds: Vec<&'static str>,
    kind: String,
    actor: String,
    as_of: String,
    days: Vec<Day>,
    next_page: Option<String>,
    as_of_claims: Option<Vec<ClaimAsOf>>,
}

#[derive(Deserialize)]
pub struct TimelineQuery {
    kind: Option<String>,
    actor: Option<String>,
    as_of: Option<String>,
    cursor: Option<String>,
}

/// A moment typed in the page: RFC 3339, a date, or what a browser's
/// `datetime-local` field sends (`2026-11-23T08:30`, read as UTC).
pub fn moment(raw: &str) -> Result<DateTime<Utc>, AppError> {
    if let Ok(local) = NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M") {
        return Ok(local.and_utc());
    }
    time_param("as_of", Some(raw))?.ok_or_else(|| AppError::invalid("as_of", "a moment"))
}

pub async fn page(
    state: web::Data<AppState>,
    reviewer: Reviewer,
    id: web::Path<i64>,
    query: web::Query<TimelineQuery>,
    mut conn: ReadConn,
) -> Result<HttpResponse, UiError> {
    let q = query.into_inner();
    let given = |f: &Option<String>| {
        f.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let (kind, actor, as_of) = (given(&q.kind), given(&q.actor), given(&q.as_of));
    let actions = kind.as_deref().map(actions_of_kinds).transpose()?;
    let at = as_of.as_deref().map(moment).transpose()?;
    let request = list_page(q.cursor.clone(), SortOrder::Asc)?;
    let story = stories::get(&mut conn, id.into_inner()).await?;
    let as_of_claims = match at {
        Some(at) if at < story.created_at => {
            return Err(AppError::NotFound(format!(
                "story {} was not yet recorded at {}",
                story.id,
                at.to_rfc3339()
            ))
            .into());
        }
        Some(at) => {
            let first = PageParams {
                limit: Some(200),
                cursor: None,
                order: Some(SortOrder::Asc),
            }
            .page_request()?;
            Some(
                claims::story_as_of(&mut conn, story.id, at, first)
                    .await?
                    .items,
            )
        }
        None => None,
    };
    let filter = EventFilter {
        story_id: Some(story.id),
        actor: actor.clone(),
        actions,
        ..EventFilter::default()
    };
    let page = entries(&mut conn, &state, filter, request).await?;
    drop(conn);

    let mut days: Vec<Day> = Vec::new();
    for e in &page.items {
        let day = e.event.occurred_at.format("%A %-d %B %Y").to_string();
        let item = Item {
            time: e.event.occurred_at.format("%H:%M:%S UTC").to_string(),
            actor: e.event.actor.clone(),
            kind: e.kind,
            line: describe(e),
            claim_id: (e.event.subject_type == "claim").then_some(e.event.subject_id),
            runs: e
                .text_diff
                .as_ref()
                .map(|diff| runs(&diff.ops))
                .unwrap_or_default(),
            fields: e
                .changes
                .iter()
                .flatten()
                .filter(|c| c.field != "text")
                .map(|c| {
                    (
                        c.field.to_owned(),
                        field_text(c.field, &c.old),
                        field_text(c.field, &c.new),
                    )
                })
                .collect(),
        };
        match days.last_mut() {
            Some(d) if d.day == day => d.items.push(item),
            _ => days.push(Day {
                day,
                items: vec![item],
            }),
        }
    }
    let filters = format!(
        "kind={}&actor={}&as_of={}",
        url_component(kind.as_deref().unwrap_or("")),
        url_component(actor.as_deref().unwrap_or("")),
        url_component(as_of.as_deref().unwrap_or("")),
    );
    let next_page = next_cursor(request.order, page.next_after).map(|cursor| {
        format!(
            "/ui/stories/{}/timeline?{filters}&cursor={cursor}",
            story.id
        )
    });
    render(
        StatusCode::OK,
        &TimelinePage {
            chrome: reviewer.chrome(),
            kinds: KINDS.iter().map(|(k, _)| *k).collect(),
            kind: kind.unwrap_or_default(),
            actor: actor.unwrap_or_default(),
            as_of: as_of.unwrap_or_default(),
            days,
            next_page,
            as_of_claims,
            story,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_moment_is_read_from_a_browser_field_or_rfc_3339() {
        assert_eq!(
            moment("2026-11-23T08:30").unwrap().to_rfc3339(),
            "2026-11-23T08:30:00+00:00"
        );
        assert_eq!(
            moment("2026-11-23T08:30:05Z").unwrap().to_rfc3339(),
            "2026-11-23T08:30:05+00:00"
        );
        assert!(moment("next tuesday").is_err());
    }
}
