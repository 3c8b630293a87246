//! The page each watched revision was read from, kept gzip-compressed
//! beside the revision (append-only, like it): the record behind the
//! extracted text.

use std::io::{Read, Write};

use chrono::{DateTime, Utc};
use diesel::{ExpressionMethods, OptionalExtension, QueryDsl, SelectableHelper};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use sha2::{Digest, Sha256};

use super::schema::article_captures;
use crate::error::{AppError, AppResult};

/// A fetched page, before it is stored.
#[derive(Debug, Clone)]
pub struct Capture {
    pub watch_id: Option<i64>,
    /// Where the page came from, after redirects.
    pub url: String,
    pub media_type: String,
    pub page: Vec<u8>,
}

#[derive(Debug, Clone, diesel::Queryable, diesel::Selectable)]
#[diesel(table_name = article_captures, check_for_backend(diesel::pg::Pg))]
pub struct CaptureRow {
    pub article_id: i64,
    pub revision: i32,
    pub story_id: i64,
    pub watch_id: Option<i64>,
    pub url: String,
    pub media_type: String,
    pub fetched_at: DateTime<Utc>,
    pub page_bytes: i32,
    pub page_sha256: Vec<u8>,
    pub page_gzip: Vec<u8>,
}

impl CaptureRow {
    /// The page as it was fetched.
    pub fn page(&self) -> AppResult<Vec<u8>> {
        let mut page = Vec::with_capacity(usize::try_from(self.page_bytes).unwrap_or(0));
        GzDecoder::new(self.page_gzip.as_slice())
            .read_to_end(&mut page)
            .map_err(|e| {
                anyhow::anyhow!(
                    "capture of article {} revision {}: {e}",
                    self.article_id,
                    self.revision
                )
            })?;
        Ok(page)
    }
}

/// Stores the page a revision was read from.
pub async fn insert(
    conn: &mut AsyncPgConnection,
    article_id: i64,
    revision: i32,
    story_id: i64,
    capture: &Capture,
) -> AppResult<()> {
    let mut gzip = GzEncoder::new(Vec::new(), Compression::default());
    gzip.write_all(&capture.page)
        .and_then(|()| gzip.flush())
        .map_err(|e| anyhow::anyhow!("compressing a page: {e}"))?;
    let compressed = gzip
        .finish()
        .map_err(|e| anyhow::anyhow!("compressing a page: {e}"))?;
    let sha256: [u8; 32] = Sha256::digest(&capture.page).into();
    diesel::insert_into(article_captures::table)
        .values((
            article_captures::article_id.eq(article_id),
            article_captures::revision.eq(revision),
            article_captures::story_id.eq(story_id),
            article_captures::watch_id.eq(capture.watch_id),
            article_captures::url.eq(&capture.url),
            article_captures::media_type.eq(&capture.media_type),
            article_captures::page_bytes.eq(i32::try_from(capture.page.len()).unwrap_or(i32::MAX)),
            article_captures::page_sha256.eq(sha256.as_slice()),
            article_captures::page_gzip.eq(compressed),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// The page revision `revision` of the article was read from.
pub async fn get(
    conn: &mut AsyncPgConnection,
    article_id: i64,
    revision: i32,
) -> AppResult<CaptureRow> {
    article_captures::table
        .find((article_id, revision))
        .select(CaptureRow::as_select())
        .first(conn)
        .await
        .optional()?
        .ok_or_else(|| {
            AppError::NotFound(format!(
                "revision {revision} of article {article_id} has no captured page (only revisions a watch recorded have one)"
            ))
        })
}

/// Which of `revisions` of the article have a captured page.
pub async fn captured_among(
    conn: &mut AsyncPgConnection,
    article_id: i64,
    revisions: &[i32],
) -> AppResult<Vec<i32>> {
    Ok(article_captures::table
        .filter(article_captures::article_id.eq(article_id))
        .filter(article_captures::revision.eq_any(revisions))
        .select(article_captures::revision)
        .load(conn)
        .await?)
}
