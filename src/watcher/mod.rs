//! Polling a watch: fetch its address (politely: `fetcher`), read it as a
//! feed or an article page (`domain::outlet`), note the articles a feed
//! lists, fetch each followed article, and record every version with new
//! words through the article intake — the same write path as
//! `POST /v1/articles` — with the reason "detected change" and the watch as
//! the actor. The background loop that polls due watches is `poller`.

pub mod poller;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::domain::article::{NewArticle, normalize_url};
use crate::domain::outlet::change::{Change, compare, version_key};
use crate::domain::outlet::charset::decode_page;
use crate::domain::outlet::feed::read_feed;
use crate::domain::outlet::page::read_page;
use crate::domain::text::byte_offset;
use crate::domain::validation::{MAX_SHORT_TEXT, plausible_time};
use crate::domain::watch::{self, Destination, ItemState, PollOutcome, WatchKind};
use crate::error::{AppError, AppResult};
use crate::fetcher::{FetchSettings, Fetched, Fetcher, Page, Validators};
use crate::storage::article_captures::Capture;
use crate::storage::article_intake::{self, Intake, IntakeSettings};
use crate::storage::articles::{self, PostOutcome};
use crate::storage::events::AuditContext;
use crate::storage::pool::DbPool;
use crate::storage::watch_items::{self, Found, ItemFetch, WatchItemRow};
use crate::storage::watches::{self, PollResult, WatchRow};

#[derive(Debug, Clone)]
pub struct WatcherSettings {
    pub fetch: FetchSettings,
    pub intake: IntakeSettings,
    /// Longest article text recorded, in characters.
    pub max_body_chars: usize,
    /// Watches polled at once by the background poller.
    pub concurrency: usize,
    /// How often the background poller looks for due watches; `None`: no
    /// background poller (polls happen only when asked for).
    pub tick: Option<std::time::Duration>,
}

/// One per service: the fetcher (its per-host turns and robots.txt cache
/// are shared by every watch) and what recording needs.
pub struct Watcher {
    fetcher: Fetcher,
    settings: WatcherSettings,
}

/// A recorded version.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RecordedVersion {
    pub article_id: i64,
    pub revision: i32,
    pub url: String,
    /// Claims whose appearances were carried to the new revision.
    pub claims_affected: usize,
    /// Claims proposed by extraction (a watch with `extract`).
    pub claims_proposed: usize,
}

/// What one poll did.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PollReport {
    pub watch_id: i64,
    pub outcome: PollOutcome,
    pub kind: Option<WatchKind>,
    /// Why the poll failed.
    pub error: Option<String>,
    /// Articles a feed listed for the first time.
    pub found: usize,
    /// Article pages fetched (for a page watch, its own page).
    pub fetched: usize,
    /// New articles.
    pub created: Vec<RecordedVersion>,
    /// New revisions of known articles.
    pub revised: Vec<RecordedVersion>,
    /// Fetched with the very same text.
    pub unchanged: usize,
    /// Fetched with the same words in a new layout (spaces, line breaks,
    /// composed accents): no revision.
    pub cosmetic: usize,
    /// 304 from the outlet.
    pub not_modified: usize,
    pub held: usize,
    pub skipped: usize,
    pub unreadable: usize,
    /// Article pages that could not be fetched or recorded this time.
    pub failed: usize,
    pub next_poll_at: Option<DateTime<Utc>>,
}

impl PollReport {
    fn new(watch: &WatchRow) -> Self {
        PollReport {
            watch_id: watch.id,
            outcome: PollOutcome::Failed,
            kind: watch.kind,
            error: None,
            found: 0,
            fetched: 0,
            created: Vec::new(),
            revised: Vec::new(),
            unchanged: 0,
            cosmetic: 0,
            not_modified: 0,
            held: 0,
            skipped: 0,
            unreadable: 0,
            failed: 0,
            next_poll_at: None,
        }
    }
}

