//! Fetching outlets' pages and feeds politely and safely: http and https
//! only; public addresses only unless the operator allows private ones
//! (`guard`); at most one request per host at a time and a pause between
//! two; what robots.txt allows (`robots`); conditional requests
//! (`If-None-Match`, `If-Modified-Since`); a timeout, a redirect limit and a
//! body-size limit; and a User-Agent that says who is asking.

pub mod guard;
pub mod robots;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::header::{self, HeaderMap, HeaderValue};
use url::Url;

use guard::{AddressPolicy, GuardedResolver};

/// Sent with every request.
pub const USER_AGENT: &str = concat!(
    "claimtrail/",
    env!("CARGO_PKG_VERSION"),
    " (fact-claim ledger; watches published articles for edits; honours robots.txt)"
);
/// The product token robots.txt rules are matched against.
pub const ROBOTS_AGENT: &str = "claimtrail";

#[derive(Debug, Clone)]
pub struct FetchSettings {
    pub policy: AddressPolicy,
    /// Whole request, connection to last byte.
    pub timeout: Duration,
    /// Largest body read, after decompression.
    pub max_body_bytes: usize,
    /// Redirects followed at most.
    pub max_redirects: usize,
    /// Pause between two requests to one host.
    pub host_delay: Duration,
    /// How long a host's robots.txt is trusted.
    pub robots_ttl: Duration,
    /// Appended to the User-Agent: how an outlet reaches the operator
    /// (`CLAIMTRAIL_WATCH_CONTACT`).
    pub contact: Option<String>,
}

impl Default for FetchSettings {
    fn default() -> Self {
        FetchSettings {
            policy: AddressPolicy {
                allow_private: false,
            },
            timeout: Duration::from_secs(20),
            max_body_bytes: 5 * 1024 * 1024,
            max_redirects: 5,
            host_delay: Duration::from_secs(1),
            robots_ttl: Duration::from_secs(3600),
            contact: None,
        }
    }
}

/// What a fetch brought.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fetched {
    /// 304: unchanged since the validators sent.
    NotModified,
    Body(Page),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    /// Where the body came from, after redirects.
    pub final_url: String,
    /// The media type, lower case, without parameters ("text/html").
    pub media_type: String,
    /// The `charset` parameter of its Content-Type, if any.
    pub charset: Option<String>,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub body: Vec<u8>,
}

/// Validators from the last fetch of the same address.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Validators {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    #[error("not fetched: {0}")]
    Refused(String),
    #[error("robots.txt of {0} does not allow fetching this address")]
    RobotsDisallowed(String),
    #[error("the outlet answered {0}")]
    Status(u16),
    /// 429 or 503 with a `Retry-After` the next attempt should honour.
    #[error("the outlet answered {status} and asked to wait {after_s} s")]
    RetryLater { status: u16, after_s: u64 },
    #[error("the body is larger than {0} bytes")]
    TooLarge(usize),
    #[error("redirects went in a loop or past the limit: {0}")]
    Redirects(String),
    #[error("no answer within {0} s")]
    Timeout(u64),
    #[error("the outlet could not be reached: {0}")]
    Network(String),
}

impl FetchError {
    /// Whether trying again later may succeed (a refusal or a robots.txt
    /// rule will not change by itself).
    pub fn is_transient(&self) -> bool {
        match self {
            FetchError::Status(code) => *code >= 500 || *code == 429 || *code == 408,
            FetchError::RetryLater { .. } => true,
            FetchError::Timeout(_) | FetchError::Network(_) => true,
            _ => false,
        }
    }
}

impl FetchError {
    /// How long the outlet asked us to wait before the next request.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            FetchError::RetryLater { after_s, .. } => Some(Duration::from_secs(*after_s)),
            _ => None,
        }
    }
}

/// A `Retry-After` value (RFC 9110 §10.2.3): seconds, or an HTTP date.
fn retry_after_seconds(value: &str, now: chrono::DateTime<chrono::Utc>) -> Option<u64> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(seconds);
    }
    let at = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    Some(u64::try_from((at.with_timezone(&chrono::Utc) - now).num_seconds()).unwrap_or(0))
}

/// One per service: the HTTP client, each host's turn, each host's
/// robots.txt.
pub struct Fetcher {
    client: reqwest::Client,
    settings: FetchSettings,
    hosts: Mutex<HashMap<String, Arc<tokio::sync::Mutex<Option<Instant>>>>>,
    robots: robots::RobotsCache,
}

