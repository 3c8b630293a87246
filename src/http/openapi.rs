//! The OpenAPI 3.1 document and the API docs page.
//!
//! The document is generated from the code: each handler's
//! `#[utoipa::path]` attribute and the `ToSchema` derives of the types it
//! reads and writes. What every operation shares (the bearer token, the
//! problem+json errors) is added here, in one place, by [`Conventions`].
//! It is served without a token at `/v1/openapi.json`; `/docs/` shows it
//! with Swagger UI, served from the binary (nothing loads from elsewhere).
//! Both are routes of the table in `http/mod.rs` and described here.

use std::sync::{Arc, LazyLock};

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::{Operation, PathItem};
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr};
use utoipa::{Modify, OpenApi};
use utoipa_swagger_ui::Config;

use super::handlers::{
    articles, audit, claimreview, claims, diffs, events, health, import, reviews, search, speakers,
    stories, timeline, users, watches,
};
use super::problem::{PROBLEM_JSON, Problem};
use crate::error::AppError;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "claimtrail",
        description = "A fact-claim ledger: attributed claims with every change kept as an \
            immutable revision, reviews with evidence, and an audit trail.\n\n\
            Every error is an RFC 9457 problem (`application/problem+json`) whose `type` is \
            `urn:claimtrail:problem:<slug>`; invalid fields are listed in `errors`. \
            503 and 429 carry `Retry-After`.\n\n\
            With read replicas, a successful write answers with `Claimtrail-LSN` (its WAL \
            position); a GET that sends it back sees that write (a replica serves it only \
            once it has replayed that far). Reads name who served them in \
            `Claimtrail-Read-From`.",
    ),
    paths(
        health::healthz,
        document,
        root,
        docs_folder,
        docs_file,
        users::me,
        users::create,
        users::list,
        users::create_token,
        users::list_tokens,
        users::revoke_token,
        stories::create,
        stories::list,
        stories::get,
        stories::claims_as_of,
        stories::contested,
        timeline::timeline,
        speakers::create,
        speakers::list,
        speakers::get,
        speakers::patch,
        speakers::revisions,
        speakers::revision,
        speakers::diff,
        speakers::merge,
        claims::list_by_speaker,
        articles::create,
        articles::get,
        articles::revisions,
        articles::revision,
        articles::captured_page,
        articles::diff,
        articles::extract,
        claims::create,
        claims::list,
        claims::get,
        claims::patch,
        claims::revisions,
        claims::revision,
        diffs::claim_diff,
        reviews::change_status,
        reviews::create_review,
        reviews::list_reviews,
        reviews::add_comment,
        reviews::list_comments,
        reviews::assign,
        reviews::add_relation,
        reviews::list_relations,
        claimreview::export,
        reviews::queue,
        events::list,
        events::stream,
        audit::checkpoint,
        audit::public_key,
        audit::consistency,
        audit::event_proof,
        audit::story_proofs,
        search::search,
        import::claims,
        claimreview::import,
        watches::create,
        watches::list,
        watches::get,
        watches::delete,
        watches::pause,
        watches::resume,
        watches::poll,
        watches::items,
        watches::file,
    ),
    // The query enums are referenced by parameters, which do not collect
    // their schemas: they are listed here so that every $ref resolves.
    components(schemas(
        Problem,
        crate::storage::SortOrder,
        crate::storage::reviews::QueueSort,
        crate::domain::audit::AuditAction,
        crate::domain::watch::ItemState
    )),
    modifiers(&Conventions),
    tags(
        (name = "claims", description = "Attributed claims and their revisions"),
        (name = "reviews", description = "Status, verdicts with evidence, comments, assignment, relations"),
        (name = "articles", description = "Articles, their revisions and diffs, claim extraction"),
        (name = "stories", description = "Stories and their timelines"),
        (name = "speakers", description = "Who said things"),
        (name = "search", description = "Full-text search"),
        (name = "audit", description = "The audit log: events, and the transparency log that proves them (signed checkpoints, inclusion and consistency proofs)"),
        (name = "import", description = "Bulk import"),
        (name = "watches", description = "Outlets' feeds and article pages, polled for new articles and quiet edits"),
        (name = "users", description = "Users and API tokens"),
        (name = "health", description = "Liveness and the API document"),
    ),
)]
pub struct ApiDoc;

/// What every operation shares, added to the generated document.
struct Conventions;

