//! Bearer-token authentication: who is calling, and may they.

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use futures_util::future::LocalBoxFuture;

use crate::app::AppState;
use crate::domain::auth::{Action, hash_token};
use crate::error::{AppError, AppResult};
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

impl FromRequest for Caller {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let token = bearer_token(req);
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let request_id = req
            .extensions()
            .get::<tracing_actix_web::RequestId>()
            .map(ToString::to_string);
        Box::pin(async move {
            let state = state.ok_or_else(|| anyhow::anyhow!("application state is missing"))?;
            let public_reads = state.public_reads;
            let user = match token? {
                None => None,
                Some(token) => {
                    // Only the hash is looked up; the secret itself never
                    // reaches the database or the logs.
                    let hash = hash_token(&token);
                    let mut conn = state.pool.get().await?;
                    let user = users::authenticate(&mut conn, &hash).await?;
                    Some(user.ok_or_else(|| {
                        AppError::Unauthorized("the bearer token is unknown or revoked".into())
                    })?)
                }
            };
            Ok(Caller {
                user,
                request_id,
                public_reads,
            })
        })
    }
}
