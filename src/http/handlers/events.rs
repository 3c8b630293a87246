//! The audit log.

use actix_web::{HttpResponse, web};
use serde::Deserialize;

use crate::app::AppState;
use crate::domain::when::parse_time;
use crate::error::AppError;
use crate::http::auth::Caller;
use crate::http::pagination::{PageBody, PageParams};
use crate::storage::SortOrder;
use crate::storage::events::{self, EventFilter};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventQuery {
    #[serde(alias = "story_id")]
    story: Option<i64>,
    subject_type: Option<String>,
    subject_id: Option<i64>,
    actor: Option<String>,
    action: Option<String>,
    since: Option<String>,
    until: Option<String>,
    limit: Option<i64>,
    cursor: Option<String>,
    order: Option<SortOrder>,
}

pub async fn list(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<EventQuery>,
) -> Result<HttpResponse, AppError> {
    caller.allow_read()?;
    let q = query.into_inner();
    let request = PageParams {
        limit: q.limit,
        cursor: q.cursor,
        order: q.order,
    }
    .page_request()?;
    let time = |name: &str, raw: Option<&str>| {
        raw.map(|r| {
            parse_time(r)
                .map(|(t, _)| t)
                .map_err(|e| AppError::invalid(name, e))
        })
        .transpose()
    };
    let filter = EventFilter {
        story_id: q.story,
        subject_type: q.subject_type,
        subject_id: q.subject_id,
        actor: q.actor,
        action: q.action,
        actions: None,
        since: time("since", q.since.as_deref())?,
        until: time("until", q.until.as_deref())?,
    };
    let mut conn = state.pool.get().await?;
    let page = events::list(&mut conn, filter, request).await?;
    Ok(HttpResponse::Ok().json(PageBody::new(page, request)))
}