impl Fetcher {
    pub fn new(settings: FetchSettings) -> anyhow::Result<Self> {
        let policy = settings.policy;
        let max_redirects = settings.max_redirects;
        let redirects = reqwest::redirect::Policy::custom(move |attempt| {
            let next = attempt.url().to_string();
            if attempt.previous().iter().any(|u| u.as_str() == next) {
                return attempt.error(format!("{next} again"));
            }
            if attempt.previous().len() > max_redirects {
                return attempt.error(format!("more than {max_redirects}"));
            }
            if let Err(e) = check_address(attempt.url(), policy) {
                return attempt.error(e.to_string());
            }
            attempt.follow()
        });
        let user_agent = match &settings.contact {
            Some(contact) => format!("{USER_AGENT} {contact}"),
            None => USER_AGENT.to_owned(),
        };
        let client = reqwest::Client::builder()
            .user_agent(user_agent)
            .redirect(redirects)
            .dns_resolver(GuardedResolver::new(policy))
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout.min(Duration::from_secs(10)))
            .https_only(false)
            .build()?;
        Ok(Fetcher {
            client,
            robots: robots::RobotsCache::new(settings.robots_ttl),
            settings,
            hosts: Mutex::new(HashMap::new()),
        })
    }

    pub fn settings(&self) -> &FetchSettings {
        &self.settings
    }

    /// Fetches `address` if its host's robots.txt allows it, waiting for
    /// the host's turn; sends `validators` so that an unchanged page costs
    /// the outlet a 304.
    pub async fn fetch(
        &self,
        address: &str,
        validators: &Validators,
    ) -> Result<Fetched, FetchError> {
        let url =
            Url::parse(address).map_err(|e| FetchError::Refused(format!("{address}: {e}")))?;
        check_address(&url, self.settings.policy)?;
        let origin = url.origin().ascii_serialization();
        if !self.robots.allows(self, &origin, &url).await {
            return Err(FetchError::RobotsDisallowed(origin));
        }
        let mut headers = HeaderMap::new();
        if let Some(etag) = validators
            .etag
            .as_deref()
            .and_then(|v| HeaderValue::from_str(v).ok())
        {
            headers.insert(header::IF_NONE_MATCH, etag);
        }
        if let Some(date) = validators
            .last_modified
            .as_deref()
            .and_then(|v| HeaderValue::from_str(v).ok())
        {
            headers.insert(header::IF_MODIFIED_SINCE, date);
        }
        self.get(&url, headers).await
    }

    /// One GET in the host's turn, without the robots.txt check (robots.txt
    /// itself is fetched this way).
    async fn get(&self, url: &Url, headers: HeaderMap) -> Result<Fetched, FetchError> {
        let host = url.host_str().unwrap_or_default().to_owned();
        let turn = {
            let mut hosts = self.hosts.lock().unwrap_or_else(|e| e.into_inner());
            hosts.entry(host).or_default().clone()
        };
        let mut last = turn.lock().await;
        if let Some(at) = *last {
            let wait = self.settings.host_delay.saturating_sub(at.elapsed());
            tokio::time::sleep(wait).await;
        }
        let result = self.send(url, headers).await;
        *last = Some(Instant::now());
        result
    }

    async fn send(&self, url: &Url, headers: HeaderMap) -> Result<Fetched, FetchError> {
        let response = self
            .client
            .get(url.clone())
            .headers(headers)
            .header(header::ACCEPT, "text/html, application/xhtml+xml, application/rss+xml, application/atom+xml, application/feed+json, application/json;q=0.9, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.1")
            .send()
            .await
            .map_err(|e| self.transport_error(e))?;
        let status = response.status();
        if status == reqwest::StatusCode::NOT_MODIFIED {
            return Ok(Fetched::NotModified);
        }
        if !status.is_success() {
            let code = status.as_u16();
            let asked = response
                .headers()
                .get(header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| retry_after_seconds(v, chrono::Utc::now()));
            return Err(match asked {
                Some(after_s) if code == 429 || code == 503 => FetchError::RetryLater {
                    status: code,
                    after_s,
                },
                _ => FetchError::Status(code),
            });
        }
        let final_url = response.url().to_string();
        let header_text = |name: header::HeaderName| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let content_type = header_text(header::CONTENT_TYPE).unwrap_or_default();
        let mut parts = content_type.split(';');
        let media_type = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
        let charset = parts.find_map(|p| {
            let (name, value) = p.split_once('=')?;
            name.trim()
                .eq_ignore_ascii_case("charset")
                .then(|| value.trim().trim_matches('"').to_owned())
        });
        let etag = header_text(header::ETAG);
        let last_modified = header_text(header::LAST_MODIFIED);
        let limit = self.settings.max_body_bytes;
        if response.content_length().is_some_and(|n| n > limit as u64) {
            return Err(FetchError::TooLarge(limit));
        }
        let mut body = Vec::new();
        let mut response = response;
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| self.transport_error(e))?
        {
            if body.len() + chunk.len() > limit {
                return Err(FetchError::TooLarge(limit));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Fetched::Body(Page {
            final_url,
            media_type,
            charset,
            etag,
            last_modified,
            body,
        }))
    }

    fn transport_error(&self, e: reqwest::Error) -> FetchError {
        if e.is_timeout() {
            return FetchError::Timeout(self.settings.timeout.as_secs());
        }
        if e.is_redirect() {
            return FetchError::Redirects(root_cause(&e));
        }
        let cause = root_cause(&e);
        if cause.contains("outside the public internet") {
            return FetchError::Refused(cause);
        }
        FetchError::Network(cause)
    }
}

