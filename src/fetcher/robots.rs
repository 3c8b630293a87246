//! What an outlet's robots.txt allows the watcher (product token
//! `claimtrail`), by RFC 9309 as Google's reference parser reads it
//! (`robotstxt`, its Rust port). A robots.txt that does not exist (4xx)
//! allows everything; one that cannot be read (5xx, no answer) allows
//! nothing until it can. Each host's file is kept for the cache period.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use url::Url;

use super::{FetchError, Fetched, Fetcher};

#[derive(Debug, Clone)]
enum Rules {
    AllowAll,
    DisallowAll,
    File(String),
}

/// Each host's rules, fetched once per cache period: concurrent fetches
/// to a host whose robots.txt is not known yet wait for the first to read
/// it instead of each reading it.
pub struct RobotsCache {
    ttl: Duration,
    entries: Mutex<HashMap<String, Arc<HostRules>>>,
}

/// A host's rules and when they were read (none yet: not read).
type HostRules = tokio::sync::Mutex<Option<(Instant, Rules)>>;

/// Parsed at most, as RFC 9309 asks crawlers to read at least.
const MAX_ROBOTS_BYTES: usize = 500 * 1024;

impl RobotsCache {
    pub fn new(ttl: Duration) -> Self {
        RobotsCache {
            ttl,
            entries: Mutex::new(HashMap::new()),
        }
    }

    pub(super) async fn allows(&self, fetcher: &Fetcher, origin: &str, url: &Url) -> bool {
        let slot = self
            .entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(origin.to_owned())
            .or_default()
            .clone();
        let mut slot = slot.lock().await;
        let fresh = slot
            .as_ref()
            .filter(|(at, _)| at.elapsed() < self.ttl)
            .map(|(_, rules)| rules.clone());
        let rules = match fresh {
            Some(rules) => rules,
            None => {
                let rules = match Url::parse(&format!("{origin}/robots.txt")) {
                    Ok(robots) => read(fetcher.get(&robots, Default::default()).await),
                    Err(_) => Rules::AllowAll,
                };
                *slot = Some((Instant::now(), rules.clone()));
                rules
            }
        };
        allowed(&rules, url.as_str())
    }
}

fn read(fetched: Result<Fetched, FetchError>) -> Rules {
    match fetched {
        Ok(Fetched::Body(page)) => {
            let body = &page.body[..page.body.len().min(MAX_ROBOTS_BYTES)];
            Rules::File(String::from_utf8_lossy(body).into_owned())
        }
        Ok(Fetched::NotModified) => Rules::AllowAll,
        Err(FetchError::Status(code)) if (400..500).contains(&code) => Rules::AllowAll,
        Err(FetchError::Redirects(_)) => Rules::AllowAll,
        Err(_) => Rules::DisallowAll,
    }
}

fn allowed(rules: &Rules, url: &str) -> bool {
    match rules {
        Rules::AllowAll => true,
        Rules::DisallowAll => false,
        Rules::File(text) => robotstxt::DefaultMatcher::default().one_agent_allowed_by_robots(
            text,
            super::ROBOTS_AGENT,
            url,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(text: &str) -> Rules {
        Rules::File(text.to_owned())
    }

    #[test]
    fn the_group_for_claimtrail_wins_over_the_star_group() {
        let rules = file(
            "User-agent: *\nDisallow: /\n\nUser-agent: claimtrail\nDisallow: /private/\nAllow: /private/press/\n",
        );
        assert!(allowed(&rules, "https://news.example/world/ferry"));
        assert!(!allowed(&rules, "https://news.example/private/draft"));
        assert!(allowed(
            &rules,
            "https://news.example/private/press/release"
        ));
    }

    #[test]
    fn the_star_group_applies_when_none_names_us() {
        let rules = file("User-agent: *\nDisallow: /search\n");
        assert!(!allowed(&rules, "https://news.example/search?q=ferry"));
        assert!(allowed(&rules, "https://news.example/world"));
    }

    #[test]
    fn missing_files_allow_and_unreadable_ones_do_not() {
        assert!(matches!(
            read(Err(FetchError::Status(404))),
            Rules::AllowAll
        ));
        assert!(matches!(
            read(Err(FetchError::Status(503))),
            Rules::DisallowAll
        ));
        assert!(matches!(
            read(Err(FetchError::Timeout(20))),
            Rules::DisallowAll
        ));
    }
}
