//! The articles a feed lists: RSS 2.0, RSS 1.0, Atom and JSON Feed, read by
//! `feed-rs` (one model for all four), each item reduced to what the
//! ledger needs to fetch it: its canonical address, title and time.

use chrono::{DateTime, Utc};

use super::link;

/// Items read from one feed at most; a feed listing more is cut, newest
/// first as feeds list them.
pub const MAX_ITEMS: usize = 500;

#[derive(Debug, Clone, PartialEq)]
pub struct FeedItem {
    /// The article's canonical address (see [`link::canonical`]).
    pub url: String,
    pub title: Option<String>,
    /// When it was published (or, failing that, last updated).
    pub published_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a feed the service can read (RSS, Atom or JSON Feed): {0}")]
pub struct FeedError(pub String);

/// The items of the feed `bytes` fetched from `address` (relative links
/// resolve against it). Items without an http(s) link are left out; an
/// address listed twice counts once.
pub fn read_feed(bytes: &[u8], address: &str) -> Result<Vec<FeedItem>, FeedError> {
    let feed = feed_rs::parser::Builder::new()
        .base_uri(Some(address))
        .build()
        .parse(bytes)
        .map_err(|e| FeedError(e.to_string()))?;
    let mut seen = std::collections::HashSet::new();
    Ok(feed
        .entries
        .into_iter()
        .filter_map(|entry| {
            let url = entry
                .links
                .iter()
                .filter(|l| l.rel.as_deref().is_none_or(|r| r == "alternate"))
                .chain(entry.links.iter())
                .find_map(|l| link::canonical(&l.href))?;
            Some(FeedItem {
                url,
                title: entry
                    .title
                    .map(|t| t.content.trim().to_owned())
                    .filter(|t| !t.is_empty()),
                published_at: entry.published.or(entry.updated),
            })
        })
        .filter(|item| seen.insert(item.url.clone()))
        .take(MAX_ITEMS)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rss_items_with_their_tracking_parameters_removed() {
        let rss = r#"<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>World</title><link>https://news.example/world</link>
<item><title>Ferry search widens</title><link>https://news.example/world/ferry?utm_source=rss&amp;utm_medium=feed</link>
<pubDate>Fri, 27 Nov 2026 09:40:00 +0100</pubDate><guid>https://news.example/world/ferry</guid></item>
<item><title>Ο υπουργός μίλησε</title><link>/world/minister</link></item>
<item><title>Listed twice</title><link>https://news.example/world/ferry#top</link></item>
<item><title>No link</title><description>nothing to fetch</description></item>
</channel></rss>"#;
        let items = read_feed(rss.as_bytes(), "https://news.example/feeds/world.xml").unwrap();
        assert_eq!(
            items.iter().map(|i| i.url.as_str()).collect::<Vec<_>>(),
            [
                "https://news.example/world/ferry",
                "https://news.example/world/minister"
            ]
        );
        assert_eq!(items[0].title.as_deref(), Some("Ferry search widens"));
        assert_eq!(
            items[0].published_at,
            Some("2026-11-27T08:40:00Z".parse().unwrap())
        );
        assert_eq!(items[1].title.as_deref(), Some("Ο υπουργός μίλησε"));
    }

    #[test]
    fn atom_and_json_feed_read_alike() {
        let atom = r#"<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>ニュース</title><id>urn:x</id><updated>2026-11-27T10:00:00Z</updated>
<entry><title>フェリー捜索が拡大</title><id>urn:1</id><updated>2026-11-27T10:00:00Z</updated>
<link rel="alternate" href="https://news.example/ja/ferry"/><link rel="enclosure" href="https://cdn.example/a.jpg"/></entry>
</feed>"#;
        let items = read_feed(atom.as_bytes(), "https://news.example/ja/atom.xml").unwrap();
        assert_eq!(items[0].url, "https://news.example/ja/ferry");
        assert_eq!(items[0].title.as_deref(), Some("フェリー捜索が拡大"));

        let json = r#"{"version":"https://jsonfeed.org/version/1.1","title":"Desk",
"items":[{"id":"1","url":"https://news.example/ar/1?fbclid=x","title":"الوزير يعلن","date_published":"2026-11-27T09:00:00Z"}]}"#;
        let items = read_feed(json.as_bytes(), "https://news.example/feed.json").unwrap();
        assert_eq!(items[0].url, "https://news.example/ar/1");
        assert_eq!(items[0].title.as_deref(), Some("الوزير يعلن"));
    }

    #[test]
    fn what_is_not_a_feed_is_refused() {
        for bad in [
            &b"<html><body>not a feed</body></html>"[..],
            b"<rss version=\"2.0\"><channel><item><title>unclosed",
            b"{\"not\":\"a feed\"}",
            b"",
        ] {
            assert!(
                read_feed(bad, "https://news.example/f").is_err(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }
}
