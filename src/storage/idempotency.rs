//! Idempotency keys: a retried POST gets its first response back.

use diesel::{ExpressionMethods, OptionalExtension, QueryDsl};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::schema::idempotency_keys;
use crate::error::{AppError, AppResult};

/// A response kept for replay.
#[derive(Debug, Clone)]
pub struct StoredResponse {
    pub status: u16,
    pub body: Vec<u8>,
    pub location: Option<String>,
    pub etag: Option<String>,
}

/// The request a key is used for.
pub struct KeyUse<'a> {
    pub actor: &'a str,
    pub key: &'a str,
    pub method: &'a str,
    pub path: &'a str,
    pub request_sha256: &'a [u8],
}

/// Takes the key for this request, or returns the response stored under it.
/// Must run inside the transaction of the write it protects: the insert holds
/// the key until that transaction ends, so a concurrent retry waits for it
/// and then sees its response.
pub async fn claim(
    conn: &mut AsyncPgConnection,
    used: &KeyUse<'_>,
) -> AppResult<Option<StoredResponse>> {
    let inserted: Option<String> = diesel::insert_into(idempotency_keys::table)
        .values((
            idempotency_keys::actor.eq(used.actor),
            idempotency_keys::key.eq(used.key),
            idempotency_keys::method.eq(used.method),
            idempotency_keys::path.eq(used.path),
            idempotency_keys::request_sha256.eq(used.request_sha256),
        ))
        .on_conflict_do_nothing()
        .returning(idempotency_keys::key)
        .get_result(conn)
        .await
        .optional()?;
    if inserted.is_some() {
        return Ok(None);
    }
    type Row = (
        String,
        String,
        Vec<u8>,
        Option<i16>,
        Option<Vec<u8>>,
        Option<String>,
        Option<String>,
    );
    let (method, path, hash, status, body, location, etag): Row = idempotency_keys::table
        .find((used.actor, used.key))
        .select((
            idempotency_keys::method,
            idempotency_keys::path,
            idempotency_keys::request_sha256,
            idempotency_keys::status,
            idempotency_keys::response_body,
            idempotency_keys::location,
            idempotency_keys::etag,
        ))
        .first(conn)
        .await?;
    if method != used.method || path != used.path || hash != used.request_sha256 {
        return Err(AppError::invalid(
            "Idempotency-Key",
            format!(
                "this key was already used for a different request ({method} {path}); use a new key"
            ),
        ));
    }
    let status = status
        .ok_or_else(|| anyhow::anyhow!("idempotency key {} has no stored response", used.key))?;
    Ok(Some(StoredResponse {
        status: status as u16,
        body: body.unwrap_or_default(),
        location,
        etag,
    }))
}

/// Stores the response of the write the key was claimed for.
pub async fn store(
    conn: &mut AsyncPgConnection,
    used: &KeyUse<'_>,
    response: &StoredResponse,
) -> AppResult<()> {
    diesel::update(idempotency_keys::table.find((used.actor, used.key)))
        .set((
            idempotency_keys::status.eq(response.status as i16),
            idempotency_keys::response_body.eq(&response.body),
            idempotency_keys::location.eq(&response.location),
            idempotency_keys::etag.eq(&response.etag),
        ))
        .execute(conn)
        .await?;
    Ok(())
}