impl Modify for Conventions {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("An API token: `Authorization: Bearer <token>`"))
                    .build(),
            ),
        );
        doc.security = Some(vec![SecurityRequirement::new(
            "bearer",
            Vec::<String>::new(),
        )]);
        for (path, item) in doc.paths.paths.iter_mut() {
            let methods = [
                ("get", item.get.as_mut()),
                ("post", item.post.as_mut()),
                ("put", item.put.as_mut()),
                ("patch", item.patch.as_mut()),
                ("delete", item.delete.as_mut()),
            ];
            for (method, operation) in methods {
                if let Some(operation) = operation {
                    operation.operation_id = Some(operation_id(method, path));
                }
            }
            for (write, operation) in operations(item) {
                for (status, why) in errors(path, write, operation) {
                    operation
                        .responses
                        .responses
                        .entry(status.to_string())
                        .or_insert_with(|| problem_response(status, why));
                }
            }
        }
    }
}

/// The operations of a path, each with whether it writes.
fn operations(item: &mut PathItem) -> impl Iterator<Item = (bool, &mut Operation)> {
    [
        (false, item.get.as_mut()),
        (true, item.post.as_mut()),
        (true, item.put.as_mut()),
        (true, item.patch.as_mut()),
        (true, item.delete.as_mut()),
    ]
    .into_iter()
    .filter_map(|(write, op)| op.map(|op| (write, op)))
}

/// A unique id for each operation, from its method and path
/// (`GET /v1/claims/{id}/revisions` → `get_v1_claims_by_id_revisions`): the
/// handlers' names repeat across modules (`create`, `list`), and client
/// generators drop operations whose ids collide.
fn operation_id(method: &str, path: &str) -> String {
    let mut id = method.to_owned();
    for segment in path.split('/').filter(|s| !s.is_empty()) {
        id.push('_');
        match segment
            .strip_prefix('{')
            .and_then(|s| s.split([':', '}']).next())
        {
            Some(param) => {
                id.push_str("by_");
                id.push_str(param);
            }
            None => id.push_str(&segment.replace(['-', '.'], "_")),
        }
    }
    id
}

/// The problem responses an operation can give besides its own.
fn errors(path: &str, write: bool, operation: &Operation) -> Vec<(u16, &'static str)> {
    let public = operation
        .security
        .as_ref()
        .is_some_and(|s| s.iter().all(|r| *r == SecurityRequirement::default()));
    let mut out = vec![(
        503,
        "The database is unreachable or busy; retry after `Retry-After` seconds",
    )];
    if public {
        return out;
    }
    let has_input = operation.request_body.is_some()
        || operation.parameters.as_ref().is_some_and(|p| !p.is_empty());
    out.extend([
        (
            400,
            "The request could not be read (malformed JSON, query or header)",
        ),
        (401, "No bearer token, or an unknown or revoked one"),
        (403, "The token's role may not do this"),
    ]);
    if path.contains('{') {
        out.push((404, "No such record"));
    }
    if has_input {
        out.push((422, "Some fields are invalid; `errors` names each one"));
    }
    if write {
        out.extend([
            (
                409,
                "The write conflicts with what is stored, or reuses an Idempotency-Key for another request",
            ),
            (429, "Too many writes with this token; retry after `Retry-After` seconds"),
        ]);
    }
    if operation.request_body.is_some() {
        out.extend([
            (413, "The body is larger than the service takes"),
            (415, "The body is not of a media type this operation reads"),
        ]);
    }
    out
}

fn problem_response(status: u16, why: &str) -> RefOr<utoipa::openapi::response::Response> {
    let mut response = ResponseBuilder::new().description(why).content(
        PROBLEM_JSON,
        ContentBuilder::new()
            .schema(Some(Ref::from_schema_name("Problem")))
            .build(),
    );
    if matches!(status, 429 | 503) {
        response = response.header(
            "Retry-After",
            HeaderBuilder::new()
                .description(Some("Seconds to wait before trying again"))
                .build(),
        );
    }
    if status == 401 {
        response = response.header(
            "WWW-Authenticate",
            HeaderBuilder::new()
                .description(Some("`Bearer realm=\"claimtrail\"`"))
                .build(),
        );
    }
    RefOr::T(response.build())
}