/// A poll asked for now holds its watch this long at most before another
/// poller may take it (the poll's end sets the real next time).
pub const LEASE: std::time::Duration = std::time::Duration::from_secs(30 * 60);

/// What a fetched body turned out to be.
enum Body {
    Page,
    Feed(Vec<Found>),
}

impl Watcher {
    pub fn new(settings: WatcherSettings) -> anyhow::Result<Self> {
        Ok(Watcher {
            fetcher: Fetcher::new(settings.fetch.clone())?,
            settings,
        })
    }

    pub fn settings(&self) -> &WatcherSettings {
        &self.settings
    }

    /// Polls one watch now (paused or not), for an editor or the CLI.
    pub async fn poll_now(&self, pool: &DbPool, id: i64) -> AppResult<PollReport> {
        let watch = {
            let mut conn = pool.get().await?;
            watches::lease_now(&mut conn, id, LEASE).await?
        };
        self.poll(pool, watch).await
    }

    /// Polls every due watch (at most `limit`), one after another.
    pub async fn poll_due(&self, pool: &DbPool, limit: i64) -> AppResult<Vec<PollReport>> {
        let due = {
            let mut conn = pool.get().await?;
            watches::lease_due(&mut conn, limit, LEASE).await?
        };
        let mut reports = Vec::with_capacity(due.len());
        for watch in due {
            reports.push(self.poll(pool, watch).await?);
        }
        Ok(reports)
    }

    /// One poll of a leased watch. A failure of the outlet is the poll's
    /// outcome (and backs the watch off), not an error; an error is the
    /// database's, and ends the poll's lease so that it can be tried again.
    pub async fn poll(&self, pool: &DbPool, watch: WatchRow) -> AppResult<PollReport> {
        let id = watch.id;
        let polled = self.poll_leased(pool, watch).await;
        if polled.is_err()
            && let Ok(mut conn) = pool.get().await
        {
            let _ = watches::release(&mut conn, id).await;
        }
        polled
    }

    async fn poll_leased(&self, pool: &DbPool, watch: WatchRow) -> AppResult<PollReport> {
        let mut report = PollReport::new(&watch);
        let validators = Validators {
            etag: watch.etag.clone(),
            last_modified: watch.last_modified.clone(),
        };
        let mut result = PollResult {
            outcome: PollOutcome::Failed,
            kind: None,
            error: None,
            etag: None,
            last_modified: None,
            retry_after: None,
        };
        let mut follow_items = watch.kind == Some(WatchKind::Feed);
        match self.fetcher.fetch(&watch.url, &validators).await {
            Err(e) => {
                result.error = Some(e.to_string());
                result.retry_after = e.retry_after();
                follow_items = false;
            }
            Ok(Fetched::NotModified) => {
                result.outcome = PollOutcome::NotModified;
                if watch.kind != Some(WatchKind::Feed) {
                    report.not_modified += 1;
                }
            }
            Ok(Fetched::Body(page)) => match classify(&page, watch.kind) {
                Err(why) => {
                    result.error = Some(why);
                    follow_items = false;
                }
                Ok(Body::Page) => {
                    result = fetched_result(&page, WatchKind::Page);
                    follow_items = false;
                    let item = {
                        let mut conn = pool.get().await?;
                        watch_items::upsert_one(&mut conn, watch.id, &watch.url).await?
                    };
                    report.fetched += 1;
                    self.record_item(pool, &watch, &item, page, false, &mut report)
                        .await?;
                }
                Ok(Body::Feed(found)) => {
                    result = fetched_result(&page, WatchKind::Feed);
                    follow_items = true;
                    let mut conn = pool.get().await?;
                    report.found = watch_items::add_found(&mut conn, watch.id, &found).await?;
                }
            },
        }
        if follow_items {
            let due = {
                let mut conn = pool.get().await?;
                watch_items::due(&mut conn, watch.id).await?
            };
            for item in due {
                self.follow(pool, &watch, &item, &mut report).await?;
            }
        }
        report.outcome = result.outcome;
        report.kind = result.kind.or(watch.kind);
        report.error = result.error.clone();
        let mut conn = pool.get().await?;
        let after = watches::finish_poll(&mut conn, &watch, result).await?;
        report.next_poll_at = after.filter(|w| !w.paused).map(|w| w.next_poll_at);
        if let Some(error) = &report.error {
            tracing::info!(watch = watch.id, url = %watch.url, %error, "watch poll failed");
        }
        Ok(report)
    }

