//! The review workflow over HTTP: status changes, reviews, comments,
//! assignment and the review queue.

use crate::http::idempotency::{IdempotencyKey, Reply, once};
use actix_web::HttpRequest;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde::Deserialize;

use crate::domain::auth::Action;
use crate::domain::claim::ClaimStatus;
use crate::domain::relation::NewRelation;
use crate::domain::review::NewReview;
use crate::domain::revision::etag;
use crate::domain::validation::{MAX_SHORT_TEXT, Validator};
use crate::error::AppError;
use crate::http::auth::Caller;
use crate::http::extract::{IfMatchHeader, JsonBody};
use crate::http::pagination::{PageBody, PageParams};
use crate::http::read_conn::ReadConn;
use crate::http::server::AppState;
use crate::storage::SortOrder;
use crate::storage::relations;
use crate::storage::reviews::{self, QueueFilter, QueueSort};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusChange {
    status: ClaimStatus,
    reason: String,
}

#[utoipa::path(
    post,
    path = "/v1/claims/{id}/status",
    tag = "reviews",
    params(("id" = i64, Path, minimum = 1, description = "The claim's id"), IdempotencyKey, IfMatchHeader),
    request_body = StatusChange,
    responses(
        (status = 200, description = "The claim in its new status", body = crate::storage::claims::ClaimView, headers(("ETag" = String, description = "The revision, for If-Match on the next write"))),
        (status = 412, description = "The claim has moved past If-Match", body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match is missing", body = crate::http::problem::Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn change_status(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
    key: IdempotencyKey,
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
    let role = user.role;
    let mut v = Validator::new();
    let reason = v.required_text("reason", &body.reason, MAX_SHORT_TEXT);
    v.finish()?;
    let ctx = caller.audit();
    let id = id.into_inner();
    once(&state, &req, &ctx.actor, key, async |conn| {
        let claim =
            reviews::change_status(conn, &ctx, role, id, if_match, body.status, &reason).await?;
        Ok(Reply::json(StatusCode::OK, &claim)?.etag(etag(claim.revision)))
    })
    .await
}

#[utoipa::path(
    post,
    path = "/v1/claims/{id}/reviews",
    tag = "reviews",
    params(("id" = i64, Path, minimum = 1, description = "The claim's id"), IdempotencyKey, IfMatchHeader),
    request_body = NewReview,
    responses(
        (status = 201, description = "The review and the claim after it", body = crate::storage::reviews::ReviewOutcome, headers(("Location" = String, description = "Where the new resource is"), ("ETag" = String, description = "The revision, for If-Match on the next write"))),
        (status = 412, description = "The claim has moved past If-Match", body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match is missing", body = crate::http::problem::Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn create_review(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
    key: IdempotencyKey,
    IfMatchHeader(if_match): IfMatchHeader,
    JsonBody(body): JsonBody<NewReview>,
) -> Result<HttpResponse, AppError> {
    let role = caller.require(Action::Review)?.role;
    let review = body.validate()?;
    let ctx = caller.audit();
    let id = id.into_inner();
    once(&state, &req, &ctx.actor, key, async |conn| {
        let outcome = reviews::create_review(conn, &ctx, role, id, if_match, review).await?;
        Ok(Reply::json(StatusCode::CREATED, &outcome)?
            .location(format!("/v1/claims/{id}/reviews"))
            .etag(etag(outcome.claim.revision)))
    })
    .await
}

#[utoipa::path(
    get,
    path = "/v1/claims/{id}/reviews",
    tag = "reviews",
    params(("id" = i64, Path, minimum = 1, description = "The claim's id"), PageParams),
    responses(
        (status = 200, description = "A page of the claim's reviews, newest first", body = PageBody<crate::storage::reviews::ReviewRow>),
    ),
)]
pub async fn list_reviews(
    caller: Caller,
    id: web::Path<i64>,
    page: web::Query<PageParams>,
    mut conn: ReadConn,
) -> Result<HttpResponse, AppError> {
    caller.allow_read()?;
    let request = page.page_request_in(SortOrder::Desc)?;
    let page = reviews::list_reviews(&mut conn, id.into_inner(), request).await?;
    Ok(HttpResponse::Ok().json(PageBody::new(page, request)))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewComment {
    #[schema(min_length = 1)]
    body: String,
}

#[utoipa::path(
    post,
    path = "/v1/claims/{id}/comments",
    tag = "reviews",
    params(("id" = i64, Path, minimum = 1, description = "The claim's id"), IdempotencyKey),
    request_body = NewComment,
    responses(
        (status = 201, description = "The comment", body = crate::storage::reviews::CommentRow),
    ),
)]
pub async fn add_comment(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
    key: IdempotencyKey,
    JsonBody(body): JsonBody<NewComment>,
) -> Result<HttpResponse, AppError> {
    caller.require(Action::Comment)?;
    let mut v = Validator::new();
    let text = v.required_text("body", &body.body, 20_000);
    v.finish()?;
    let ctx = caller.audit();
    let id = id.into_inner();
    once(&state, &req, &ctx.actor, key, async |conn| {
        let comment = reviews::add_comment(conn, &ctx, id, &text).await?;
        Reply::json(StatusCode::CREATED, &comment)
    })
    .await
}

