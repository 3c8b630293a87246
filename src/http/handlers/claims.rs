use crate::http::idempotency::{IdempotencyKey, Reply, once};
use actix_web::HttpRequest;
use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};

use crate::domain::auth::Action;
use crate::domain::claim::{ClaimKind, ClaimPatch, ClaimStatus, NewClaim, quote_warnings};
use crate::domain::revision::etag;
use crate::error::AppError;
use crate::http::auth::Caller;
use crate::http::extract::{AsOfQuery, IfMatchHeader, JsonBody, time_param};
use crate::http::pagination::{PageBody, PageParams};
use crate::http::read_conn::ReadConn;
use crate::http::server::AppState;
use crate::storage::SortOrder;
use crate::storage::claims::{self, ClaimFilter, ClaimView};
use crate::storage::search;

#[utoipa::path(
    post,
    path = "/v1/claims",
    tag = "claims",
    params(IdempotencyKey),
    request_body = NewClaim,
    responses(
        (status = 201, description = "The claim, with claims already logged that read like it", body = CreatedClaim, headers(("Location" = String, description = "Where the new resource is"), ("ETag" = String, description = "The revision, for If-Match on the next write"))),
    ),
)]
pub async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    key: IdempotencyKey,
    JsonBody(body): JsonBody<NewClaim>,
) -> Result<HttpResponse, AppError> {
    caller.require(Action::LogContent)?;
    let mut body = body;
    if let Some(name) = body.speaker_name_to_resolve()? {
        let mut conn = state.pool.get().await?;
        let found = crate::storage::speakers::find_by_name_or_alias(&mut conn, name).await?;
        let id = found.map(|s| s.id).ok_or_else(|| {
            AppError::invalid(
                "speaker",
                format!("no speaker is named or aliased {name:?}; add the speaker first"),
            )
        })?;
        body.speaker_id = Some(id);
    }
    let claim = body.validate()?;
    let ctx = caller.audit();
    let threshold = state.limits.duplicate_threshold;
    once(&state, &req, &ctx.actor, key, async |conn| {
        let created = claims::create(conn, &ctx, claim).await?;
        let likely_duplicates =
            search::likely_duplicates(conn, &created.text, created.id, threshold).await?;
        let excerpts: Vec<&str> = created
            .appearances
            .iter()
            .map(|a| a.excerpt.as_str())
            .collect();
        let warnings = quote_warnings(created.kind, &created.text, &excerpts);
        let location = format!("/v1/claims/{}", created.id);
        let tag = etag(created.revision);
        Ok(Reply::json(
            StatusCode::CREATED,
            &CreatedClaim {
                claim: created,
                likely_duplicates,
                warnings,
            },
        )?
        .location(location)
        .etag(tag))
    })
    .await
}

/// A logged claim, and the claims already in the ledger that read like it
/// (the same wire claim carried by another outlet is better recorded as one
/// claim with several appearances).
#[derive(Serialize, utoipa::ToSchema)]
struct CreatedClaim {
    #[serde(flatten)]
    claim: claims::ClaimView,
    likely_duplicates: Vec<search::LikelyDuplicate>,
    /// What the claim was stored with but should be checked: a direct
    /// quote whose span does not hold its words.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    warnings: Vec<String>,
}

#[utoipa::path(
    get,
    path = "/v1/claims/{id}",
    tag = "claims",
    params(("id" = i64, Path, minimum = 1, description = "The claim's id"), AsOfQuery),
    responses(
        (status = 200, description = "The claim now, or as recorded at `as_of`", body = ClaimReading),
    ),
)]
pub async fn get(
    caller: Caller,
    id: web::Path<i64>,
    query: web::Query<AsOfQuery>,
    mut conn: ReadConn,
) -> Result<HttpResponse, AppError> {
    caller.allow_read()?;
    let at = query.at()?;
    if let Some(at) = at {
        let claim = claims::as_of(&mut conn, id.into_inner(), at).await?;
        return Ok(HttpResponse::Ok().json(ClaimReading::AsOf(Box::new(claim))));
    }
    let claim = claims::get(&mut conn, id.into_inner()).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag(claim.revision)))
        .json(ClaimReading::Now(Box::new(claim))))
}

