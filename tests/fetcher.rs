//! The fetcher against a fixture site on 127.0.0.1 (private addresses
//! allowed explicitly, as only tests and intranet operators do): robots.txt,
//! conditional requests, errors and recovery, redirect loops, body limits,
//! one request per host at a time, and the address guard.

mod common;

use std::time::Duration;

use claimtrail::fetcher::guard::AddressPolicy;
use claimtrail::fetcher::{FetchError, FetchSettings, Fetched, Fetcher, Validators};
use common::fixture_site::{Answer, FixtureSite};

fn fetcher(allow_private: bool) -> Fetcher {
    Fetcher::new(FetchSettings {
        policy: AddressPolicy { allow_private },
        timeout: Duration::from_secs(5),
        max_body_bytes: 64 * 1024,
        host_delay: Duration::from_millis(20),
        ..FetchSettings::default()
    })
    .unwrap()
}

const PAGE: &str =
    "<html><body><article><p>Divers recovered the logbook.</p></article></body></html>";

#[tokio::test]
async fn loopback_is_refused_unless_the_operator_allows_it_and_nothing_is_sent() {
    let site = FixtureSite::start();
    site.set("/a", Answer::ok("text/html", PAGE));
    let refused = fetcher(false)
        .fetch(&site.url("/a"), &Validators::default())
        .await;
    assert!(
        matches!(refused, Err(FetchError::Refused(_))),
        "{refused:?}"
    );
    let by_name = fetcher(false)
        .fetch(
            &site.url("/a").replace("127.0.0.1", "localhost"),
            &Validators::default(),
        )
        .await;
    assert!(
        matches!(by_name, Err(FetchError::Refused(_))),
        "{by_name:?}"
    );
    assert!(
        site.seen().is_empty(),
        "a refused fetch sent {:?}",
        site.seen()
    );
    let allowed = fetcher(true)
        .fetch(&site.url("/a"), &Validators::default())
        .await
        .unwrap();
    let Fetched::Body(page) = allowed else {
        panic!("{allowed:?}")
    };
    assert_eq!(page.body, PAGE.as_bytes());
    assert_eq!(page.media_type, "text/html");
}

#[tokio::test]
async fn a_page_is_fetched_after_robots_txt_with_a_clear_user_agent() {
    let site = FixtureSite::start();
    site.set(
        "/robots.txt",
        Answer::ok("text/plain", "User-agent: *\nDisallow: /private/\n"),
    );
    site.set("/news/1", Answer::ok("text/html; charset=utf-8", PAGE));
    site.set("/private/draft", Answer::ok("text/html", PAGE));
    let fetcher = fetcher(true);
    for _ in 0..2 {
        assert!(matches!(
            fetcher
                .fetch(&site.url("/news/1"), &Validators::default())
                .await,
            Ok(Fetched::Body(_))
        ));
    }
    let refused = fetcher
        .fetch(&site.url("/private/draft"), &Validators::default())
        .await;
    assert!(
        matches!(refused, Err(FetchError::RobotsDisallowed(_))),
        "{refused:?}"
    );
    assert_eq!(site.hits("/private/draft"), 0);
    // robots.txt is read once for the host, before anything else.
    assert_eq!(site.hits("/robots.txt"), 1);
    assert_eq!(site.seen()[0].path, "/robots.txt");
    let agent = &site.seen()[1].headers["user-agent"];
    assert!(
        agent.starts_with("claimtrail/") && agent.contains("robots.txt"),
        "{agent}"
    );
}

#[tokio::test]
async fn an_unchanged_page_costs_the_outlet_a_304() {
    let site = FixtureSite::start();
    site.set_with("/news/1", |seen| {
        if seen.headers.get("if-none-match").map(String::as_str) == Some("\"v1\"") {
            Answer::status(304)
        } else {
            Answer::ok("text/html", PAGE)
                .header("ETag", "\"v1\"")
                .header("Last-Modified", "Fri, 27 Nov 2026 08:40:00 GMT")
        }
    });
    let fetcher = fetcher(true);
    let Fetched::Body(first) = fetcher
        .fetch(&site.url("/news/1"), &Validators::default())
        .await
        .unwrap()
    else {
        panic!("no body")
    };
    let validators = Validators {
        etag: first.etag.clone(),
        last_modified: first.last_modified.clone(),
    };
    assert_eq!(validators.etag.as_deref(), Some("\"v1\""));
    assert_eq!(
        fetcher
            .fetch(&site.url("/news/1"), &validators)
            .await
            .unwrap(),
        Fetched::NotModified
    );
    let last = site.seen().last().unwrap().clone();
    assert_eq!(
        last.headers["if-modified-since"],
        "Fri, 27 Nov 2026 08:40:00 GMT"
    );
}

