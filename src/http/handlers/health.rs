use actix_web::{HttpResponse, web};
use diesel_async::RunQueryDsl;
use serde::Serialize;

use crate::error::AppError;
use crate::http::server::AppState;

/// Healthy means the database answers a query, not merely that we run.
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "health",
    responses(
        (status = 200, description = "The service and its database answer", body = Health),
    ),
    security(()),
)]
pub async fn healthz(state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let mut conn = state.pool.get().await?;
    diesel::sql_query("SELECT 1")
        .execute(&mut *conn)
        .await
        .map_err(|e| AppError::Unavailable(format!("the database does not answer: {e}")))?;
    Ok(HttpResponse::Ok().json(Health {
        status: "ok",
        database: "ok",
    }))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Health {
    /// Always `ok` (a failing check is a 503 problem).
    status: &'static str,
    database: &'static str,
}