/// A claim now, or as the ledger recorded it at `as_of`.
#[derive(Serialize)]
#[serde(untagged)]
enum ClaimReading {
    Now(Box<ClaimView>),
    AsOf(Box<crate::storage::claims::ClaimAsOf>),
}

// By hand, as `anyOf`: a reading at a moment has every field of the claim
// now and more, so it is valid under both (the derive would say `oneOf`).
impl utoipa::PartialSchema for ClaimReading {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::ToSchema;
        utoipa::openapi::schema::AnyOfBuilder::new()
            .item(utoipa::openapi::Ref::from_schema_name(ClaimView::name()))
            .item(utoipa::openapi::Ref::from_schema_name(
                crate::storage::claims::ClaimAsOf::name(),
            ))
            .into()
    }
}

impl utoipa::ToSchema for ClaimReading {
    fn schemas(
        schemas: &mut Vec<(
            String,
            utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>,
        )>,
    ) {
        use crate::storage::claims::ClaimAsOf;
        use utoipa::PartialSchema;
        schemas.push((ClaimView::name().into(), ClaimView::schema()));
        <ClaimView as utoipa::ToSchema>::schemas(schemas);
        schemas.push((ClaimAsOf::name().into(), ClaimAsOf::schema()));
        <ClaimAsOf as utoipa::ToSchema>::schemas(schemas);
    }
}

#[derive(Serialize, utoipa::ToSchema)]
struct PatchBody {
    #[serde(flatten)]
    claim: ClaimView,
    /// False when the patch repeated the current values: nothing was written.
    changed: bool,
    changed_fields: Vec<&'static str>,
}

#[utoipa::path(
    patch,
    path = "/v1/claims/{id}",
    tag = "claims",
    params(("id" = i64, Path, minimum = 1, description = "The claim's id"), IfMatchHeader),
    request_body = ClaimPatch,
    responses(
        (status = 200, description = "The claim after the change (a new revision when anything changed)", body = PatchBody, headers(("ETag" = String, description = "The revision, for If-Match on the next write"))),
        (status = 412, description = "The claim has moved past If-Match", body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match is missing", body = crate::http::problem::Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn patch(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
    IfMatchHeader(if_match): IfMatchHeader,
    JsonBody(body): JsonBody<ClaimPatch>,
) -> Result<HttpResponse, AppError> {
    let user = caller.require(Action::EditClaim)?;
    let patch = body.validate()?;
    let mut conn = state.pool.get().await?;
    let outcome = claims::append_revision(
        &mut conn,
        &caller.audit(),
        user.role,
        id.into_inner(),
        patch,
        if_match,
    )
    .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag(outcome.claim.revision)))
        .json(PatchBody {
            changed: !outcome.changed_fields.is_empty(),
            changed_fields: outcome.changed_fields,
            claim: outcome.claim,
        }))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    #[serde(alias = "story_id")]
    #[param(minimum = 1)]
    story: Option<i64>,
    #[serde(alias = "speaker_id")]
    #[param(minimum = 1)]
    speaker: Option<i64>,
    status: Option<ClaimStatus>,
    kind: Option<ClaimKind>,
    /// Statement time (when it was said) overlapping [said_from, said_to).
    said_from: Option<String>,
    said_to: Option<String>,
    /// When the ledger recorded it (transaction time) in [recorded_from, recorded_to).
    recorded_from: Option<String>,
    recorded_to: Option<String>,
    #[param(minimum = 1, maximum = 200)]
    limit: Option<i64>,
    cursor: Option<String>,
    order: Option<SortOrder>,
}

