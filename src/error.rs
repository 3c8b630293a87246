//! The one error type shared by the domain, storage and HTTP layers.
//!
//! Every variant maps to one RFC 9457 problem type (see `http::problem`); the
//! domain and storage layers only decide *which* problem it is.

use serde::Serialize;

/// One invalid field of a request, named by its JSON path (`appearances[0].end`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The request could not be read at all (malformed JSON, unknown field, bad query).
    #[error("{0}")]
    BadRequest(String),
    /// The request was well-formed but some fields are invalid.
    #[error("{}", summarize(.0))]
    Validation(Vec<FieldError>),
    /// No valid bearer token.
    #[error("{0}")]
    Unauthorized(String),
    /// A valid token whose role does not allow the action.
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    /// The write contradicts what is stored (a slug or URL that already exists).
    #[error("{detail}")]
    Conflict {
        detail: String,
        existing_id: Option<i64>,
    },
    /// If-Match named a revision that is no longer current.
    #[error("{detail}")]
    PreconditionFailed {
        detail: String,
        current_revision: i32,
    },
    /// The write must say which revision it applies to (If-Match).
    #[error("{0}")]
    PreconditionRequired(String),
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// The caller's token has used up its write quota; retry after the delay.
    #[error("{detail}")]
    TooManyRequests {
        detail: String,
        retry_after_secs: u64,
    },
    /// The database cannot be reached or the pool is exhausted; the client may retry.
    #[error("{0}")]
    Unavailable(String),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

fn summarize(errors: &[FieldError]) -> String {
    match errors {
        [] => "the request is invalid".to_owned(),
        [one] => format!("{}: {}", one.field, one.message),
        [first, rest @ ..] => format!(
            "{}: {} (and {} more invalid field{})",
            first.field,
            first.message,
            rest.len(),
            if rest.len() == 1 { "" } else { "s" }
        ),
    }
}

impl AppError {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        AppError::Validation(vec![FieldError::new(field, message)])
    }

    pub fn not_found(what: impl std::fmt::Display) -> Self {
        AppError::NotFound(format!("{what} does not exist"))
    }
}

pub type AppResult<T> = Result<T, AppError>;

impl From<diesel::result::Error> for AppError {
    fn from(err: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind as Kind, Error};
        match err {
            Error::NotFound => AppError::NotFound("the requested record does not exist".into()),
            Error::DatabaseError(kind, info) => {
                let constraint = info.constraint_name().unwrap_or("").to_owned();
                let message = info.message().to_owned();
                match kind {
                    Kind::UniqueViolation => AppError::Conflict {
                        detail: unique_violation_detail(&constraint, &message),
                        existing_id: None,
                    },
                    // Both are checked before writing; reaching the database means
                    // the request named something invalid (or raced a change).
                    Kind::CheckViolation | Kind::ForeignKeyViolation | Kind::NotNullViolation => {
                        AppError::invalid(field_of_constraint(&constraint), message)
                    }
                    Kind::SerializationFailure => AppError::Conflict {
                        detail: "a concurrent change touched the same records; retry the request"
                            .into(),
                        existing_id: None,
                    },
                    Kind::ClosedConnection | Kind::UnableToSendCommand => {
                        AppError::Unavailable("the database connection was lost".into())
                    }
                    // statement_timeout (57014): a lock or a slow query held
                    // the request past its bound.
                    _ if message.contains("canceling statement due to statement timeout") => {
                        AppError::Unavailable(
                            "the database did not answer in time (a lock or a slow query); retry"
                                .into(),
                        )
                    }
                    // The server is shutting down, restarting or recovering:
                    // the client may retry shortly.
                    _ if is_server_going_away(&message) => {
                        AppError::Unavailable(format!("the database is not available: {message}"))
                    }
                    // PostgreSQL text cannot hold NUL: input checks refuse it
                    // first; anything that slips through is still the
                    // caller's mistake, not a server error.
                    _ if message.contains("invalid byte sequence for encoding") => {
                        AppError::BadRequest("text must not contain NUL characters".into())
                    }
                    _ => AppError::Internal(anyhow::anyhow!(
                        "database error ({kind:?}, constraint {constraint:?}): {message}"
                    )),
                }
            }
            // A transaction that could not be rolled back: the connection
            // is gone with it.
            Error::BrokenTransactionManager => {
                AppError::Unavailable("the database connection was lost".into())
            }
            other => AppError::Internal(anyhow::Error::new(other)),
        }
    }
}

/// Messages PostgreSQL (or libpq's protocol) sends when the server goes
/// away under a connection: admin shutdown (57P01), crash shutdown (57P02),
/// cannot connect now (57P03), and a connection cut mid-statement.
fn is_server_going_away(message: &str) -> bool {
    const SIGNS: &[&str] = &[
        "terminating connection",
        "the database system is shutting down",
        "the database system is starting up",
        "the database system is in recovery mode",
        "the database system is not yet accepting connections",
        "server closed the connection",
        "connection to server",
        "no connection to the server",
        "could not receive data from server",
        "could not send data to server",
        "Connection refused",
        "connection reset",
        "broken pipe",
        "unexpected EOF",
    ];
    SIGNS.iter().any(|s| message.contains(s))
}

fn unique_violation_detail(constraint: &str, message: &str) -> String {
    match constraint {
        "stories_slug_key" => "a story with this slug already exists".into(),
        "articles_url_key" => "an article with this url already exists".into(),
        _ => format!("the record already exists: {message}"),
    }
}

/// Names the request field that a database constraint guards, for 422 bodies.
fn field_of_constraint(constraint: &str) -> String {
    let field = match constraint {
        "claim_appearances_span_inside_body" | "claim_appearances_span_ordered" => "appearances",
        "claims_said_interval_ordered" | "claim_revisions_said_interval_ordered" => "when",
        c if c.contains("speaker_id") => "speaker_id",
        c if c.contains("story_id") => "story_id",
        c if c.contains("confidence") => "confidence",
        _ => "body",
    };
    field.to_owned()
}

impl From<diesel_async::pooled_connection::deadpool::PoolError> for AppError {
    fn from(err: diesel_async::pooled_connection::deadpool::PoolError) -> Self {
        use deadpool::managed::PoolError;
        match err {
            PoolError::Timeout(_) => AppError::Unavailable(
                "no database connection became free in time; retry shortly".into(),
            ),
            PoolError::Backend(e) => {
                AppError::Unavailable(format!("the database cannot be reached: {e}"))
            }
            other => AppError::Unavailable(format!("the database pool is unavailable: {other}")),
        }
    }
}
