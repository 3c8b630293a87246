//! The watches page: every watch with how its last poll went, and the
//! articles held for an editor to file into a story (editors file them
//! from the row).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::Utc;
use serde::Deserialize;

use super::page::{Chrome, UiError, list_page, next_cursor, render, return_to, see_other};
use super::queue::age;
use super::session::Reviewer;
use crate::domain::auth::Action;
use crate::error::AppError;
use crate::http::read_conn::ReadConn;
use crate::http::server::AppState;
use crate::storage::watch_items::{self, WatchItemRow};
use crate::storage::watches::{self, WatchRow};
use crate::storage::{PageRequest, SortOrder};

/// Watches listed on one page (the rest behind "more").
const WATCHES_PER_PAGE: i64 = 100;

#[derive(Template)]
#[template(path = "watches.html")]
struct WatchesPage {
    chrome: Chrome,
    watches: Vec<WatchRow>,
    more_watches: Option<String>,
    held: Vec<(WatchItemRow, String)>,
    more_held: Option<String>,
    can_file: bool,
}

#[derive(Deserialize)]
pub struct WatchesQuery {
    watches: Option<String>,
    held: Option<String>,
}

pub async fn page(
    reviewer: Reviewer,
    query: web::Query<WatchesQuery>,
    mut conn: ReadConn,
) -> Result<HttpResponse, UiError> {
    let q = query.into_inner();
    let mut watch_page = list_page(q.watches.clone(), SortOrder::Desc)?;
    watch_page.limit = WATCHES_PER_PAGE;
    let listed = watches::list(&mut conn, watch_page).await?;
    let held_page: PageRequest = list_page(q.held.clone(), SortOrder::Desc)?;
    let held = watch_items::held(&mut conn, held_page).await?;
    drop(conn);
    let now = Utc::now();
    render(
        StatusCode::OK,
        &WatchesPage {
            can_file: reviewer.user().role.may(Action::ManageWatches),
            chrome: reviewer.chrome(),
            more_watches: next_cursor(SortOrder::Desc, listed.next_after)
                .map(|c| format!("/ui/watches?watches={c}")),
            watches: listed.items,
            more_held: next_cursor(SortOrder::Desc, held.next_after)
                .map(|c| format!("/ui/watches?held={c}#held-heading")),
            held: held
                .items
                .into_iter()
                .map(|item| {
                    let waiting = age(item.first_seen_at, now);
                    (item, waiting)
                })
                .collect(),
        },
    )
}

#[derive(Deserialize)]
pub struct FileForm {
    csrf: String,
    story_id: String,
    back: Option<String>,
}

/// Files a held article into the story given (the same storage call as
/// `POST /v1/watches/{id}/items/{item}/file`).
pub async fn file(
    state: web::Data<AppState>,
    reviewer: Reviewer,
    path: web::Path<(i64, i64)>,
    form: web::Form<FileForm>,
) -> Result<HttpResponse, UiError> {
    reviewer.check_form(&form.csrf)?;
    reviewer.user().role.require(Action::ManageWatches)?;
    let story_id = form
        .story_id
        .trim()
        .parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| AppError::invalid("story_id", "a story is named by its number"))?;
    let (watch_id, item_id) = path.into_inner();
    let mut conn = state.pool.get().await?;
    watch_items::file(&mut conn, &reviewer.audit(), watch_id, item_id, story_id).await?;
    Ok(see_other(return_to(form.back.as_deref())))
}
