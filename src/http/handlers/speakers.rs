use crate::http::idempotency::{IdempotencyKey, Reply, once};
use actix_web::HttpRequest;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde::Deserialize;

use crate::domain::auth::Action;
use crate::domain::revision::{diff_range, etag};
use crate::domain::speaker::{NewSpeaker, SpeakerKind, SpeakerPatch};
use crate::error::AppError;
use crate::http::auth::Caller;
use crate::http::extract::IfMatchHeader;
use crate::http::extract::JsonBody;
use crate::http::handlers::diffs::{FieldChange, RevisionMeta};
use crate::http::normalized::WithNormalized;
use crate::http::pagination::{PageBody, PageParams};
use crate::http::read_conn::ReadConn;
use crate::http::server::AppState;
use crate::storage::SortOrder;
use crate::storage::models::{Speaker, SpeakerRevisionRow};
use crate::storage::speakers::{self, SpeakerFilter};
use actix_web::http::header;
use serde::Serialize;

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
    caller: Caller,
    id: web::Path<i64>,
    mut conn: ReadConn,
) -> Result<HttpResponse, AppError> {
    caller.allow_read()?;
    let speaker = speakers::get(&mut conn, id.into_inner()).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag(speaker.revision)))
        .json(speaker))
}

/// A speaker after a PATCH, and what changed.
#[derive(Debug, Serialize, utoipa::ToSchema)]
struct SpeakerPatchBody {
    #[serde(flatten)]
    speaker: Speaker,
    /// False when the patch repeated the current values: nothing was written.
    changed: bool,
    changed_fields: Vec<&'static str>,
    /// Fields stored in a cleaned form (NFC, white space, invisible
    /// characters); left out when none was.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    normalized: Vec<String>,
}

/// Changes a speaker (a new title, affiliation, a corrected name) as a new
/// revision, with a reason; the claims logged before keep pointing at the
/// speaker's revision they were logged against.
#[utoipa::path(
    patch,
    path = "/v1/speakers/{id}",
    tag = "speakers",
    params(("id" = i64, Path, minimum = 1, description = "The speaker's id"), IfMatchHeader),
    request_body = SpeakerPatch,
    responses(
        (status = 200, description = "The speaker after the change", body = SpeakerPatchBody, headers(("ETag" = String, description = "The new revision"))),
    ),
)]
pub async fn patch(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
    IfMatchHeader(if_match): IfMatchHeader,
    JsonBody(body): JsonBody<SpeakerPatch>,
) -> Result<HttpResponse, AppError> {
    caller.require(Action::LogContent)?;
    let patch = body.validate()?;
    let normalized = patch.normalized.clone();
    let mut conn = state.pool.get().await?;
    let (speaker, changed_fields) =
        speakers::revise(&mut conn, &caller.audit(), id.into_inner(), patch, if_match).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag(speaker.revision)))
        .json(SpeakerPatchBody {
            speaker,
            changed: !changed_fields.is_empty(),
            changed_fields,
            normalized,
        }))
}

#[utoipa::path(
    get,
    path = "/v1/speakers/{id}/revisions",
    tag = "speakers",
    params(("id" = i64, Path, minimum = 1, description = "The speaker's id"), PageParams),
    responses(
        (status = 200, description = "A page of the speaker's revisions, oldest first", body = PageBody<SpeakerRevisionRow>),
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
    let page = speakers::revisions(&mut conn, id.into_inner(), request).await?;
    Ok(HttpResponse::Ok().json(PageBody::new(page, request)))
}

#[utoipa::path(
    get,
    path = "/v1/speakers/{id}/revisions/{n}",
    tag = "speakers",
    params(
        ("id" = i64, Path, minimum = 1, description = "The speaker's id"),
        ("n" = i32, Path, minimum = 1, description = "The revision"),
    ),
    responses(
        (status = 200, description = "The speaker as it was at that revision", body = SpeakerRevisionRow),
    ),
)]
pub async fn revision(
    caller: Caller,
    path: web::Path<(i64, i32)>,
    mut conn: ReadConn,
) -> Result<HttpResponse, AppError> {
    caller.allow_read()?;
    let (id, n) = path.into_inner();
    Ok(HttpResponse::Ok().json(speakers::revision(&mut conn, id, n).await?))
}

/// What differs between two revisions of a speaker.
#[derive(Debug, Serialize, utoipa::ToSchema)]
struct SpeakerDiff {
    speaker_id: i64,
    from: RevisionMeta,
    to: RevisionMeta,
    /// Only the fields that differ.
    changes: Vec<FieldChange>,
}

#[utoipa::path(
    get,
    path = "/v1/speakers/{id}/diff",
    tag = "speakers",
    params(("id" = i64, Path, minimum = 1, description = "The speaker's id"), SpeakerDiffQuery),
    responses(
        (status = 200, description = "The fields that differ between two revisions (by default the last two)", body = SpeakerDiff),
    ),
)]
pub async fn diff(
    caller: Caller,
    id: web::Path<i64>,
    query: web::Query<SpeakerDiffQuery>,
    mut conn: ReadConn,
) -> Result<HttpResponse, AppError> {
    caller.allow_read()?;
    let id = id.into_inner();
    let current = speakers::get(&mut conn, id).await?.revision;
    let (from, to) = diff_range(current, query.from, query.to);
    let old = speakers::revision(&mut conn, id, from).await?;
    let new = speakers::revision(&mut conn, id, to).await?;
    Ok(HttpResponse::Ok().json(SpeakerDiff {
        speaker_id: id,
        from: RevisionMeta::of_speaker(&old),
        to: RevisionMeta::of_speaker(&new),
        changes: speaker_changes(&old, &new)?,
    }))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SpeakerDiffQuery {
    #[param(minimum = 1)]
    from: Option<i32>,
    #[param(minimum = 1)]
    to: Option<i32>,
}

/// The fields a speaker diff compares, in the order it reports them.
const SPEAKER_FIELDS: &[&str] = &[
    "name",
    "kind",
    "role",
    "affiliation",
    "aliases",
    "merged_into",
];

fn speaker_changes(
    old: &SpeakerRevisionRow,
    new: &SpeakerRevisionRow,
) -> Result<Vec<FieldChange>, AppError> {
    let old = serde_json::to_value(old).map_err(anyhow::Error::from)?;
    let new = serde_json::to_value(new).map_err(anyhow::Error::from)?;
    Ok(SPEAKER_FIELDS
        .iter()
        .filter(|f| old[**f] != new[**f])
        .map(|f| FieldChange {
            field: f,
            old: old[*f].clone(),
            new: new[*f].clone(),
        })
        .collect())
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
    let filter = SpeakerFilter {
        kind: query.kind,
        name_contains: query.q.filter(|q| !q.trim().is_empty()),
    };
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
            crate::storage::speakers::merge_speakers(conn, &ctx, from, body.into).await?;
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
