//! Sessions of the reviewer pages: a random id in the browser's cookie,
//! only its digest here, tied to the token it was opened with.

use chrono::{DateTime, Duration, Utc};
use diesel::{ExpressionMethods, OptionalExtension, QueryDsl};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::schema::{api_tokens, browser_sessions, users};
use super::users::{self as user_store, AuthUser};
use crate::domain::auth::{Role, hash_token, random_secret};
use crate::error::AppResult;

/// A session as the pages use it.
#[derive(Debug, Clone)]
pub struct BrowserSession {
    pub user: AuthUser,
    /// Sent back by every form of the session.
    pub csrf_token: String,
    pub expires_at: DateTime<Utc>,
}

/// A session just opened: the id goes into the cookie and is never stored.
pub struct OpenedSession {
    pub id: String,
    pub session: BrowserSession,
}

/// Opens a session for the holder of `token`, or `None` when the token is
/// unknown or revoked.
pub async fn open(
    conn: &mut AsyncPgConnection,
    token: &str,
    lifetime: Duration,
) -> AppResult<Option<OpenedSession>> {
    let Some(user) = user_store::authenticate(conn, &hash_token(token)).await? else {
        return Ok(None);
    };
    // Sessions a day past their end are of no use to anyone: each sign-in
    // clears them, so the table holds about a day of sign-ins.
    diesel::delete(browser_sessions::table)
        .filter(browser_sessions::expires_at.lt(Utc::now() - Duration::days(1)))
        .execute(conn)
        .await?;
    let id = random_secret()?;
    let csrf_token = random_secret()?;
    let expires_at: DateTime<Utc> = diesel::insert_into(browser_sessions::table)
        .values((
            browser_sessions::id_sha256.eq(&hash_token(&id)[..]),
            browser_sessions::token_id.eq(user.token_id),
            browser_sessions::csrf_token.eq(&csrf_token),
            browser_sessions::expires_at.eq(Utc::now() + lifetime),
        ))
        .returning(browser_sessions::expires_at)
        .get_result(conn)
        .await?;
    Ok(Some(OpenedSession {
        id,
        session: BrowserSession {
            user,
            csrf_token,
            expires_at,
        },
    }))
}

/// The live session behind a cookie's id: not ended, not expired, and its
/// token not revoked.
pub async fn find(conn: &mut AsyncPgConnection, id: &str) -> AppResult<Option<BrowserSession>> {
    let found: Option<(i64, i64, String, Role, String, DateTime<Utc>)> = browser_sessions::table
        .inner_join(api_tokens::table.inner_join(users::table))
        .filter(browser_sessions::id_sha256.eq(&hash_token(id)[..]))
        .filter(browser_sessions::ended_at.is_null())
        .filter(browser_sessions::expires_at.gt(diesel::dsl::now))
        .filter(api_tokens::revoked_at.is_null())
        .select((
            api_tokens::id,
            users::id,
            users::name,
            users::role,
            browser_sessions::csrf_token,
            browser_sessions::expires_at,
        ))
        .first(conn)
        .await
        .optional()?;
    Ok(found.map(
        |(token_id, user_id, name, role, csrf_token, expires_at)| BrowserSession {
            user: AuthUser {
                user_id,
                name,
                role,
                token_id,
            },
            csrf_token,
            expires_at,
        },
    ))
}

/// Ends a session (sign-out): its cookie no longer opens anything.
pub async fn end(conn: &mut AsyncPgConnection, id: &str) -> AppResult<()> {
    diesel::update(browser_sessions::table)
        .filter(browser_sessions::id_sha256.eq(&hash_token(id)[..]))
        .filter(browser_sessions::ended_at.is_null())
        .set(browser_sessions::ended_at.eq(diesel::dsl::now))
        .execute(conn)
        .await?;
    Ok(())
}
