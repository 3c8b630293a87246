//! Extractors: JSON bodies, paths, queries and headers, each failing with a
//! problem+json error that names what was wrong.

use actix_web::dev::Payload;
use actix_web::http::{StatusCode, header};
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use futures_util::FutureExt;
use futures_util::future::LocalBoxFuture;
use serde::de::DeserializeOwned;

use crate::domain::revision::IfMatch;
pub use crate::domain::validation::decode_json;
use crate::error::AppError;
use crate::http::idempotency::BodyDigest;
use sha2::{Digest, Sha256};

/// A JSON request body, read within the configured size limit and decoded
/// with the path of any offending field.
pub struct JsonBody<T>(pub T);

/// A JSON request body that may be left out: an empty body or `null` is `None`.
pub struct OptionalJsonBody<T>(pub Option<T>);

impl<T: DeserializeOwned + 'static> FromRequest for JsonBody<T> {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = read_json(req, payload, false);
        Box::pin(async move { Ok(JsonBody(body.await?.expect("a body is required"))) })
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for OptionalJsonBody<T> {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        // A JSON `null` is a body left out too (the document calls it nullable).
        Box::pin(
            read_json::<Option<T>>(req, payload, true)
                .map(|r| r.map(|b| OptionalJsonBody(b.flatten()))),
        )
    }
}

/// Reads and decodes a JSON body; `None` only when `optional` and empty.
fn read_json<T: DeserializeOwned + 'static>(
    req: &HttpRequest,
    payload: &mut Payload,
    optional: bool,
) -> LocalBoxFuture<'static, Result<Option<T>, AppError>> {
    let content_type_ok = req.mime_type().ok().flatten().is_some_and(|m| {
        m.type_() == "application"
            && (m.subtype() == "json" || m.suffix().is_some_and(|s| s == "json"))
    });
    let bytes = web::Bytes::from_request(req, payload);
    let req = req.clone();
    Box::pin(async move {
        let bytes = bytes.await.map_err(|e| {
            if e.as_response_error().status_code() == StatusCode::PAYLOAD_TOO_LARGE {
                AppError::PayloadTooLarge(
                    "the request body is larger than this server accepts".into(),
                )
            } else {
                AppError::BadRequest(format!("the request body could not be read: {e}"))
            }
        })?;
        if optional && bytes.is_empty() {
            return Ok(None);
        }
        if !content_type_ok {
            return Err(AppError::UnsupportedMediaType(
                "the request body must be JSON, sent with Content-Type: application/json".into(),
            ));
        }
        req.extensions_mut()
            .insert(BodyDigest(Sha256::digest(&bytes).into()));
        decode_json(&bytes).map(Some)
    })
}

/// Path segments that do not parse (`/v1/claims/abc`) cannot name a resource.
pub fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|_err, req| {
        AppError::NotFound(format!(
            "{} does not name a resource: ids are whole numbers from 1",
            req.path()
        ))
        .into()
    })
}

pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|err, _req| {
        let reason = match &err {
            actix_web::error::QueryPayloadError::Deserialize(e) => query_problem(&e.to_string()),
            other => other.to_string(),
        };
        AppError::BadRequest(format!("invalid query parameters: {reason}")).into()
    })
}

/// serde's words for a query that does not fit, in a person's: an unknown
/// field is an unknown parameter, with the nearest known one suggested.
fn query_problem(serde_message: &str) -> String {
    let Some(rest) = serde_message.strip_prefix("unknown field `") else {
        return serde_message.to_owned();
    };
    let Some((unknown, expected)) = rest.split_once('`') else {
        return serde_message.to_owned();
    };
    let known: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
    let nearest = known
        .iter()
        .map(|k| (strsim::damerau_levenshtein(unknown, k), *k))
        .filter(|(distance, k)| *distance <= 2.max(k.len() / 3))
        .min();
    match nearest {
        Some((_, k)) => format!("unknown parameter `{unknown}`; did you mean `{k}`?"),
        None if known.is_empty() => format!("unknown parameter `{unknown}`; this route takes none"),
        None => format!(
            "unknown parameter `{unknown}`; this route takes {}",
            known.join(", ")
        ),
    }
}