/// The innermost error's message (reqwest wraps the useful one).
fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut current = e;
    while let Some(next) = current.source() {
        current = next;
    }
    current.to_string()
}

/// http(s) only, and a literal address only if the policy permits it
/// (names are checked by the resolver).
fn check_address(url: &Url, policy: AddressPolicy) -> Result<(), FetchError> {
    if !matches!(url.scheme(), "http" | "https") {
        return Err(FetchError::Refused(format!(
            "{url}: only http and https addresses are fetched"
        )));
    }
    let ip = match url.host() {
        Some(url::Host::Ipv4(ip)) => std::net::IpAddr::V4(ip),
        Some(url::Host::Ipv6(ip)) => std::net::IpAddr::V6(ip),
        Some(url::Host::Domain(name)) => {
            // "localhost" never needs the resolver to be refused.
            if name.eq_ignore_ascii_case("localhost")
                || name.to_ascii_lowercase().ends_with(".localhost")
            {
                if policy.allow_private {
                    return Ok(());
                }
                return Err(FetchError::Refused(format!(
                    "{url}: {name} is this machine; private addresses are not fetched"
                )));
            }
            return Ok(());
        }
        None => return Err(FetchError::Refused(format!("{url}: no host"))),
    };
    if policy.permits(ip) {
        Ok(())
    } else {
        Err(FetchError::Refused(format!(
            "{url}: {ip} is outside the public internet; private addresses are not fetched"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_web_addresses_on_permitted_hosts() {
        let public_only = AddressPolicy {
            allow_private: false,
        };
        let ok = |u: &str| check_address(&Url::parse(u).unwrap(), public_only).is_ok();
        assert!(ok("https://news.example/a"));
        assert!(ok("http://93.184.215.14/a"));
        assert!(!ok("ftp://news.example/a"));
        assert!(!ok("file:///etc/passwd"));
        assert!(!ok("http://127.0.0.1:5432/"));
        assert!(!ok("http://[::1]/"));
        assert!(!ok("http://169.254.169.254/latest/meta-data/"));
        assert!(!ok("http://localhost:8080/"));
        assert!(!ok("http://api.localhost/"));
        let any = AddressPolicy {
            allow_private: true,
        };
        assert!(check_address(&Url::parse("http://127.0.0.1:5432/").unwrap(), any).is_ok());
    }

    #[test]
    fn retry_after_in_seconds_or_as_a_date() {
        let now = chrono::DateTime::parse_from_rfc3339("2026-12-08T10:00:00Z")
            .unwrap()
            .with_timezone(&chrono::Utc);
        assert_eq!(retry_after_seconds("120", now), Some(120));
        assert_eq!(
            retry_after_seconds("Tue, 08 Dec 2026 10:05:00 GMT", now),
            Some(300)
        );
        assert_eq!(
            retry_after_seconds("Tue, 08 Dec 2026 09:00:00 GMT", now),
            Some(0)
        );
        assert_eq!(retry_after_seconds("soon", now), None);
    }

    #[test]
    fn what_may_pass_with_time() {
        assert!(FetchError::Status(503).is_transient());
        assert!(FetchError::Status(429).is_transient());
        assert!(!FetchError::Status(404).is_transient());
        assert!(FetchError::Timeout(20).is_transient());
        assert!(!FetchError::TooLarge(1).is_transient());
        assert!(!FetchError::RobotsDisallowed("x".into()).is_transient());
    }
}
