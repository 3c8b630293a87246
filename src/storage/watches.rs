//! Watches: created, listed, paused, resumed and deleted by editors; leased
//! to a poller when due and told how the poll went.

use std::time::Duration;

use chrono::{DateTime, Utc};
use diesel::{ExpressionMethods, OptionalExtension, QueryDsl, SelectableHelper};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde::Serialize;
use serde_json::json;

use super::events::{self, AuditContext, EventRecord};
use super::schema::watches;
use super::stories;
use crate::domain::audit::AuditAction;
use crate::domain::watch::{self, Filing, PollOutcome, ValidWatch, WatchKind};
use crate::error::{AppError, AppResult};
use crate::storage::{Page, PageRequest, keyset};

/// A watch as stored (and as the API shows it, less its validators).
#[derive(Debug, Clone, diesel::Queryable, diesel::Selectable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = watches, check_for_backend(diesel::pg::Pg))]
pub struct WatchRow {
    pub id: i64,
    pub url: String,
    pub filing: Filing,
    pub story_id: Option<i64>,
    pub keywords: Vec<String>,
    pub interval_s: i32,
    pub extract: bool,
    /// What the address turned out to be: null until its first fetch.
    pub kind: Option<WatchKind>,
    pub paused: bool,
    /// When it polls next (while not paused).
    pub next_poll_at: DateTime<Utc>,
    /// Since when a poll of it has been running, if one is.
    pub polling_since: Option<DateTime<Utc>>,
    pub last_polled_at: Option<DateTime<Utc>>,
    pub last_success_at: Option<DateTime<Utc>>,
    pub last_outcome: Option<PollOutcome>,
    /// Why the last poll failed.
    pub last_error: Option<String>,
    /// Failed polls in a row: each doubles the wait before the next.
    pub consecutive_failures: i32,
    #[serde(skip)]
    pub etag: Option<String>,
    #[serde(skip)]
    pub last_modified: Option<String>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, diesel::Insertable)]
#[diesel(table_name = watches)]
struct NewWatchRow<'a> {
    url: &'a str,
    filing: Filing,
    story_id: Option<i64>,
    keywords: &'a [String],
    interval_s: i32,
    extract: bool,
    created_by: &'a str,
}

pub async fn create(
    conn: &mut AsyncPgConnection,
    ctx: &AuditContext,
    new: &ValidWatch,
) -> AppResult<WatchRow> {
    conn.transaction(async |conn| {
        if let Some(story) = new.story_id
            && !stories::exists(conn, story).await?
        {
            return Err(AppError::invalid(
                "story_id",
                format!("story {story} does not exist"),
            ));
        }
        let existing: Option<i64> = watches::table
            .filter(watches::url.eq(&new.url))
            .select(watches::id)
            .first(conn)
            .await
            .optional()?;
        if let Some(id) = existing {
            return Err(AppError::Conflict {
                detail: format!("watch {id} already follows {}", new.url),
                existing_id: Some(id),
            });
        }
        let row: WatchRow = diesel::insert_into(watches::table)
            .values(NewWatchRow {
                url: &new.url,
                filing: new.filing,
                story_id: new.story_id,
                keywords: &new.keywords,
                interval_s: new.interval_s,
                extract: new.extract,
                created_by: &ctx.actor,
            })
            .returning(WatchRow::as_returning())
            .get_result(conn)
            .await?;
        audit(
            conn,
            ctx,
            AuditAction::WatchCreated,
            &row,
            json!({
                "url": row.url, "filing": row.filing, "keywords": row.keywords,
                "interval_s": row.interval_s, "extract": row.extract,
            }),
        )
        .await?;
        Ok(row)
    })
    .await
}

pub async fn get(conn: &mut AsyncPgConnection, id: i64) -> AppResult<WatchRow> {
    watches::table
        .find(id)
        .select(WatchRow::as_select())
        .first(conn)
        .await
        .optional()?
        .ok_or_else(|| AppError::not_found(format!("watch {id}")))
}

pub async fn list(conn: &mut AsyncPgConnection, page: PageRequest) -> AppResult<Page<WatchRow>> {
    let query = watches::table.select(WatchRow::as_select()).into_boxed();
    let rows: Vec<WatchRow> = keyset!(query, watches::id, page).load(conn).await?;
    Ok(Page::from_rows(rows, page.limit, |w| w.id))
}

/// Pauses or resumes a watch; a resumed watch polls at once. Asking for
/// the state it is in changes nothing and records nothing.
pub async fn set_paused(
    conn: &mut AsyncPgConnection,
    ctx: &AuditContext,
    id: i64,
    paused: bool,
) -> AppResult<WatchRow> {
    conn.transaction(async |conn| {
        let current: WatchRow = watches::table
            .find(id)
            .select(WatchRow::as_select())
            .for_update()
            .first(conn)
            .await
            .optional()?
            .ok_or_else(|| AppError::not_found(format!("watch {id}")))?;
        if current.paused == paused {
            return Ok(current);
        }
        let row: WatchRow = diesel::update(watches::table.find(id))
            .set((
                watches::paused.eq(paused),
                watches::next_poll_at.eq(diesel::dsl::now),
            ))
            .returning(WatchRow::as_returning())
            .get_result(conn)
            .await?;
        let action = if paused {
            AuditAction::WatchPaused
        } else {
            AuditAction::WatchResumed
        };
        audit(conn, ctx, action, &row, json!({})).await?;
        Ok(row)
    })
    .await
}

