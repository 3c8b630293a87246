//! Users and tokens (admin), and `GET /v1/me`.

use crate::http::idempotency::{IdempotencyKey, Reply, once};
use actix_web::HttpRequest;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};

use crate::domain::auth::{Action, Role};
use crate::error::AppError;
use crate::http::auth::Caller;
use crate::http::extract::JsonBody;
use crate::http::pagination::{PageBody, PageParams};
use crate::http::read_conn::ReadConn;
use crate::http::server::AppState;
use crate::storage::SortOrder;
use crate::storage::users;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    #[schema(pattern = "^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$")]
    name: String,
    role: Role,
}

#[utoipa::path(
    post,
    path = "/v1/users",
    tag = "users",
    params(IdempotencyKey),
    request_body = NewUser,
    responses(
        (status = 201, description = "The user", body = crate::storage::users::User, headers(("Location" = String, description = "Where the new resource is"))),
    ),
)]
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

#[utoipa::path(
    get,
    path = "/v1/users",
    tag = "users",
    params(PageParams),
    responses(
        (status = 200, description = "A page of the users, by id", body = PageBody<crate::storage::users::User>),
    ),
)]
pub async fn list(
    caller: Caller,
    page: web::Query<PageParams>,
    mut conn: ReadConn,
) -> Result<HttpResponse, AppError> {
    caller.require(Action::ManageUsers)?;
    let request = page.page_request_in(SortOrder::Asc)?;
    let page = users::list_users(&mut conn, request).await?;
    Ok(HttpResponse::Ok().json(PageBody::new(page, request)))
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTokenBody {
    label: Option<String>,
}

/// Makes a token for a user; the response is the only time it is shown.
#[utoipa::path(
    post,
    path = "/v1/users/{id}/tokens",
    tag = "users",
    params(("id" = i64, Path, minimum = 1, description = "The user's id")),
    request_body = NewTokenBody,
    responses(
        (status = 201, description = "The token; its secret is shown only here", body = crate::storage::users::NewToken),
        (status = 400, description = "An Idempotency-Key was sent: a token's secret cannot be replayed", body = crate::http::problem::Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn create_token(
    req: actix_web::HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
    JsonBody(body): JsonBody<NewTokenBody>,
) -> Result<HttpResponse, AppError> {
    caller.require(Action::ManageUsers)?;
    // A retry would have to return the first secret, which is never
    // stored; answering with a second one would leave two live tokens.
    if req.headers().contains_key("idempotency-key") {
        return Err(AppError::BadRequest(
            "Idempotency-Key is not accepted when making a token: its secret is shown once and never \
             stored, so a retry cannot return it. Without the header, a lost answer is mended by listing \
             the user's tokens and revoking the one whose secret you never received"
                .into(),
        ));
    }
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

#[utoipa::path(
    get,
    path = "/v1/users/{id}/tokens",
    tag = "users",
    params(("id" = i64, Path, minimum = 1, description = "The user's id"), PageParams),
    responses(
        (status = 200, description = "A page of the user's tokens, without secrets", body = PageBody<crate::storage::users::TokenInfo>),
    ),
)]
pub async fn list_tokens(
    caller: Caller,
    id: web::Path<i64>,
    page: web::Query<PageParams>,
    mut conn: ReadConn,
) -> Result<HttpResponse, AppError> {
    caller.require(Action::ManageUsers)?;
    let request = page.page_request_in(SortOrder::Asc)?;
    let user = users::get_user(&mut conn, id.into_inner()).await?;
    let page = users::list_tokens(&mut conn, user.id, request).await?;
    Ok(HttpResponse::Ok().json(PageBody::new(page, request)))
}

#[utoipa::path(
    delete,
    path = "/v1/tokens/{id}",
    tag = "users",
    params(("id" = i64, Path, minimum = 1, description = "The token's id")),
    responses(
        (status = 200, description = "The revoked token", body = crate::storage::users::TokenInfo),
    ),
)]
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

#[derive(Serialize, utoipa::ToSchema)]
struct Me<'a> {
    id: i64,
    name: &'a str,
    role: Role,
}

/// Who the token belongs to.
#[utoipa::path(
    get,
    path = "/v1/me",
    tag = "users",
    responses(
        (status = 200, description = "The caller", body = Me),
    ),
)]
pub async fn me(caller: Caller) -> Result<HttpResponse, AppError> {
    let user = caller.require(Action::Read)?;
    Ok(HttpResponse::Ok().json(Me {
        id: user.user_id,
        name: &user.name,
        role: user.role,
    }))
}
