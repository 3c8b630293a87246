//! Users and their bearer tokens.

use chrono::{DateTime, Duration, Utc};
use diesel::{ExpressionMethods, OptionalExtension, QueryDsl, SelectableHelper};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde::Serialize;
use serde_json::json;

use super::events::{self, AuditContext, EventRecord};
use subtle::ConstantTimeEq;

use super::schema::{api_tokens, users};
use super::{Page, PageRequest, keyset};
use crate::domain::audit::AuditAction;
use crate::domain::auth::{Role, generate_token, is_valid_user_name};
use crate::error::{AppError, AppResult};

#[derive(Debug, Clone, diesel::Queryable, diesel::Selectable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = users, check_for_backend(diesel::pg::Pg))]
pub struct User {
    pub id: i64,
    pub name: String,
    pub role: Role,
    pub created_at: DateTime<Utc>,
}

/// The user behind a valid token.
#[derive(Debug, Clone)]
pub struct AuthUser {
    pub user_id: i64,
    pub name: String,
    pub role: Role,
    pub token_id: i64,
}

/// A token as listed: never the secret.
#[derive(Debug, Clone, diesel::Queryable, diesel::Selectable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = api_tokens, check_for_backend(diesel::pg::Pg))]
pub struct TokenInfo {
    pub id: i64,
    pub user_id: i64,
    pub label: Option<String>,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A freshly made token: the secret is shown here once and never stored.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct NewToken {
    #[serde(flatten)]
    pub info: TokenInfo,
    pub token: String,
}

pub async fn create_user(
    conn: &mut AsyncPgConnection,
    ctx: &AuditContext,
    name: &str,
    role: Role,
) -> AppResult<User> {
    if !is_valid_user_name(name) {
        return Err(AppError::invalid(
            "name",
            "must be 1–100 letters, digits or ._@- and start with a letter or digit",
        ));
    }
    conn.transaction(async |conn| {
        let existing: Option<i64> = users::table
            .filter(users::name.eq(name))
            .select(users::id)
            .first(conn)
            .await
            .optional()?;
        if let Some(id) = existing {
            return Err(AppError::Conflict {
                detail: format!("user {name} already exists"),
                existing_id: Some(id),
            });
        }
        let user: User = diesel::insert_into(users::table)
            .values((users::name.eq(name), users::role.eq(role)))
            .returning(User::as_returning())
            .get_result(conn)
            .await?;
        events::record(
            conn,
            ctx,
            EventRecord {
                action: AuditAction::UserCreated,
                subject_type: "user",
                subject_id: user.id,
                story_id: None,
                before_revision: None,
                after_revision: None,
                details: json!({ "name": user.name, "role": user.role }),
            },
        )
        .await?;
        Ok(user)
    })
    .await
}

pub async fn find_user(conn: &mut AsyncPgConnection, name: &str) -> AppResult<User> {
    users::table
        .filter(users::name.eq(name))
        .select(User::as_select())
        .first(conn)
        .await
        .optional()?
        .ok_or_else(|| AppError::not_found(format!("user {name}")))
}

pub async fn get_user(conn: &mut AsyncPgConnection, id: i64) -> AppResult<User> {
    users::table
        .find(id)
        .select(User::as_select())
        .first(conn)
        .await
        .optional()?
        .ok_or_else(|| AppError::not_found(format!("user {id}")))
}

/// A page of the users, by id.
pub async fn list_users(conn: &mut AsyncPgConnection, page: PageRequest) -> AppResult<Page<User>> {
    let query = users::table.select(User::as_select()).into_boxed();
    let rows: Vec<User> = keyset!(query, users::id, page).load(conn).await?;
    Ok(Page::from_rows(rows, page.limit, |u| u.id))
}

pub async fn create_token(
    conn: &mut AsyncPgConnection,
    ctx: &AuditContext,
    user_id: i64,
    label: Option<&str>,
) -> AppResult<NewToken> {
    let (token, hash) = generate_token()?;
    conn.transaction(async |conn| {
        let info: TokenInfo = diesel::insert_into(api_tokens::table)
            .values((
                api_tokens::user_id.eq(user_id),
                api_tokens::token_sha256.eq(&hash[..]),
                api_tokens::label.eq(label),
            ))
            .returning(TokenInfo::as_returning())
            .get_result(conn)
            .await?;
        events::record(
            conn,
            ctx,
            EventRecord {
                action: AuditAction::TokenCreated,
                subject_type: "token",
                subject_id: info.id,
                story_id: None,
                before_revision: None,
                after_revision: None,
                details: json!({ "user_id": user_id, "label": label }),
            },
        )
        .await?;
        Ok(NewToken { info, token })
    })
    .await
}

pub async fn revoke_token(
    conn: &mut AsyncPgConnection,
    ctx: &AuditContext,
    token_id: i64,
) -> AppResult<TokenInfo> {
    conn.transaction(async |conn| {
        let info: TokenInfo = diesel::update(api_tokens::table.find(token_id))
            .set(api_tokens::revoked_at.eq(diesel::dsl::now))
            .returning(TokenInfo::as_returning())
            .get_result(conn)
            .await
            .optional()?
            .ok_or_else(|| AppError::not_found(format!("token {token_id}")))?;
        super::notifications::token_revoked(conn, info.id).await?;
        events::record(
            conn,
            ctx,
            EventRecord {
                action: AuditAction::TokenRevoked,
                subject_type: "token",
                subject_id: info.id,
                story_id: None,
                before_revision: None,
                after_revision: None,
                details: json!({ "user_id": info.user_id }),
            },
        )
        .await?;
        Ok(info)
    })
    .await
}

/// A page of the user's tokens (never their secrets), by id.
pub async fn list_tokens(
    conn: &mut AsyncPgConnection,
    user_id: i64,
    page: PageRequest,
) -> AppResult<Page<TokenInfo>> {
    let query = api_tokens::table
        .filter(api_tokens::user_id.eq(user_id))
        .select(TokenInfo::as_select())
        .into_boxed();
    let rows: Vec<TokenInfo> = keyset!(query, api_tokens::id, page).load(conn).await?;
    Ok(Page::from_rows(rows, page.limit, |t| t.id))
}

/// How stale `last_used_at` may get: refreshing it at most once a minute
/// keeps authentication to one indexed read on almost every request.
const LAST_USED_RESOLUTION: Duration = Duration::seconds(60);

/// token id, digest, last use, user id, user name, role
type TokenOwner = (i64, Vec<u8>, Option<DateTime<Utc>>, i64, String, Role);

/// The user behind a token hash, if the token exists and is not revoked.
/// Whether a token is still live (not revoked): an open event stream asks
/// this again and again, so that revoking a token ends it.
pub async fn token_is_live(conn: &mut AsyncPgConnection, token_id: i64) -> AppResult<bool> {
    Ok(api_tokens::table
        .find(token_id)
        .filter(api_tokens::revoked_at.is_null())
        .select(api_tokens::id)
        .first::<i64>(conn)
        .await
        .optional()?
        .is_some())
}

pub async fn authenticate(
    conn: &mut AsyncPgConnection,
    hash: &[u8; 32],
) -> AppResult<Option<AuthUser>> {
    let found: Option<TokenOwner> = api_tokens::table
        .inner_join(users::table)
        .filter(api_tokens::token_sha256.eq(&hash[..]))
        .filter(api_tokens::revoked_at.is_null())
        .select((
            api_tokens::id,
            api_tokens::token_sha256,
            api_tokens::last_used_at,
            users::id,
            users::name,
            users::role,
        ))
        .first(conn)
        .await
        .optional()?;
    // The index finds the row by the digest (whose bits a caller cannot
    // steer); the digests are then compared in constant time.
    let Some((token_id, stored, last_used, user_id, name, role)) = found else {
        return Ok(None);
    };
    if !bool::from(stored.as_slice().ct_eq(&hash[..])) {
        return Ok(None);
    }
    if last_used.is_none_or(|t| Utc::now() - t > LAST_USED_RESOLUTION) {
        diesel::update(api_tokens::table.find(token_id))
            .set(api_tokens::last_used_at.eq(diesel::dsl::now))
            .execute(conn)
            .await?;
    }
    Ok(Some(AuthUser {
        user_id,
        name,
        role,
        token_id,
    }))
}
