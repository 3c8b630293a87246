//! Canonical article addresses: the same article reached through a feed,
//! a social post or a newsletter carries tracking parameters and
//! fragments that must not make it another article.

use url::Url;

/// Query parameters that only say how a reader arrived.
const TRACKING: &[&str] = &[
    "fbclid",
    "gclid",
    "dclid",
    "gbraid",
    "wbraid",
    "msclkid",
    "yclid",
    "igshid",
    "mc_cid",
    "mc_eid",
    "_ga",
    "_gl",
    "ocid",
    "cmpid",
    "smid",
    "smtyp",
    "ncid",
    "cid",
    "sr_share",
    "at_medium",
    "at_campaign",
    "ito",
    "taid",
    "dicbo",
];

/// The address an article is filed under: http(s) only, no credentials, no
/// fragment, no tracking parameters (`utm_*` and the usual click ids), the
/// rest of the query kept in order. `None` for anything that is not an
/// http(s) address.
pub fn canonical(address: &str) -> Option<String> {
    let mut url = Url::parse(address.trim()).ok()?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return None;
    }
    let _ = url.set_username("");
    let _ = url.set_password(None);
    url.set_fragment(None);
    let kept: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(k, _)| !is_tracking(k))
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    if kept.is_empty() {
        url.set_query(None);
    } else {
        url.query_pairs_mut().clear().extend_pairs(kept);
    }
    Some(url.to_string())
}

fn is_tracking(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    key.starts_with("utm_") || TRACKING.contains(&key.as_str())
}

#[cfg(test)]
mod tests {
    use super::canonical;

    #[test]
    fn tracking_parameters_and_fragments_go_the_rest_stays() {
        assert_eq!(
            canonical("https://News.Example/world/2026/ferry?utm_source=rss&utm_medium=feed&id=7&fbclid=abc#comments")
                .as_deref(),
            Some("https://news.example/world/2026/ferry?id=7")
        );
        assert_eq!(
            canonical("https://news.example/a?UTM_Campaign=x&gclid=1").as_deref(),
            Some("https://news.example/a")
        );
        assert_eq!(
            canonical("http://user:pw@news.example:80/a").as_deref(),
            Some("http://news.example/a")
        );
    }

    #[test]
    fn addresses_in_any_script_are_kept_as_the_web_writes_them() {
        assert_eq!(
            canonical("https://ニュース.example/記事/1?utm_source=x").as_deref(),
            Some("https://xn--zck9awe6d.example/%E8%A8%98%E4%BA%8B/1")
        );
        assert_eq!(
            canonical("https://news.example/مقال?ref=home&q=خبر").as_deref(),
            Some("https://news.example/%D9%85%D9%82%D8%A7%D9%84?ref=home&q=%D8%AE%D8%A8%D8%B1")
        );
    }

    #[test]
    fn only_web_addresses_count() {
        for bad in [
            "ftp://news.example/a",
            "javascript:alert(1)",
            "mailto:desk@news.example",
            "/relative",
            "",
            "https://",
        ] {
            assert_eq!(canonical(bad), None, "{bad}");
        }
    }
}
