//! Rendering pages, and the pages shown when something goes wrong.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use askama::Template;

use crate::error::AppError;
use crate::http::pagination::{PageParams, encode_cursor};
use crate::storage::{PageRequest, SortOrder};

/// The pages' content security policy: their own stylesheet, no script at
/// all, forms only to this service, never framed.
pub const PAGE_POLICY: &str = "default-src 'none'; style-src 'self'; img-src 'self'; \
form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Who is signed in, for the header of every page.
pub struct Chrome {
    pub user: String,
    pub role: &'static str,
    pub csrf_token: String,
}

/// A rendered page with its status and the page headers.
pub fn html(status: StatusCode, body: String) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header(("content-security-policy", PAGE_POLICY))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(body)
}

pub fn render(status: StatusCode, page: &impl Template) -> Result<HttpResponse, UiError> {
    let body = page
        .render()
        .map_err(|e| AppError::Internal(anyhow::anyhow!("rendering a page: {e}")))?;
    Ok(html(status, body))
}

/// Entries per page of the lists the pages show.
pub const PAGE_SIZE: i64 = 50;

/// A page of one of the pages' lists, from the cursor in its address.
pub fn list_page(cursor: Option<String>, order: SortOrder) -> Result<PageRequest, AppError> {
    PageParams {
        limit: Some(PAGE_SIZE),
        cursor,
        order: Some(order),
    }
    .page_request()
}

/// The cursor of the next page of a list in `order`, ready for an address.
pub fn next_cursor(order: SortOrder, next_after: Option<i64>) -> Option<String> {
    next_after.map(|after| url_component(&encode_cursor(order, after)))
}

/// Where a form or sign-in sends the browser back to: a page of this
/// service (never elsewhere), or the queue.
pub fn return_to(next: Option<&str>) -> &str {
    match next {
        Some(n) if n.starts_with("/ui/") && !n.starts_with("//") && !n.contains('\\') => n,
        _ => "/ui/queue",
    }
}

/// A 303 to another page (after a form, or to sign in).
pub fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish()
}

/// Why a page cannot be shown.
#[derive(Debug, thiserror::Error)]
pub enum UiError {
    /// No live session: go and sign in, then come back to `next`.
    #[error("sign in first")]
    SignIn { next: String },
    /// A form without this session's CSRF token.
    #[error(
        "this form is out of date or did not come from this site; reload the page and try again"
    )]
    Forged,
    #[error(transparent)]
    App(#[from] AppError),
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    status: u16,
    title: &'a str,
    detail: String,
    fields: Vec<(String, String)>,
}

impl ResponseError for UiError {
    fn status_code(&self) -> StatusCode {
        match self {
            UiError::SignIn { .. } => StatusCode::SEE_OTHER,
            UiError::Forged => StatusCode::FORBIDDEN,
            UiError::App(e) => e.status_code(),
        }
    }

    fn error_response(&self) -> HttpResponse {
        let (title, detail, fields) = match self {
            UiError::SignIn { next } => {
                return see_other(&format!("/ui/sign-in?next={}", url_component(next)));
            }
            UiError::Forged => ("Form refused", self.to_string(), Vec::new()),
            UiError::App(e) => {
                if matches!(e, AppError::Internal(_) | AppError::Unavailable(_)) {
                    // Logged (and counted) the way the API logs them.
                    let _ = e.error_response();
                }
                let problem = e.problem();
                let fields = problem
                    .errors
                    .iter()
                    .map(|f| (f.field.clone(), f.message.clone()))
                    .collect();
                (problem.title, problem.detail, fields)
            }
        };
        let status = self.status_code();
        let page = ErrorPage {
            status: status.as_u16(),
            title,
            detail,
            fields,
        };
        match page.render() {
            Ok(body) => html(status, body),
            Err(_) => HttpResponse::build(status).finish(),
        }
    }
}

/// The pool's refusals become the API's (503 with its detail).
impl<E> From<deadpool::managed::PoolError<E>> for UiError
where
    AppError: From<deadpool::managed::PoolError<E>>,
{
    fn from(e: deadpool::managed::PoolError<E>) -> Self {
        UiError::App(e.into())
    }
}

/// Unknown addresses under `/ui/`.
pub async fn not_found(req: HttpRequest) -> HttpResponse {
    UiError::App(AppError::NotFound(format!(
        "there is no page at {}",
        req.path()
    )))
    .error_response()
}

/// `s` as one component of a URL's query.
pub fn url_component(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

#[cfg(test)]
mod tests {
    use super::return_to;

    #[test]
    fn only_this_services_pages_are_returned_to() {
        assert_eq!(return_to(Some("/ui/claims/4")), "/ui/claims/4");
        assert_eq!(return_to(Some("https://evil.example/")), "/ui/queue");
        assert_eq!(return_to(Some("//evil.example/ui/")), "/ui/queue");
        assert_eq!(return_to(Some("/ui/\\evil")), "/ui/queue");
        assert_eq!(return_to(None), "/ui/queue");
    }
}
