//! Articles and their revisions.

use chrono::{DateTime, Utc};
use diesel::{
    BoolExpressionMethods, ExpressionMethods, JoinOnDsl, OptionalExtension, QueryDsl,
    SelectableHelper,
};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde::Serialize;
use serde_json::json;

use super::events::{self, AuditContext, EventRecord};
use super::models::{ArticleRevisionRow, ArticleRow, NewArticleRevisionRow, NewArticleRow};
use super::schema::{article_revisions, articles};
use super::stories;
use crate::domain::article::ValidArticle;
use crate::domain::revision::RevisionNumber;
use crate::error::{AppError, AppResult};

/// An article with its current (or a chosen) revision.
#[derive(Debug, Clone, Serialize)]
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

pub async fn create(
    conn: &mut AsyncPgConnection,
    ctx: &AuditContext,
    article: ValidArticle,
) -> AppResult<ArticleView> {
    conn.transaction(async |conn| {
        if !stories::exists(conn, article.story_id).await? {
            return Err(AppError::invalid(
                "story_id",
                format!("story {} does not exist", article.story_id),
            ));
        }
        let existing: Option<i64> = articles::table
            .filter(articles::url.eq(&article.url))
            .select(articles::id)
            .first(conn)
            .await
            .optional()?;
        if let Some(id) = existing {
            return Err(AppError::Conflict {
                detail: format!("article {id} already has the url {}", article.url),
                existing_id: Some(id),
            });
        }
        let first = RevisionNumber::FIRST.get();
        let row: ArticleRow = diesel::insert_into(articles::table)
            .values(NewArticleRow {
                story_id: article.story_id,
                url: &article.url,
                outlet: &article.outlet,
                published_at: article.published_at,
                current_revision: first,
            })
            .returning(ArticleRow::as_returning())
            .get_result(conn)
            .await?;
        let rev: ArticleRevisionRow = diesel::insert_into(article_revisions::table)
            .values(NewArticleRevisionRow {
                article_id: row.id,
                revision: first,
                headline: &article.headline,
                body: &article.body.text,
                body_sha256: &article.body.sha256,
                body_chars: article.body.chars,
                author: &ctx.actor,
                reason: None,
            })
            .returning(ArticleRevisionRow::as_returning())
            .get_result(conn)
            .await?;
        events::record(
            conn,
            ctx,
            EventRecord {
                action: "article.created",
                subject_type: "article",
                subject_id: row.id,
                story_id: Some(row.story_id),
                before_revision: None,
                after_revision: Some(first),
                details: json!({ "url": row.url, "body_sha256": hex::encode(&rev.body_sha256) }),
            },
        )
        .await?;
        Ok(ArticleView::new(row, rev))
    })
    .await
}

pub async fn get(conn: &mut AsyncPgConnection, id: i64) -> AppResult<ArticleView> {
    let found: Option<(ArticleRow, ArticleRevisionRow)> = articles::table
        .inner_join(
            article_revisions::table.on(article_revisions::article_id
                .eq(articles::id)
                .and(article_revisions::revision.eq(articles::current_revision))),
        )
        .filter(articles::id.eq(id))
        .select((ArticleRow::as_select(), ArticleRevisionRow::as_select()))
        .first(conn)
        .await
        .optional()?;
    let (article, rev) = found.ok_or_else(|| AppError::not_found(format!("article {id}")))?;
    Ok(ArticleView::new(article, rev))
}