/// Deletes a watch and its list of found articles; the articles and
/// revisions it recorded stay.
pub async fn delete(conn: &mut AsyncPgConnection, ctx: &AuditContext, id: i64) -> AppResult<()> {
    conn.transaction(async |conn| {
        let row: WatchRow = diesel::delete(watches::table.find(id))
            .returning(WatchRow::as_returning())
            .get_result(conn)
            .await
            .optional()?
            .ok_or_else(|| AppError::not_found(format!("watch {id}")))?;
        audit(
            conn,
            ctx,
            AuditAction::WatchDeleted,
            &row,
            json!({ "url": row.url }),
        )
        .await
    })
    .await
}

async fn audit(
    conn: &mut AsyncPgConnection,
    ctx: &AuditContext,
    action: AuditAction,
    row: &WatchRow,
    details: serde_json::Value,
) -> AppResult<()> {
    events::record(
        conn,
        ctx,
        EventRecord {
            action,
            subject_type: "watch",
            subject_id: row.id,
            story_id: row.story_id,
            before_revision: None,
            after_revision: None,
            details,
        },
    )
    .await
}

/// Leases up to `limit` due watches to this poller: their next poll moves
/// `lease` ahead, so that another poller (another instance) skips them
/// while this one works; the poll's end sets the real next time.
pub async fn lease_due(
    conn: &mut AsyncPgConnection,
    limit: i64,
    lease: Duration,
) -> AppResult<Vec<WatchRow>> {
    conn.transaction(async |conn| {
        let due: Vec<i64> = watches::table
            .filter(watches::paused.eq(false))
            .filter(watches::next_poll_at.le(diesel::dsl::now))
            .order(watches::next_poll_at.asc())
            .limit(limit)
            .select(watches::id)
            .for_update()
            .skip_locked()
            .load(conn)
            .await?;
        if due.is_empty() {
            return Ok(Vec::new());
        }
        let until = Utc::now() + lease;
        Ok(
            diesel::update(watches::table.filter(watches::id.eq_any(due)))
                .set(watches::next_poll_at.eq(until))
                .returning(WatchRow::as_returning())
                .get_results(conn)
                .await?,
        )
    })
    .await
}

/// Leases one watch for a poll asked for now (by an editor or the CLI),
/// paused or not; 409 while another poll of it runs (here or on another
/// instance, started within `lease`).
pub async fn lease_now(
    conn: &mut AsyncPgConnection,
    id: i64,
    lease: Duration,
) -> AppResult<WatchRow> {
    conn.transaction(async |conn| {
        let row: WatchRow = watches::table
            .find(id)
            .select(WatchRow::as_select())
            .for_update()
            .first(conn)
            .await
            .optional()?
            .ok_or_else(|| AppError::not_found(format!("watch {id}")))?;
        let now = Utc::now();
        if row.polling_since.is_some_and(|since| since > now - lease) {
            return Err(AppError::Conflict {
                detail: format!("watch {id} is being polled; try again shortly"),
                existing_id: None,
            });
        }
        let next = if row.paused {
            row.next_poll_at
        } else {
            now + lease
        };
        Ok(diesel::update(watches::table.find(id))
            .set((
                watches::next_poll_at.eq(next),
                watches::polling_since.eq(now),
            ))
            .returning(WatchRow::as_returning())
            .get_result(conn)
            .await?)
    })
    .await
}

/// Ends a poll that was cut short (the database failed it): the watch may
/// be polled again at once when asked, and by the poller when due.
pub async fn release(conn: &mut AsyncPgConnection, id: i64) -> AppResult<()> {
    diesel::update(watches::table.find(id))
        .set(watches::polling_since.eq(None::<DateTime<Utc>>))
        .execute(conn)
        .await?;
    Ok(())
}

/// How a poll of the watch's own address ended.
#[derive(Debug, Clone)]
pub struct PollResult {
    pub outcome: PollOutcome,
    pub kind: Option<WatchKind>,
    pub error: Option<String>,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    /// How long the outlet asked us to wait (`Retry-After`).
    pub retry_after: Option<Duration>,
}

/// Records a poll's end and schedules the next: the interval after a
/// success, an exponential back-off after failures in a row. Returns the
/// watch as it now is (absent if it was deleted meanwhile).
pub async fn finish_poll(
    conn: &mut AsyncPgConnection,
    watch: &WatchRow,
    result: PollResult,
) -> AppResult<Option<WatchRow>> {
    let failed = result.outcome == PollOutcome::Failed;
    let failures = if failed {
        watch.consecutive_failures.saturating_add(1)
    } else {
        0
    };
    // An outlet's Retry-After is honoured when it asks for longer (up to
    // the longest back-off).
    let wait = watch::next_poll_after(watch.interval_s, failures).max(
        result
            .retry_after
            .unwrap_or_default()
            .min(watch::MAX_BACK_OFF),
    );
    let now = Utc::now();
    let next = now + wait;
    let (etag, last_modified) = match result.outcome {
        PollOutcome::Fetched => (result.etag, result.last_modified),
        // A 304 leaves the validators as they were; a failure keeps them.
        _ => (watch.etag.clone(), watch.last_modified.clone()),
    };
    Ok(diesel::update(watches::table.find(watch.id))
        .set((
            watches::kind.eq(result.kind.or(watch.kind)),
            watches::last_polled_at.eq(now),
            watches::last_success_at.eq(if failed {
                watch.last_success_at
            } else {
                Some(now)
            }),
            watches::last_outcome.eq(result.outcome),
            watches::last_error.eq(result.error.as_deref().map(watch::error_line)),
            watches::consecutive_failures.eq(failures),
            watches::next_poll_at.eq(next),
            watches::polling_since.eq(None::<DateTime<Utc>>),
            watches::etag.eq(etag),
            watches::last_modified.eq(last_modified),
        ))
        .returning(WatchRow::as_returning())
        .get_result(conn)
        .await
        .optional()?)
}
