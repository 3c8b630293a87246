//! Articles and their revisions.

use std::time::Duration;

use chrono::{DateTime, Utc};
use diesel::{
    BoolExpressionMethods, ExpressionMethods, JoinOnDsl, OptionalExtension, QueryDsl,
    SelectableHelper,
};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde::Serialize;
use serde_json::json;

use super::claims::{self, ClaimCarry};
use super::events::{self, AuditContext, EventRecord};
use super::models::{ArticleRevisionRow, ArticleRow, NewArticleRevisionRow, NewArticleRow};
use super::schema::{article_revisions, articles, claim_reviews};
use super::stories;
use super::text_keys;
use crate::domain::article::{ValidArticle, repost_warnings, trailing_slash_twin};
use crate::domain::audit::AuditAction;
use crate::domain::claim::AppearanceState;
use crate::domain::diff::Alignment;
use crate::domain::revision::{RevisionNumber, diff_range};
use crate::error::{AppError, AppResult};
use crate::storage::{Page, PageRequest, keyset};

/// An article with its current (or a chosen) revision.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ArticleView {
    pub id: i64,
    pub story_id: i64,
    pub url: String,
    pub outlet: String,
    pub published_at: DateTime<Utc>,
    pub revision: i32,
    pub headline: String,
    pub body: String,
    pub body_sha256: String,
    pub body_chars: i32,
    pub created_at: DateTime<Utc>,
    pub recorded_at: DateTime<Utc>,
}

impl ArticleView {
    fn new(article: ArticleRow, rev: ArticleRevisionRow) -> Self {
        ArticleView {
            id: article.id,
            story_id: article.story_id,
            url: article.url,
            outlet: article.outlet,
            published_at: article.published_at,
            revision: rev.revision,
            headline: rev.headline,
            body: rev.body,
            body_sha256: hex::encode(rev.body_sha256),
            body_chars: rev.body_chars,
            created_at: article.created_at,
            recorded_at: rev.recorded_at,
        }
    }
}

