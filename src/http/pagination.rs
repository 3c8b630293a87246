//! Keyset pagination as the API shows it: `limit`, an opaque `cursor`, and
//! `order`; responses are `{"items": [...], "next_cursor": "..."}`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

use crate::error::AppError;
use crate::storage::{Page, PageRequest, SortOrder};

pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 200;

/// The paging part of a list query.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PageParams {
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    pub cursor: Option<String>,
    pub order: Option<SortOrder>,
}

fn order_tag(order: SortOrder) -> &'static str {
    match order {
        SortOrder::Desc => "d",
        SortOrder::Asc => "a",
    }
}

/// A cursor names the last row of the previous page and the order it was
/// read in, so that a page followed with the cursor neither repeats nor skips
/// rows however many are inserted meanwhile.
pub fn encode_cursor(order: SortOrder, after: i64) -> String {
    URL_SAFE_NO_PAD.encode(format!("{}:{after}", order_tag(order)))
}

pub fn decode_cursor(cursor: &str) -> Option<(SortOrder, i64)> {
    let raw = String::from_utf8(URL_SAFE_NO_PAD.decode(cursor).ok()?).ok()?;
    let (tag, id) = raw.split_once(':')?;
    let order = match tag {
        "d" => SortOrder::Desc,
        "a" => SortOrder::Asc,
        _ => return None,
    };
    Some((order, id.parse().ok()?))
}

impl PageParams {
    /// The page asked for, newest first unless `order` says otherwise.
    pub fn page_request(&self) -> Result<PageRequest, AppError> {
        self.page_request_in(SortOrder::default())
    }

    /// The page asked for, in `default` order unless `order` says otherwise
    /// (a record's revisions and comments read oldest first).
    pub fn page_request_in(&self, default: SortOrder) -> Result<PageRequest, AppError> {
        let limit = self.limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(AppError::invalid(
                "limit",
                format!("must be between 1 and {MAX_LIMIT}"),
            ));
        }
        let (order, after) = match &self.cursor {
            None => (self.order.unwrap_or(default), None),
            Some(cursor) => {
                let (order, after) = decode_cursor(cursor).ok_or_else(|| {
                    AppError::BadRequest(
                        "cursor is not one this server issued; start again without it".into(),
                    )
                })?;
                if self.order.is_some_and(|o| o != order) {
                    return Err(AppError::BadRequest(
                        "cursor was issued for the other order; drop `order` or start again".into(),
                    ));
                }
                (order, Some(after))
            }
        };
        Ok(PageRequest {
            after,
            limit,
            order,
        })
    }
}

/// Every list the API returns: a page of items and the cursor of the next
/// page (null on the last).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PageBody<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

impl<T> PageBody<T> {
    pub fn new(page: Page<T>, request: PageRequest) -> Self {
        PageBody {
            items: page.items,
            next_cursor: page
                .next_after
                .map(|after| encode_cursor(request.order, after)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        let c = encode_cursor(SortOrder::Asc, 42);
        assert_eq!(decode_cursor(&c), Some((SortOrder::Asc, 42)));
        assert_eq!(decode_cursor("not-a-cursor"), None);
        let params = PageParams {
            limit: Some(10),
            cursor: Some(c),
            order: Some(SortOrder::Desc),
        };
        assert!(params.page_request().is_err());
        let params = PageParams {
            limit: Some(0),
            cursor: None,
            order: None,
        };
        assert!(params.page_request().is_err());
    }
}
