//! `GET /v1/search`.

use actix_web::{HttpResponse, web};
use serde::Deserialize;

use crate::domain::claim::{ClaimKind, ClaimStatus};
use crate::error::AppError;
use crate::http::auth::Caller;
use crate::http::pagination::{PageBody, decode_cursor, encode_cursor};
use crate::http::read_conn::ReadConn;
use crate::storage::SortOrder;
use crate::storage::search::{self, SearchFilter};

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SearchQuery {
    /// Web-search syntax: words, "exact phrases", -excluded, or.
    #[param(required = true, min_length = 1, max_length = 500)]
    q: Option<String>,
    #[serde(alias = "story_id")]
    #[param(minimum = 1)]
    story: Option<i64>,
    #[serde(alias = "speaker_id")]
    #[param(minimum = 1)]
    speaker: Option<i64>,
    status: Option<ClaimStatus>,
    kind: Option<ClaimKind>,
    /// Comma-separated: claim, speaker, article (default: all).
    types: Option<String>,
    #[param(minimum = 1, maximum = 100)]
    limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
}

#[utoipa::path(
    get,
    path = "/v1/search",
    tag = "search",
    params(SearchQuery),
    responses(
        (status = 200, description = "Claims, speakers and articles matching the query, best first", body = PageBody<crate::storage::search::Hit>),
    ),
)]
pub async fn search(
    caller: Caller,
    query: web::Query<SearchQuery>,
    mut conn: ReadConn,
) -> Result<HttpResponse, AppError> {
    caller.allow_read()?;
    let query = query.into_inner();
    // An empty `q=` arrives as no `q` at all (empty values are left out).
    let q = query.q.as_deref().unwrap_or_default().trim();
    if q.contains('\0') {
        return Err(AppError::invalid("q", "must not contain NUL characters"));
    }
    if q.is_empty() || q.chars().count() > 500 {
        return Err(AppError::invalid(
            "q",
            "is required: 1–500 characters of web-search syntax",
        ));
    }
    let limit = query.limit.unwrap_or(20);
    if !(1..=100).contains(&limit) {
        return Err(AppError::invalid("limit", "must be between 1 and 100"));
    }
    let mut filter = SearchFilter {
        story_id: query.story,
        speaker_id: query.speaker,
        status: query.status,
        kind: query.kind,
        claims: true,
        speakers: true,
        articles: true,
    };
    if let Some(types) = query.types.as_deref() {
        filter.claims = false;
        filter.speakers = false;
        filter.articles = false;
        for t in types.split(',').map(str::trim) {
            match t {
                "claim" | "claims" => filter.claims = true,
                "speaker" | "speakers" => filter.speakers = true,
                "article" | "articles" => filter.articles = true,
                other => {
                    return Err(AppError::invalid(
                        "types",
                        format!("unknown type {other:?}; use claim, speaker, article"),
                    ));
                }
            }
        }
    }
    // Hits are ranked, so a search cursor is a position in the ranking.
    let offset = match query.cursor.as_deref() {
        None => 0,
        Some(cursor) => match decode_cursor(cursor) {
            Some((SortOrder::Desc, offset)) if (0..=search::MAX_OFFSET).contains(&offset) => offset,
            _ => {
                return Err(AppError::BadRequest(
                    "cursor is not one this server issued; start again without it".into(),
                ));
            }
        },
    };
    let page = search::search(&mut conn, q, &filter, limit, offset).await?;
    Ok(HttpResponse::Ok().json(PageBody {
        items: page.items,
        next_cursor: page
            .next_after
            .map(|next| encode_cursor(SortOrder::Desc, next)),
    }))
}
