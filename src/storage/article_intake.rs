//! The one write path for an article's text arriving, whoever brings it:
//! `POST /v1/articles` or a watch. In one transaction: the article or its
//! new revision (claims carried, their appearances checked), the page it was
//! read from when a watch fetched it, and the proposed claims when
//! extraction was asked for.

use std::time::Duration;

use diesel_async::{AsyncConnection, AsyncPgConnection};

use super::article_captures::{self, Capture};
use super::articles::{self, ArticlePost, PostOutcome};
use super::events::AuditContext;
use super::extraction::{self, ApplyRequest, Extraction};
use crate::domain::article::ValidArticle;
use crate::error::{AppError, AppResult};

#[derive(Debug, Clone, Copy)]
pub struct IntakeSettings {
    pub diff_timeout: Duration,
    pub duplicate_threshold: f64,
}

impl Default for IntakeSettings {
    /// `serve`'s defaults (CLAIMTRAIL_DIFF_TIMEOUT_MS, CLAIMTRAIL_DUPLICATE_THRESHOLD).
    fn default() -> Self {
        IntakeSettings {
            diff_timeout: Duration::from_millis(250),
            duplicate_threshold: 0.5,
        }
    }
}

/// An article's text as it arrives.
pub struct Intake {
    pub article: ValidArticle,
    /// Propose its attributed claims as `proposed` claims (already logged
    /// spans are skipped).
    pub extract: bool,
    /// The page it was read from, kept with a new revision.
    pub capture: Option<Capture>,
}

pub async fn record(
    conn: &mut AsyncPgConnection,
    ctx: &AuditContext,
    intake: Intake,
    settings: IntakeSettings,
) -> AppResult<(ArticlePost, Option<Extraction>)> {
    conn.transaction(async |conn| {
        let posted = articles::post(conn, ctx, intake.article, settings.diff_timeout).await?;
        if posted.outcome != PostOutcome::Unchanged
            && let Some(capture) = &intake.capture
        {
            article_captures::insert(
                conn,
                posted.article.id,
                posted.article.revision,
                posted.article.story_id,
                capture,
            )
            .await?;
        }
        let extraction = if intake.extract {
            Some(
                extraction::apply(
                    conn,
                    ctx,
                    posted.article.id,
                    ApplyRequest::default(),
                    settings.duplicate_threshold,
                )
                .await?,
            )
        } else {
            None
        };
        Ok::<_, AppError>((posted, extraction))
    })
    .await
}
