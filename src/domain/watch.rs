//! Watches: an outlet's feed or article page followed by the service. This
//! module holds their rules: what a new watch may ask for, which story a
//! found article is filed into, and when a watch polls again.

use std::time::Duration;

use serde::Deserialize;

use super::outlet::link;
use super::text::{char_slice, match_key};
use super::text_enum;
use super::validation::{MAX_SHORT_TEXT, Validator};
use crate::error::AppResult;

/// Shortest and longest polling intervals, in seconds: more often than once
/// a minute is unkind to an outlet; less than weekly misses edits.
pub const MIN_INTERVAL_S: i32 = 60;
pub const MAX_INTERVAL_S: i32 = 7 * 24 * 3600;
pub const DEFAULT_INTERVAL_S: i32 = 15 * 60;
/// The longest pause a failing watch backs off to.
pub const MAX_BACK_OFF: Duration = Duration::from_secs(24 * 3600);
const MAX_KEYWORDS: usize = 50;

text_enum! {
    /// Where the articles a watch finds go.
    Filing {
        /// Every article into the watch's story.
        Story => "story",
        /// Articles whose headline or text holds a keyword, into the story;
        /// the others are skipped.
        Keywords => "keywords",
        /// Every article held until an editor files it into a story.
        Ask => "ask",
    }
}

text_enum! {
    /// What a watch's address turned out to be on its first fetch.
    WatchKind {
        Feed => "feed",
        Page => "page",
    }
}

text_enum! {
    /// How a watch's last poll ended.
    PollOutcome {
        /// The feed or page was read.
        Fetched => "fetched",
        /// 304: nothing new since the last poll.
        NotModified => "not_modified",
        Failed => "failed",
    }
}

text_enum! {
    /// Where one article found by a watch stands.
    ItemState {
        /// Fetched again on every poll; each new version is recorded.
        Following => "following",
        /// Waiting for an editor to file it into a story.
        Held => "held",
        /// No keyword matched: not recorded.
        Skipped => "skipped",
        /// The page holds no article text.
        Unreadable => "unreadable",
    }
}

/// `POST /v1/watches`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewWatch {
    /// A feed (RSS, Atom, JSON Feed) or one article page, http or https.
    #[schema(pattern = "^[Hh][Tt][Tt][Pp][Ss]?://[^\\s]+$")]
    pub url: String,
    /// The story articles are filed into (not with `filing: "ask"`).
    #[schema(minimum = 1)]
    pub story_id: Option<i64>,
    /// `story` (the default with a story), `keywords` (the default with
    /// keywords) or `ask` (the default without a story).
    pub filing: Option<Filing>,
    /// With `filing: "keywords"`: an article is filed when its headline or
    /// text holds one of these (case, width and accents' composition
    /// ignored; accents themselves count).
    pub keywords: Option<Vec<String>>,
    /// Seconds between two polls (60–604800, default 900).
    #[schema(minimum = 60, maximum = 604800)]
    pub interval_s: Option<i32>,
    /// Propose each new version's attributed claims as `proposed` claims.
    pub extract: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidWatch {
    /// The canonical address (no fragment, credentials or tracking tags).
    pub url: String,
    pub filing: Filing,
    pub story_id: Option<i64>,
    /// As written (trimmed), for display; matched by their match keys.
    pub keywords: Vec<String>,
    pub interval_s: i32,
    pub extract: bool,
}

