//! Wires the HTTP layer to storage and runs the server.

use crate::watcher::{Watcher, WatcherSettings, poller};
use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_http::{HttpService, KeepAlive, error::DispatchError};
use actix_rt::net::TcpStream;
use actix_server::ServerBuilder;
use actix_service::{IntoServiceFactory, ServiceFactoryExt, fn_service, map_config};
use actix_web::dev::{AppConfig, Server};
use actix_web::http::header::{self, HeaderValue};
use actix_web::{App, HttpMessage, middleware, web};
use tracing_actix_web::{RequestId, TracingLogger};

use crate::http;
use crate::http::protocol_errors::{ProblemStream, SECURITY_HEADERS};
use crate::http::rate_limit::WriteLimiter;
use crate::http::token_cache::TokenCache;
use crate::storage::notifications::Notifications;
use crate::storage::pool::DbPool;
use crate::storage::query_count;
use crate::storage::replicas::Database;

/// Shared by every request.
pub struct AppState {
    /// The primary's pool: every write, and every read inside one.
    pub pool: DbPool,
    /// The primary and the replicas plain reads may use (see `ReadConn`).
    pub database: Arc<Database>,
    /// What other instances say through the database.
    pub notifications: Arc<Notifications>,
    pub limits: Limits,
    /// Reads without a token are allowed.
    pub public_reads: bool,
    /// Recently validated bearer tokens.
    pub tokens: TokenCache,
    /// Writes per token.
    pub write_limiter: WriteLimiter,
    /// The transparency log's verifier key, served to auditors.
    pub log_verifier_key: String,
    /// Polls watched outlets (in the background, and when asked).
    pub watcher: Arc<Watcher>,
}

#[derive(Debug, Clone)]
pub struct Limits {
    pub max_body_bytes: usize,
    pub max_body_chars: usize,
    /// Largest NDJSON stream one bulk import may send, in bytes.
    pub max_import_bytes: u64,
    /// How long one diff may search before settling for a coarser result.
    pub diff_timeout: Duration,
    /// Trigram similarity (0.3–1) at which an existing claim is reported as a
    /// likely duplicate of a new one.
    pub duplicate_threshold: f64,
}

impl Limits {
    /// What recording an article's text needs to know.
    pub fn intake(&self) -> crate::storage::article_intake::IntakeSettings {
        crate::storage::article_intake::IntakeSettings {
            diff_timeout: self.diff_timeout,
            duplicate_threshold: self.duplicate_threshold,
        }
    }
}

#[derive(Debug, Clone)]
pub struct HttpSettings {
    pub limits: Limits,
    pub workers: usize,
    pub shutdown_timeout: Duration,
    pub public_reads: bool,
    /// Report each request's SQL statement count in `Server-Timing`.
    pub server_timing: bool,
    /// How long a validated token is trusted without asking the database.
    pub token_cache_ttl: Duration,
    /// Writes per second per token (0: no limit) and the burst allowed.
    pub write_rate: u32,
    pub write_burst: u32,
    /// The transparency log's verifier key, served at `/v1/audit/public-key`.
    pub log_verifier_key: String,
    /// Watching outlets: the fetcher's rules and the background poller.
    pub watch: WatcherSettings,
}

