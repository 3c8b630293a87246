//! `Idempotency-Key` on POST: a retry with the same key and body gets the
//! first response (with `Idempotent-Replayed: true`) and writes nothing; the
//! same key with another body is a 422. Keys belong to the caller.

use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::{FromRequest, HttpMessage, HttpRequest, HttpResponse};
use diesel_async::{AnsiTransactionManager, AsyncPgConnection, TransactionManager};
use serde::Serialize;

use crate::error::{AppError, AppResult};
use crate::http::server::AppState;
use crate::storage::idempotency::{self, KeyUse, StoredResponse};

/// SHA-256 of the raw request body, left by the JSON extractor.
#[derive(Debug, Clone, Copy)]
pub struct BodyDigest(pub [u8; 32]);

/// The optional `Idempotency-Key` header: 1–255 visible ASCII characters.
/// (As a parameter in the OpenAPI document: `params(IdempotencyKey)`.)
#[derive(utoipa::IntoParams)]
#[into_params(names("Idempotency-Key"), parameter_in = Header)]
pub struct IdempotencyKey(
    /// 1–255 visible ASCII characters: a retried write with the same key gets
    /// the first answer again instead of writing twice.
    #[param(pattern = "^[!-~]{1,255}$")]
    pub Option<String>,
);

impl FromRequest for IdempotencyKey {
    type Error = AppError;
    type Future = std::future::Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let key = match req.headers().get("idempotency-key") {
            None => Ok(IdempotencyKey(None)),
            Some(v) => match v.to_str() {
                Ok(k)
                    if (1..=255).contains(&k.len()) && k.bytes().all(|b| b.is_ascii_graphic()) =>
                {
                    Ok(IdempotencyKey(Some(k.to_owned())))
                }
                _ => Err(AppError::BadRequest(
                    "Idempotency-Key must be 1–255 visible ASCII characters".into(),
                )),
            },
        };
        std::future::ready(key)
    }
}

/// A response being built by a write, kept for replay.
pub struct Reply(StoredResponse);

impl Reply {
    pub fn json<T: Serialize>(status: StatusCode, body: &T) -> AppResult<Reply> {
        Ok(Reply(StoredResponse {
            status: status.as_u16(),
            body: serde_json::to_vec(body).map_err(anyhow::Error::from)?,
            location: None,
            etag: None,
        }))
    }

    pub fn location(mut self, location: String) -> Self {
        self.0.location = Some(location);
        self
    }

    pub fn etag(mut self, etag: String) -> Self {
        self.0.etag = Some(etag);
        self
    }

    fn into_response(self, replayed: bool) -> HttpResponse {
        let r = self.0;
        let mut builder =
            HttpResponse::build(StatusCode::from_u16(r.status).unwrap_or(StatusCode::OK));
        builder.insert_header((
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        ));
        if let Some(l) = r.location {
            builder.insert_header((header::LOCATION, l));
        }
        if let Some(e) = r.etag {
            builder.insert_header((header::ETAG, e));
        }
        if replayed {
            builder.insert_header((
                HeaderName::from_static("idempotent-replayed"),
                HeaderValue::from_static("true"),
            ));
        }
        builder.body(r.body)
    }
}

/// Runs a write once per idempotency key. Without a key it just runs.
pub async fn once(
    state: &AppState,
    req: &HttpRequest,
    actor: &str,
    key: IdempotencyKey,
    write: impl AsyncFnOnce(&mut AsyncPgConnection) -> AppResult<Reply>,
) -> AppResult<HttpResponse> {
    let mut conn = state.pool.get().await?;
    let Some(key) = key.0 else {
        return Ok(write(&mut conn).await?.into_response(false));
    };
    let digest = req
        .extensions()
        .get::<BodyDigest>()
        .map_or([0u8; 32], |d| d.0);
    let path = req.path().to_owned();
    let method = req.method().as_str().to_owned();
    let used = KeyUse {
        actor,
        key: &key,
        method: &method,
        path: &path,
        request_sha256: &digest,
    };
    // The transaction is driven by hand: the write runs inside it (its own
    // transaction becomes a savepoint), so the key and the write commit
    // together or not at all.
    let conn: &mut AsyncPgConnection = &mut conn;
    AnsiTransactionManager::begin_transaction(conn).await?;
    let outcome = async {
        if let Some(stored) = idempotency::claim(conn, &used).await? {
            return Ok::<_, AppError>((Reply(stored), true));
        }
        let reply = write(conn).await?;
        idempotency::store(conn, &used, &reply.0).await?;
        Ok((reply, false))
    }
    .await;
    let (reply, replayed) = match outcome {
        Ok(done) => {
            AnsiTransactionManager::commit_transaction(conn).await?;
            done
        }
        Err(e) => {
            let _ = AnsiTransactionManager::rollback_transaction(conn).await;
            return Err(e);
        }
    };
    Ok(reply.into_response(replayed))
}