/// The document as served (built once).
static DOCUMENT: LazyLock<String> = LazyLock::new(|| {
    ApiDoc::openapi()
        .to_pretty_json()
        .expect("the OpenAPI document serializes")
});

/// The document as `/v1/openapi.json` serves it (for `claimtrail openapi`).
pub fn document_json() -> &'static str {
    DOCUMENT.as_str()
}

/// The OpenAPI 3.1 document of this API.
#[utoipa::path(
    get,
    path = "/v1/openapi.json",
    tag = "health",
    responses((status = 200, description = "This document", content_type = "application/json", body = Object)),
    security(()),
)]
pub async fn document() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(DOCUMENT.as_str())
}

/// `/` points a person who opens the service in a browser to the reviewer
/// pages (rather than a JSON 404).
#[utoipa::path(
    get,
    path = "/",
    tag = "health",
    responses((status = 307, description = "To the reviewer pages, `/ui/queue` (which ask a browser without a session to sign in); the API's docs page is `/docs/`", headers(("Location" = String, description = "`/ui/queue`")))),
    security(()),
)]
pub async fn root() -> HttpResponse {
    HttpResponse::TemporaryRedirect()
        .insert_header((header::LOCATION, "/ui/queue"))
        .finish()
}

/// `/docs` is the docs page's folder: its files are addressed relative to
/// `/docs/`.
#[utoipa::path(
    get,
    path = "/docs",
    tag = "health",
    responses((status = 308, description = "To `/docs/`", headers(("Location" = String, description = "`/docs/`")))),
    security(()),
)]
pub async fn docs_folder() -> HttpResponse {
    HttpResponse::PermanentRedirect()
        .insert_header((header::LOCATION, "/docs/"))
        .finish()
}

/// Swagger UI reads the document from here.
static DOCS_CONFIG: LazyLock<Arc<Config<'static>>> =
    LazyLock::new(|| Arc::new(Config::new(["/v1/openapi.json"])));

/// The API docs page (`/docs/`: Swagger UI, served from the binary) and its
/// files. Its scripts and styles come from this service only.
#[utoipa::path(
    get,
    path = "/docs/{file}",
    tag = "health",
    params(("file" = String, Path, description = "A file of the page (`index.html`, `swagger-ui-bundle.js`, …); `/docs/` is the page itself")),
    responses(
        (status = 200, description = "The file", content(
            (String = "text/html"),
            (String = "text/javascript"),
            (String = "text/css"),
            (String = "image/png"),
        )),
        (status = 404, description = "No such file", body = Problem, content_type = "application/problem+json"),
    ),
    security(()),
)]
pub async fn docs_file(
    req: HttpRequest,
    file: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let file = file.into_inner();
    let found = utoipa_swagger_ui::serve(&file, DOCS_CONFIG.clone())
        .map_err(|e| AppError::Internal(anyhow::anyhow!("serving the docs page: {e}")))?
        .ok_or_else(|| AppError::NotFound(format!("the docs page has no file {file:?}")))?;
    // The files are part of the binary: a browser keeps them and asks
    // whether they changed (`no-cache` with an ETag), instead of fetching
    // 1.5 MB on every visit.
    let tag = docs_etag(&file, &found.bytes);
    let unchanged = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == tag || t.trim() == "*"));
    if unchanged {
        return Ok(HttpResponse::NotModified()
            .insert_header((header::ETAG, tag))
            .insert_header((header::CACHE_CONTROL, "no-cache"))
            .finish());
    }
    let mut res = HttpResponse::Ok();
    res.insert_header((header::ETAG, tag))
        .insert_header((header::CACHE_CONTROL, "no-cache"));
    if found.gzpipped {
        res.insert_header((header::CONTENT_ENCODING, header::ContentEncoding::Gzip));
    }
    Ok(res
        .content_type(found.content_type)
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
             img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'",
        ))
        .body(found.bytes.into_owned()))
}

/// A docs file's entity tag: a digest of its bytes, made once per file.
fn docs_etag(file: &str, bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    use std::collections::HashMap;
    use std::sync::Mutex;
    static TAGS: LazyLock<Mutex<HashMap<String, String>>> = LazyLock::new(Default::default);
    let mut tags = TAGS.lock().unwrap_or_else(|e| e.into_inner());
    tags.entry(file.to_owned())
        .or_insert_with(|| format!("\"{}\"", hex::encode(&Sha256::digest(bytes)[..16])))
        .clone()
}
