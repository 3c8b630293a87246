//! Who is signed in to the pages: the session cookie, and the CSRF token
//! every form sends back.

use std::future::Future;
use std::pin::Pin;

use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use subtle::ConstantTimeEq;

use super::page::{Chrome, UiError};
use crate::error::AppError;
use crate::http::server::AppState;
use crate::storage::browser_sessions::{self, BrowserSession};
use crate::storage::events::AuditContext;
use crate::storage::users::AuthUser;

/// The cookie holding the session id.
pub const SESSION_COOKIE: &str = "claimtrail_session";
/// How long a session lasts after sign-in.
pub const SESSION_HOURS: i64 = 12;

/// A signed-in reviewer, taken from the session cookie. Without a live
/// session the request is sent to the sign-in page.
pub struct Reviewer {
    pub session: BrowserSession,
    request_id: Option<String>,
}

impl Reviewer {
    pub fn user(&self) -> &AuthUser {
        &self.session.user
    }

    /// Who the audit log names for changes made from the pages.
    pub fn audit(&self) -> AuditContext {
        AuditContext {
            actor: self.session.user.name.clone(),
            request_id: self.request_id.clone(),
        }
    }

    pub fn chrome(&self) -> Chrome {
        Chrome {
            user: self.session.user.name.clone(),
            role: self.session.user.role.as_str(),
            csrf_token: self.session.csrf_token.clone(),
        }
    }

    /// Refuses a form that does not carry this session's CSRF token.
    pub fn check_form(&self, sent: &str) -> Result<(), UiError> {
        if bool::from(sent.as_bytes().ct_eq(self.session.csrf_token.as_bytes())) {
            Ok(())
        } else {
            Err(UiError::Forged)
        }
    }
}

impl FromRequest for Reviewer {
    type Error = UiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, UiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let id = req.cookie(SESSION_COOKIE).map(|c| c.value().to_owned());
        let next = match req.query_string() {
            "" => req.path().to_owned(),
            q => format!("{}?{q}", req.path()),
        };
        let request_id = req
            .extensions()
            .get::<tracing_actix_web::RequestId>()
            .map(ToString::to_string);
        Box::pin(async move {
            let state = state.ok_or_else(|| {
                AppError::Internal(anyhow::anyhow!("application state is missing"))
            })?;
            let Some(id) = id else {
                return Err(UiError::SignIn { next });
            };
            let mut conn = state.pool.get().await?;
            match browser_sessions::find(&mut conn, &id).await? {
                Some(session) => Ok(Reviewer {
                    session,
                    request_id,
                }),
                None => Err(UiError::SignIn { next }),
            }
        })
    }
}

/// The session cookie: HttpOnly, SameSite=Strict, for the whole site, and
/// Secure when the page was reached over https.
pub fn session_cookie(req: &HttpRequest, id: String) -> Cookie<'static> {
    Cookie::build(SESSION_COOKIE, id)
        .path("/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(req.connection_info().scheme() == "https")
        .max_age(CookieDuration::hours(SESSION_HOURS))
        .finish()
}

/// A cookie that makes the browser forget the session.
pub fn expired_session_cookie(req: &HttpRequest) -> Cookie<'static> {
    let mut cookie = session_cookie(req, String::new());
    cookie.make_removal();
    cookie
}
