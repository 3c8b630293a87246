//! The audit log.

use actix_web::{HttpResponse, web};
use serde::Deserialize;

use crate::domain::audit::AuditAction;
use crate::error::AppError;
use crate::http::auth::Caller;
use crate::http::extract::time_param;
use crate::http::pagination::{PageBody, PageParams};
use crate::http::read_conn::ReadConn;
use crate::http::server::AppState;
use crate::storage::SortOrder;
use crate::storage::events::{self, EventFilter};
use crate::storage::users;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct EventQuery {
    #[serde(alias = "story_id")]
    #[param(minimum = 1)]
    story: Option<i64>,
    subject_type: Option<String>,
    #[param(minimum = 1)]
    subject_id: Option<i64>,
    actor: Option<String>,
    #[param(value_type = Option<AuditAction>)]
    action: Option<String>,
    since: Option<String>,
    until: Option<String>,
    #[param(minimum = 1, maximum = 200)]
    limit: Option<i64>,
    cursor: Option<String>,
    order: Option<SortOrder>,
}

#[utoipa::path(
    get,
    path = "/v1/events",
    tag = "audit",
    params(EventQuery),
    responses(
        (status = 200, description = "A page of audit events", body = PageBody<crate::storage::events::EventView>),
    ),
)]
pub async fn list(
    caller: Caller,
    query: web::Query<EventQuery>,
    mut conn: ReadConn,
) -> Result<HttpResponse, AppError> {
    caller.allow_read()?;
    let q = query.into_inner();
    let request = PageParams {
        limit: q.limit,
        cursor: q.cursor,
        order: q.order,
    }
    .page_request()?;
    let filter = EventFilter {
        story_id: q.story,
        subject_type: q.subject_type,
        subject_id: q.subject_id,
        actor: q.actor,
        action: q
            .action
            .as_deref()
            .map(str::parse::<AuditAction>)
            .transpose()
            .map_err(|e| AppError::invalid("action", e))?,
        actions: None,
        since: time_param("since", q.since.as_deref())?,
        until: time_param("until", q.until.as_deref())?,
    };
    let page = events::list(&mut conn, filter, request).await?;
    Ok(HttpResponse::Ok().json(PageBody::new(page, request)))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct StreamQuery {
    #[serde(alias = "story_id")]
    story: Option<i64>,
    /// Resume after this leaf index of the log (as `Last-Event-ID` does).
    after: Option<i64>,
}

/// How often a stream looks for new events while the database's
/// notifications are down (otherwise it waits to be told).
const POLL: std::time::Duration = std::time::Duration::from_millis(500);
/// A comment line this often keeps proxies from closing an idle stream.
const HEARTBEAT: std::time::Duration = std::time::Duration::from_secs(15);

/// `GET /v1/events/stream`: the audit log as Server-Sent Events, in the
/// transparency log's order, as events join it (within the merge delay).
/// Each event's `id` is its leaf index, and the log only grows at its end,
/// so a client that reconnects with `Last-Event-ID` resumes exactly after
/// the last event it saw and misses none. Every instance's streams wake
/// when the database announces a new checkpoint, whichever instance wrote
/// the events (they poll twice a second while announcements are down).
/// Once the caller's token is revoked, wherever that happens, the stream
/// sends a last `closed` event and ends.
#[utoipa::path(
    get,
    path = "/v1/events/stream",
    tag = "audit",
    params(StreamQuery, ("Last-Event-ID" = Option<String>, Header, description = "Resume after this leaf index")),
    responses(
        (status = 200, description = "The audit log as Server-Sent Events, without end", content((String = "text/event-stream"))),
    ),
)]
pub async fn stream(
    req: actix_web::HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<StreamQuery>,
) -> Result<HttpResponse, AppError> {
    caller.allow_read()?;
    let query = query.into_inner();
    let last_event_id = match req.headers().get("last-event-id") {
        None => None,
        Some(v) => Some(
            v.to_str()
                .ok()
                .and_then(|s| s.trim().parse::<i64>().ok())
                .ok_or_else(|| {
                    AppError::BadRequest("Last-Event-ID must be an event's leaf index".into())
                })?,
        ),
    };
    let start = last_event_id.or(query.after).unwrap_or(-1).max(-1);
    struct Cursor {
        state: web::Data<AppState>,
        story: Option<i64>,
        after: i64,
        first: bool,
        growth: tokio::sync::watch::Receiver<i64>,
        revocations: tokio::sync::broadcast::Receiver<i64>,
        last_sent: std::time::Instant,
        /// The caller's token: revoking it ends the stream. Revocations are
        /// announced; while announcements are down the token is checked
        /// again once per token-cache period.
        token_id: Option<i64>,
        checked: std::time::Instant,
        closed: bool,
    }
    let cursor = Cursor {
        token_id: caller.user.as_ref().map(|u| u.token_id),
        growth: state.notifications.log_growth(),
        revocations: state.notifications.revocations(),
        state,
        story: query.story,
        after: start,
        first: true,
        last_sent: std::time::Instant::now(),
        checked: std::time::Instant::now(),
        closed: false,
    };
    const CLOSED: &[u8] = b"event: closed\ndata: {\"reason\":\"the token was revoked\"}\n\n";
    let body = futures_util::stream::unfold(cursor, |mut c| async move {
        use tokio::sync::broadcast::error::TryRecvError;
        if c.first {
            c.first = false;
            return Some((
                Ok::<_, actix_web::Error>(web::Bytes::from_static(b"retry: 2000\n\n")),
                c,
            ));
        }
        if c.closed {
            return None;
        }
        loop {
            let listening = c.state.notifications.is_listening();
            if let Some(token_id) = c.token_id {
                let mut missed = false;
                loop {
                    match c.revocations.try_recv() {
                        Ok(id) if id == token_id => {
                            c.closed = true;
                            return Some((Ok(web::Bytes::from_static(CLOSED)), c));
                        }
                        Ok(_) => {}
                        Err(TryRecvError::Lagged(_)) => missed = true,
                        Err(_) => break,
                    }
                }
                let recheck = c.state.tokens.ttl().clamp(
                    std::time::Duration::from_millis(500),
                    std::time::Duration::from_secs(2),
                );
                if missed || (!listening && c.checked.elapsed() >= recheck) {
                    let live = match c.state.pool.get().await {
                        Ok(mut conn) => users::token_is_live(&mut conn, token_id).await.ok(),
                        Err(_) => None,
                    };
                    // A database that cannot answer is not a revocation.
                    if live == Some(false) {
                        c.closed = true;
                        return Some((Ok(web::Bytes::from_static(CLOSED)), c));
                    }
                    c.checked = std::time::Instant::now();
                }
            }
            // Marked seen before the query: growth announced while it runs
            // wakes the wait below at once.
            c.growth.borrow_and_update();
            let found = match c.state.pool.get().await {
                Ok(mut conn) => events::after_leaf(&mut conn, c.story, c.after, 200)
                    .await
                    .ok(),
                Err(_) => None,
            };
            let items = found.unwrap_or_default();
            if let Some(last) = items.last().and_then(|e| e.leaf_index) {
                c.after = last;
                c.last_sent = std::time::Instant::now();
                let mut chunk = String::new();
                for e in &items {
                    let data = serde_json::to_string(e).unwrap_or_else(|_| "{}".into());
                    chunk.push_str(&format!(
                        "id: {}\nevent: {}\ndata: {data}\n\n",
                        e.leaf_index.unwrap_or_default(),
                        e.action
                    ));
                }
                return Some((Ok(web::Bytes::from(chunk)), c));
            }
            let wait = if listening { HEARTBEAT } else { POLL };
            let wait = wait.min(HEARTBEAT.saturating_sub(c.last_sent.elapsed()));
            tokio::select! {
                _ = c.growth.changed() => {}
                heard = c.revocations.recv(), if c.token_id.is_some() => {
                    if let Ok(id) = heard && Some(id) == c.token_id {
                        c.closed = true;
                        return Some((Ok(web::Bytes::from_static(CLOSED)), c));
                    }
                }
                () = tokio::time::sleep(wait) => {}
            }
            if c.last_sent.elapsed() >= HEARTBEAT {
                c.last_sent = std::time::Instant::now();
                return Some((Ok(web::Bytes::from_static(b": heartbeat\n\n")), c));
            }
        }
    });
    Ok(HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header(("cache-control", "no-cache"))
        .insert_header(("x-accel-buffering", "no"))
        .streaming(body))
}
