//! `POST /v1/import/claims`: bulk import of claims as NDJSON, read as it
//! streams in (the body is never held whole) and written batch by batch.

use actix_web::http::StatusCode;
use actix_web::{HttpMessage, HttpRequest, HttpResponse, web};
use futures_util::StreamExt;
use serde::Deserialize;

use crate::domain::auth::Action;
use crate::domain::import;
use crate::error::AppError;
use crate::http::auth::Caller;
use crate::http::problem::Problem;
use crate::http::server::AppState;
use crate::storage::import::{Importer, WriterConnection};

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ImportQuery {
    /// Lines per batch (one transaction each).
    #[param(minimum = 1, maximum = 5000)]
    batch: Option<usize>,
}

/// Media types accepted for a stream of JSON lines.
const NDJSON_TYPES: [&str; 3] = ["x-ndjson", "ndjson", "jsonl"];

#[utoipa::path(
    post,
    path = "/v1/import/claims",
    tag = "import",
    params(ImportQuery),
    request_body(content = String, description = "One JSON claim per line (NDJSON)", content_type = "application/x-ndjson"),
    responses(
        (status = 200, description = "Every line was imported", body = crate::domain::import::ImportReport),
    ),
)]
pub async fn claims(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<ImportQuery>,
    mut payload: web::Payload,
) -> Result<HttpResponse, AppError> {
    caller.require(Action::LogContent)?;
    let is_ndjson = req.mime_type().ok().flatten().is_some_and(|m| {
        m.type_() == "application" && NDJSON_TYPES.contains(&m.subtype().as_str())
    });
    if !is_ndjson {
        return Err(AppError::UnsupportedMediaType(
            "a bulk import is NDJSON: one claim per line, sent with Content-Type: application/x-ndjson".into(),
        ));
    }
    let batch = import::batch_size(query.batch)?;
    let limits = &state.limits;
    let max_line = limits.max_body_bytes;

    let mut conn = state.pool.get().await?;
    let mut importer = Importer::new(&mut conn, caller.audit(), batch, max_line)
        .with_writers(spare_writers(&state.pool).await);
    let mut received: u64 = 0;
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| {
            AppError::BadRequest(format!("the request body could not be read: {e}"))
        })?;
        received += chunk.len() as u64;
        if received > limits.max_import_bytes {
            // Batches already committed stay committed (and the one being
            // written, if any, commits); the report of a stream cut short
            // would mislead, so the answer is the error.
            return Err(AppError::PayloadTooLarge(format!(
                "a bulk import may send at most {} bytes; split the file (batches before the limit were committed)",
                limits.max_import_bytes
            )));
        }
        importer.push_bytes(&chunk).await?;
    }
    let report = importer.finish().await?;
    if report.lines == 0 {
        return Err(AppError::BadRequest(
            "the import is empty; expected one JSON claim per line".into(),
        ));
    }
    if report.is_complete() {
        return Ok(HttpResponse::Ok().json(&report));
    }
    let mut problem = Problem::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "import-rejected",
        "Some batches were rejected",
        report.summary(),
    );
    problem.report = Some(serde_json::to_value(&report).map_err(anyhow::Error::from)?);
    Ok(problem.response())
}

/// Two more connections, when the pool has them idle, so that batches are
/// written side by side with reading the next; none otherwise (the import
/// then writes on its own connection, one batch at a time).
async fn spare_writers(pool: &crate::storage::pool::DbPool) -> Vec<WriterConnection> {
    const WRITERS: usize = 2;
    // Idle connections, and those the pool may still open (it opens them
    // as they are first needed).
    let status = pool.status();
    if status.available + status.max_size.saturating_sub(status.size) < WRITERS {
        return Vec::new();
    }
    let mut writers: Vec<WriterConnection> = Vec::with_capacity(WRITERS);
    for _ in 0..WRITERS {
        match pool.get().await {
            Ok(conn) => writers.push(Box::new(conn)),
            Err(_) => return Vec::new(),
        }
    }
    writers
}
