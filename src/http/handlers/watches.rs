//! Watches of outlets: editors add, pause, resume, delete and poll them;
//! everyone who reads the ledger sees them and what they found.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use crate::domain::auth::Action;
use crate::domain::watch::{ItemState, NewWatch};
use crate::error::AppError;
use crate::http::auth::Caller;
use crate::http::extract::JsonBody;
use crate::http::idempotency::{IdempotencyKey, Reply, once};
use crate::http::pagination::{PageBody, PageParams};
use crate::http::read_conn::ReadConn;
use crate::http::server::AppState;
use crate::storage::{SortOrder, watch_items, watches};

/// Adds a watch. Its first poll comes at once (within the poller's tick).
#[utoipa::path(
    post,
    path = "/v1/watches",
    tag = "watches",
    params(IdempotencyKey),
    request_body = NewWatch,
    responses(
        (status = 201, description = "The watch", body = crate::storage::watches::WatchRow, headers(("Location" = String, description = "Where the new resource is"))),
    ),
)]
pub async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    key: IdempotencyKey,
    JsonBody(body): JsonBody<NewWatch>,
) -> Result<HttpResponse, AppError> {
    caller.require(Action::ManageWatches)?;
    let watch = body.validate()?;
    let ctx = caller.audit();
    once(&state, &req, &ctx.actor, key, async |conn| {
        let created = watches::create(conn, &ctx, &watch).await?;
        Ok(Reply::json(StatusCode::CREATED, &created)?
            .location(format!("/v1/watches/{}", created.id)))
    })
    .await
}

#[utoipa::path(
    get,
    path = "/v1/watches",
    tag = "watches",
    params(PageParams),
    responses(
        (status = 200, description = "A page of watches, newest first", body = PageBody<crate::storage::watches::WatchRow>),
    ),
)]
pub async fn list(
    caller: Caller,
    page: web::Query<PageParams>,
    mut conn: ReadConn,
) -> Result<HttpResponse, AppError> {
    caller.allow_read()?;
    let request = page.page_request()?;
    let page = watches::list(&mut conn, request).await?;
    Ok(HttpResponse::Ok().json(PageBody::new(page, request)))
}

#[utoipa::path(
    get,
    path = "/v1/watches/{id}",
    tag = "watches",
    params(("id" = i64, Path, minimum = 1, description = "The watch's id")),
    responses(
        (status = 200, description = "The watch: its rule, its last poll and when it polls next", body = crate::storage::watches::WatchRow),
    ),
)]
pub async fn get(
    caller: Caller,
    id: web::Path<i64>,
    mut conn: ReadConn,
) -> Result<HttpResponse, AppError> {
    caller.allow_read()?;
    Ok(HttpResponse::Ok().json(watches::get(&mut conn, id.into_inner()).await?))
}

/// Deletes a watch; the articles and revisions it recorded stay.
#[utoipa::path(
    delete,
    path = "/v1/watches/{id}",
    tag = "watches",
    params(("id" = i64, Path, minimum = 1, description = "The watch's id")),
    responses((status = 204, description = "Deleted")),
)]
pub async fn delete(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    caller.require(Action::ManageWatches)?;
    let mut conn = state.pool.get().await?;
    watches::delete(&mut conn, &caller.audit(), id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[utoipa::path(
    post,
    path = "/v1/watches/{id}/pause",
    tag = "watches",
    params(("id" = i64, Path, minimum = 1, description = "The watch's id")),
    responses((status = 200, description = "The watch, paused", body = crate::storage::watches::WatchRow)),
)]
pub async fn pause(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    set_paused(state, caller, id.into_inner(), true).await
}

/// Resumes a paused watch: it polls at once.
#[utoipa::path(
    post,
    path = "/v1/watches/{id}/resume",
    tag = "watches",
    params(("id" = i64, Path, minimum = 1, description = "The watch's id")),
    responses((status = 200, description = "The watch, active", body = crate::storage::watches::WatchRow)),
)]
pub async fn resume(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    set_paused(state, caller, id.into_inner(), false).await
}