    /// Fetches one article a feed listed (with its validators) and records
    /// what it holds.
    async fn follow(
        &self,
        pool: &DbPool,
        watch: &WatchRow,
        item: &WatchItemRow,
        report: &mut PollReport,
    ) -> AppResult<()> {
        let validators = Validators {
            etag: item.etag.clone(),
            last_modified: item.last_modified.clone(),
        };
        let fetched = self.fetcher.fetch(&item.url, &validators).await;
        let mut conn = pool.get().await?;
        match fetched {
            Err(e) => {
                report.failed += 1;
                let state = if e.is_transient() {
                    ItemState::Following
                } else {
                    ItemState::Unreadable
                };
                watch_items::record_fetch(&mut conn, item, failure(state, e.to_string())).await
            }
            Ok(Fetched::NotModified) => {
                report.not_modified += 1;
                watch_items::record_fetch(
                    &mut conn,
                    item,
                    ItemFetch {
                        state: ItemState::Following,
                        title: None,
                        article_id: None,
                        validators: None,
                        error: None,
                    },
                )
                .await
            }
            Ok(Fetched::Body(page)) => {
                drop(conn);
                report.fetched += 1;
                self.record_item(pool, watch, item, page, true, report)
                    .await
            }
        }
    }

    /// Reads an article page and records it when its words are new.
    async fn record_item(
        &self,
        pool: &DbPool,
        watch: &WatchRow,
        item: &WatchItemRow,
        page: Page,
        keep_validators: bool,
        report: &mut PollReport,
    ) -> AppResult<()> {
        let validators = keep_validators.then(|| (page.etag.clone(), page.last_modified.clone()));
        let mut conn = pool.get().await?;
        if !is_html(&page.media_type) {
            report.unreadable += 1;
            let why = format!("not an HTML page ({})", media_label(&page.media_type));
            return watch_items::record_fetch(&mut conn, item, failure(ItemState::Unreadable, why))
                .await;
        }
        let html = decode_page(&page.body, page.charset.as_deref());
        let read = match read_page(&html, &page.final_url) {
            Ok(read) => read,
            Err(e) => {
                report.unreadable += 1;
                return watch_items::record_fetch(
                    &mut conn,
                    item,
                    failure(ItemState::Unreadable, e.to_string()),
                )
                .await;
            }
        };
        let headline = short(
            read.headline
                .clone()
                .or_else(|| item.title.clone())
                .unwrap_or_else(|| item.url.clone()),
        );
        let fetched =
            |state: ItemState, article_id: Option<i64>, error: Option<String>| ItemFetch {
                state,
                title: Some(&headline),
                article_id,
                validators: validators.clone(),
                error,
            };
        let story = match watch::destination(
            watch.filing,
            watch.story_id,
            &watch.keywords,
            item.story_id,
            &headline,
            &read.body,
        ) {
            Destination::Hold => {
                report.held += 1;
                let ctx = AuditContext::system(&watch::actor(watch.id));
                return watch_items::hold(
                    &mut conn,
                    &ctx,
                    item,
                    fetched(ItemState::Held, None, None),
                )
                .await;
            }
            Destination::Skip => {
                report.skipped += 1;
                return watch_items::record_fetch(
                    &mut conn,
                    item,
                    fetched(ItemState::Skipped, None, None),
                )
                .await;
            }
            Destination::Story(story) => story,
        };
        let url = match normalize_url(&item.url) {
            Ok(url) => url,
            Err(why) => {
                report.failed += 1;
                return watch_items::record_fetch(
                    &mut conn,
                    item,
                    failure(ItemState::Unreadable, why),
                )
                .await;
            }
        };
        let known = articles::find_by_url(&mut conn, &url).await?;
        if let Some(current) = &known {
            let same_headline = version_key(&current.headline) == version_key(&headline);
            let change = compare(&current.body, &read.body);
            if same_headline && change != Change::Changed {
                if change == Change::Same {
                    report.unchanged += 1;
                } else {
                    report.cosmetic += 1;
                }
                return watch_items::record_fetch(
                    &mut conn,
                    item,
                    fetched(ItemState::Following, Some(current.id), None),
                )
                .await;
            }
        }
        let published_at = read
            .published_at
            .or(item.published_at)
            .filter(|t| plausible_time(t).is_ok())
            .or(known.as_ref().map(|a| a.published_at))
            .unwrap_or_else(Utc::now);
        let outlet = short(
            read.site_name
                .clone()
                .filter(|s| !s.trim().is_empty())
                .or_else(|| url::Url::parse(&url).ok()?.host_str().map(str::to_owned))
                .unwrap_or_else(|| url.clone()),
        );
        let article = NewArticle {
            url: url.clone(),
            outlet,
            headline: headline.clone(),
            published_at,
            body: read.body,
            story_id: story,
            reason: known.is_some().then(|| watch::DETECTED_CHANGE.to_owned()),
        }
        .validate(self.settings.max_body_chars);
        let article = match article {
            Ok(article) => article,
            Err(e) => {
                report.failed += 1;
                return watch_items::record_fetch(
                    &mut conn,
                    item,
                    failure(ItemState::Unreadable, e.to_string()),
                )
                .await;
            }
        };
        let ctx = AuditContext::system(&watch::actor(watch.id));
        let intake = Intake {
            article,
            extract: watch.extract,
            capture: Some(Capture {
                watch_id: Some(watch.id),
                url: page.final_url.clone(),
                media_type: page.media_type.clone(),
                page: page.body,
            }),
        };
        match article_intake::record(&mut conn, &ctx, intake, self.settings.intake).await {
            Ok((posted, extraction)) => {
                let recorded = RecordedVersion {
                    article_id: posted.article.id,
                    revision: posted.article.revision,
                    url: posted.article.url.clone(),
                    claims_affected: posted.claims_affected.len(),
                    claims_proposed: extraction
                        .as_ref()
                        .and_then(|e| e.applied.as_ref())
                        .map_or(0, |a| a.claims.len()),
                };
                match posted.outcome {
                    PostOutcome::Created => report.created.push(recorded),
                    PostOutcome::Revised => report.revised.push(recorded),
                    PostOutcome::Unchanged => report.unchanged += 1,
                }
                watch_items::record_fetch(
                    &mut conn,
                    item,
                    fetched(ItemState::Following, Some(posted.article.id), None),
                )
                .await
            }
            // The address belongs to an article of another story, say: the
            // item says why; the poll goes on.
            Err(e @ (AppError::Conflict { .. } | AppError::Validation(_))) => {
                report.failed += 1;
                watch_items::record_fetch(
                    &mut conn,
                    item,
                    fetched(
                        ItemState::Following,
                        None,
                        Some(watch::error_line(&e.to_string())),
                    ),
                )
                .await
            }
            Err(e) => Err(e),
        }
    }
}

