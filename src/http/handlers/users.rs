//! Users and tokens (admin), and `GET /v1/me`.

use crate::http::idempotency::{IdempotencyKey, Reply, once};
use actix_web::HttpRequest;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};

use crate::app::AppState;
use crate::domain::auth::{Action, Role};
use crate::error::AppError;
use crate::http::auth::Caller;
use crate::http::extract::JsonBody;
use crate::http::pagination::ItemsBody;
use crate::storage::users;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    name: String,
    role: Role,
}

pub async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    key: IdempotencyKey,
    JsonBody(body): JsonBody<NewUser>,
) -> Result<HttpResponse, AppError> {
    caller.require(Action::ManageUsers)?;
    let ctx = caller.audit();
    once(&state, &req, &ctx.actor, key, async |conn| {
        let user = users::create_user(conn, &ctx, body.name.trim(), body.role).await?;
        Ok(Reply::json(StatusCode::CREATED, &user)?.location(format!("/v1/users/{}", user.id)))
    })
    .await
}

pub async fn list(state: web::Data<AppState>, caller: Caller) -> Result<HttpResponse, AppError> {
    caller.require(Action::ManageUsers)?;
    let mut conn = state.pool.get().await?;
    Ok(HttpResponse::Ok().json(ItemsBody {
        items: users::list_users(&mut conn).await?,
    }))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewTokenBody {
    label: Option<String>,
}

/// Makes a token for a user; the response is the only time it is shown.
pub async fn create_token(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
    JsonBody(body): JsonBody<NewTokenBody>,
) -> Result<HttpResponse, AppError> {
    caller.require(Action::ManageUsers)?;
    let mut conn = state.pool.get().await?;
    let user = users::get_user(&mut conn, id.into_inner()).await?;
    let label = body
        .label
        .as_deref()
        .map(str::trim)
        .filter(|l| !l.is_empty());
    let token = users::create_token(&mut conn, &caller.audit(), user.id, label).await?;
    Ok(HttpResponse::Created().json(token))
}

pub async fn list_tokens(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    caller.require(Action::ManageUsers)?;
    let mut conn = state.pool.get().await?;
    let user = users::get_user(&mut conn, id.into_inner()).await?;
    Ok(HttpResponse::Ok().json(ItemsBody {
        items: users::list_tokens(&mut conn, user.id).await?,
    }))
}

pub async fn revoke_token(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    caller.require(Action::ManageUsers)?;
    let mut conn = state.pool.get().await?;
    let revoked = users::revoke_token(&mut conn, &caller.audit(), id.into_inner()).await?;
    // The cache is keyed by token hash, which the id does not give: start over.
    state.tokens.clear();
    Ok(HttpResponse::Ok().json(revoked))
}

#[derive(Serialize)]
struct Me<'a> {
    id: i64,
    name: &'a str,
    role: Role,
}

/// Who the token belongs to.
pub async fn me(caller: Caller) -> Result<HttpResponse, AppError> {
    let user = caller.require(Action::Read)?;
    Ok(HttpResponse::Ok().json(Me {
        id: user.user_id,
        name: &user.name,
        role: user.role,
    }))
}