#[tokio::test]
async fn server_errors_are_transient_and_recovery_is_seen() {
    let site = FixtureSite::start();
    let calls = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = calls.clone();
    site.set_with("/flaky", move |_| {
        if counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0 {
            Answer::status(500)
        } else {
            Answer::ok("text/html", PAGE)
        }
    });
    let fetcher = fetcher(true);
    let first = fetcher
        .fetch(&site.url("/flaky"), &Validators::default())
        .await;
    assert_eq!(first, Err(FetchError::Status(500)));
    assert!(first.unwrap_err().is_transient());
    assert!(matches!(
        fetcher
            .fetch(&site.url("/flaky"), &Validators::default())
            .await,
        Ok(Fetched::Body(_))
    ));
    let gone = fetcher
        .fetch(&site.url("/missing"), &Validators::default())
        .await
        .unwrap_err();
    assert_eq!(gone, FetchError::Status(404));
    assert!(!gone.is_transient());
}

#[tokio::test]
async fn redirect_loops_and_oversized_bodies_are_cut_short() {
    let site = FixtureSite::start();
    site.set("/loop/a", Answer::redirect("/loop/b"));
    site.set("/loop/b", Answer::redirect("/loop/a"));
    site.set("/moved", Answer::redirect("/news/1"));
    site.set("/news/1", Answer::ok("text/html", PAGE));
    site.set("/huge", Answer::ok("text/html", vec![b'a'; 200 * 1024]));
    site.set(
        "/image.png",
        Answer::ok("image/png", vec![0x89, b'P', b'N', b'G']),
    );
    let fetcher = fetcher(true);
    let looped = fetcher
        .fetch(&site.url("/loop/a"), &Validators::default())
        .await;
    assert!(
        matches!(looped, Err(FetchError::Redirects(_))),
        "{looped:?}"
    );
    assert!(site.hits("/loop/a") <= 2, "{:?}", site.seen());
    let Fetched::Body(moved) = fetcher
        .fetch(&site.url("/moved"), &Validators::default())
        .await
        .unwrap()
    else {
        panic!("no body")
    };
    assert_eq!(moved.final_url, site.url("/news/1"));
    assert_eq!(
        fetcher
            .fetch(&site.url("/huge"), &Validators::default())
            .await,
        Err(FetchError::TooLarge(64 * 1024))
    );
    // Not an article page: the fetcher says what it is; its caller decides.
    let Fetched::Body(image) = fetcher
        .fetch(&site.url("/image.png"), &Validators::default())
        .await
        .unwrap()
    else {
        panic!("no body")
    };
    assert_eq!(image.media_type, "image/png");
}

#[tokio::test]
async fn one_request_at_a_time_per_host() {
    let site = FixtureSite::start();
    for i in 0..6 {
        let mut answer = Answer::ok("text/html", PAGE);
        answer.delay = Duration::from_millis(30);
        site.set(&format!("/news/{i}"), answer);
    }
    let fetcher = fetcher(true);
    let fetches = (0..6).map(|i| {
        let url = site.url(&format!("/news/{i}"));
        let fetcher = &fetcher;
        async move { fetcher.fetch(&url, &Validators::default()).await }
    });
    let results = futures_util::future::join_all(fetches).await;
    assert!(
        results.iter().all(|r| matches!(r, Ok(Fetched::Body(_)))),
        "{results:?}"
    );
    assert_eq!(site.most_in_flight(), 1);
    assert_eq!(site.seen().len(), 7, "robots.txt and six pages");
}