/// Builds the server on an already bound listener (tests bind port 0).
pub fn build_server(
    listener: TcpListener,
    database: Arc<Database>,
    notifications: Arc<Notifications>,
    settings: &HttpSettings,
) -> std::io::Result<Server> {
    let watcher = Arc::new(Watcher::new(settings.watch.clone()).map_err(std::io::Error::other)?);
    poller::spawn(watcher.clone(), database.primary().clone());
    let state = web::Data::new(AppState {
        watcher,
        pool: database.primary().clone(),
        database,
        notifications,
        limits: settings.limits.clone(),
        public_reads: settings.public_reads,
        tokens: TokenCache::new(settings.token_cache_ttl),
        write_limiter: WriteLimiter::new(settings.write_rate, settings.write_burst),
        log_verifier_key: settings.log_verifier_key.clone(),
    });
    forget_revoked_tokens(state.clone());
    let max_body = settings.limits.max_body_bytes;
    let server_timing = settings.server_timing;
    let app = move || {
        App::new()
            .app_data(state.clone())
            .app_data(web::PayloadConfig::new(max_body))
            .wrap_fn(|mut req, srv| {
                // HEAD is answered wherever GET is (RFC 9110): routed as a
                // GET; the connection still knows it was HEAD and sends the
                // headers without the body.
                use actix_web::dev::Service;
                if req.method() == actix_web::http::Method::HEAD {
                    req.head_mut().method = actix_web::http::Method::GET;
                }
                srv.call(req)
            })
            .wrap(
                // Every response is data for a program, never a page: no
                // sniffing, framing, caching, referrers or cross-origin reads
                // (no CORS headers either: browsers on other origins are refused).
                SECURITY_HEADERS
                    .iter()
                    .fold(middleware::DefaultHeaders::new(), |headers, &header| {
                        headers.add(header)
                    }),
            )
            .wrap_fn(|req, srv| {
                use actix_web::dev::Service;
                let request_id = req.extensions().get::<RequestId>().map(ToString::to_string);
                let fut = srv.call(req);
                async move {
                    let mut res = fut.await?;
                    if let Some(id) = request_id.and_then(|id| HeaderValue::from_str(&id).ok()) {
                        res.headers_mut()
                            .insert(header::HeaderName::from_static("x-request-id"), id);
                    }
                    Ok(res)
                }
            })
            .wrap_fn(move |req, srv| {
                use actix_web::dev::Service;
                let fut = srv.call(req);
                async move {
                    let (res, queries) = query_count::counting(fut).await;
                    let mut res = res?;
                    let status = res.status();
                    if queries > 0 && status != actix_web::http::StatusCode::SERVICE_UNAVAILABLE {
                        http::outage::note_served();
                    }
                    // A refused request is logged with its request's span
                    // (method, route, request id), never its body; 500s are
                    // logged where they arise, runs of 503s by `outage`.
                    if status.is_client_error() {
                        tracing::info!(status = status.as_u16(), "request refused");
                    }
                    if server_timing {
                        let value = format!("db;desc=\"{queries} queries\"");
                        if let Ok(value) = HeaderValue::from_str(&value) {
                            res.headers_mut()
                                .insert(header::HeaderName::from_static("server-timing"), value);
                        }
                    }
                    Ok(res)
                }
            })
            .wrap(middleware::from_fn(http::read_your_writes::mark_positions))
            .wrap(TracingLogger::default())
            .configure(http::configure)
            .default_service(web::to(http::not_found))
    };
    // actix-web's HttpServer, put together by hand so that each connection
    // is a ProblemStream: the parser's own error answers get problem+json
    // and the security headers too.
    let builder = ServerBuilder::default();
    let draining = builder.graceful_shutdown_signal();
    let server = builder
        .listen("claimtrail", listener, move || {
            let draining = draining.clone();
            let http = HttpService::build()
                // Idle keep-alive connections close when shutdown begins.
                .graceful_shutdown_signal(move || {
                    let signal = draining.clone();
                    async move { signal.notified().await }
                })
                .keep_alive(KeepAlive::default())
                .client_request_timeout(Duration::from_secs(5))
                .client_disconnect_timeout(Duration::from_secs(1))
                .h1_allow_half_closed(true)
                .h1(map_config(
                    app()
                        .into_factory()
                        .map_err(|err: actix_web::Error| err.error_response()),
                    |_| AppConfig::default(),
                ));
            fn_service(|io: TcpStream| {
                let peer = io.peer_addr().ok();
                std::future::ready(Ok::<_, DispatchError>((ProblemStream::new(io), peer)))
            })
            .and_then(http)
        })?
        .workers(settings.workers)
        .shutdown_timeout(settings.shutdown_timeout.as_secs())
        // Signals are the caller's: `serve` drains on the first SIGTERM or
        // SIGINT (see `shutdown`), and tests must not install process handlers.
        .disable_signals()
        .run();
    Ok(server)
}

/// Drops each token another instance (or the CLI) revokes from this
/// instance's cache as the database announces it.
/// The task ends with the server's state.
fn forget_revoked_tokens(state: web::Data<AppState>) {
    let mut revocations = state.notifications.revocations();
    let state = Arc::downgrade(&state.into_inner());
    tokio::spawn(async move {
        use tokio::sync::broadcast::error::RecvError;
        loop {
            let heard = revocations.recv().await;
            let Some(state) = state.upgrade() else { return };
            match heard {
                Ok(token_id) => state.tokens.forget(token_id),
                // Some were missed: forget them all, to be safe.
                Err(RecvError::Lagged(_)) => state.tokens.clear(),
                Err(RecvError::Closed) => return,
            }
        }
    });
}
