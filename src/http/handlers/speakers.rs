use crate::http::idempotency::{IdempotencyKey, Reply, once};
use actix_web::HttpRequest;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde::Deserialize;

use crate::app::AppState;
use crate::domain::auth::Action;
use crate::domain::speaker::{NewSpeaker, SpeakerKind};
use crate::error::AppError;
use crate::http::auth::Caller;
use crate::http::extract::JsonBody;
use crate::http::normalized::WithNormalized;
use crate::http::pagination::{PageBody, PageParams};
use crate::storage::SortOrder;
use crate::storage::speakers::{self, SpeakerFilter};

#[utoipa::path(
    post,
    path = "/v1/speakers",
    tag = "speakers",
    params(IdempotencyKey),
    request_body = NewSpeaker,
    responses(
        (status = 201, description = "The speaker as stored; `normalized` (an array of field names, left out when empty) names the fields stored in a cleaned form: NFC, white space collapsed, invisible characters removed", body = crate::storage::models::Speaker, headers(("Location" = String, description = "Where the new resource is"))),
    ),
)]
pub async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    key: IdempotencyKey,
    JsonBody(body): JsonBody<NewSpeaker>,
) -> Result<HttpResponse, AppError> {
    caller.require(Action::LogContent)?;
    let speaker = body.validate()?;
    let ctx = caller.audit();
    once(&state, &req, &ctx.actor, key, async |conn| {
        let normalized = speaker.normalized.clone();
        let created = speakers::create(conn, &ctx, speaker).await?;
        let body = WithNormalized {
            record: &created,
            normalized: &normalized,
        };
        Ok(Reply::json(StatusCode::CREATED, &body)?
            .location(format!("/v1/speakers/{}", created.id)))
    })
    .await
}

#[utoipa::path(
    get,
    path = "/v1/speakers/{id}",
    tag = "speakers",
    params(("id" = i64, Path, minimum = 1, description = "The speaker's id")),
    responses(
        (status = 200, description = "The speaker", body = crate::storage::models::Speaker),
    ),
)]
pub async fn get(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    caller.allow_read()?;
    let mut conn = state.pool.get().await?;
    Ok(HttpResponse::Ok().json(speakers::get(&mut conn, id.into_inner()).await?))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    kind: Option<SpeakerKind>,
    /// Case-insensitive part of the name.
    q: Option<String>,
    #[param(minimum = 1, maximum = 200)]
    limit: Option<i64>,
    cursor: Option<String>,
    order: Option<SortOrder>,
}

#[utoipa::path(
    get,
    path = "/v1/speakers",
    tag = "speakers",
    params(ListQuery),
    responses(
        (status = 200, description = "A page of speakers", body = PageBody<crate::storage::models::Speaker>),
    ),
)]
pub async fn list(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, AppError> {
    caller.allow_read()?;
    let query = query.into_inner();
    let request = PageParams {
        limit: query.limit,
        cursor: query.cursor,
        order: query.order,
    }
    .page_request()?;
    let filter = SpeakerFilter {
        kind: query.kind,
        name_contains: query.q.filter(|q| !q.trim().is_empty()),
    };
    let mut conn = state.pool.get().await?;
    let page = speakers::list(&mut conn, filter, request).await?;
    Ok(HttpResponse::Ok().json(PageBody::new(page, request)))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MergeBody {
    /// The speaker that stays.
    #[schema(minimum = 1)]
    into: i64,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
struct Merged {
    speaker: crate::storage::models::Speaker,
    claims_moved: Vec<i64>,
}

/// Merges this speaker into another (editors): its claims move over as new
/// revisions, its name becomes an alias of the survivor.
#[utoipa::path(
    post,
    path = "/v1/speakers/{id}/merge",
    tag = "speakers",
    params(("id" = i64, Path, minimum = 1, description = "The speaker's id"), IdempotencyKey),
    request_body = MergeBody,
    responses(
        (status = 200, description = "The surviving speaker and the claims moved to it", body = Merged),
    ),
)]
pub async fn merge(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
    key: IdempotencyKey,
    JsonBody(body): JsonBody<MergeBody>,
) -> Result<HttpResponse, AppError> {
    caller.require(Action::Curate)?;
    let ctx = caller.audit();
    let from = id.into_inner();
    once(&state, &req, &ctx.actor, key, async |conn| {
        let (speaker, claims_moved) =
            crate::storage::claims::merge_speakers(conn, &ctx, from, body.into).await?;
        Reply::json(
            StatusCode::OK,
            &Merged {
                speaker,
                claims_moved,
            },
        )
    })
    .await
}
