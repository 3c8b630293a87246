//! The HTTP layer: routes, extractors, error mapping. Handlers stay thin.

pub mod auth;
pub mod extract;
pub mod handlers;
pub mod idempotency;
pub mod pagination;
pub mod problem;
pub mod rate_limit;

use actix_web::{HttpRequest, HttpResponse, Resource, web};

use crate::error::AppError;
use handlers::{
    articles, claimreview, claims, diffs, events, health, import, reviews, search, speakers,
    stories, timeline, users,
};

/// Every route of the service.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.app_data(extract::path_config())
        .app_data(extract::query_config())
        .service(resource("/healthz").route(web::get().to(health::healthz)))
        .service(
            web::scope("/v1")
                .wrap(actix_web::middleware::from_fn(extract::refuse_nul_in_query))
                .wrap(actix_web::middleware::from_fn(auth::authenticate))
                .service(resource("/me").route(web::get().to(users::me)))
                .service(
                    resource("/users")
                        .route(web::post().to(users::create))
                        .route(web::get().to(users::list)),
                )
                .service(
                    resource("/users/{id}/tokens")
                        .route(web::post().to(users::create_token))
                        .route(web::get().to(users::list_tokens)),
                )
                .service(resource("/tokens/{id}").route(web::delete().to(users::revoke_token)))
                .service(
                    resource("/stories")
                        .route(web::post().to(stories::create))
                        .route(web::get().to(stories::list)),
                )
                .service(resource("/stories/{id}").route(web::get().to(stories::get)))
                .service(
                    resource("/stories/{id}/claims").route(web::get().to(stories::claims_as_of)),
                )
                .service(
                    resource("/stories/{id}/contested").route(web::get().to(stories::contested)),
                )
                .service(
                    resource("/stories/{id}/timeline").route(web::get().to(timeline::timeline)),
                )
                .service(
                    resource("/speakers")
                        .route(web::post().to(speakers::create))
                        .route(web::get().to(speakers::list)),
                )
                .service(resource("/speakers/{id}").route(web::get().to(speakers::get)))
                .service(resource("/speakers/{id}/merge").route(web::post().to(speakers::merge)))
                .service(resource("/articles").route(web::post().to(articles::create)))
                .service(resource("/articles/{id}").route(web::get().to(articles::get)))
                .service(
                    resource("/articles/{id}/revisions").route(web::get().to(articles::revisions)),
                )
                .service(
                    resource("/articles/{id}/revisions/{n}")
                        .route(web::get().to(articles::revision)),
                )
                .service(resource("/articles/{id}/diff").route(web::get().to(articles::diff)))
                .service(
                    resource("/articles/{id}/extract").route(web::post().to(articles::extract)),
                )
                .service(
                    resource("/claims")
                        .route(web::post().to(claims::create))
                        .route(web::get().to(claims::list)),
                )
                .service(
                    resource("/claims/{id}")
                        .route(web::get().to(claims::get))
                        .route(web::patch().to(claims::patch)),
                )
                .service(resource("/claims/{id}/revisions").route(web::get().to(claims::revisions)))
                .service(
                    resource("/claims/{id}/revisions/{n}").route(web::get().to(claims::revision)),
                )
                .service(resource("/claims/{id}/diff").route(web::get().to(diffs::claim_diff)))
                .service(
                    resource("/claims/{id}/status").route(web::post().to(reviews::change_status)),
                )
                .service(
                    resource("/claims/{id}/reviews")
                        .route(web::post().to(reviews::create_review))
                        .route(web::get().to(reviews::list_reviews)),
                )
                .service(
                    resource("/claims/{id}/comments")
                        .route(web::post().to(reviews::add_comment))
                        .route(web::get().to(reviews::list_comments)),
                )
                .service(resource("/claims/{id}/assign").route(web::post().to(reviews::assign)))
                .service(
                    resource("/claims/{id}/relations")
                        .route(web::post().to(reviews::add_relation))
                        .route(web::get().to(reviews::list_relations)),
                )
                .service(resource("/review-queue").route(web::get().to(reviews::queue)))
                .service(resource("/events").route(web::get().to(events::list)))
                .service(resource("/events/stream").route(web::get().to(events::stream)))
                .service(resource("/search").route(web::get().to(search::search)))
                .service(
                    resource("/claims/{id}/claimreview").route(web::get().to(claimreview::export)),
                )
                .service(resource("/import/claims").route(web::post().to(import::claims)))
                .service(resource("/import/claimreview").route(web::post().to(claimreview::import)))
                .service(
                    resource("/speakers/{id}/claims").route(web::get().to(claims::list_by_speaker)),
                ),
        );
}

/// A resource whose unsupported methods get a 405 problem.
fn resource(path: &str) -> Resource {
    web::resource(path).default_service(web::to(method_not_allowed))
}

async fn method_not_allowed(req: HttpRequest) -> HttpResponse {
    crate::http::problem::Problem::new(
        actix_web::http::StatusCode::METHOD_NOT_ALLOWED,
        "method-not-allowed",
        "Method not allowed",
        format!("{} is not supported on {}", req.method(), req.path()),
    )
    .response()
}

/// Unknown paths.
pub async fn not_found(req: HttpRequest) -> Result<HttpResponse, AppError> {
    Err(AppError::NotFound(format!(
        "no route for {} {}",
        req.method(),
        req.path()
    )))
}