/// `?as_of=<RFC 3339>`: read the state recorded at that moment.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AsOfQuery {
    as_of: Option<String>,
}

impl AsOfQuery {
    pub fn at(&self) -> Result<Option<chrono::DateTime<chrono::Utc>>, AppError> {
        time_param("as_of", self.as_of.as_deref())
    }
}

/// An optional time query parameter (RFC 3339 or a date); a value that does
/// not parse is a 422 naming the parameter.
pub fn time_param(
    name: &str,
    raw: Option<&str>,
) -> Result<Option<chrono::DateTime<chrono::Utc>>, AppError> {
    raw.map(|r| {
        let (t, _) = crate::domain::when::parse_time(r).map_err(|e| AppError::invalid(name, e))?;
        crate::domain::validation::plausible_time(&t).map_err(|e| AppError::invalid(name, e))?;
        Ok(t)
    })
    .transpose()
}

/// The If-Match header, required on writes to a versioned resource: a
/// write that does not say which revision it applies to gets 428.
/// (As a parameter in the OpenAPI document: `params(IfMatchHeader)`.)
#[derive(utoipa::IntoParams)]
#[into_params(names("If-Match"), parameter_in = Header)]
pub struct IfMatchHeader(
    /// The strong ETag of the revision the write is based on (`"3"`); 412
    /// when the claim has moved on, 428 when absent or `*`, 400 for a weak
    /// tag.
    #[param(value_type = String, pattern = "^\"[0-9]{1,9}\"(\\s*,\\s*\"[0-9]{1,9}\")*$")]
    pub IfMatch,
);

impl FromRequest for IfMatchHeader {
    type Error = AppError;
    type Future = std::future::Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let parsed = match req.headers().get(header::IF_MATCH) {
            None => Err(AppError::PreconditionRequired(
                "this write needs If-Match with the ETag of the revision it applies to (GET the claim first)".into(),
            )),
            Some(value) => value
                .to_str()
                .map_err(|_| AppError::BadRequest("If-Match is not valid text".into()))
                .and_then(IfMatch::parse)
                .map(IfMatchHeader),
        };
        std::future::ready(parsed)
    }
}

/// Query parameters that name a row by id: 1 or more, as the API document
/// says.
const ID_PARAMETERS: &[&str] = &["story", "story_id", "speaker", "speaker_id", "subject_id"];

/// Middleware, before any handler reads the query string:
/// - a NUL (`%00`), or escapes that are not UTF-8, is refused with 400
///   (PostgreSQL text cannot hold NUL; a replacement character is not what
///   was sent);
/// - an id parameter below 1 (`?story=0`) is a 422 naming it (it can match
///   nothing, and an empty list would look like an answer);
/// - a parameter with an empty value (`?cursor=`) is the same as leaving it
///   out, as the API document allows.
pub async fn check_query_string(
    mut req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody>,
) -> Result<
    actix_web::dev::ServiceResponse<actix_web::body::EitherBody<impl actix_web::body::MessageBody>>,
    actix_web::Error,