fn fetched_result(page: &Page, kind: WatchKind) -> PollResult {
    PollResult {
        outcome: PollOutcome::Fetched,
        kind: Some(kind),
        error: None,
        etag: page.etag.clone(),
        last_modified: page.last_modified.clone(),
        retry_after: None,
    }
}

fn failure(state: ItemState, error: String) -> ItemFetch<'static> {
    ItemFetch {
        state,
        title: None,
        article_id: None,
        validators: None,
        error: Some(watch::error_line(&error)),
    }
}

fn is_html(media_type: &str) -> bool {
    matches!(media_type, "text/html" | "application/xhtml+xml")
}

fn media_label(media_type: &str) -> &str {
    if media_type.is_empty() {
        "no media type"
    } else {
        media_type
    }
}

/// What the watch's own address holds: an HTML page is an article page
/// (unless the watch is known to be a feed); anything else must read as
/// a feed.
fn classify(page: &Page, known: Option<WatchKind>) -> Result<Body, String> {
    if is_html(&page.media_type) && known != Some(WatchKind::Feed) {
        return Ok(Body::Page);
    }
    match read_feed(&page.body, &page.final_url) {
        Ok(items) => Ok(Body::Feed(
            items
                .into_iter()
                .map(|i| Found {
                    url: i.url,
                    title: i.title.map(short),
                    published_at: i.published_at,
                })
                .collect(),
        )),
        Err(e) if is_html(&page.media_type) => Err(format!(
            "the feed is now an HTML page ({})",
            watch::error_line(&e.0)
        )),
        Err(e) => Err(format!(
            "{} is neither an article page nor a feed: {}",
            media_label(&page.media_type),
            e.0
        )),
    }
}

