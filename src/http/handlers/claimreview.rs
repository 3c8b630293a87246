//! schema.org ClaimReview out and in.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::domain::auth::Action;
use crate::domain::claimreview::items;
use crate::error::AppError;
use crate::http::auth::Caller;
use crate::http::extract::JsonBody;
use crate::http::read_conn::ReadConn;
use crate::http::server::AppState;
use crate::storage::claimreview::{self, ImportReport};

/// Most ClaimReview items one import takes.
const MAX_ITEMS: usize = 1_000;

#[utoipa::path(
    get,
    path = "/v1/claims/{id}/claimreview",
    tag = "claims",
    params(("id" = i64, Path, minimum = 1, description = "The claim's id")),
    responses(
        (status = 200, description = "The claim's latest verdict as a schema.org ClaimReview", content((Object = "application/ld+json"))),
    ),
)]
pub async fn export(
    req: HttpRequest,
    caller: Caller,
    id: web::Path<i64>,
    mut conn: ReadConn,
) -> Result<HttpResponse, AppError> {
    caller.allow_read()?;
    let base = {
        let info = req.connection_info();
        format!("{}://{}", info.scheme(), info.host())
    };
    let document = claimreview::export(&mut conn, id.into_inner(), &base).await?;
    Ok(HttpResponse::Ok()
        .content_type("application/ld+json")
        .json(document))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ImportQuery {
    /// The story the imported claims belong to.
    #[serde(alias = "story_id")]
    #[param(minimum = 1)]
    story: i64,
    /// The page the markup came from: relative review URLs are resolved
    /// against it.
    page: Option<String>,
}

/// What a ClaimReview import did, item by item.
#[derive(Serialize, utoipa::ToSchema)]
struct ClaimReviewImportBody {
    story_id: i64,
    created: usize,
    matched: usize,
    rejected: usize,
    items: Vec<ImportReport>,
}

/// Imports one ClaimReview, an array of them, a DataFeed or a JSON-LD
/// `@graph`: speakers, claims and reviews are created or matched, item by
/// item; each item's report lists every problem of a rejected record and
/// what was read in another way than given.
#[utoipa::path(
    post,
    path = "/v1/import/claimreview",
    tag = "import",
    params(ImportQuery),
    request_body(content = Object, description = "A schema.org ClaimReview, an array of them, or a DataFeed"),
    responses(
        (status = 200, description = "What happened to each item", body = ClaimReviewImportBody),
    ),
)]
pub async fn import(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<ImportQuery>,
    JsonBody(document): JsonBody<Value>,
) -> Result<HttpResponse, AppError> {
    caller.require(Action::LogContent)?;
    let user = caller.require(Action::Review)?;
    let list = items(&document);
    if list.len() > MAX_ITEMS {
        return Err(AppError::PayloadTooLarge(format!(
            "{} ClaimReview items; one import takes at most {MAX_ITEMS}",
            list.len()
        )));
    }
    let mut conn = state.pool.get().await?;
    let reports = claimreview::import(
        &mut conn,
        &caller.audit(),
        user.role,
        query.story,
        query.page.as_deref(),
        &list,
    )
    .await?;
    let count = |o: &str| reports.iter().filter(|r| r.outcome == o).count();
    Ok(HttpResponse::Ok().json(ClaimReviewImportBody {
        story_id: query.story,
        created: count("created"),
        matched: count("matched"),
        rejected: count("rejected"),
        items: reports,
    }))
}