/// What posting an article did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum PostOutcome {
    /// A new article (revision 1).
    Created,
    /// A known URL with a new body or headline: a new revision.
    Revised,
    /// A known URL with the same body and headline: nothing written.
    Unchanged,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ArticlePost {
    pub outcome: PostOutcome,
    #[serde(flatten)]
    pub article: ArticleView,
    /// The revision that was current before this post: null for a new
    /// article, the current revision itself when nothing changed.
    pub previous_revision: Option<i32>,
    /// For a revision: every claim whose appearances were carried to it.
    pub claims_affected: Vec<ClaimCarry>,
    /// What the post asked for that a repost does not change (the URL's
    /// spelling, the outlet, the publication time).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// Posts an article: a new URL creates it; a known URL appends a revision
/// when the body or headline changed (and carries its claims' appearances to
/// it), or writes nothing when they did not.
pub async fn post(
    conn: &mut AsyncPgConnection,
    ctx: &AuditContext,
    article: ValidArticle,
    diff_timeout: Duration,
) -> AppResult<ArticlePost> {
    conn.transaction(async |conn| {
        // The URL as posted, or else its twin with or without a trailing slash.
        let twin = trailing_slash_twin(&article.url);
        let mut existing: Vec<ArticleRow> = articles::table
            .filter(articles::url.eq_any([Some(&article.url), twin.as_ref()].into_iter().flatten()))
            .select(ArticleRow::as_select())
            .for_update()
            .load(conn)
            .await?;
        existing.sort_by_key(|row| row.url != article.url);
        match existing.into_iter().next() {
            None => create(conn, ctx, &article).await,
            Some(row) => {
                let warnings = repost_warnings(&row.url, &row.outlet, row.published_at, &article);
                let mut posted = revise(conn, ctx, row, &article, diff_timeout).await?;
                posted.warnings = warnings;
                Ok(posted)
            }
        }
    })
    .await
}

async fn create(
    conn: &mut AsyncPgConnection,
    ctx: &AuditContext,
    article: &ValidArticle,
) -> AppResult<ArticlePost> {
    if !stories::exists(conn, article.story_id).await? {
        return Err(AppError::invalid(
            "story_id",
            format!("story {} does not exist", article.story_id),
        ));
    }
    let first = RevisionNumber::FIRST.get();
    let row: ArticleRow = diesel::insert_into(articles::table)
        .values(NewArticleRow {
            story_id: article.story_id,
            url: &article.url,
            outlet: &article.outlet,
            published_at: article.published_at,
            current_revision: first,
            search_terms: &text_keys::article_terms(&article.headline),
        })
        .returning(ArticleRow::as_returning())
        .get_result(conn)
        .await?;
    let rev = insert_revision(conn, ctx, row.id, first, article).await?;
    events::record(
        conn,
        ctx,
        EventRecord {
            action: AuditAction::ArticleCreated,
            subject_type: "article",
            subject_id: row.id,
            story_id: Some(row.story_id),
            before_revision: None,
            after_revision: Some(first),
            details: json!({ "url": row.url, "body_sha256": hex::encode(&rev.body_sha256) })
                .with_reason(article.reason.as_deref()),
        },
    )
    .await?;
    Ok(ArticlePost {
        outcome: PostOutcome::Created,
        article: ArticleView::new(row, rev),
        previous_revision: None,
        claims_affected: Vec::new(),
        warnings: Vec::new(),
    })
}

async fn insert_revision(
    conn: &mut AsyncPgConnection,
    ctx: &AuditContext,
    article_id: i64,
    revision: i32,
    article: &ValidArticle,
) -> AppResult<ArticleRevisionRow> {
    Ok(diesel::insert_into(article_revisions::table)
        .values(NewArticleRevisionRow {
            article_id,
            revision,
            headline: &article.headline,
            body: &article.body.text,
            body_sha256: &article.body.sha256,
            body_chars: article.body.chars,
            author: &ctx.actor,
            reason: article.reason.as_deref(),
        })
        .returning(ArticleRevisionRow::as_returning())
        .get_result(conn)
        .await?)
}

async fn revise(
    conn: &mut AsyncPgConnection,
    ctx: &AuditContext,
    row: ArticleRow,
    article: &ValidArticle,
    diff_timeout: Duration,
) -> AppResult<ArticlePost> {
    if row.story_id != article.story_id {
        return Err(AppError::Conflict {
            detail: format!(
                "article {} at this url belongs to story {}, not {}",
                row.id, row.story_id, article.story_id
            ),
            existing_id: Some(row.id),
        });
    }
    let current: ArticleRevisionRow = article_revisions::table
        .find((row.id, row.current_revision))
        .select(ArticleRevisionRow::as_select())
        .first(conn)
        .await?;
    // The hash says whether the body changed without comparing megabytes.
    if current.body_sha256 == article.body.sha256 && current.headline == article.headline {
        return Ok(ArticlePost {
            outcome: PostOutcome::Unchanged,
            previous_revision: Some(current.revision),
            article: ArticleView::new(row, current),
            claims_affected: Vec::new(),
            warnings: Vec::new(),
        });
    }
    let from = current.revision;
    let to = RevisionNumber::new(from)
        .ok_or_else(|| anyhow::anyhow!("article {} has revision {from}", row.id))?
        .next()?
        .get();
    let rev = insert_revision(conn, ctx, row.id, to, article).await?;
    let row: ArticleRow = diesel::update(articles::table.find(row.id))
        .set((
            articles::current_revision.eq(to),
            articles::updated_at.eq(diesel::dsl::now),
            articles::search_terms.eq(text_keys::article_terms(&article.headline)),
        ))
        .returning(ArticleRow::as_returning())
        .get_result(conn)
        .await?;
    let alignment = Alignment::sentences(&current.body, &rev.body, diff_timeout);
    let carried = claims::carry_appearances(conn, ctx, row.id, from, to, &alignment).await?;
    let count = |state: AppearanceState| {
        carried
            .iter()
            .flat_map(|c| &c.appearances)
            .filter(|a| a.state == state)
            .count()
    };
    let (inserted, deleted) = alignment.churn();
    let reviewed = reviewed_among(conn, &carried).await?;
    events::record(
        conn,
        ctx,
        EventRecord {
            action: AuditAction::ArticleRevised,
            subject_type: "article",
            subject_id: row.id,
            story_id: Some(row.story_id),
            before_revision: Some(from),
            after_revision: Some(to),
            details: json!({
                "body_sha256": hex::encode(&rev.body_sha256),
                "headline_changed": current.headline != rev.headline,
                "inserted_chars": inserted, "deleted_chars": deleted,
                "claims_affected": carried.len(),
                "present": count(AppearanceState::Present),
                "altered": count(AppearanceState::Altered),
                "removed": count(AppearanceState::Removed),
                "restored": count(AppearanceState::Restored),
                // What a newsroom alerts on: an edit touching checked claims.
                "reviewed_claims_affected": reviewed,
            })
            .with_reason(article.reason.as_deref()),
        },
    )
    .await?;
    Ok(ArticlePost {
        outcome: PostOutcome::Revised,
        article: ArticleView::new(row, rev),
        previous_revision: Some(from),
        claims_affected: carried,
        warnings: Vec::new(),
    })
}

/// An article event's details name the reason its poster gave (a watch:
/// "detected change"), when one was given.
trait WithReason {
    fn with_reason(self, reason: Option<&str>) -> Self;
}

impl WithReason for serde_json::Value {
    fn with_reason(mut self, reason: Option<&str>) -> Self {
        if let (Some(reason), Some(map)) = (reason, self.as_object_mut()) {
            map.insert("reason".into(), reason.into());
        }
        self
    }
}

/// How many of the carried claims have been given a verdict.
async fn reviewed_among(conn: &mut AsyncPgConnection, carried: &[ClaimCarry]) -> AppResult<i64> {
    if carried.is_empty() {
        return Ok(0);
    }
    let ids: Vec<i64> = carried.iter().map(|c| c.claim_id).collect();
    let reviewed: Vec<i64> = claim_reviews::table
        .filter(claim_reviews::claim_id.eq_any(ids))
        .select(claim_reviews::claim_id)
        .distinct()
        .load(conn)
        .await?;
    Ok(i64::try_from(reviewed.len()).unwrap_or(i64::MAX))
}

/// The current revision of the article at `url` (as normalized), if any.
pub async fn find_by_url(
    conn: &mut AsyncPgConnection,
    url: &str,
) -> AppResult<Option<ArticleView>> {
    let id: Option<i64> = articles::table
        .filter(articles::url.eq(url))
        .select(articles::id)
        .first(conn)
        .await
        .optional()?;
    match id {
        Some(id) => Ok(Some(get(conn, id).await?)),
        None => Ok(None),
    }
}

pub async fn get(conn: &mut AsyncPgConnection, id: i64) -> AppResult<ArticleView> {
    current(conn, id, false).await
}

/// The article's current revision, its row locked until the transaction
/// ends: no revision can be posted meanwhile.
pub async fn get_locked(conn: &mut AsyncPgConnection, id: i64) -> AppResult<ArticleView> {
    current(conn, id, true).await
}

async fn current(conn: &mut AsyncPgConnection, id: i64, lock: bool) -> AppResult<ArticleView> {
    let query = articles::table
        .inner_join(
            article_revisions::table.on(article_revisions::article_id
                .eq(articles::id)
                .and(article_revisions::revision.eq(articles::current_revision))),
        )
        .filter(articles::id.eq(id))
        .select((ArticleRow::as_select(), ArticleRevisionRow::as_select()));
    // Only the head row is locked: locking the joined revision too would
    // need UPDATE rights on the append-only revisions, which the service's
    // role does not have.
    if lock {
        articles::table
            .find(id)
            .select(articles::id)
            .for_update()
            .first::<i64>(conn)
            .await
            .optional()?
            .ok_or_else(|| AppError::not_found(format!("article {id}")))?;
    }
    let found: Option<(ArticleRow, ArticleRevisionRow)> = query.first(conn).await.optional()?;
    let (article, rev) = found.ok_or_else(|| AppError::not_found(format!("article {id}")))?;
    Ok(ArticleView::new(article, rev))
}

/// A revision's metadata, without its body.
#[derive(Debug, Clone, diesel::Queryable, diesel::Selectable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = article_revisions, check_for_backend(diesel::pg::Pg))]
pub struct ArticleRevisionSummary {
    pub revision: i32,
    pub headline: String,
    #[serde(serialize_with = "super::hex_bytes")]
    #[schema(value_type = String, pattern = "^[0-9a-f]{64}$")]
    pub body_sha256: Vec<u8>,
    pub body_chars: i32,
    pub author: String,
    pub reason: Option<String>,
    pub recorded_at: DateTime<Utc>,
}

/// A page of the article's revisions (without bodies), keyed by revision number.
pub async fn revisions(
    conn: &mut AsyncPgConnection,
    id: i64,
    page: PageRequest,
) -> AppResult<Page<ArticleRevisionSummary>> {
    let query = article_revisions::table
        .filter(article_revisions::article_id.eq(id))
        .select(ArticleRevisionSummary::as_select())
        .into_boxed();
    let rows: Vec<ArticleRevisionSummary> =
        keyset!(query, article_revisions::revision, page, as i32)
            .load(conn)
            .await?;
    if rows.is_empty() {
        let exists = diesel::select(diesel::dsl::exists(articles::table.find(id)))
            .get_result::<bool>(conn)
            .await?;
        if page.after.is_none() || !exists {
            return Err(AppError::not_found(format!("article {id}")));
        }
    }
    Ok(Page::from_rows(rows, page.limit, |r| i64::from(r.revision)))
}

/// The article as of revision `n`.
pub async fn revision(conn: &mut AsyncPgConnection, id: i64, n: i32) -> AppResult<ArticleView> {
    let article: ArticleRow = articles::table
        .find(id)
        .select(ArticleRow::as_select())
        .first(conn)
        .await
        .optional()?
        .ok_or_else(|| AppError::not_found(format!("article {id}")))?;
    let rev: ArticleRevisionRow = article_revisions::table
        .find((id, n))
        .select(ArticleRevisionRow::as_select())
        .first(conn)
        .await
        .optional()?
        .ok_or_else(|| AppError::not_found(format!("revision {n} of article {id}")))?;
    Ok(ArticleView::new(article, rev))
}

/// Two revisions of an article (default: previous → current), for diffing.
pub async fn revision_pair(
    conn: &mut AsyncPgConnection,
    id: i64,
    from: Option<i32>,
    to: Option<i32>,
) -> AppResult<(ArticleView, ArticleView)> {
    let current: i32 = articles::table
        .find(id)
        .select(articles::current_revision)
        .first(conn)
        .await
        .optional()?
        .ok_or_else(|| AppError::not_found(format!("article {id}")))?;
    let (from, to) = diff_range(current, from, to);
    Ok((
        revision(conn, id, from).await?,
        revision(conn, id, to).await?,
    ))
}

/// The article as recorded at `at`; 404 when it did not exist yet.
pub async fn as_of(
    conn: &mut AsyncPgConnection,
    id: i64,
    at: DateTime<Utc>,
) -> AppResult<ArticleView> {
    let article: ArticleRow = articles::table
        .find(id)
        .select(ArticleRow::as_select())
        .first(conn)
        .await
        .optional()?
        .ok_or_else(|| AppError::not_found(format!("article {id}")))?;
    let rev: ArticleRevisionRow = article_revisions::table
        .filter(article_revisions::article_id.eq(id))
        .filter(article_revisions::recorded_at.le(at))
        .order(article_revisions::revision.desc())
        .select(ArticleRevisionRow::as_select())
        .first(conn)
        .await
        .optional()?
        .ok_or_else(|| {
            AppError::NotFound(format!(
                "article {id} was not yet recorded at {}",
                at.to_rfc3339()
            ))
        })?;
    Ok(ArticleView::new(article, rev))
}
