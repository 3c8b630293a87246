//! The articles a watch has found: each one's address, state, the article
//! it became and the validators of its last fetch.

use chrono::{DateTime, Utc};
use diesel::PgSortExpressionMethods;
use diesel::{ExpressionMethods, OptionalExtension, QueryDsl, SelectableHelper};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde::Serialize;
use serde_json::json;

use super::events::{self, AuditContext, EventRecord};
use super::schema::watch_items;
use super::stories;
use crate::domain::audit::AuditAction;
use crate::domain::watch::ItemState;
use crate::error::{AppError, AppResult};
use crate::storage::{Page, PageRequest, keyset};

/// How long after it was first seen an article is fetched again on each
/// poll: outlets edit in the first days; after that a poll per article
/// costs them more than it finds.
pub const FOLLOW_FOR: chrono::TimeDelta = chrono::TimeDelta::days(14);
/// Most articles one poll fetches (the longest waiting first); the rest
/// wait for the next poll.
pub const MAX_FETCHES_PER_POLL: i64 = 100;

#[derive(Debug, Clone, diesel::Queryable, diesel::Selectable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = watch_items, check_for_backend(diesel::pg::Pg))]
pub struct WatchItemRow {
    pub id: i64,
    pub watch_id: i64,
    pub url: String,
    pub title: Option<String>,
    /// When the feed says it was published.
    pub published_at: Option<DateTime<Utc>>,
    pub state: ItemState,
    /// The story an editor filed it into (a watch that asks).
    pub story_id: Option<i64>,
    /// The article it was recorded as.
    pub article_id: Option<i64>,
    #[serde(skip)]
    pub etag: Option<String>,
    #[serde(skip)]
    pub last_modified: Option<String>,
    pub first_seen_at: DateTime<Utc>,
    pub last_fetched_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
}

/// An article a feed lists.
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    pub url: String,
    pub title: Option<String>,
    pub published_at: Option<DateTime<Utc>>,
}

/// Adds the addresses a feed lists that the watch has not seen yet (as
/// `following`); returns how many were new.
pub async fn add_found(
    conn: &mut AsyncPgConnection,
    watch_id: i64,
    found: &[Found],
) -> AppResult<usize> {
    if found.is_empty() {
        return Ok(0);
    }
    let rows: Vec<_> = found
        .iter()
        .map(|f| {
            (
                watch_items::watch_id.eq(watch_id),
                watch_items::url.eq(&f.url),
                watch_items::title.eq(f.title.as_deref()),
                watch_items::published_at.eq(f.published_at),
                watch_items::state.eq(ItemState::Following),
            )
        })
        .collect();
    Ok(diesel::insert_into(watch_items::table)
        .values(rows)
        .on_conflict((watch_items::watch_id, watch_items::url))
        .do_nothing()
        .execute(conn)
        .await?)
}

/// The watch's item for `url` (a page watch has one: its own address).
pub async fn upsert_one(
    conn: &mut AsyncPgConnection,
    watch_id: i64,
    url: &str,
) -> AppResult<WatchItemRow> {
    let own = Found {
        url: url.to_owned(),
        title: None,
        published_at: None,
    };
    add_found(conn, watch_id, &[own]).await?;
    Ok(watch_items::table
        .filter(watch_items::watch_id.eq(watch_id))
        .filter(watch_items::url.eq(url))
        .select(WatchItemRow::as_select())
        .first(conn)
        .await?)
}

/// The items this poll fetches: followed ones first seen within
/// [`FOLLOW_FOR`], never fetched first, then the longest unfetched.
pub async fn due(conn: &mut AsyncPgConnection, watch_id: i64) -> AppResult<Vec<WatchItemRow>> {
    Ok(watch_items::table
        .filter(watch_items::watch_id.eq(watch_id))
        .filter(watch_items::state.eq(ItemState::Following))
        .filter(watch_items::first_seen_at.gt(Utc::now() - FOLLOW_FOR))
        .order((
            watch_items::last_fetched_at.asc().nulls_first(),
            watch_items::id.asc(),
        ))
        .limit(MAX_FETCHES_PER_POLL)
        .select(WatchItemRow::as_select())
        .load(conn)
        .await?)
}

/// What one fetch of an item found.
#[derive(Debug, Clone)]
pub struct ItemFetch<'a> {
    pub state: ItemState,
    pub title: Option<&'a str>,
    pub article_id: Option<i64>,
    /// New validators (`None`: keep the old ones).
    pub validators: Option<(Option<String>, Option<String>)>,
    pub error: Option<String>,
}

