use crate::http::idempotency::{IdempotencyKey, Reply, once};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};

use crate::domain::article::NewArticle;
use crate::domain::auth::Action;
use crate::domain::diff::{SentenceDiff, split_sentences, unified};
use crate::error::AppError;
use crate::http::auth::Caller;
use crate::http::extract::{AsOfQuery, JsonBody, OptionalJsonBody};
use crate::http::handlers::diffs::{DiffQuery, RevisionMeta, wants_unified};
use crate::http::pagination::{PageBody, PageParams};
use crate::http::read_conn::ReadConn;
use crate::http::server::AppState;
use crate::storage::SortOrder;
use crate::storage::article_captures::{self, CaptureRow};
use crate::storage::article_intake::{self, Intake};
use crate::storage::articles::{self, PostOutcome};
use crate::storage::extraction::{self, ApplyRequest, Extraction};

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct IntakeQuery {
    /// Also extract the body's attributed claims and store them as
    /// `proposed` claims, in the same transaction.
    extract: Option<bool>,
}

/// An article as posted, with what extraction stored when it was asked for.
#[derive(Serialize, utoipa::ToSchema)]
struct PostedArticle {
    #[serde(flatten)]
    posted: articles::ArticlePost,
    #[serde(skip_serializing_if = "Option::is_none")]
    extraction: Option<Extraction>,
}

/// Creates an article, or for a known URL appends a revision (201) or
/// reports that nothing changed (200). With `?extract=true` the current
/// revision's claims are proposed and stored too (already logged spans are
/// skipped, so posting the same body twice logs nothing twice).
#[utoipa::path(
    post,
    path = "/v1/articles",
    tag = "articles",
    params(IdempotencyKey, IntakeQuery),
    request_body = NewArticle,
    responses(
        (status = 201, description = "A new article, or a new revision of a known URL", body = PostedArticle, headers(("Location" = String, description = "Where the new resource is"))),
        (status = 200, description = "The URL is known and nothing changed", body = PostedArticle),
    ),
)]
pub async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    key: IdempotencyKey,
    query: web::Query<IntakeQuery>,
    JsonBody(body): JsonBody<NewArticle>,
) -> Result<HttpResponse, AppError> {
    caller.require(Action::LogContent)?;
    let article = body.validate(state.limits.max_body_chars)?;
    let ctx = caller.audit();
    let settings = state.limits.intake();
    let extract = query.extract.unwrap_or(false);
    once(&state, &req, &ctx.actor, key, async |conn| {
        let intake = Intake {
            article,
            extract,
            capture: None,
        };
        let (posted, extraction) = article_intake::record(conn, &ctx, intake, settings).await?;
        let id = posted.article.id;
        let (status, location) = match posted.outcome {
            PostOutcome::Created => (StatusCode::CREATED, Some(format!("/v1/articles/{id}"))),
            PostOutcome::Revised => (
                StatusCode::CREATED,
                Some(format!(
                    "/v1/articles/{id}/revisions/{}",
                    posted.article.revision
                )),
            ),
            PostOutcome::Unchanged => (StatusCode::OK, None),
        };
        let reply = Reply::json(status, &PostedArticle { posted, extraction })?;
        Ok(match location {
            Some(l) => reply.location(l),
            None => reply,
        })
    })
    .await
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ExtractQuery {
    /// Store the proposals as `proposed` claims instead of only showing them.
    apply: Option<bool>,
    /// The order of the proposals: where they are in the text (the default)
    /// or `extraction_confidence`, the surest first.
    #[param(inline)]
    order: Option<ProposalOrder>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProposalOrder {
    Text,
    ExtractionConfidence,
}

/// With `apply=true`: which proposals to store.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExtractBody {
    /// The revision the proposals were reviewed on; 409 when the article
    /// has moved on since.
    #[schema(minimum = 1)]
    revision: Option<i32>,
    /// Indices of the proposals to store (all when absent).
    accept: Option<Vec<usize>>,
}

/// Proposes the attributed claims of the article's current revision; with
/// `?apply=true` stores the accepted ones (201 when any claim was stored).
#[utoipa::path(
    post,
    path = "/v1/articles/{id}/extract",
    tag = "articles",
    params(("id" = i64, Path, minimum = 1, description = "The article's id"), IdempotencyKey, ExtractQuery),
    request_body = Option<ExtractBody>,
    responses(
        (status = 200, description = "The proposals (and with `apply=true`, nothing new stored)", body = Extraction),
        (status = 201, description = "Claims were stored", body = Extraction),
    ),
)]
pub async fn extract(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    key: IdempotencyKey,
    id: web::Path<i64>,
    query: web::Query<ExtractQuery>,
    OptionalJsonBody(body): OptionalJsonBody<ExtractBody>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let surest_first = query.order == Some(ProposalOrder::ExtractionConfidence);
    if !query.apply.unwrap_or(false) {
        caller.allow_read()?;
        if body.is_some() {
            return Err(AppError::BadRequest(
                "a body (revision, accept) is only read with ?apply=true".into(),
            ));
        }
        let mut conn = state.pool.get().await?;
        let mut preview = extraction::preview(&mut conn, id).await?;
        if surest_first {
            preview.surest_first();
        }
        return Ok(HttpResponse::Ok().json(preview));
    }
    caller.require(Action::LogContent)?;
    let request = body.map_or_else(ApplyRequest::default, |b| ApplyRequest {
        revision: b.revision,
        accept: b.accept,
    });
    let ctx = caller.audit();
    let threshold = state.limits.duplicate_threshold;
    once(&state, &req, &ctx.actor, key, async |conn| {
        let mut done = extraction::apply(conn, &ctx, id, request, threshold).await?;
        if surest_first {
            done.surest_first();
        }
        let stored = done.applied.as_ref().is_some_and(|a| !a.claims.is_empty());
        let status = if stored {
            StatusCode::CREATED
        } else {
            StatusCode::OK
        };
        Reply::json(status, &done)
    })
    .await
}

