//! Articles: published pieces whose headline and body are versioned.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::validation::{MAX_SHORT_TEXT, Validator};
use crate::error::{AppError, AppResult};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewArticle {
    #[schema(pattern = "^[Hh][Tt][Tt][Pp][Ss]?://[^\\s]+$")]
    pub url: String,
    #[schema(min_length = 1)]
    pub outlet: String,
    #[schema(min_length = 1)]
    pub headline: String,
    pub published_at: DateTime<Utc>,
    #[schema(min_length = 1)]
    pub body: String,
    #[schema(minimum = 1)]
    pub story_id: i64,
    /// Why this version differs from the last one (for a repost of a known URL).
    pub reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ValidArticle {
    /// Normalized URL (scheme and host lowercased, fragment dropped).
    pub url: String,
    pub outlet: String,
    pub headline: String,
    pub published_at: DateTime<Utc>,
    pub story_id: i64,
    pub body: ArticleBody,
    pub reason: Option<String>,
}

/// An article body with the facts stored beside it.
#[derive(Debug, Clone, PartialEq)]
pub struct ArticleBody {
    pub text: String,
    pub sha256: [u8; 32],
    /// Length in Unicode code points: the unit of every span.
    pub chars: i32,
}

impl ArticleBody {
    pub fn new(text: String) -> Self {
        let sha256 = Sha256::digest(text.as_bytes()).into();
        let chars = i32::try_from(text.chars().count()).unwrap_or(i32::MAX);
        ArticleBody {
            text,
            sha256,
            chars,
        }
    }
}

impl NewArticle {
    /// `max_body_chars` bounds the body; the request size limit bounds bytes.
    pub fn validate(self, max_body_chars: usize) -> AppResult<ValidArticle> {
        let chars = self.body.chars().count();
        if chars > max_body_chars {
            return Err(AppError::PayloadTooLarge(format!(
                "the article body has {chars} characters; this server accepts at most {max_body_chars}"
            )));
        }
        let mut v = Validator::new();
        let url = match normalize_url(self.url.trim()) {
            Ok(url) => url,
            Err(message) => {
                v.error("url", message);
                String::new()
            }
        };
        v.text_content("url", &url, 2_048);
        let outlet = v.required_text("outlet", &self.outlet, MAX_SHORT_TEXT);
        let headline = v.required_text("headline", &self.headline, MAX_SHORT_TEXT);
        v.timestamp("published_at", &self.published_at);
        v.id("story_id", self.story_id);
        if self.body.trim().is_empty() {
            v.error("body", "must not be empty");
        }
        v.text_content("body", &self.body, max_body_chars);
        let reason = v.optional_text("reason", self.reason.as_deref(), MAX_SHORT_TEXT);
        v.finish()?;
        Ok(ValidArticle {
            url,
            outlet,
            headline,
            published_at: self.published_at,
            story_id: self.story_id,
            body: ArticleBody::new(self.body),
            reason,
        })
    }
}

/// Articles are identified by URL, so equal URLs must compare equal: the
/// scheme and host are lowercased and the fragment (never sent to a server)
/// is dropped. Only http and https are accepted.
pub fn normalize_url(raw: &str) -> Result<String, String> {
    // The URL parser drops tabs, newlines and NULs silently; a URL that
    // holds them is refused rather than stored as something else.
    if raw.chars().any(char::is_control) {
        return Err("must not contain control characters".into());
    }
    let mut url = url::Url::parse(raw).map_err(|e| format!("is not an absolute URL ({e})"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!(
            "must be an http or https URL, not {}",
            url.scheme()
        ));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("must name a host".into());
    }
    url.set_fragment(None);
    Ok(url.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_normalized() {
        assert_eq!(
            normalize_url("HTTPS://Example.COM/news/story#top").unwrap(),
            "https://example.com/news/story"
        );
        assert!(normalize_url("ftp://example.com/x").is_err());
        assert!(normalize_url("/relative/path").is_err());
        assert!(normalize_url("https://example.com/\u{0}").is_err());
        assert!(normalize_url("https://exa\tmple.com/").is_err());
    }

    #[test]
    fn body_length_counts_code_points() {
        let body = ArticleBody::new("Tōkyō — 東京".into());
        assert_eq!(body.chars, 10);
        assert_eq!(
            hex::encode(ArticleBody::new(String::new()).sha256),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