async fn set_paused(
    state: web::Data<AppState>,
    caller: Caller,
    id: i64,
    paused: bool,
) -> Result<HttpResponse, AppError> {
    caller.require(Action::ManageWatches)?;
    let mut conn = state.pool.get().await?;
    let row = watches::set_paused(&mut conn, &caller.audit(), id, paused).await?;
    Ok(HttpResponse::Ok().json(row))
}

/// Polls the watch now (paused or not) and says what the poll did: what
/// the outlet answered, which articles and revisions were recorded, which
/// fetches changed nothing (same text, or the same words in a new layout).
#[utoipa::path(
    post,
    path = "/v1/watches/{id}/poll",
    tag = "watches",
    params(("id" = i64, Path, minimum = 1, description = "The watch's id")),
    responses(
        (status = 200, description = "What the poll did (a failed fetch is an outcome, not an error)", body = crate::watcher::PollReport),
    ),
)]
pub async fn poll(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    caller.require(Action::ManageWatches)?;
    let report = state.watcher.poll_now(&state.pool, id.into_inner()).await?;
    Ok(HttpResponse::Ok().json(report))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ItemQuery {
    /// Only the articles in this state (`held`: waiting to be filed).
    #[param(value_type = Option<ItemState>)]
    state: Option<String>,
    #[param(minimum = 1, maximum = 200)]
    limit: Option<i64>,
    cursor: Option<String>,
    order: Option<SortOrder>,
}

#[utoipa::path(
    get,
    path = "/v1/watches/{id}/items",
    tag = "watches",
    params(("id" = i64, Path, minimum = 1, description = "The watch's id"), ItemQuery),
    responses(
        (status = 200, description = "A page of the articles the watch found", body = PageBody<crate::storage::watch_items::WatchItemRow>),
    ),
)]
pub async fn items(
    caller: Caller,
    id: web::Path<i64>,
    query: web::Query<ItemQuery>,
    mut conn: ReadConn,
) -> Result<HttpResponse, AppError> {
    caller.allow_read()?;
    let q = query.into_inner();
    let state = q
        .state
        .as_deref()
        .map(str::parse::<ItemState>)
        .transpose()
        .map_err(|e| AppError::invalid("state", e))?;
    let request = PageParams {
        limit: q.limit,
        cursor: q.cursor,
        order: q.order,
    }
    .page_request()?;
    let page = watch_items::list(&mut conn, id.into_inner(), state, request).await?;
    Ok(HttpResponse::Ok().json(PageBody::new(page, request)))
}

/// Where a held article goes.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FileItem {
    #[schema(minimum = 1)]
    story_id: i64,
}

/// Files a held (or skipped) article into a story: the next poll records
/// it there, and follows it from then on.
#[utoipa::path(
    post,
    path = "/v1/watches/{id}/items/{item_id}/file",
    tag = "watches",
    params(
        ("id" = i64, Path, minimum = 1, description = "The watch's id"),
        ("item_id" = i64, Path, minimum = 1, description = "The item's id"),
    ),
    request_body = FileItem,
    responses((status = 200, description = "The item, now followed", body = crate::storage::watch_items::WatchItemRow)),
)]
pub async fn file(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(i64, i64)>,
    JsonBody(body): JsonBody<FileItem>,
) -> Result<HttpResponse, AppError> {
    caller.require(Action::ManageWatches)?;
    if body.story_id < 1 {
        return Err(AppError::invalid("story_id", "must be a positive id"));
    }
    let (id, item_id) = path.into_inner();
    let mut conn = state.pool.get().await?;
    let row = watch_items::file(&mut conn, &caller.audit(), id, item_id, body.story_id).await?;
    Ok(HttpResponse::Ok().json(row))
}