impl NewWatch {
    pub fn validate(self) -> AppResult<ValidWatch> {
        let mut v = Validator::new();
        let url = match link::canonical(&self.url) {
            Some(url) if !self.url.chars().any(char::is_control) => url,
            _ => {
                v.error("url", "must be an absolute http or https URL");
                String::new()
            }
        };
        v.text_content("url", &url, 2_048);
        if let Some(id) = self.story_id {
            v.id("story_id", id);
        }
        let keywords = match &self.keywords {
            Some(words) => {
                let words = v.text_list("keywords", words, MAX_KEYWORDS);
                for (i, w) in words.iter().enumerate() {
                    v.check(
                        !match_key(w).is_empty(),
                        &format!("keywords[{i}]"),
                        "must hold a letter or a digit",
                    );
                }
                words
            }
            None => Vec::new(),
        };
        let filing = self
            .filing
            .unwrap_or(match (self.story_id, keywords.is_empty()) {
                (None, _) => Filing::Ask,
                (Some(_), true) => Filing::Story,
                (Some(_), false) => Filing::Keywords,
            });
        match filing {
            Filing::Ask => v.check(
                self.story_id.is_none(),
                "story_id",
                "is not used with filing \"ask\": each article is filed by an editor",
            ),
            Filing::Story | Filing::Keywords => v.check(
                self.story_id.is_some(),
                "story_id",
                format!("is required with filing \"{filing}\""),
            ),
        }
        v.check(
            (filing == Filing::Keywords) != keywords.is_empty(),
            "keywords",
            if filing == Filing::Keywords {
                "must list at least one keyword with filing \"keywords\""
            } else {
                "are only used with filing \"keywords\""
            },
        );
        let interval_s = self.interval_s.unwrap_or(DEFAULT_INTERVAL_S);
        v.check(
            (MIN_INTERVAL_S..=MAX_INTERVAL_S).contains(&interval_s),
            "interval_s",
            format!("must be between {MIN_INTERVAL_S} and {MAX_INTERVAL_S} seconds"),
        );
        v.finish()?;
        Ok(ValidWatch {
            url,
            filing,
            story_id: self.story_id,
            keywords,
            interval_s,
            extract: self.extract.unwrap_or(false),
        })
    }
}

/// The story a found article goes into, or why it goes into none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Destination {
    Story(i64),
    Hold,
    Skip,
}

/// Where an article with this headline and text goes under a watch's rule.
/// An article an editor already filed (`filed`) stays in that story.
pub fn destination(
    filing: Filing,
    story_id: Option<i64>,
    keywords: &[String],
    filed: Option<i64>,
    headline: &str,
    body: &str,
) -> Destination {
    if let Some(story) = filed {
        return Destination::Story(story);
    }
    match (filing, story_id) {
        (Filing::Ask, _) | (_, None) => Destination::Hold,
        (Filing::Story, Some(story)) => Destination::Story(story),
        (Filing::Keywords, Some(story)) => {
            if mentions_any(keywords, headline, body) {
                Destination::Story(story)
            } else {
                Destination::Skip
            }
        }
    }
}

/// Whether the headline or text holds one of the keywords, compared by
/// match key: "ΕΚΛΟΓΈΣ" finds "εκλογές", "Ｔｏｋｙｏ" finds "tokyo".
pub fn mentions_any(keywords: &[String], headline: &str, body: &str) -> bool {
    let text = match_key(&format!("{headline}\n{body}"));
    keywords.iter().any(|k| {
        let key = match_key(k);
        !key.is_empty() && text.contains(&key)
    })
}

/// How long after a poll the next one comes: the interval after a success;
/// after `failures` failures in a row, the interval doubled for each (a
/// minute at least, a day at most, never less than the interval).
pub fn next_poll_after(interval_s: i32, failures: i32) -> Duration {
    let interval = Duration::from_secs(u64::try_from(interval_s.max(1)).unwrap_or(1));
    if failures <= 0 {
        return interval;
    }
    let base = interval.max(Duration::from_secs(60));
    let factor = 1u32 << failures.clamp(0, 16);
    base.saturating_mul(factor).min(MAX_BACK_OFF).max(interval)
}

/// A short, one-line form of an error for a watch's `last_error`.
pub fn error_line(message: &str) -> String {
    let one_line: String = message
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let trimmed = one_line.trim();
    let kept = char_slice(trimmed, 0, MAX_SHORT_TEXT);
    if kept.len() < trimmed.len() {
        format!("{kept}…")
    } else {
        kept.to_owned()
    }
}

/// A watch's id from its audit actor (`watch:12`), so that the audit log
/// says which watch recorded a version.
pub fn actor(watch_id: i64) -> String {
    format!("watch:{watch_id}")
}

/// The reason stored with a revision a watch records.
pub const DETECTED_CHANGE: &str = "detected change";

#[cfg(test)]
mod tests {
    use super::*;

    fn new(json: serde_json::Value) -> AppResult<ValidWatch> {
        serde_json::from_value::<NewWatch>(json).unwrap().validate()
    }