#[utoipa::path(
    get,
    path = "/v1/claims/{id}/comments",
    tag = "reviews",
    params(("id" = i64, Path, minimum = 1, description = "The claim's id"), PageParams),
    responses(
        (status = 200, description = "A page of the claim's comments, oldest first", body = PageBody<crate::storage::reviews::CommentRow>),
    ),
)]
pub async fn list_comments(
    caller: Caller,
    id: web::Path<i64>,
    page: web::Query<PageParams>,
    mut conn: ReadConn,
) -> Result<HttpResponse, AppError> {
    caller.allow_read()?;
    let request = page.page_request_in(SortOrder::Asc)?;
    let page = reviews::list_comments(&mut conn, id.into_inner(), request).await?;
    Ok(HttpResponse::Ok().json(PageBody::new(page, request)))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Assignment {
    /// A user who can review, or null to unassign.
    assignee: Option<String>,
}

#[utoipa::path(
    post,
    path = "/v1/claims/{id}/assign",
    tag = "reviews",
    params(("id" = i64, Path, minimum = 1, description = "The claim's id"), IdempotencyKey),
    request_body = Assignment,
    responses(
        (status = 200, description = "The claim with its new assignee", body = crate::storage::claims::ClaimView, headers(("ETag" = String, description = "The revision, for If-Match on the next write"))),
    ),
)]
pub async fn assign(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
    key: IdempotencyKey,
    JsonBody(body): JsonBody<Assignment>,
) -> Result<HttpResponse, AppError> {
    caller.require(Action::Assign)?;
    let assignee = body
        .assignee
        .as_deref()
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .map(str::to_owned);
    let ctx = caller.audit();
    let id = id.into_inner();
    once(&state, &req, &ctx.actor, key, async |conn| {
        let claim = reviews::assign(conn, &ctx, id, assignee.as_deref()).await?;
        Ok(Reply::json(StatusCode::OK, &claim)?.etag(etag(claim.revision)))
    })
    .await
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct QueueQuery {
    #[serde(alias = "story_id")]
    #[param(minimum = 1)]
    story: Option<i64>,
    /// A user name, or `none` for unassigned claims.
    assignee: Option<String>,
    status: Option<ClaimStatus>,
    sort: Option<QueueSort>,
    #[param(minimum = 1, maximum = 200)]
    limit: Option<i64>,
    cursor: Option<String>,
}

#[utoipa::path(
    get,
    path = "/v1/review-queue",
    tag = "reviews",
    params(QueueQuery),
    responses(
        (status = 200, description = "A page of claims awaiting review", body = PageBody<crate::storage::claims::ClaimView>),
    ),
)]
pub async fn queue(
    caller: Caller,
    query: web::Query<QueueQuery>,
    mut conn: ReadConn,
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
    let page =
        reviews::review_queue(&mut conn, filter, query.sort.unwrap_or_default(), request).await?;
    Ok(HttpResponse::Ok().json(PageBody::new(page, request)))
}

#[utoipa::path(
    post,
    path = "/v1/claims/{id}/relations",
    tag = "reviews",
    params(("id" = i64, Path, minimum = 1, description = "The claim's id"), IdempotencyKey),
    request_body = NewRelation,
    responses(
        (status = 201, description = "The relation", body = crate::storage::relations::Relation),
    ),
)]
pub async fn add_relation(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
    key: IdempotencyKey,
    JsonBody(body): JsonBody<NewRelation>,
) -> Result<HttpResponse, AppError> {
    caller.require(Action::Curate)?;
    let id = id.into_inner();
    let relation = body.validate(id)?;
    let ctx = caller.audit();
    once(&state, &req, &ctx.actor, key, async |conn| {
        let stored = relations::add(conn, &ctx, id, relation).await?;
        Reply::json(StatusCode::CREATED, &stored)
    })
    .await
}

#[utoipa::path(
    get,
    path = "/v1/claims/{id}/relations",
    tag = "reviews",
    params(("id" = i64, Path, minimum = 1, description = "The claim's id"), PageParams),
    responses(
        (status = 200, description = "A page of the claim's relations to other claims, oldest first", body = PageBody<crate::storage::relations::Relation>),
    ),
)]
pub async fn list_relations(
    caller: Caller,
    id: web::Path<i64>,
    page: web::Query<PageParams>,
    mut conn: ReadConn,
) -> Result<HttpResponse, AppError> {
    caller.allow_read()?;
    let request = page.page_request_in(SortOrder::Asc)?;
    let page = relations::of_claim(&mut conn, id.into_inner(), request).await?;
    Ok(HttpResponse::Ok().json(PageBody::new(page, request)))
}
