use actix_web::http::header;
use actix_web::{HttpResponse, web};

use crate::app::AppState;
use crate::domain::article::NewArticle;
use crate::error::AppError;
use crate::http::extract::{Audit, JsonBody};
use crate::storage::articles;

pub async fn create(
    state: web::Data<AppState>,
    Audit(ctx): Audit,
    JsonBody(body): JsonBody<NewArticle>,
) -> Result<HttpResponse, AppError> {
    let article = body.validate(state.limits.max_body_chars)?;
    let mut conn = state.pool.get().await?;
    let created = articles::create(&mut conn, &ctx, article).await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/v1/articles/{}", created.id)))
        .json(created))
}

pub async fn get(state: web::Data<AppState>, id: web::Path<i64>) -> Result<HttpResponse, AppError> {
    let mut conn = state.pool.get().await?;
    Ok(HttpResponse::Ok().json(articles::get(&mut conn, id.into_inner()).await?))
}
