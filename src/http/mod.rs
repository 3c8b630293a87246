//! The HTTP layer: routes, extractors, error mapping. Handlers stay thin.

pub mod auth;
pub mod extract;
pub mod handlers;
pub mod idempotency;
pub mod normalized;
pub mod openapi;
pub mod outage;
pub mod pagination;
pub mod problem;
pub mod protocol_errors;
pub mod rate_limit;
pub mod read_conn;
pub mod read_your_writes;
pub mod server;
pub mod token_cache;
pub mod ui;

use actix_web::{HttpRequest, HttpResponse, Resource, web};

use crate::error::AppError;
use handlers::{
    articles, audit, claimreview, claims, diffs, events, health, import, reviews, search, speakers,
    stories, timeline, users, watches,
};

/// Declares routes once: `$register` adds them to the app and `$list` names
/// them (method, path), so the test that the OpenAPI document describes
/// every route reads the same table the server is built from.
macro_rules! routes {
    (
        $(#[$meta:meta])* $list:ident, $register:ident, $prefix:literal:
        $( $path:literal => { $( $method:ident => $handler:path ),+ $(,)? } ),+ $(,)?
    ) => {
        $(#[$meta])*
        pub const $list: &[(&str, &str)] = &[
            $( $( (stringify!($method), concat!($prefix, $path)) ),+ ),+
        ];

        fn $register(cfg: &mut web::ServiceConfig) {
            $(
                cfg.service(
                    resource($path, &[$(stringify!($method)),+])
                        $( .route(web::$method().to($handler)) )+
                );
            )+
        }
    };
}

routes! {
    /// Routes outside `/v1`'s authentication: health, the API document and
    /// its docs page.
    PUBLIC_ROUTES, public_routes, "":
    "/" => { get => openapi::root },
    "/healthz" => { get => health::healthz },
    "/v1/openapi.json" => { get => openapi::document },
    "/docs" => { get => openapi::docs_folder },
    "/docs/{file:.*}" => { get => openapi::docs_file },
}

routes! {
    /// The API proper, behind a bearer token.
    V1_ROUTES, v1_routes, "/v1":
    "/me" => { get => users::me },
    "/users" => { post => users::create, get => users::list },
    "/users/{id}/tokens" => { post => users::create_token, get => users::list_tokens },
    "/tokens/{id}" => { delete => users::revoke_token },
    "/stories" => { post => stories::create, get => stories::list },
    "/stories/{id}" => { get => stories::get },
    "/stories/{id}/claims" => { get => stories::claims_as_of },
    "/stories/{id}/contested" => { get => stories::contested },
    "/stories/{id}/timeline" => { get => timeline::timeline },
    "/speakers" => { post => speakers::create, get => speakers::list },
    "/speakers/{id}" => { get => speakers::get, patch => speakers::patch },
    "/speakers/{id}/revisions" => { get => speakers::revisions },
    "/speakers/{id}/revisions/{n}" => { get => speakers::revision },
    "/speakers/{id}/diff" => { get => speakers::diff },
    "/speakers/{id}/merge" => { post => speakers::merge },
    "/speakers/{id}/claims" => { get => claims::list_by_speaker },
    "/articles" => { post => articles::create },
    "/articles/{id}" => { get => articles::get },
    "/articles/{id}/revisions" => { get => articles::revisions },
    "/articles/{id}/revisions/{n}" => { get => articles::revision },
    "/articles/{id}/revisions/{n}/page" => { get => articles::captured_page },
    "/articles/{id}/diff" => { get => articles::diff },
    "/articles/{id}/extract" => { post => articles::extract },
    "/claims" => { post => claims::create, get => claims::list },
    "/claims/{id}" => { get => claims::get, patch => claims::patch },
    "/claims/{id}/revisions" => { get => claims::revisions },
    "/claims/{id}/revisions/{n}" => { get => claims::revision },
    "/claims/{id}/diff" => { get => diffs::claim_diff },
    "/claims/{id}/status" => { post => reviews::change_status },
    "/claims/{id}/reviews" => { post => reviews::create_review, get => reviews::list_reviews },
    "/claims/{id}/comments" => { post => reviews::add_comment, get => reviews::list_comments },
    "/claims/{id}/assign" => { post => reviews::assign },
    "/claims/{id}/relations" => { post => reviews::add_relation, get => reviews::list_relations },
    "/claims/{id}/claimreview" => { get => claimreview::export },
    "/review-queue" => { get => reviews::queue },
    "/events" => { get => events::list },
    "/events/stream" => { get => events::stream },
    "/audit/checkpoint" => { get => audit::checkpoint },
    "/audit/public-key" => { get => audit::public_key },
    "/audit/consistency" => { get => audit::consistency },
    "/audit/events/{id}/proof" => { get => audit::event_proof },
    "/audit/stories/{id}/proofs" => { get => audit::story_proofs },
    "/search" => { get => search::search },
    "/import/claims" => { post => import::claims },
    "/import/claimreview" => { post => claimreview::import },
    "/watches" => { post => watches::create, get => watches::list },
    "/watches/{id}" => { get => watches::get, delete => watches::delete },
    "/watches/{id}/pause" => { post => watches::pause },
    "/watches/{id}/resume" => { post => watches::resume },
    "/watches/{id}/poll" => { post => watches::poll },
    "/watches/{id}/items" => { get => watches::items },
    "/watches/{id}/items/{item_id}/file" => { post => watches::file },
}

/// Every route of the service.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.app_data(extract::path_config())
        .app_data(extract::query_config());
    // Before the `/v1` scope, so that `/v1/openapi.json` needs no token.
    public_routes(cfg);
    ui::configure(cfg);
    cfg.service(
        web::scope("/v1")
            .wrap(actix_web::middleware::from_fn(extract::check_query_string))
            .wrap(actix_web::middleware::from_fn(auth::authenticate))
            .configure(v1_routes),
    );
}

/// A resource whose other methods get a 405 problem naming the ones it has
/// in `Allow` (RFC 9110 requires it).
fn resource(path: &str, methods: &[&str]) -> Resource {
    let mut allowed: Vec<String> = methods.iter().map(|m| m.to_ascii_uppercase()).collect();
    if methods.contains(&"get") {
        allowed.push("HEAD".into());
    }
    let allow = allowed.join(", ");
    web::resource(path).default_service(web::to(move |req: HttpRequest| {
        std::future::ready(method_not_allowed(&req, &allow))
    }))
}

fn method_not_allowed(req: &HttpRequest, allow: &str) -> HttpResponse {
    let mut res = crate::http::problem::Problem::new(
        actix_web::http::StatusCode::METHOD_NOT_ALLOWED,
        "method-not-allowed",
        "Method not allowed",
        format!(
            "{} is not supported on {}; it takes {allow}",
            req.method(),
            req.path()
        ),
    )
    .response();
    if let Ok(value) = actix_web::http::header::HeaderValue::from_str(allow) {
        res.headers_mut()
            .insert(actix_web::http::header::ALLOW, value);
    }
    res
}

/// Unknown paths.
pub async fn not_found(req: HttpRequest) -> Result<HttpResponse, AppError> {
    Err(AppError::NotFound(format!(
        "no route for {} {}",
        req.method(),
        req.path()
    )))
}
