//! RFC 9457 problem details: how every error leaves the service.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

use crate::error::{AppError, FieldError};

pub const PROBLEM_JSON: &str = "application/problem+json";

/// Seconds a client should wait before retrying after a 503.
const RETRY_AFTER_SECS: &str = "2";

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: &'static str,
    pub status: u16,
    pub detail: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_revision: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub existing_id: Option<i64>,
    /// What a bulk import did before and despite the rejected batches.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub report: Option<serde_json::Value>,
    /// Seconds to send in `Retry-After` (429 and 503).
    #[serde(skip)]
    pub retry_after: Option<u64>,
}

impl Problem {
    pub fn new(
        status: StatusCode,
        slug: &str,
        title: &'static str,
        detail: impl Into<String>,
    ) -> Self {
        Problem {
            kind: format!("urn:claimtrail:problem:{slug}"),
            title,
            status: status.as_u16(),
            detail: detail.into(),
            errors: Vec::new(),
            current_revision: None,
            existing_id: None,
            report: None,
            retry_after: None,
        }
    }

    pub fn response(&self) -> HttpResponse {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut builder = HttpResponse::build(status);
        builder.insert_header((header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON)));
        if status == StatusCode::UNAUTHORIZED {
            builder.insert_header((
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"claimtrail\""),
            ));
        }
        if let Some(secs) = self.retry_after {
            builder.insert_header((header::RETRY_AFTER, secs.to_string()));
        } else if status == StatusCode::SERVICE_UNAVAILABLE {
            builder.insert_header((
                header::RETRY_AFTER,
                HeaderValue::from_static(RETRY_AFTER_SECS),
            ));
        }
        let body = serde_json::to_vec(self).unwrap_or_else(|_| b"{}".to_vec());
        builder.body(body)
    }
}

impl AppError {
    pub fn problem(&self) -> Problem {
        use StatusCode as S;
        match self {
            AppError::BadRequest(detail) => {
                Problem::new(S::BAD_REQUEST, "bad-request", "Bad request", detail)
            }
            AppError::Validation(errors) => {
                let mut p = Problem::new(
                    S::UNPROCESSABLE_ENTITY,
                    "validation",
                    "Invalid request fields",
                    self.to_string(),
                );
                p.errors = errors.clone();
                p
            }
            AppError::Unauthorized(detail) => {
                Problem::new(S::UNAUTHORIZED, "unauthorized", "Unauthorized", detail)
            }
            AppError::Forbidden(detail) => {
                Problem::new(S::FORBIDDEN, "forbidden", "Forbidden", detail)
            }
            AppError::PreconditionRequired(detail) => Problem::new(
                S::PRECONDITION_REQUIRED,
                "precondition-required",
                "Precondition required",
                detail,
            ),
            AppError::NotFound(detail) => {
                Problem::new(S::NOT_FOUND, "not-found", "Not found", detail)
            }
            AppError::Conflict {
                detail,
                existing_id,
            } => {
                let mut p = Problem::new(S::CONFLICT, "conflict", "Conflict", detail);
                p.existing_id = *existing_id;
                p
            }
            AppError::PreconditionFailed {
                detail,
                current_revision,
            } => {
                let mut p = Problem::new(
                    S::PRECONDITION_FAILED,
                    "stale-revision",
                    "Precondition failed",
                    detail,
                );
                p.current_revision = Some(*current_revision);
                p
            }
            AppError::PayloadTooLarge(detail) => Problem::new(
                S::PAYLOAD_TOO_LARGE,
                "payload-too-large",
                "Payload too large",
                detail,
            ),
            AppError::UnsupportedMediaType(detail) => Problem::new(
                S::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                "Unsupported media type",
                detail,
            ),
            AppError::TooManyRequests {
                detail,
                retry_after_secs,
            } => {
                let mut p = Problem::new(
                    S::TOO_MANY_REQUESTS,
                    "rate-limited",
                    "Too many requests",
                    detail,
                );
                p.retry_after = Some(*retry_after_secs);
                p
            }
            AppError::Unavailable(detail) => Problem::new(
                S::SERVICE_UNAVAILABLE,
                "unavailable",
                "Service unavailable",
                detail,
            ),
            AppError::Internal(_) => Problem::new(
                S::INTERNAL_SERVER_ERROR,
                "internal",
                "Internal error",
                "an internal error occurred; it has been logged",
            ),
        }
    }
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.problem().status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            AppError::Internal(e) => tracing::error!(error = format!("{e:#}"), "internal error"),
            AppError::Unavailable(detail) => crate::http::outage::note_refused(detail),
            _ => {}
        }
        self.problem().response()
    }
}