> {
    let query = req.query_string();
    let nul = query.contains('\0')
        || query
            .as_bytes()
            .windows(3)
            .any(|w| w[0] == b'%' && w[1] == b'0' && w[2] == b'0');
    if nul {
        let e = AppError::BadRequest("the query string must not contain NUL characters".into());
        return Ok(req.error_response(e).map_into_right_body());
    }
    // Percent-escapes that decode to bytes that are not UTF-8 (`q=%FF`)
    // would reach handlers as replacement characters: refused instead.
    let decoded: Vec<u8> = percent_encoding::percent_decode_str(query).collect();
    if std::str::from_utf8(&decoded).is_err() {
        let e = AppError::BadRequest(
            "the query string must be UTF-8 once its %-escapes are decoded".into(),
        );
        return Ok(req.error_response(e).map_into_right_body());
    }
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let mut v = crate::domain::validation::Validator::new();
    for (name, value) in &pairs {
        if ID_PARAMETERS.contains(&name.as_str())
            && value.trim().parse::<i64>().is_ok_and(|id| id < 1)
        {
            v.error(
                name.clone(),
                format!("must be an id, 1 or more (got {value})"),
            );
        }
    }
    if let Err(e) = v.finish() {
        return Ok(req.error_response(e).map_into_right_body());
    }
    if pairs.iter().any(|(_, value)| value.is_empty()) {
        let kept: String = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs.iter().filter(|(_, value)| !value.is_empty()))
            .finish();
        let path = req.path().to_owned();
        let target = if kept.is_empty() {
            path
        } else {
            format!("{path}?{kept}")
        };
        if let Ok(uri) = target.parse::<actix_web::http::Uri>() {
            req.head_mut().uri = uri;
        }
    }
    Ok(next.call(req).await?.map_into_left_body())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::claim::NewClaim;

    fn status(err: AppError) -> u16 {
        err.problem().status
    }

    #[test]
    fn query_problems_are_said_in_a_persons_words() {
        assert_eq!(
            query_problem("unknown field `stroy`, expected one of `story`, `speaker`, `status`"),
            "unknown parameter `stroy`; did you mean `story`?"
        );
        assert_eq!(
            query_problem("unknown field `zzz`, expected `as_of`"),
            "unknown parameter `zzz`; this route takes as_of"
        );
        assert_eq!(
            query_problem("unknown field `x`, there are no fields"),
            "unknown parameter `x`; this route takes none"
        );
        assert_eq!(
            query_problem("invalid digit found in string"),
            "invalid digit found in string"
        );
    }

    #[test]
    fn json_errors_are_classified() {
        assert_eq!(
            status(decode_json::<NewClaim>(b"{\"text\": ").err().unwrap()),
            400
        );
        assert_eq!(status(decode_json::<NewClaim>(b"").err().unwrap()), 400);
        let unknown = decode_json::<NewClaim>(
            br#"{"story_id":1,"speaker_id":1,"text":"x","kind":"paraphrase","colour":1}"#,
        );
        assert_eq!(status(unknown.err().unwrap()), 400);
        let missing =
            decode_json::<NewClaim>(br#"{"story_id":1,"speaker_id":1,"kind":"paraphrase"}"#)
                .err()
                .unwrap();
        assert_eq!(status(missing.clone_for_test()), 422);
        assert!(missing.to_string().starts_with("text:"), "{missing}");
        let bad =
            decode_json::<NewClaim>(br#"{"story_id":1,"speaker_id":1,"text":"x","kind":"rumour"}"#)
                .err()
                .unwrap();
        assert!(bad.to_string().starts_with("kind:"), "{bad}");
        let nested = decode_json::<NewClaim>(
            br#"{"story_id":1,"speaker_id":1,"text":"x","kind":"paraphrase","appearances":[{"article_id":1,"start":"a","end":2}]}"#,
        )
        .err()
        .unwrap();
        assert!(
            nested.to_string().starts_with("appearances[0].start:"),
            "{nested}"
        );
        // Found by schemathesis: an array was read as a struct, positionally.
        let array = decode_json::<NewClaim>(br#"[1, 1, null, "x", "paraphrase"]"#);
        assert_eq!(status(array.err().unwrap()), 422);
        assert!(decode_json::<serde_json::Value>(b" [1]").is_ok());
        let trailing = decode_json::<NewClaim>(
            br#"{"story_id":1,"speaker_id":1,"text":"x","kind":"paraphrase"} x"#,
        );
        assert_eq!(status(trailing.err().unwrap()), 400);
    }

    impl AppError {
        fn clone_for_test(&self) -> AppError {
            match self {
                AppError::Validation(e) => AppError::Validation(e.clone()),
                other => AppError::BadRequest(other.to_string()),
            }
        }
    }
}
