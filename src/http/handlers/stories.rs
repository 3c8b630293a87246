use crate::http::idempotency::{IdempotencyKey, Reply, once};
use actix_web::HttpRequest;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};

use crate::app::AppState;
use crate::domain::auth::Action;
use crate::domain::story::NewStory;
use crate::error::AppError;
use crate::http::auth::Caller;
use crate::http::extract::JsonBody;
use crate::http::pagination::{PageBody, PageParams};
use crate::storage::stories;

pub async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    key: IdempotencyKey,
    JsonBody(body): JsonBody<NewStory>,
) -> Result<HttpResponse, AppError> {
    caller.require(Action::LogContent)?;
    let story = body.validate()?;
    let ctx = caller.audit();
    once(&state, &req, &ctx.actor, key, async |conn| {
        let created = stories::create(conn, &ctx, story).await?;
        Ok(Reply::json(StatusCode::CREATED, &created)?
            .location(format!("/v1/stories/{}", created.id)))
    })
    .await
}

pub async fn get(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    caller.allow_read()?;
    let mut conn = state.pool.get().await?;
    Ok(HttpResponse::Ok().json(stories::get(&mut conn, id.into_inner()).await?))
}

pub async fn list(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<PageParams>,
) -> Result<HttpResponse, AppError> {
    caller.allow_read()?;
    let request = query.page_request()?;
    let mut conn = state.pool.get().await?;
    let page = stories::list(&mut conn, request).await?;
    Ok(HttpResponse::Ok().json(PageBody::new(page, request)))
}
