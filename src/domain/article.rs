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
    drop_tracking_parameters(&mut url);
    Ok(url.into())
}

/// Query parameters that say how a reader arrived, not which article they
/// read: campaign tags and click ids added by newsletters, ads and social
/// networks. The same article shared twice must be one article.
fn is_tracking_parameter(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    name.starts_with("utm_")
        || matches!(
            name.as_str(),
            "fbclid"
                | "gclid"
                | "dclid"
                | "gbraid"
                | "wbraid"
                | "msclkid"
                | "mc_cid"
                | "mc_eid"
                | "igshid"
                | "_ga"
                | "_gl"
        )
}

fn drop_tracking_parameters(url: &mut url::Url) {
    if url.query().is_none() {
        return;
    }
    let kept: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(name, _)| !is_tracking_parameter(name))
        .map(|(n, v)| (n.into_owned(), v.into_owned()))
        .collect();
    let before = url.query_pairs().count();
    if kept.len() == before {
        return;
    }
    if kept.is_empty() {
        url.set_query(None);
    } else {
        url.query_pairs_mut().clear().extend_pairs(kept);
    }
}

/// The same address with or without a trailing slash on its path: servers
/// treat the two as one page, so a repost under the other spelling is the
/// same article. None for a bare host (its path is always `/`).
pub fn trailing_slash_twin(url: &str) -> Option<String> {
    let mut parsed = url::Url::parse(url).ok()?;
    let path = parsed.path().to_owned();
    if path == "/" || path.is_empty() {
        return None;
    }
    let twin = match path.strip_suffix('/') {
        Some(without) => without.to_owned(),
        None => format!("{path}/"),
    };
    parsed.set_path(&twin);
    Some(parsed.into())
}

/// What a repost of a known article asked for that a repost does not
/// change, said back to the poster instead of dropped silently: the URL,
/// outlet and publication time are the article's, set when it was first
/// posted; a repost versions only the headline and body.
pub fn repost_warnings(
    stored_url: &str,
    stored_outlet: &str,
    stored_published_at: DateTime<Utc>,
    posted: &ValidArticle,
) -> Vec<String> {
    let mut warnings = Vec::new();
    if stored_url != posted.url {
        warnings.push(format!(
            "url: {} is the article at {stored_url} (the two differ only by a trailing \
             slash); the article keeps its address",
            posted.url
        ));
    }
    if stored_outlet != posted.outlet {
        warnings.push(format!(
            "outlet: the article's outlet stays {stored_outlet:?}; a repost does not change \
             it (got {:?})",
            posted.outlet
        ));
    }
    if stored_published_at != posted.published_at {
        warnings.push(format!(
            "published_at: the article's publication time stays {}; a repost does not \
             change it (got {})",
            stored_published_at.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
            posted
                .published_at
                .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
        ));
    }
    warnings
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
    fn tracking_parameters_are_dropped_and_the_rest_kept() {
        assert_eq!(
            normalize_url("https://example.com/a?id=7&utm_source=x&UTM_Medium=y&fbclid=z").unwrap(),
            "https://example.com/a?id=7"
        );
        assert_eq!(
            normalize_url("https://example.com/a?utm_source=newsletter").unwrap(),
            "https://example.com/a"
        );
        assert_eq!(
            normalize_url("https://example.com/a?page=2&b=%C3%A9").unwrap(),
            "https://example.com/a?page=2&b=%C3%A9"
        );
    }

    #[test]
    fn a_trailing_slash_twin_adds_or_removes_the_slash() {
        assert_eq!(
            trailing_slash_twin("https://example.com/2026/story").as_deref(),
            Some("https://example.com/2026/story/")
        );
        assert_eq!(
            trailing_slash_twin("https://example.com/2026/story/?id=1").as_deref(),
            Some("https://example.com/2026/story?id=1")
        );
        assert_eq!(trailing_slash_twin("https://example.com/"), None);
    }

    #[test]
    fn a_repost_names_what_it_did_not_change() {
        let at = "2026-11-23T08:30:00Z".parse().unwrap();
        let posted = NewArticle {
            url: "https://example.com/story/".into(),
            outlet: "Harbor Wire".into(),
            headline: "h".into(),
            published_at: at,
            body: "b".into(),
            story_id: 1,
            reason: None,
        }
        .validate(100)
        .unwrap();
        assert!(
            repost_warnings("https://example.com/story/", "Harbor Wire", at, &posted).is_empty()
        );
        let later = "2026-11-24T08:30:00Z".parse().unwrap();
        let warnings = repost_warnings("https://example.com/story", "Wire", later, &posted);
        assert_eq!(warnings.len(), 3, "{warnings:?}");
        assert!(warnings[0].starts_with("url: "), "{warnings:?}");
        assert!(warnings[1].contains("stays \"Wire\""), "{warnings:?}");
        assert!(
            warnings[2].contains("stays 2026-11-24T08:30:00Z"),
            "{warnings:?}"
        );
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