#[utoipa::path(
    get,
    path = "/v1/articles/{id}",
    tag = "articles",
    params(("id" = i64, Path, minimum = 1, description = "The article's id"), AsOfQuery),
    responses(
        (status = 200, description = "The article at its current revision, or as recorded at `as_of`", body = crate::storage::articles::ArticleView),
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
    let article = match at {
        Some(at) => articles::as_of(&mut conn, id.into_inner(), at).await?,
        None => articles::get(&mut conn, id.into_inner()).await?,
    };
    Ok(HttpResponse::Ok().json(article))
}

#[utoipa::path(
    get,
    path = "/v1/articles/{id}/revisions",
    tag = "articles",
    params(("id" = i64, Path, minimum = 1, description = "The article's id"), PageParams),
    responses(
        (status = 200, description = "A page of the article's revisions, oldest first", body = PageBody<crate::storage::articles::ArticleRevisionSummary>),
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
    let page = articles::revisions(&mut conn, id.into_inner(), request).await?;
    Ok(HttpResponse::Ok().json(PageBody::new(page, request)))
}

#[utoipa::path(
    get,
    path = "/v1/articles/{id}/revisions/{n}",
    tag = "articles",
    params(("id" = i64, Path, minimum = 1, description = "The article's id"), ("n" = i32, Path, minimum = 1, description = "Revision number, counted from 1")),
    responses(
        (status = 200, description = "The revision", body = crate::storage::articles::ArticleView),
    ),
)]
pub async fn revision(
    caller: Caller,
    path: web::Path<(i64, i32)>,
    mut conn: ReadConn,
) -> Result<HttpResponse, AppError> {
    caller.allow_read()?;
    let (id, n) = path.into_inner();
    Ok(HttpResponse::Ok().json(articles::revision(&mut conn, id, n).await?))
}

/// Most operations an article diff lists before it is cut (`truncated`).
const DEFAULT_MAX_OPS: usize = 5_000;
/// Most lines of a unified article diff.
const DEFAULT_MAX_LINES: usize = 5_000;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ArticleDiffQuery {
    #[param(minimum = 1)]
    from: Option<i32>,
    #[param(minimum = 1)]
    to: Option<i32>,
    #[param(pattern = "^(json|unified)$")]
    format: Option<String>,
    /// Unchanged sentences shown around each change (0–20, default 2).
    #[param(minimum = 0, maximum = 20)]
    context: Option<usize>,
    /// Cap on operations (1–100000).
    #[param(minimum = 1, maximum = 100000)]
    max_ops: Option<usize>,
}

#[derive(Serialize, utoipa::ToSchema)]
struct HeadlineChange {
    old: String,
    new: String,
}

#[derive(Serialize, utoipa::ToSchema)]
struct ArticleDiff {
    article_id: i64,
    from: RevisionMeta,
    to: RevisionMeta,
    headline: Option<HeadlineChange>,
    inserted_chars: usize,
    deleted_chars: usize,
    /// Sentence-level unified diff.
    unified: String,
    /// Word-level operations over the whole body; `equal` ones carry only
    /// their length (the reader has the old revision).
    ops: Vec<crate::domain::diff::TextOp>,
    /// True when `ops` or `unified` were cut at their cap.
    truncated: bool,
    /// True when the diff deadline made the result coarser than minimal.
    timed_out: bool,
}

