//! The review queue: what needs a reviewer, filtered, sorted, paged, and
//! taken from the row.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::page::{
    Chrome, UiError, list_page, next_cursor, render, return_to, see_other, url_component,
};
use super::session::Reviewer;
use crate::domain::auth::Action;
use crate::domain::claim::{AppearanceState, ClaimStatus};
use crate::http::read_conn::ReadConn;
use crate::http::server::AppState;
use crate::storage::SortOrder;
use crate::storage::claims::ClaimView;
use crate::storage::reviews::{self, QueueFilter, QueueSort};

/// Why a claim is in the queue, as its row says it.
pub fn attention(claim: &ClaimView) -> &'static str {
    let state = |s: AppearanceState| claim.appearances.iter().any(|a| a.state == s);
    if state(AppearanceState::Removed) {
        "span removed by an article correction"
    } else if state(AppearanceState::Altered) {
        "span altered by an article correction"
    } else if claim.needs_review && claim.revision > 1 {
        "edited since it was reviewed"
    } else if claim.status == ClaimStatus::InReview {
        "in review"
    } else {
        "new"
    }
}

/// How long ago, in the largest whole unit.
pub fn age(since: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let d = now - since;
    match (d.num_days(), d.num_hours(), d.num_minutes()) {
        (days, _, _) if days >= 1 => format!("{days} d"),
        (_, hours, _) if hours >= 1 => format!("{hours} h"),
        (_, _, minutes) => format!("{} min", minutes.max(0)),
    }
}

pub struct QueueRow {
    pub claim: ClaimView,
    pub attention: &'static str,
    pub age: String,
}

#[derive(Template)]
#[template(path = "queue.html")]
struct QueuePage {
    chrome: Chrome,
    rows: Vec<QueueRow>,
    story: String,
    status: String,
    assignee: String,
    sort: &'static str,
    statuses: &'static [&'static str],
    /// The query of this page (for coming back after taking a claim) and of the next.
    here: String,
    next_page: Option<String>,
    can_take: bool,
}

#[derive(Deserialize)]
pub struct QueueQuery {
    story: Option<String>,
    status: Option<String>,
    assignee: Option<String>,
    sort: Option<String>,
    cursor: Option<String>,
}

/// An empty form field is no filter.
fn given(field: &Option<String>) -> Option<&str> {
    field.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

pub async fn queue(
    reviewer: Reviewer,
    query: web::Query<QueueQuery>,
    mut conn: ReadConn,
) -> Result<HttpResponse, UiError> {
    let q = query.into_inner();
    let story = given(&q.story)
        .map(|s| {
            s.parse::<i64>().map_err(|_| {
                crate::error::AppError::invalid("story", "a story is named by its number")
            })
        })
        .transpose()?;
    let status = given(&q.status)
        .map(|s| {
            s.parse::<ClaimStatus>()
                .map_err(|e| crate::error::AppError::invalid("status", e))
        })
        .transpose()?;
    let assignee = given(&q.assignee).map(|a| match a {
        "me" => reviewer.user().name.clone(),
        other => other.to_owned(),
    });
    let sort = match given(&q.sort) {
        Some("oldest") => QueueSort::Oldest,
        _ => QueueSort::Priority,
    };
    let request = list_page(q.cursor.clone(), SortOrder::Asc)?;
    let filter = QueueFilter {
        story_id: story,
        assignee: assignee.clone(),
        status,
    };
    let page = reviews::review_queue(&mut conn, filter, sort, request).await?;
    drop(conn);
    let next = next_cursor(request.order, page.next_after);
    let now = Utc::now();
    let sort_name = match sort {
        QueueSort::Oldest => "oldest",
        QueueSort::Priority => "priority",
    };
    let filters = format!(
        "story={}&status={}&assignee={}&sort={sort_name}",
        url_component(given(&q.story).unwrap_or("")),
        url_component(given(&q.status).unwrap_or("")),
        url_component(given(&q.assignee).unwrap_or("")),
    );
    let here = match &q.cursor {
        Some(c) => format!("/ui/queue?{filters}&cursor={}", url_component(c)),
        None => format!("/ui/queue?{filters}"),
    };
    render(
        StatusCode::OK,
        &QueuePage {
            can_take: reviewer.user().role.may(Action::Assign),
            chrome: reviewer.chrome(),
            rows: page
                .items
                .into_iter()
                .map(|claim| QueueRow {
                    attention: attention(&claim),
                    age: age(claim.created_at, now),
                    claim,
                })
                .collect(),
            story: given(&q.story).unwrap_or("").to_owned(),
            status: given(&q.status).unwrap_or("").to_owned(),
            assignee: given(&q.assignee).unwrap_or("").to_owned(),
            sort: sort_name,
            statuses: &["unverified", "in_review"],
            here,
            next_page: next.map(|c| format!("/ui/queue?{filters}&cursor={c}")),
        },
    )
}

#[derive(Deserialize)]
pub struct AssignForm {
    csrf: String,
    /// A user name; empty unassigns. Left out by "Take": whoever pressed it.
    assignee: Option<String>,
    back: Option<String>,
}

/// Assigns the claim (to whoever pressed "Take", or to the name given, or
/// to nobody), then back to the page the form came from.
pub async fn assign(
    state: web::Data<AppState>,
    reviewer: Reviewer,
    id: web::Path<i64>,
    form: web::Form<AssignForm>,
) -> Result<HttpResponse, UiError> {
    reviewer.check_form(&form.csrf)?;
    reviewer.user().role.require(Action::Assign)?;
    let assignee = match form.assignee.as_deref().map(str::trim) {
        None => Some(reviewer.user().name.clone()),
        Some("") => None,
        Some(name) => Some(name.to_owned()),
    };
    let ctx = reviewer.audit();
    let mut conn = state.pool.get().await?;
    reviews::assign(&mut conn, &ctx, id.into_inner(), assignee.as_deref()).await?;
    Ok(see_other(return_to(form.back.as_deref())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn ages_read_in_the_largest_whole_unit() {
        let now = Utc.with_ymd_and_hms(2026, 12, 7, 12, 0, 0).unwrap();
        assert_eq!(age(now - chrono::Duration::minutes(5), now), "5 min");
        assert_eq!(age(now - chrono::Duration::minutes(125), now), "2 h");
        assert_eq!(age(now - chrono::Duration::days(3), now), "3 d");
        assert_eq!(age(now + chrono::Duration::minutes(1), now), "0 min");
    }
}