/// A title cut to what the ledger stores.
fn short(mut text: String) -> String {
    text.truncate(byte_offset(&text, MAX_SHORT_TEXT));
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(media_type: &str, body: &str) -> Page {
        Page {
            final_url: "https://news.example/x".into(),
            media_type: media_type.into(),
            charset: None,
            etag: None,
            last_modified: None,
            body: body.as_bytes().to_vec(),
        }
    }

    const ATOM: &str = "<?xml version=\"1.0\"?><feed xmlns=\"http://www.w3.org/2005/Atom\"><title>W</title><id>urn:w</id><updated>2026-12-07T09:00:00Z</updated>\
        <entry><title>Α</title><id>urn:a</id><updated>2026-12-07T09:00:00Z</updated><link href=\"/a?utm_medium=rss\"/></entry></feed>";

    #[test]
    fn html_is_a_page_and_a_feed_is_read_whatever_it_is_labelled() {
        assert!(matches!(
            classify(&page("text/html", "<p>x</p>"), None),
            Ok(Body::Page)
        ));
        // Served as text/plain or XML, an Atom feed is still a feed.
        for media in ["application/atom+xml", "text/plain", "application/xml", ""] {
            let Ok(Body::Feed(items)) = classify(&page(media, ATOM), None) else {
                panic!("{media}")
            };
            assert_eq!(
                items,
                [Found {
                    url: "https://news.example/a".to_owned(),
                    title: Some("Α".to_owned()),
                    published_at: "2026-12-07T09:00:00Z".parse().ok(),
                }]
            );
        }
    }

    #[test]
    fn a_feed_that_turns_into_html_or_junk_is_a_failure() {
        let err = |r: Result<Body, String>| match r {
            Err(e) => e,
            Ok(_) => panic!("classified"),
        };
        assert!(
            err(classify(
                &page("text/html", "<p>x</p>"),
                Some(WatchKind::Feed)
            ))
            .contains("HTML page")
        );
        let pdf = err(classify(&page("application/pdf", "%PDF-1.7"), None));
        assert!(pdf.starts_with("application/pdf is neither"), "{pdf}");
        assert!(err(classify(&page("", "?"), None)).starts_with("no media type"));
    }

    #[test]
    fn titles_are_cut_to_what_the_ledger_stores() {
        let long = "字".repeat(MAX_SHORT_TEXT + 10);
        assert_eq!(short(long).chars().count(), MAX_SHORT_TEXT);
        assert_eq!(short("Ναυάγιο".into()), "Ναυάγιο");
    }
}
