use actix_web::{HttpResponse, web};
use diesel_async::RunQueryDsl;
use serde_json::json;

use crate::app::AppState;
use crate::error::AppError;

/// Healthy means the database answers a query, not merely that we run.
pub async fn healthz(state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let mut conn = state.pool.get().await?;
    diesel::sql_query("SELECT 1")
        .execute(&mut *conn)
        .await
        .map_err(|e| AppError::Unavailable(format!("the database does not answer: {e}")))?;
    Ok(HttpResponse::Ok().json(json!({ "status": "ok", "database": "ok" })))
}
