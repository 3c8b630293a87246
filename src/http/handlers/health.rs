use actix_web::{HttpResponse, web};
use diesel_async::RunQueryDsl;
use serde::Serialize;

use crate::error::AppError;
use crate::http::server::AppState;
use crate::storage::replicas::ReplicaReport;

/// Healthy means the primary answers a query, not merely that we run. The
/// replicas are reported as the last check found them: a replica out of
/// rotation makes reads go to the primary, not the service unhealthy.
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
        replicas: state.database.report(),
    }))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Health {
    /// Always `ok` (a failing check is a 503 problem).
    status: &'static str,
    /// The primary.
    database: &'static str,
    /// Each configured replica (none: every read goes to the primary).
    replicas: Vec<ReplicaReport>,
}