    #[test]
    fn the_filing_follows_from_what_is_given() {
        let w = new(serde_json::json!({"url": "https://news.example/feed.xml?utm_source=x#top", "story_id": 3})).unwrap();
        assert_eq!(w.filing, Filing::Story);
        assert_eq!(w.url, "https://news.example/feed.xml");
        assert_eq!(w.interval_s, DEFAULT_INTERVAL_S);
        let w = new(serde_json::json!({"url": "https://news.example/", "story_id": 3, "keywords": ["選挙"]})).unwrap();
        assert_eq!(w.filing, Filing::Keywords);
        let w = new(serde_json::json!({"url": "https://news.example/"})).unwrap();
        assert_eq!(w.filing, Filing::Ask);
    }

    #[test]
    fn contradictory_or_bad_requests_are_refused() {
        for bad in [
            serde_json::json!({"url": "ftp://news.example/feed", "story_id": 1}),
            serde_json::json!({"url": "/feed.xml", "story_id": 1}),
            serde_json::json!({"url": "https://news.example/", "filing": "ask", "story_id": 1}),
            serde_json::json!({"url": "https://news.example/", "filing": "keywords", "story_id": 1}),
            serde_json::json!({"url": "https://news.example/", "filing": "story"}),
            serde_json::json!({"url": "https://news.example/", "story_id": 1, "interval_s": 5}),
            serde_json::json!({"url": "https://news.example/", "story_id": 1, "interval_s": 9_999_999}),
            serde_json::json!({"url": "https://news.example/", "story_id": 1, "keywords": ["  "]}),
            serde_json::json!({"url": "https://news.example/", "story_id": 1, "filing": "story", "keywords": ["a"]}),
        ] {
            assert!(new(bad.clone()).is_err(), "{bad}");
        }
    }

    #[test]
    fn keywords_match_in_any_script_and_case() {
        let words = vec!["Εκλογές".to_owned(), "東京".to_owned()];
        assert!(mentions_any(&words, "ΟΙ ΕΚΛΟΓΈΣ ΤΗΣ ΚΥΡΙΑΚΉΣ", ""));
        assert!(mentions_any(
            &words,
            "",
            "都知事選で東京の有権者が投票した。"
        ));
        assert!(!mentions_any(&words, "Weather", "Rain in Osaka."));
        // Composed and decomposed accents are one letter.
        let words = vec!["José".to_owned()];
        assert!(mentions_any(&words, "Jose\u{301} Martí habló", ""));
        assert!(!mentions_any(&words, "Jose Marti", ""));
        let words = vec!["انتخابات".to_owned()];
        assert!(mentions_any(
            &words,
            "",
            "قالت اللجنة إن الانتخابات ستجري في موعدها"
        ));
    }

    #[test]
    fn the_destination_follows_the_rule() {
        let words = vec!["flood".to_owned()];
        assert_eq!(
            destination(Filing::Story, Some(4), &[], None, "x", "y"),
            Destination::Story(4)
        );
        assert_eq!(
            destination(Filing::Keywords, Some(4), &words, None, "Floods", "y"),
            Destination::Story(4)
        );
        assert_eq!(
            destination(Filing::Keywords, Some(4), &words, None, "Fire", "y"),
            Destination::Skip
        );
        assert_eq!(
            destination(Filing::Ask, None, &[], None, "x", "y"),
            Destination::Hold
        );
        // Once an editor filed it, it stays where it was filed.
        assert_eq!(
            destination(Filing::Ask, None, &[], Some(9), "x", "y"),
            Destination::Story(9)
        );
    }

    #[test]
    fn failures_back_off_exponentially_up_to_a_day() {
        assert_eq!(next_poll_after(900, 0), Duration::from_secs(900));
        assert_eq!(next_poll_after(900, 1), Duration::from_secs(1800));
        assert_eq!(next_poll_after(900, 3), Duration::from_secs(7200));
        assert_eq!(next_poll_after(900, 30), MAX_BACK_OFF);
        // Never sooner than the interval, even when it is over a day.
        assert_eq!(
            next_poll_after(MAX_INTERVAL_S, 2),
            Duration::from_secs(7 * 24 * 3600)
        );
    }

    #[test]
    fn errors_are_kept_on_one_short_line() {
        assert_eq!(error_line("a\nb\tc "), "a b c");
        let long = "é".repeat(1_000);
        assert!(error_line(&long).chars().count() <= MAX_SHORT_TEXT + 1);
    }
}