#[utoipa::path(
    get,
    path = "/v1/claims",
    tag = "claims",
    params(ListQuery),
    responses(
        (status = 200, description = "A page of claims", body = PageBody<crate::storage::claims::ClaimView>),
    ),
)]
pub async fn list(
    caller: Caller,
    query: web::Query<ListQuery>,
    mut conn: ReadConn,
) -> Result<HttpResponse, AppError> {
    caller.allow_read()?;
    let query = query.into_inner();
    let request = PageParams {
        limit: query.limit,
        cursor: query.cursor,
        order: query.order,
    }
    .page_request()?;
    let filter = ClaimFilter {
        story_id: query.story,
        speaker_id: query.speaker,
        status: query.status,
        kind: query.kind,
        said_from: time_param("said_from", query.said_from.as_deref())?,
        said_to: time_param("said_to", query.said_to.as_deref())?,
        recorded_from: time_param("recorded_from", query.recorded_from.as_deref())?,
        recorded_to: time_param("recorded_to", query.recorded_to.as_deref())?,
    };
    if let (Some(from), Some(to)) = (filter.said_from, filter.said_to)
        && to <= from
    {
        return Err(AppError::invalid("said_to", "must be later than said_from"));
    }
    let page = claims::list(&mut conn, filter, request).await?;
    Ok(HttpResponse::Ok().json(PageBody::new(page, request)))
}

#[utoipa::path(
    get,
    path = "/v1/claims/{id}/revisions",
    tag = "claims",
    params(("id" = i64, Path, minimum = 1, description = "The claim's id"), PageParams),
    responses(
        (status = 200, description = "A page of the claim's revisions, oldest first", body = PageBody<crate::storage::claims::ClaimRevisionView>),
    ),
)]
pub async fn revisions(
    caller: Caller,
    id: web::Path<i64>,
    page: web::Query<PageParams>,
    mut conn: ReadConn,
) -> Result<HttpResponse, AppError> {
    caller.allow_read()?;
    let request = page.page_request_in(SortOrder::Asc)?;
    let page = claims::revisions(&mut conn, id.into_inner(), request).await?;
    Ok(HttpResponse::Ok().json(PageBody::new(page, request)))
}

#[utoipa::path(
    get,
    path = "/v1/claims/{id}/revisions/{n}",
    tag = "claims",
    params(("id" = i64, Path, minimum = 1, description = "The claim's id"), ("n" = i32, Path, minimum = 1, description = "Revision number, counted from 1")),
    responses(
        (status = 200, description = "The revision", body = crate::storage::claims::ClaimRevisionView, headers(("ETag" = String, description = "The revision, for If-Match on the next write"))),
    ),
)]
pub async fn revision(
    caller: Caller,
    path: web::Path<(i64, i32)>,
    mut conn: ReadConn,
) -> Result<HttpResponse, AppError> {
    caller.allow_read()?;
    let (id, n) = path.into_inner();
    let rev = claims::revision(&mut conn, id, n).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag(rev.revision)))
        .json(rev))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SpeakerClaimsQuery {
    #[param(minimum = 1, maximum = 200)]
    limit: Option<i64>,
    cursor: Option<String>,
    order: Option<SortOrder>,
}

/// Every claim attributed to a speaker, across stories.
#[utoipa::path(
    get,
    path = "/v1/speakers/{id}/claims",
    tag = "speakers",
    params(("id" = i64, Path, minimum = 1, description = "The speaker's id"), SpeakerClaimsQuery),
    responses(
        (status = 200, description = "A page of the speaker's claims", body = PageBody<crate::storage::claims::ClaimView>),
    ),
)]
pub async fn list_by_speaker(
    caller: Caller,
    id: web::Path<i64>,
    query: web::Query<SpeakerClaimsQuery>,
    mut conn: ReadConn,
) -> Result<HttpResponse, AppError> {
    caller.allow_read()?;
    let query = query.into_inner();
    let request = PageParams {
        limit: query.limit,
        cursor: query.cursor,
        order: query.order,
    }
    .page_request()?;
    let speaker = crate::storage::speakers::get(&mut conn, id.into_inner()).await?;
    let filter = ClaimFilter {
        speaker_id: Some(speaker.id),
        ..ClaimFilter::default()
    };
    let page = claims::list(&mut conn, filter, request).await?;
    Ok(HttpResponse::Ok().json(PageBody::new(page, request)))
}
