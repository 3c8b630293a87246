//! The reviewer pages under `/ui/`: server-rendered HTML over the same
//! storage functions as the API (every rule and every write lives there;
//! these handlers turn forms into calls and results into pages).
//!
//! One file per page: [`sign_in`], [`queue`], [`claim`] (the claim page and
//! its forms), [`article`] (revisions with the claims' spans marked) and
//! [`timeline`] (a story's events, and its claims at a moment),
//! [`watches`] (watched outlets, and the articles held for a story), plus [`session`] (cookies, CSRF), [`page`] (rendering and
//! error pages), [`diff_view`] (word diffs as `<ins>`/`<del>`) and
//! [`assets`] (the stylesheet, embedded in the binary).

pub mod article;
pub mod assets;
pub mod claim;
pub mod diff_view;
pub mod page;
pub mod queue;
pub mod session;
pub mod sign_in;
pub mod timeline;
pub mod watches;

use actix_web::web;

/// Every page and form of `/ui/`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/ui")
            .route("/sign-in", web::get().to(sign_in::form))
            .route("/sign-in", web::post().to(sign_in::submit))
            .route("/sign-out", web::post().to(sign_in::sign_out))
            .route("/queue", web::get().to(queue::queue))
            .route("/claims/{id}", web::get().to(claim::page))
            .route("/claims/{id}/take", web::post().to(queue::assign))
            .route("/claims/{id}/assign", web::post().to(queue::assign))
            .route("/claims/{id}/status", web::post().to(claim::change_status))
            .route("/claims/{id}/reviews", web::post().to(claim::review))
            .route("/claims/{id}/comments", web::post().to(claim::comment))
            .route("/claims/{id}/edit", web::post().to(claim::edit))
            .route("/articles/{id}", web::get().to(article::page))
            .route(
                "/articles/{id}/revisions/{n}/page",
                web::get().to(article::captured_page),
            )
            .route("/stories/{id}/timeline", web::get().to(timeline::page))
            .route("/watches", web::get().to(watches::page))
            .route(
                "/watches/{id}/items/{item_id}/file",
                web::post().to(watches::file),
            )
            .route("/assets/app.css", web::get().to(assets::stylesheet))
            .default_service(web::to(page::not_found)),
    );
}