#[utoipa::path(
    get,
    path = "/v1/articles/{id}/diff",
    tag = "articles",
    params(("id" = i64, Path, minimum = 1, description = "The article's id"), ArticleDiffQuery),
    responses(
        (status = 200, description = "The diff between two revisions (JSON, or with `format=unified` or `Accept: text/x-diff` a unified diff)", content((ArticleDiff = "application/json"), (String = "text/x-diff"))),
    ),
)]
pub async fn diff(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
    query: web::Query<ArticleDiffQuery>,
    mut conn: ReadConn,
) -> Result<HttpResponse, AppError> {
    caller.allow_read()?;
    let query = query.into_inner();
    DiffQuery::check_revisions(query.from, query.to)?;
    let context = query.context.unwrap_or(2);
    if context > 20 {
        return Err(AppError::invalid("context", "must be between 0 and 20"));
    }
    let max_ops = query.max_ops.unwrap_or(DEFAULT_MAX_OPS);
    if !(1..=100_000).contains(&max_ops) {
        return Err(AppError::invalid("max_ops", "must be between 1 and 100000"));
    }
    let unified_only = wants_unified(&req, query.format.as_deref())?;
    let id = id.into_inner();
    let (old, new) = articles::revision_pair(&mut conn, id, query.from, query.to).await?;
    drop(conn);

    let timeout = state.limits.diff_timeout;
    let labels = (
        format!("article {id} revision {}", old.revision),
        format!("article {id} revision {}", new.revision),
    );
    if unified_only {
        let (text, _) = unified(
            &split_sentences(&old.body),
            &split_sentences(&new.body),
            (&labels.0, &labels.1),
            context,
            DEFAULT_MAX_LINES,
            timeout,
        );
        return Ok(HttpResponse::Ok()
            .content_type("text/x-diff; charset=utf-8")
            .body(text));
    }
    let diff = SentenceDiff::new(
        &old.body,
        &new.body,
        (&labels.0, &labels.1),
        context,
        DEFAULT_MAX_LINES,
        timeout,
    );
    let mut ops = diff.alignment.ops(false);
    let ops_cut = ops.len() > max_ops;
    ops.truncate(max_ops);
    let (inserted_chars, deleted_chars) = diff.alignment.churn();
    Ok(HttpResponse::Ok().json(ArticleDiff {
        article_id: id,
        headline: (old.headline != new.headline).then(|| HeadlineChange {
            old: old.headline.clone(),
            new: new.headline.clone(),
        }),
        from: RevisionMeta::of_article(&old),
        to: RevisionMeta::of_article(&new),
        inserted_chars,
        deleted_chars,
        ops,
        truncated: ops_cut || diff.unified_truncated,
        timed_out: diff.alignment.timed_out,
        unified: diff.unified,
    }))
}

/// The page a watch read this revision from, byte for byte as the outlet
/// served it (kept compressed). Sent as an attachment, never as a page of
/// this site: an outlet's scripts must not run on the ledger's origin.
#[utoipa::path(
    get,
    path = "/v1/articles/{id}/revisions/{n}/page",
    tag = "articles",
    params(("id" = i64, Path, minimum = 1, description = "The article's id"), ("n" = i32, Path, minimum = 1, description = "Revision number, counted from 1")),
    responses(
        (status = 200, description = "The captured page; `Claimtrail-Page-Url`, `-Media-Type`, `-Fetched-At` and `-Sha256` say where, what and when", content((Vec<u8> = "application/octet-stream"))),
    ),
)]
pub async fn captured_page(
    caller: Caller,
    path: web::Path<(i64, i32)>,
    mut conn: ReadConn,
) -> Result<HttpResponse, AppError> {
    caller.allow_read()?;
    let (id, n) = path.into_inner();
    let capture = article_captures::get(&mut conn, id, n).await?;
    captured_page_response(&capture)
}

/// A captured page as an attachment, with where, what and when it was
/// fetched in headers (the API's route and the reviewer pages' link).
pub fn captured_page_response(capture: &CaptureRow) -> Result<HttpResponse, AppError> {
    let page = capture.page()?;
    let (id, n) = (capture.article_id, capture.revision);
    Ok(HttpResponse::Ok()
        .content_type("application/octet-stream")
        .insert_header((
            "content-disposition",
            format!("attachment; filename=\"article-{id}-revision-{n}.html\""),
        ))
        .insert_header(("claimtrail-page-url", capture.url.clone()))
        .insert_header(("claimtrail-page-media-type", capture.media_type.clone()))
        .insert_header((
            "claimtrail-page-fetched-at",
            crate::domain::audit::timestamp_text(&capture.fetched_at),
        ))
        .insert_header(("claimtrail-page-sha256", hex::encode(&capture.page_sha256)))
        .body(page))
}
