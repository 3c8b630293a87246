//! The review workflow over HTTP: status changes, reviews, comments,
//! assignment and the review queue.

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use serde::Deserialize;

use crate::app::AppState;
use crate::domain::auth::Action;
use crate::domain::claim::ClaimStatus;
use crate::domain::review::NewReview;
use crate::domain::revision::etag;
use crate::domain::validation::{MAX_SHORT_TEXT, Validator};
use crate::error::AppError;
use crate::http::auth::Caller;
use crate::http::extract::{IfMatchHeader, JsonBody};
use crate::http::pagination::{ItemsBody, PageBody, PageParams};
use crate::storage::SortOrder;
use crate::storage::reviews::{self, QueueFilter, QueueSort};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusChange {
    status: ClaimStatus,
    reason: String,
}

pub async fn change_status(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
    IfMatchHeader(if_match): IfMatchHeader,
    JsonBody(body): JsonBody<StatusChange>,
) -> Result<HttpResponse, AppError> {
    let user = caller.require(Action::ChangeStatus).or_else(|e| {
        // Editors retract; the table says who may do what.
        if body.status == ClaimStatus::Retracted {
            caller.require(Action::Retract)
        } else {
            Err(e)
        }
    })?;
    let mut v = Validator::new();
    let reason = v.required_text("reason", &body.reason, MAX_SHORT_TEXT);
    v.finish()?;
    let mut conn = state.pool.get().await?;
    let claim = reviews::change_status(
        &mut conn,
        &caller.audit(),
        user.role,
        id.into_inner(),
        if_match,
        body.status,
        &reason,
    )
    .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag(claim.revision)))
        .json(claim))
}

pub async fn create_review(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
    IfMatchHeader(if_match): IfMatchHeader,
    JsonBody(body): JsonBody<NewReview>,
) -> Result<HttpResponse, AppError> {
    let user = caller.require(Action::Review)?;
    let review = body.validate()?;
    let id = id.into_inner();
    let mut conn = state.pool.get().await?;
    let outcome =
        reviews::create_review(&mut conn, &caller.audit(), user.role, id, if_match, review).await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/v1/claims/{id}/reviews")))
        .insert_header((header::ETAG, etag(outcome.claim.revision)))
        .json(outcome))
}

pub async fn list_reviews(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    caller.allow_read()?;
    let mut conn = state.pool.get().await?;
    Ok(HttpResponse::Ok().json(ItemsBody {
        items: reviews::list_reviews(&mut conn, id.into_inner()).await?,
    }))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewComment {
    body: String,
}

pub async fn add_comment(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
    JsonBody(body): JsonBody<NewComment>,
) -> Result<HttpResponse, AppError> {
    caller.require(Action::Comment)?;
    let mut v = Validator::new();
    let text = v.required_text("body", &body.body, 20_000);
    v.finish()?;
    let mut conn = state.pool.get().await?;
    let comment = reviews::add_comment(&mut conn, &caller.audit(), id.into_inner(), &text).await?;
    Ok(HttpResponse::Created().json(comment))
}

pub async fn list_comments(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    caller.allow_read()?;
    let mut conn = state.pool.get().await?;
    Ok(HttpResponse::Ok().json(ItemsBody {
        items: reviews::list_comments(&mut conn, id.into_inner()).await?,
    }))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Assignment {
    /// A user who can review, or null to unassign.
    assignee: Option<String>,
}

pub async fn assign(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
    JsonBody(body): JsonBody<Assignment>,
) -> Result<HttpResponse, AppError> {
    caller.require(Action::Assign)?;
    let assignee = body
        .assignee
        .as_deref()
        .map(str::trim)
        .filter(|a| !a.is_empty());
    let mut conn = state.pool.get().await?;
    let claim = reviews::assign(&mut conn, &caller.audit(), id.into_inner(), assignee).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag(claim.revision)))
        .json(claim))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueueQuery {
    #[serde(alias = "story_id")]
    story: Option<i64>,
    /// A user name, or `none` for unassigned claims.
    assignee: Option<String>,
    status: Option<ClaimStatus>,
    sort: Option<QueueSort>,
    limit: Option<i64>,
    cursor: Option<String>,
}

pub async fn queue(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<QueueQuery>,
) -> Result<HttpResponse, AppError> {
    caller.allow_read()?;
    let query = query.into_inner();
    // The queue always runs oldest first (within each priority rank).
    let request = PageParams {
        limit: query.limit,
        cursor: query.cursor,
        order: Some(SortOrder::Asc),
    }
    .page_request()?;
    let filter = QueueFilter {
        story_id: query.story,
        assignee: query.assignee,
        status: query.status,
    };
    let mut conn = state.pool.get().await?;
    let page =
        reviews::review_queue(&mut conn, filter, query.sort.unwrap_or_default(), request).await?;
    Ok(HttpResponse::Ok().json(PageBody::new(page, request)))
}
