//! Storage: diesel models and queries, migrations, the connection pool and the
//! embedded PostgreSQL cluster. Every write here runs in one transaction with
//! its revision rows and its audit event.

pub mod article_captures;
pub mod article_intake;
pub mod articles;
pub mod audit_log;
pub mod audit_verify;
pub mod browser_sessions;
pub mod claimreview;
pub mod claims;
pub mod cluster;
pub mod distribution;
pub mod events;
pub mod extraction;
pub mod idempotency;
pub mod import;
pub mod lsn;
pub mod migrate;
pub mod models;
pub mod notifications;
pub mod pool;
pub mod prepared;
pub mod privileges;
pub mod query_count;
pub mod relations;
pub mod replicas;
pub mod reviews;
pub mod schema;
pub mod search;
pub mod signing_key;
pub mod speakers;
pub mod stories;
pub mod text_keys;
pub mod users;
pub mod watch_items;
pub mod watches;

/// Which way a keyset-paginated list runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SortOrder {
    /// Newest first (the default): later inserts never shift later pages.
    #[default]
    Desc,
    Asc,
}

/// One page request: rows after `after` (exclusive) in `order`.
#[derive(Debug, Clone, Copy)]
pub struct PageRequest {
    pub after: Option<i64>,
    pub limit: i64,
    pub order: SortOrder,
}

/// One page of results; `next_after` is the key to continue from.
#[derive(Debug)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_after: Option<i64>,
}

impl<T> Page<T> {
    /// Builds a page from up to `limit + 1` rows fetched in order: the extra
    /// row only tells that another page exists.
    pub fn from_rows(mut rows: Vec<T>, limit: i64, key: impl Fn(&T) -> i64) -> Self {
        let limit = usize::try_from(limit).unwrap_or(0);
        let more = rows.len() > limit;
        rows.truncate(limit);
        let next_after = if more { rows.last().map(&key) } else { None };
        Page {
            items: rows,
            next_after,
        }
    }

    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            next_after: self.next_after,
        }
    }

    /// `map` with a conversion that can fail: the first error is the answer.
    pub fn try_map<U, E>(self, f: impl FnMut(T) -> Result<U, E>) -> Result<Page<U>, E> {
        Ok(Page {
            items: self.items.into_iter().map(f).collect::<Result<_, _>>()?,
            next_after: self.next_after,
        })
    }
}

/// Every row of a paged list, page after page (for the command line, which
/// prints whole lists).
pub async fn all_pages<T>(
    mut fetch: impl AsyncFnMut(PageRequest) -> crate::error::AppResult<Page<T>>,
) -> crate::error::AppResult<Vec<T>> {
    let mut all = Vec::new();
    let mut request = PageRequest {
        after: None,
        limit: 500,
        order: SortOrder::Asc,
    };
    loop {
        let page = fetch(request).await?;
        all.extend(page.items);
        match page.next_after {
            Some(after) => request.after = Some(after),
            None => return Ok(all),
        }
    }
}

/// Applies keyset pagination on an id column to a boxed diesel query.
/// `keyset!(query, column, page, as i32)` pages on a 32-bit key (a
/// revision number); a cursor beyond its range reads as its end.
macro_rules! keyset {
    ($query:expr, $id:expr, $page:expr) => {
        $crate::storage::keyset!($query, $id, $page, as i64)
    };
    ($query:expr, $id:expr, $page:expr, as $key:ty) => {{
        use diesel::{ExpressionMethods, QueryDsl};
        let page: $crate::storage::PageRequest = $page;
        let after = page
            .after
            .map(|a| <$key>::try_from(a).unwrap_or(if a < 0 { <$key>::MIN } else { <$key>::MAX }));
        let mut q = $query;
        match page.order {
            $crate::storage::SortOrder::Desc => {
                if let Some(after) = after {
                    q = q.filter($id.lt(after));
                }
                q.order($id.desc()).limit(page.limit + 1)
            }
            $crate::storage::SortOrder::Asc => {
                if let Some(after) = after {
                    q = q.filter($id.gt(after));
                }
                q.order($id.asc()).limit(page.limit + 1)
            }
        }
    }};
}
pub(crate) use keyset;

/// Digests (audit hashes, body SHA-256) travel as lowercase hex text.
pub(crate) fn hex_bytes<S: serde::Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&hex::encode(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_knows_whether_more_rows_follow() {
        let page = Page::from_rows(vec![9, 8, 7], 2, |n| *n);
        assert_eq!(page.items, [9, 8]);
        assert_eq!(page.next_after, Some(8));
        let last = Page::from_rows(vec![9, 8], 2, |n| *n);
        assert_eq!(last.next_after, None);
    }
}
