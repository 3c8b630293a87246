//! Read-your-writes across replicas. Every successful write answers with
//! the primary's WAL position after its commit, in the `Claimtrail-LSN`
//! header (and, for the reviewer pages, a cookie); a read that sends that
//! position back is served only by a database that has replayed past it.
//! Every read answers with `Claimtrail-Read-From` (primary, replica-1…).
//! Without replicas there is nothing to route, and neither header is sent.

use actix_web::body::MessageBody;
use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, HttpRequest, web};

use crate::error::AppError;
use crate::http::server::AppState;
use crate::storage::lsn::Lsn;
use crate::storage::replicas::ReadSource;

/// The WAL position a write returns and a read may send back.
pub const LSN_HEADER: &str = "claimtrail-lsn";
/// Which database served a read.
pub const READ_FROM_HEADER: &str = "claimtrail-read-from";
/// The reviewer pages' copy of the last write's position.
pub const LSN_COOKIE: &str = "claimtrail_lsn";
/// Longer than any replica stays in rotation behind the primary.
const LSN_COOKIE_MINUTES: i64 = 10;

/// The position the caller has seen: its `Claimtrail-LSN` header, else the
/// pages' cookie. A malformed header is refused; a malformed cookie is
/// ignored (the browser, not the user, sent it).
pub fn seen_position(req: &HttpRequest) -> Result<Option<Lsn>, AppError> {
    if let Some(value) = req.headers().get(LSN_HEADER) {
        let text = value.to_str().map_err(|_| bad_header())?;
        return text.parse().map(Some).map_err(|_| bad_header());
    }
    Ok(req
        .cookie(LSN_COOKIE)
        .and_then(|c| c.value().parse::<Lsn>().ok()))
}

fn bad_header() -> AppError {
    AppError::BadRequest(format!(
        "Claimtrail-LSN must be a WAL position as a write returned it (such as 0/3000148): {}",
        crate::storage::lsn::BadLsn
    ))
}

/// Adds the write's position to successful writes and the serving
/// database to reads.
pub async fn mark_positions(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let is_write = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let mut res = next.call(req).await?;
    let Some(state) = state.filter(|s| s.database.has_replicas()) else {
        return Ok(res);
    };
    let source = res.request().extensions().get::<ReadSource>().copied();
    if let Some(source) = source
        && let Ok(value) = HeaderValue::from_str(&source.to_string())
    {
        res.headers_mut()
            .insert(HeaderName::from_static(READ_FROM_HEADER), value);
    }
    let status = res.status();
    if is_write && (status.is_success() || status.is_redirection()) {
        match state.database.write_position().await {
            Ok(position) => {
                let text = position.to_string();
                if let Ok(value) = HeaderValue::from_str(&text) {
                    res.headers_mut()
                        .insert(HeaderName::from_static(LSN_HEADER), value);
                }
                if res.request().path().starts_with("/ui/") {
                    let cookie = Cookie::build(LSN_COOKIE, text)
                        .path("/ui/")
                        .http_only(true)
                        .same_site(SameSite::Strict)
                        .secure(res.request().connection_info().scheme() == "https")
                        .max_age(CookieDuration::minutes(LSN_COOKIE_MINUTES))
                        .finish();
                    let _ = res.response_mut().add_cookie(&cookie);
                }
            }
            // The write is done; only its read-your-writes hint is lost (a
            // later read may see a replica that lags). Say so in the log.
            Err(e) => tracing::warn!(error = %e, "the write's WAL position could not be read"),
        }
    }
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    #[test]
    fn the_header_wins_over_the_cookie_and_must_be_well_formed() {
        let req = TestRequest::default()
            .insert_header((LSN_HEADER, "0/3000148"))
            .cookie(Cookie::new(LSN_COOKIE, "0/1"))
            .to_http_request();
        assert_eq!(seen_position(&req).unwrap(), Some(Lsn(0x300_0148)));
        let req = TestRequest::default()
            .insert_header((LSN_HEADER, "yesterday"))
            .to_http_request();
        assert!(matches!(seen_position(&req), Err(AppError::BadRequest(_))));
    }

    #[test]
    fn a_bad_cookie_counts_as_none() {
        let req = TestRequest::default()
            .cookie(Cookie::new(LSN_COOKIE, "nonsense"))
            .to_http_request();
        assert_eq!(seen_position(&req).unwrap(), None);
        let req = TestRequest::default()
            .cookie(Cookie::new(LSN_COOKIE, "1/A"))
            .to_http_request();
        assert_eq!(seen_position(&req).unwrap(), Some(Lsn((1 << 32) | 0xA)));
        assert_eq!(
            seen_position(&TestRequest::default().to_http_request()).unwrap(),
            None
        );
    }
}