pub async fn record_fetch(
    conn: &mut AsyncPgConnection,
    item: &WatchItemRow,
    fetch: ItemFetch<'_>,
) -> AppResult<()> {
    let (etag, last_modified) = fetch
        .validators
        .unwrap_or_else(|| (item.etag.clone(), item.last_modified.clone()));
    diesel::update(watch_items::table.find(item.id))
        .set((
            watch_items::state.eq(fetch.state),
            watch_items::title.eq(fetch.title.or(item.title.as_deref())),
            watch_items::article_id.eq(fetch.article_id.or(item.article_id)),
            watch_items::etag.eq(etag),
            watch_items::last_modified.eq(last_modified),
            watch_items::last_fetched_at.eq(Utc::now()),
            watch_items::last_error.eq(fetch.error),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// Holds an article for an editor to file. The first time, an audit event
/// says so, so that a newsroom tool following the event stream hears of
/// an article waiting for a story.
pub async fn hold(
    conn: &mut AsyncPgConnection,
    ctx: &AuditContext,
    item: &WatchItemRow,
    fetch: ItemFetch<'_>,
) -> AppResult<()> {
    let title = fetch.title.map(str::to_owned);
    conn.transaction(async |conn| {
        record_fetch(conn, item, fetch).await?;
        if item.state == ItemState::Held {
            return Ok(());
        }
        events::record(
            conn,
            ctx,
            EventRecord {
                action: AuditAction::WatchItemHeld,
                subject_type: "watch",
                subject_id: item.watch_id,
                story_id: None,
                before_revision: None,
                after_revision: None,
                details: json!({ "item_id": item.id, "url": item.url, "title": title }),
            },
        )
        .await
    })
    .await
}

pub async fn list(
    conn: &mut AsyncPgConnection,
    watch_id: i64,
    state: Option<ItemState>,
    page: PageRequest,
) -> AppResult<Page<WatchItemRow>> {
    super::watches::get(conn, watch_id).await?;
    let mut query = watch_items::table
        .filter(watch_items::watch_id.eq(watch_id))
        .select(WatchItemRow::as_select())
        .into_boxed();
    if let Some(state) = state {
        query = query.filter(watch_items::state.eq(state));
    }
    let rows: Vec<WatchItemRow> = keyset!(query, watch_items::id, page).load(conn).await?;
    Ok(Page::from_rows(rows, page.limit, |i| i.id))
}

/// Articles held for an editor, across every watch, newest first.
pub async fn held(
    conn: &mut AsyncPgConnection,
    page: PageRequest,
) -> AppResult<Page<WatchItemRow>> {
    let query = watch_items::table
        .filter(watch_items::state.eq(ItemState::Held))
        .select(WatchItemRow::as_select())
        .into_boxed();
    let rows: Vec<WatchItemRow> = keyset!(query, watch_items::id, page).load(conn).await?;
    Ok(Page::from_rows(rows, page.limit, |i| i.id))
}

/// Files a held (or skipped) article into a story: it is followed from the
/// next poll on, and recorded into that story.
pub async fn file(
    conn: &mut AsyncPgConnection,
    ctx: &AuditContext,
    watch_id: i64,
    item_id: i64,
    story_id: i64,
) -> AppResult<WatchItemRow> {
    conn.transaction(async |conn| {
        let item: WatchItemRow = watch_items::table
            .filter(watch_items::watch_id.eq(watch_id))
            .filter(watch_items::id.eq(item_id))
            .select(WatchItemRow::as_select())
            .for_update()
            .first(conn)
            .await
            .optional()?
            .ok_or_else(|| AppError::not_found(format!("item {item_id} of watch {watch_id}")))?;
        if !matches!(item.state, ItemState::Held | ItemState::Skipped) {
            return Err(AppError::Conflict {
                detail: format!(
                    "item {item_id} is {}; only held or skipped articles are filed",
                    item.state
                ),
                existing_id: item.article_id,
            });
        }
        if !stories::exists(conn, story_id).await? {
            return Err(AppError::invalid(
                "story_id",
                format!("story {story_id} does not exist"),
            ));
        }
        let row: WatchItemRow = diesel::update(watch_items::table.find(item_id))
            .set((
                watch_items::state.eq(ItemState::Following),
                watch_items::story_id.eq(story_id),
                // Fetched in full on the next poll.
                watch_items::etag.eq(None::<String>),
                watch_items::last_modified.eq(None::<String>),
                watch_items::last_fetched_at.eq(None::<DateTime<Utc>>),
            ))
            .returning(WatchItemRow::as_returning())
            .get_result(conn)
            .await?;
        events::record(
            conn,
            ctx,
            EventRecord {
                action: AuditAction::WatchItemFiled,
                subject_type: "watch",
                subject_id: watch_id,
                story_id: Some(story_id),
                before_revision: None,
                after_revision: None,
                details: json!({ "item_id": item_id, "url": row.url }),
            },
        )
        .await?;
        Ok(row)
    })
    .await
}
