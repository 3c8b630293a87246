//! Bearer-token authentication: who is calling, and may they.

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::{Method, header};
use actix_web::middleware::Next;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};

use crate::domain::auth::{Action, hash_token};
use crate::error::{AppError, AppResult};
use crate::http::server::AppState;
use crate::storage::events::AuditContext;
use crate::storage::users::{self, AuthUser};

/// The caller of a request: a user (from `Authorization: Bearer …`) or nobody.
/// A header that is present but not a valid, unrevoked token is refused at once.
pub struct Caller {
    pub user: Option<AuthUser>,
    request_id: Option<String>,
    public_reads: bool,
}

impl Caller {
    /// The user, if their role allows `action`: 401 without a token, 403
    /// with one whose role does not allow it.
    pub fn require(&self, action: Action) -> AppResult<&AuthUser> {
        let user = self.user.as_ref().ok_or_else(|| {
            AppError::Unauthorized(
                "this request needs a bearer token (Authorization: Bearer …)".into(),
            )
        })?;
        user.role.require(action)?;
        Ok(user)
    }

    /// Reads need a token unless the operator made them public.
    pub fn allow_read(&self) -> AppResult<()> {
        if self.public_reads {
            return Ok(());
        }
        self.require(Action::Read).map(|_| ())
    }

    /// Who the audit log names for this request's changes.
    pub fn audit(&self) -> AuditContext {
        AuditContext {
            actor: self
                .user
                .as_ref()
                .map_or_else(|| "anonymous".to_owned(), |u| u.name.clone()),
            request_id: self.request_id.clone(),
        }
    }
}

fn bearer_token(req: &HttpRequest) -> AppResult<Option<String>> {
    let Some(value) = req.headers().get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value
        .to_str()
        .map_err(|_| AppError::Unauthorized("the Authorization header is not valid text".into()))?;
    let (scheme, token) = value
        .trim()
        .split_once(' ')
        .ok_or_else(|| AppError::Unauthorized("Authorization must be `Bearer <token>`".into()))?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(AppError::Unauthorized(
            "Authorization must be `Bearer <token>`".into(),
        ));
    }
    Ok(Some(token.trim().to_owned()))
}

/// Middleware for everything under `/v1`: authenticates the bearer token
/// before any other extractor runs (so an anonymous request learns nothing
/// about the route, not even how its body would be validated). A request
/// without a token passes only as a read when reads are public.
///
/// A refusal is answered here, as a response rather than an error, so that
/// it passes back through the outer middleware (security headers, request
/// id) like any other answer.
pub async fn authenticate(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    match admit(&req).await {
        Ok(()) => Ok(next.call(req).await?.map_into_left_body()),
        Err(e) => Ok(req.error_response(e).map_into_right_body()),
    }
}

/// Checks the caller of a request and records who it is.
async fn admit(req: &ServiceRequest) -> Result<(), AppError> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("application state is missing")))?;
    match bearer_token(req.request())? {
        Some(token) => {
            // Only the hash is looked up; the secret itself never reaches
            // the database or the logs.
            let hash = hash_token(&token);
            let user = match state.tokens.get(&hash) {
                Some(user) => user,
                None => {
                    let mut conn = state.pool.get().await?;
                    let user = users::authenticate(&mut conn, &hash)
                        .await?
                        .ok_or_else(|| {
                            AppError::Unauthorized("the bearer token is unknown or revoked".into())
                        })?;
                    state.tokens.put(hash, user.clone());
                    user
                }
            };
            if !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
                state.write_limiter.check(user.token_id)?;
            }
            req.extensions_mut().insert(user);
        }
        None => {
            let is_read = matches!(*req.method(), Method::GET | Method::HEAD);
            if !(state.public_reads && is_read) {
                return Err(AppError::Unauthorized(
                    "this request needs a bearer token (Authorization: Bearer …)".into(),
                ));
            }
        }
    }
    Ok(())
}

impl FromRequest for Caller {
    type Error = AppError;
    type Future = std::future::Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let user = req.extensions().get::<AuthUser>().cloned();
        let request_id = req
            .extensions()
            .get::<tracing_actix_web::RequestId>()
            .map(ToString::to_string);
        let public_reads = req
            .app_data::<web::Data<AppState>>()
            .is_some_and(|s| s.public_reads);
        std::future::ready(Ok(Caller {
            user,
            request_id,
            public_reads,
        }))
    }
}
