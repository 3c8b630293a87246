use crate::http::idempotency::{IdempotencyKey, Reply, once};
use actix_web::HttpRequest;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};

use crate::domain::auth::Action;
use crate::domain::story::NewStory;
use crate::error::AppError;
use crate::http::auth::Caller;
use crate::http::extract::JsonBody;
use crate::http::normalized::WithNormalized;
use crate::http::pagination::{PageBody, PageParams};
use crate::http::read_conn::ReadConn;
use crate::http::server::AppState;
use crate::storage::{SortOrder, stories};

#[utoipa::path(
    post,
    path = "/v1/stories",
    tag = "stories",
    params(IdempotencyKey),
    request_body = NewStory,
    responses(
        (status = 201, description = "The story as stored; `normalized` (an array of field names, left out when empty) names the fields stored in a cleaned form", body = crate::storage::models::Story, headers(("Location" = String, description = "Where the new resource is"))),
    ),
)]
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
        let normalized = story.normalized.clone();
        let created = stories::create(conn, &ctx, story).await?;
        let body = WithNormalized {
            record: &created,
            normalized: &normalized,
        };
        Ok(
            Reply::json(StatusCode::CREATED, &body)?
                .location(format!("/v1/stories/{}", created.id)),
        )
    })
    .await
}

#[utoipa::path(
    get,
    path = "/v1/stories/{id}",
    tag = "stories",
    params(("id" = i64, Path, minimum = 1, description = "The story's id")),
    responses(
        (status = 200, description = "The story", body = crate::storage::models::Story),
    ),
)]
pub async fn get(
    caller: Caller,
    id: web::Path<i64>,
    mut conn: ReadConn,
) -> Result<HttpResponse, AppError> {
    caller.allow_read()?;
    Ok(HttpResponse::Ok().json(stories::get(&mut conn, id.into_inner()).await?))
}

#[utoipa::path(
    get,
    path = "/v1/stories",
    tag = "stories",
    params(PageParams),
    responses(
        (status = 200, description = "A page of stories", body = PageBody<crate::storage::models::Story>),
    ),
)]
pub async fn list(
    caller: Caller,
    query: web::Query<PageParams>,
    mut conn: ReadConn,
) -> Result<HttpResponse, AppError> {
    caller.allow_read()?;
    let request = query.page_request()?;
    let page = stories::list(&mut conn, request).await?;
    Ok(HttpResponse::Ok().json(PageBody::new(page, request)))
}

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct StoryClaimsQuery {
    as_of: Option<String>,
    #[param(minimum = 1, maximum = 200)]
    limit: Option<i64>,
    cursor: Option<String>,
}

/// The story's claims, each at its latest revision recorded at `as_of`
/// (default: now), with the review in force then.
#[utoipa::path(
    get,
    path = "/v1/stories/{id}/claims",
    tag = "stories",
    params(("id" = i64, Path, minimum = 1, description = "The story's id"), StoryClaimsQuery),
    responses(
        (status = 200, description = "A page of the story's claims as recorded then", body = PageBody<crate::storage::claims::ClaimAsOf>),
    ),
)]
pub async fn claims_as_of(
    caller: Caller,
    id: web::Path<i64>,
    query: web::Query<StoryClaimsQuery>,
    mut conn: ReadConn,
) -> Result<HttpResponse, AppError> {
    caller.allow_read()?;
    let query = query.into_inner();
    let request = PageParams {
        limit: query.limit,
        cursor: query.cursor,
        order: Some(crate::storage::SortOrder::Asc),
    }
    .page_request()?;
    let at = crate::http::extract::time_param("as_of", query.as_of.as_deref())?
        .unwrap_or_else(chrono::Utc::now);
    let story = stories::get(&mut conn, id.into_inner()).await?;
    if story.created_at > at {
        return Err(AppError::NotFound(format!(
            "story {} was not yet recorded at {}",
            story.id,
            at.to_rfc3339()
        )));
    }
    let page = crate::storage::claims::story_as_of(&mut conn, story.id, at, request).await?;
    Ok(HttpResponse::Ok().json(PageBody::new(page, request)))
}

#[utoipa::path(
    get,
    path = "/v1/stories/{id}/contested",
    tag = "stories",
    params(("id" = i64, Path, minimum = 1, description = "The story's id"), PageParams),
    responses(
        (status = 200, description = "A page of the pairs of claims that contradict each other, oldest link first", body = PageBody<crate::storage::relations::ContestedPair>),
    ),
)]
pub async fn contested(
    caller: Caller,
    id: web::Path<i64>,
    page: web::Query<PageParams>,
    mut conn: ReadConn,
) -> Result<HttpResponse, AppError> {
    caller.allow_read()?;
    let request = page.page_request_in(SortOrder::Asc)?;
    let story = stories::get(&mut conn, id.into_inner()).await?;
    let page = crate::storage::relations::contested(&mut conn, story.id, request).await?;
    Ok(HttpResponse::Ok().json(PageBody::new(page, request)))
}
