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
                        constraint_violation(&constraint, &message)
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

/// A 422 for a write the database refused: the request field the rule
/// guards and what the rule asks, in the API's words. PostgreSQL's own
/// messages name tables and constraints, which say nothing to a client, so
/// they are replaced; the ledger's own triggers raise messages written for
/// clients ("span [0, 90) lies outside revision 1 …"), which are kept.
fn constraint_violation(constraint: &str, message: &str) -> AppError {
    let (field, rule) = match constraint {
        "stories_slug_format" => (
            "slug",
            "must be lowercase letters or digits (of any script) in words joined by single hyphens",
        ),
        "claim_appearances_span_inside_body" | "claim_appearances_span_ordered" => (
            "appearances",
            "each span must lie inside the article body and end after it starts",
        ),
        "claim_appearances_same_story"
        | "claim_appearances_article_exists"
        | "claim_appearances_article_revision_exists"
        | "claim_appearances_article_id_article_revision_fkey"
        | "claim_appearances_span_start_check" => (
            "appearances",
            "each span must name an existing article revision of the claim's story",
        ),
        "claims_said_interval_ordered" | "claim_revisions_said_interval_ordered" => {
            ("when", "must end after it starts")
        }
        c if c.contains("speaker_id") => ("speaker_id", "must name an existing speaker"),
        c if c.contains("story_id") => ("story_id", "must name an existing story"),
        c if c.contains("confidence") => ("confidence", "must be between 0 and 1"),
        _ => {
            tracing::warn!(
                constraint,
                message,
                "the database refused a write that validation let through"
            );
            ("body", "breaks a rule of the ledger")
        }
    };
    const POSTGRES_WORDING: &[&str] = &[
        "new row for relation",
        "insert or update on table",
        "update or delete on table",
        "null value in column",
        "value for domain",
    ];
    if message.is_empty() || POSTGRES_WORDING.iter().any(|w| message.starts_with(w)) {
        AppError::invalid(field, rule)
    } else {
        AppError::invalid(field, message)
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn only_error(err: AppError) -> FieldError {
        match err {
            AppError::Validation(mut errors) if errors.len() == 1 => errors.remove(0),
            other => panic!("expected one field error, got {other:?}"),
        }
    }

    #[test]
    fn postgres_wording_never_reaches_the_client() {
        let e = only_error(constraint_violation(
            "stories_slug_format",
            "new row for relation \"stories\" violates check constraint \"stories_slug_format\"",
        ));
        assert_eq!(e.field, "slug");
        assert!(!e.message.contains("stories_slug_format"), "{}", e.message);
        assert!(!e.message.contains("relation"), "{}", e.message);

        let e = only_error(constraint_violation(
            "some_future_rule",
            "new row for relation \"claims\" violates check constraint \"some_future_rule\"",
        ));
        assert_eq!(e.field, "body");
        assert!(!e.message.contains("some_future_rule"), "{}", e.message);
    }

    #[test]
    fn the_ledgers_own_trigger_messages_are_kept() {
        let e = only_error(constraint_violation(
            "claim_appearances_span_inside_body",
            "span [0, 90) lies outside revision 1 of article 1 (80 characters)",
        ));
        assert_eq!(e.field, "appearances");
        assert!(e.message.starts_with("span [0, 90)"), "{}", e.message);
    }
}
