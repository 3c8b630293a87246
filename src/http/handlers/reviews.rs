//! The review workflow over HTTP: status changes, reviews, comments,
//! assignment and the review queue.

use crate::http::idempotency::{IdempotencyKey, Reply, once};
use actix_web::HttpRequest;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde::Deserialize;

use crate::app::AppState;
use crate::domain::auth::Action;
use crate::domain::claim::ClaimStatus;
use crate::domain::relation::NewRelation;
use crate::domain::review::NewReview;
use crate::domain::revision::etag;
use crate::domain::validation::{MAX_SHORT_TEXT, Validator};
use crate::error::AppError;
use crate::http::auth::Caller;
use crate::http::extract::{IfMatchHeader, JsonBody};
use crate::http::pagination::{ItemsBody, PageBody, PageParams};
use crate::storage::SortOrder;
use crate::storage::relations;
use crate::storage::reviews::{self, QueueFilter, QueueSort};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusChange {
    status: ClaimStatus,
    reason: String,
}

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

pub async fn list_relations(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    caller.allow_read()?;
    let mut conn = state.pool.get().await?;
    Ok(HttpResponse::Ok().json(ItemsBody {
        items: relations::of_claim(&mut conn, id.into_inner()).await?,
    }))
}
