//! Watching outlets through the API, against a fixture site on 127.0.0.1
//! (the test app allows private addresses explicitly; every feed and page
//! here links only to that site, so no test sends a request anywhere else).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use claimtrail::domain::auth::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::helpers::{
    TEST_MAX_PAGE_BYTES, TestApp, TestOptions, client_with, spawn_app, spawn_app_with,
};
#[allow(dead_code)]
#[path = "../common/fixture_site.rs"]
pub(crate) mod fixture_site;
use fixture_site::{Answer, FixtureSite};

/// An article page in chrome that changes on every request (a clock, a
/// "trending" list, a tracking script): what a real outlet serves.
fn article_page(headline: &str, paragraphs: &[&str], fetch: usize) -> String {
    let body: String = paragraphs.iter().map(|p| format!("<p>{p}</p>\n")).collect();
    format!(
        "<!doctype html><html lang=\"en\"><head><title>{headline} | Harbor Wire</title>\
         <meta property=\"og:site_name\" content=\"Harbor Wire\">\
         <script>window.pageview={fetch};window.ts=\"17642{fetch:05}\";</script></head><body>\
         <header><nav><a href=\"/\">Home</a> <a href=\"/world\">World</a></nav>\
         <div class=\"ticker\">Updated {} minutes ago</div></header>\
         <main><article><h1>{headline}</h1>{body}</article>\
         <aside><h2>Trending</h2><ul><li><a href=\"/t/{fetch}\">Story number {fetch}</a></li></ul></aside></main>\
         <footer>Page generated at {fetch}</footer></body></html>",
        fetch % 59 + 1
    )
}

fn rss(items: &[(&str, &str)]) -> String {
    let items: String = items
        .iter()
        .map(|(title, link)| {
            format!("<item><title>{title}</title><link>{link}</link><pubDate>Mon, 07 Dec 2026 09:00:00 GMT</pubDate></item>")
        })
        .collect();
    format!(
        "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>Harbor Wire</title>\
         <link>https://harborwire.example/</link><description>News</description>{items}</channel></rss>"
    )
}

const FERRY: [&str; 3] = [
    "The coast guard said on Friday that 17 passengers were rescued from the ferry after it ran aground near the northern harbour in heavy fog.",
    "Officials at the port authority told reporters that the vessel had been inspected in March and that no faults were found at the time.",
    "The operator said it would suspend the route until divers finish examining the hull, which could take several days according to the company.",
];

const TOKYO: [&str; 2] = [
    "東京都の報道官は金曜日、台風の影響で都内の小中学校およそ三百校が臨時休校になったと発表した。交通機関にも大きな乱れが出ている。",
    "気象庁によると、台風は土曜日の朝までに関東地方を通過する見込みで、引き続き土砂災害や河川の氾濫に警戒するよう呼びかけている。",
];

/// Serves `paragraphs` at `path` in fresh chrome on every request; returns
/// the count of requests answered.
fn serve_article(
    site: &FixtureSite,
    path: &str,
    headline: &'static str,
    text: Arc<std::sync::Mutex<Vec<String>>>,
) -> Arc<AtomicUsize> {
    let fetches = Arc::new(AtomicUsize::new(0));
    let counter = fetches.clone();
    site.set_with(path, move |_| {
        let n = counter.fetch_add(1, Ordering::SeqCst);
        let paragraphs = text.lock().unwrap().clone();
        let refs: Vec<&str> = paragraphs.iter().map(String::as_str).collect();
        Answer::ok("text/html; charset=utf-8", article_page(headline, &refs, n))
    });
    fetches
}

fn shared(paragraphs: &[&str]) -> Arc<std::sync::Mutex<Vec<String>>> {
    Arc::new(std::sync::Mutex::new(
        paragraphs.iter().map(|p| (*p).to_owned()).collect(),
    ))
}

async fn add_watch(app: &TestApp, body: Value) -> i64 {
    app.create("/v1/watches", body).await["id"]
        .as_i64()
        .unwrap()
}

async fn poll(app: &TestApp, watch: i64) -> Value {
    let res = app
        .post_json(&format!("/v1/watches/{watch}/poll"), &json!({}))
        .await;
    let status = res.status();
    let text = res.text().await.unwrap();
    assert_eq!(status, StatusCode::OK, "poll -> {text}");
    serde_json::from_str(&text).unwrap()
}

fn count(report: &Value, field: &str) -> usize {
    match &report[field] {
        Value::Array(a) => a.len(),
        v => v.as_u64().unwrap_or_else(|| panic!("{field} in {report}")) as usize,
    }
}

async fn articles_in(app: &TestApp, story: i64) -> i64 {
    let mut conn = app.db().await;
    use diesel_async::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    diesel::sql_query(format!(
        "SELECT count(*) AS n FROM articles WHERE story_id = {story}"
    ))
    .get_result::<N>(&mut conn)
    .await
    .unwrap()
    .n
}

/// The data of the first Server-Sent Event named `name`.
async fn first_event_named(mut res: reqwest::Response, name: &str) -> Value {
    let mut buffer = String::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let chunk = tokio::time::timeout_at(deadline, res.chunk())
            .await
            .expect("the event did not arrive in time")
            .unwrap()
            .expect("the stream ended");
        buffer.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = buffer.find("\n\n") {
            let block: String = buffer.drain(..end + 2).collect();
            if block.lines().any(|l| l == format!("event: {name}")) {
                let data = block
                    .lines()
                    .find_map(|l| l.strip_prefix("data: "))
                    .unwrap();
                return serde_json::from_str(data).unwrap();
            }
        }
    }
}

#[tokio::test]
async fn a_growing_feed_files_each_article_once_and_only_real_edits_become_revisions() {
    let app = spawn_app().await;
    let site = FixtureSite::start();
    let story = app.story("Ferry aground").await;
    let ferry = shared(&FERRY);
    let tokyo = shared(&TOKYO);
    serve_article(
        &site,
        "/news/ferry",
        "Ferry runs aground in fog",
        ferry.clone(),
    );
    serve_article(&site, "/news/tokyo", "台風で休校", tokyo.clone());
    let feed = Arc::new(std::sync::Mutex::new(vec![(
        "Ferry runs aground in fog".to_owned(),
        site.url("/news/ferry?utm_source=rss"),
    )]));
    let listing = feed.clone();
    site.set_with("/feed.xml", move |_| {
        let items = listing.lock().unwrap().clone();
        let refs: Vec<(&str, &str)> = items
            .iter()
            .map(|(t, l)| (t.as_str(), l.as_str()))
            .collect();
        Answer::ok("application/rss+xml", rss(&refs))
    });
    let watch = add_watch(
        &app,
        json!({ "url": site.url("/feed.xml"), "story_id": story, "interval_s": 600 }),
    )
    .await;

    // First poll: the feed's one article.
    let first = poll(&app, watch).await;
    assert_eq!(first["outcome"], "fetched", "{first}");
    assert_eq!(first["kind"], "feed");
    assert_eq!(count(&first, "found"), 1);
    assert_eq!(count(&first, "created"), 1, "{first}");
    let ferry_id = first["created"][0]["article_id"].as_i64().unwrap();
    let article = app.get_json(&format!("/v1/articles/{ferry_id}")).await;
    // The tracking tag is not part of the article's address.
    assert_eq!(article["url"], site.url("/news/ferry"));
    assert_eq!(article["headline"], "Ferry runs aground in fog");
    assert_eq!(article["outlet"], "Harbor Wire");
    let text = article["body"].as_str().unwrap();
    for p in FERRY {
        assert!(text.contains(p), "{text}");
    }
    assert!(
        !text.contains("Trending") && !text.contains("minutes ago"),
        "{text}"
    );

    // A claim on it, given a verdict: what an edit must flag.
    let speaker = app.speaker("Coast guard", "organization").await;
    let claim = app
        .claim_quoting(story, speaker, ferry_id, text, "17 passengers were rescued")
        .await;
    let tag = app.etag(&format!("/v1/claims/{claim}")).await;
    let review = app
        .client
        .post(app.url(&format!("/v1/claims/{claim}/reviews")))
        .header("if-match", tag)
        .json(&json!({ "verdict": "true", "rationale": "The coast guard's log lists 17." }))
        .send()
        .await
        .unwrap();
    assert_eq!(review.status(), 201, "{}", review.text().await.unwrap());

    // The feed grows; the first article, fetched again in new chrome, has
    // the same text: nothing is written for it.
    feed.lock()
        .unwrap()
        .push(("台風で休校".to_owned(), site.url("/news/tokyo")));
    let second = poll(&app, watch).await;
    assert_eq!(count(&second, "found"), 1, "{second}");
    assert_eq!(count(&second, "created"), 1, "{second}");
    assert_eq!(count(&second, "revised"), 0, "{second}");
    assert_eq!(count(&second, "unchanged"), 1, "{second}");
    let tokyo_id = second["created"][0]["article_id"].as_i64().unwrap();
    let tokyo_article = app.get_json(&format!("/v1/articles/{tokyo_id}")).await;
    assert!(tokyo_article["body"].as_str().unwrap().contains("臨時休校"));
    // The page gives no date: the feed's is used.
    assert_eq!(tokyo_article["published_at"], "2026-12-07T09:00:00Z");

    // A cosmetic edit: a paragraph re-wrapped with a line break and a
    // non-breaking space. Not a new version.
    ferry.lock().unwrap()[1] =
        FERRY[1]
            .replacen(" told", "\n  told", 1)
            .replacen(" the vessel", "&nbsp;the vessel", 1);
    let third = poll(&app, watch).await;
    assert_eq!(count(&third, "fetched"), 2, "{third}");
    assert_eq!(
        count(&third, "cosmetic") + count(&third, "unchanged"),
        2,
        "{third}"
    );
    assert_eq!(count(&third, "revised"), 0, "{third}");

    // A real edit: the number changes, quietly.
    ferry.lock().unwrap()[0] = FERRY[0].replace("17 passengers", "15 passengers");
    let fourth = poll(&app, watch).await;
    assert_eq!(count(&fourth, "revised"), 1, "{fourth}");
    assert_eq!(fourth["revised"][0]["article_id"], ferry_id);
    assert_eq!(fourth["revised"][0]["revision"], 2);
    assert_eq!(fourth["revised"][0]["claims_affected"], 1);

    let revisions = app
        .get_json(&format!("/v1/articles/{ferry_id}/revisions"))
        .await;
    let items = revisions["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{revisions}");
    assert_eq!(items[1]["reason"], "detected change");
    assert_eq!(items[1]["author"], format!("watch:{watch}"));
    assert_eq!(
        app.get_json(&format!("/v1/articles/{tokyo_id}/revisions"))
            .await["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // The claim's text is gone from the article: it is flagged for review,
    // and the edit's event says a reviewed claim was touched.
    let claim_now = app.get_json(&format!("/v1/claims/{claim}")).await;
    assert_eq!(claim_now["needs_review"], true, "{claim_now}");
    let events = app
        .get_json(&format!(
            "/v1/events?action=article.revised&actor=watch:{watch}"
        ))
        .await;
    let event = &events["items"][0];
    assert_eq!(event["subject_id"], ferry_id, "{events}");
    assert_eq!(event["details"]["reason"], "detected change");
    assert_eq!(event["details"]["reviewed_claims_affected"], 1);

    // A newsroom tool following the event stream hears of it.
    let stream = app.get(&format!("/v1/events/stream?story={story}")).await;
    let heard = first_event_named(stream, "article.revised").await;
    assert_eq!(heard["actor"], format!("watch:{watch}"));
    assert_eq!(heard["details"]["reviewed_claims_affected"], 1);

    // The page the revision was read from is kept, byte for byte.
    let res = app
        .get(&format!("/v1/articles/{ferry_id}/revisions/2/page"))
        .await;
    assert_eq!(res.status(), 200);
    let sha = res.headers()["claimtrail-page-sha256"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(res.headers()["content-type"], "application/octet-stream");
    let page = res.bytes().await.unwrap();
    assert_eq!(hex::encode(Sha256::digest(&page)), sha);
    let page = String::from_utf8(page.to_vec()).unwrap();
    assert!(
        page.contains("15 passengers") && page.contains("Trending"),
        "{page}"
    );
    assert_eq!(articles_in(&app, story).await, 2);

    // A reviewer sees who recorded the revision and why, and reaches the
    // page as it was fetched.
    let (browser, _) = crate::pages::signed_in(&app, "rita", Role::Reviewer).await;
    let html = browser.page(&format!("/ui/articles/{ferry_id}")).await;
    assert!(html.contains(&format!("watch:{watch}")), "{html}");
    assert!(html.contains("“detected change”"), "{html}");
    let link = format!("/ui/articles/{ferry_id}/revisions/2/page");
    assert!(html.contains(&link), "{html}");
    let fetched = browser.get(&link).await;
    assert_eq!(fetched.status(), 200);
    assert_eq!(
        fetched.headers()["claimtrail-page-sha256"]
            .to_str()
            .unwrap(),
        sha
    );
    assert!(
        fetched.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment"),
    );
    // Revision 1 came from the watch too; a revision posted by hand has no page.
    assert!(html.contains(&format!("/ui/articles/{ferry_id}/revisions/1/page")));
    app.repost(
        story,
        &site.url("/news/tokyo"),
        "台風は関東地方を通過した。",
    )
    .await;
    assert_eq!(
        browser
            .get(&format!("/ui/articles/{tokyo_id}/revisions/2/page"))
            .await
            .status(),
        404
    );
    let res = app
        .get(&format!("/v1/articles/{tokyo_id}/revisions/2/page"))
        .await;
    assert_eq!(res.status(), 404);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("only revisions a watch recorded")
    );
}

#[tokio::test]
async fn an_unchanged_page_costs_a_304_and_records_nothing() {
    let app = spawn_app().await;
    let site = FixtureSite::start();
    let story = app.story("Ferry").await;
    let html = article_page("Ferry runs aground", &FERRY, 1);
    site.set_with("/ferry", move |seen| {
        if seen.headers.get("if-none-match").map(String::as_str) == Some("\"v1\"") {
            Answer::status(304)
        } else {
            Answer::ok("text/html", html.clone()).header("ETag", "\"v1\"")
        }
    });
    let watch = add_watch(
        &app,
        json!({ "url": site.url("/ferry"), "story_id": story }),
    )
    .await;
    let first = poll(&app, watch).await;
    assert_eq!(first["kind"], "page");
    assert_eq!(count(&first, "created"), 1, "{first}");
    let second = poll(&app, watch).await;
    assert_eq!(second["outcome"], "not_modified", "{second}");
    assert_eq!(count(&second, "not_modified"), 1);
    assert_eq!(count(&second, "created") + count(&second, "revised"), 0);
    let last = site
        .seen()
        .into_iter()
        .rfind(|s| s.path == "/ferry")
        .unwrap();
    assert_eq!(
        last.headers.get("if-none-match").map(String::as_str),
        Some("\"v1\"")
    );
    assert!(
        last.headers["user-agent"].starts_with("claimtrail/"),
        "{:?}",
        last.headers
    );
    assert_eq!(articles_in(&app, story).await, 1);
}

#[tokio::test]
async fn a_failing_outlet_is_backed_off_and_recovers() {
    let app = spawn_app().await;
    let site = FixtureSite::start();
    let story = app.story("Ferry").await;
    site.set("/ferry", Answer::status(500));
    let watch = add_watch(
        &app,
        json!({ "url": site.url("/ferry"), "story_id": story, "interval_s": 300 }),
    )
    .await;
    for failures in 1..=2 {
        let before = chrono::Utc::now();
        let report = poll(&app, watch).await;
        assert_eq!(report["outcome"], "failed", "{report}");
        assert!(
            report["error"].as_str().unwrap().contains("500"),
            "{report}"
        );
        let shown = app.get_json(&format!("/v1/watches/{watch}")).await;
        assert_eq!(shown["consecutive_failures"], failures);
        assert!(shown["last_error"].as_str().unwrap().contains("500"));
        // 300 s doubled once per failure.
        let next: chrono::DateTime<chrono::Utc> =
            shown["next_poll_at"].as_str().unwrap().parse().unwrap();
        let wait = (next - before).num_seconds();
        let expected = 300 * (1 << failures);
        assert!(
            (expected - 5..=expected + 5).contains(&wait),
            "waits {wait} s after {failures} failures"
        );
    }
    site.set(
        "/ferry",
        Answer::ok("text/html", article_page("Ferry runs aground", &FERRY, 1)),
    );
    let report = poll(&app, watch).await;
    assert_eq!(report["outcome"], "fetched", "{report}");
    assert_eq!(count(&report, "created"), 1);
    let shown = app.get_json(&format!("/v1/watches/{watch}")).await;
    assert_eq!(shown["consecutive_failures"], 0);
    assert_eq!(shown["last_error"], Value::Null);

    // An outlet that asks for a pause gets it, when it is longer than the
    // back-off would be.
    site.set("/ferry", Answer::status(503).header("Retry-After", "7200"));
    let before = chrono::Utc::now();
    let report = poll(&app, watch).await;
    assert!(
        report["error"]
            .as_str()
            .unwrap()
            .contains("asked to wait 7200 s"),
        "{report}"
    );
    let next: chrono::DateTime<chrono::Utc> =
        report["next_poll_at"].as_str().unwrap().parse().unwrap();
    let wait = (next - before).num_seconds();
    assert!((7195..=7205).contains(&wait), "waits {wait} s");
}

#[tokio::test]
async fn loops_huge_bodies_other_media_and_broken_feeds_record_nothing() {
    let app = spawn_app().await;
    let site = FixtureSite::start();
    let story = app.story("Nothing").await;
    site.set("/loop", Answer::redirect("/loop-back"));
    site.set("/loop-back", Answer::redirect("/loop"));
    let mut huge = article_page("Huge", &FERRY, 1).into_bytes();
    huge.resize(TEST_MAX_PAGE_BYTES + 1, b' ');
    site.set("/huge", Answer::ok("text/html", huge));
    site.set(
        "/report.pdf",
        Answer::ok("application/pdf", b"%PDF-1.7 \x00\x01".to_vec()),
    );
    site.set(
        "/broken.xml",
        Answer::ok(
            "application/rss+xml",
            "<rss version=\"2.0\"><channel><item><title>Cut",
        ),
    );
    let cases = [
        ("/loop", "redirect"),
        ("/huge", "larger than"),
        ("/report.pdf", "application/pdf"),
        ("/broken.xml", "feed"),
    ];
    for (path, says) in cases {
        let watch = add_watch(&app, json!({ "url": site.url(path), "story_id": story })).await;
        let report = poll(&app, watch).await;
        assert_eq!(report["outcome"], "failed", "{path}: {report}");
        let error = report["error"].as_str().unwrap();
        assert!(error.contains(says), "{path}: {error}");
        assert_eq!(count(&report, "created"), 0);
    }
    // A feed listing a PDF: the item is unreadable, nothing recorded.
    site.set(
        "/feed.xml",
        Answer::ok("application/atom+xml", format!(
            "<?xml version=\"1.0\"?><feed xmlns=\"http://www.w3.org/2005/Atom\"><title>W</title><id>urn:w</id>\
             <updated>2026-12-07T09:00:00Z</updated><entry><title>Report</title><id>urn:r</id>\
             <updated>2026-12-07T09:00:00Z</updated><link href=\"{}\"/></entry></feed>",
            site.url("/report.pdf")
        )),
    );
    let watch = add_watch(
        &app,
        json!({ "url": site.url("/feed.xml"), "story_id": story }),
    )
    .await;
    let report = poll(&app, watch).await;
    assert_eq!(report["outcome"], "fetched", "{report}");
    assert_eq!(count(&report, "unreadable"), 1, "{report}");
    let items = app.get_json(&format!("/v1/watches/{watch}/items")).await;
    assert_eq!(items["items"][0]["state"], "unreadable");
    assert!(
        items["items"][0]["last_error"]
            .as_str()
            .unwrap()
            .contains("application/pdf")
    );
    assert_eq!(articles_in(&app, story).await, 0);
}

#[tokio::test]
async fn keywords_file_matching_articles_and_ask_holds_them_for_an_editor() {
    let app = spawn_app().await;
    let site = FixtureSite::start();
    let story = app.story("Typhoon").await;
    serve_article(&site, "/ferry", "Ferry runs aground", shared(&FERRY));
    serve_article(&site, "/tokyo", "台風で休校", shared(&TOKYO));
    let feed = rss(&[
        ("Ferry", &site.url("/ferry")),
        ("台風", &site.url("/tokyo")),
    ]);
    site.set("/feed.xml", Answer::ok("application/rss+xml", feed.clone()));
    site.set("/all.xml", Answer::ok("application/rss+xml", feed));

    let by_keyword = add_watch(
        &app,
        json!({ "url": site.url("/feed.xml"), "story_id": story, "keywords": ["気象庁", "hurricane"] }),
    )
    .await;
    let report = poll(&app, by_keyword).await;
    assert_eq!(count(&report, "created"), 1, "{report}");
    assert_eq!(count(&report, "skipped"), 1, "{report}");
    let created = report["created"][0]["url"].as_str().unwrap();
    assert!(created.ends_with("/tokyo"), "{created}");

    let other = app.story("Ferry").await;
    let asking = add_watch(&app, json!({ "url": site.url("/all.xml") })).await;
    let shown = app.get_json(&format!("/v1/watches/{asking}")).await;
    assert_eq!(shown["filing"], "ask");
    let report = poll(&app, asking).await;
    assert_eq!(count(&report, "held"), 2, "{report}");
    assert_eq!(count(&report, "created"), 0);
    // Each held article is announced once, for tools on the event stream.
    let announced = app.get_json("/v1/events?action=watch.item_held").await;
    assert_eq!(
        announced["items"].as_array().unwrap().len(),
        2,
        "{announced}"
    );
    assert_eq!(announced["items"][0]["actor"], format!("watch:{asking}"));
    let again = poll(&app, asking).await;
    assert_eq!(
        count(&again, "held") + count(&again, "created"),
        0,
        "{again}"
    );
    let announced = app.get_json("/v1/events?action=watch.item_held").await;
    assert_eq!(announced["items"].as_array().unwrap().len(), 2);
    let held = app
        .get_json(&format!("/v1/watches/{asking}/items?state=held"))
        .await;
    let ferry_item = held["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["url"].as_str().unwrap().ends_with("/ferry"))
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let filed = app
        .post_json(
            &format!("/v1/watches/{asking}/items/{ferry_item}/file"),
            &json!({ "story_id": other }),
        )
        .await;
    assert_eq!(filed.status(), 200, "{}", filed.text().await.unwrap());
    let report = poll(&app, asking).await;
    assert_eq!(count(&report, "created"), 1, "{report}");
    assert_eq!(articles_in(&app, other).await, 1);
    // Filing it twice is a conflict.
    let again = app
        .post_json(
            &format!("/v1/watches/{asking}/items/{ferry_item}/file"),
            &json!({ "story_id": other }),
        )
        .await;
    assert_eq!(again.status(), 409);
}

#[tokio::test]
async fn a_watch_that_extracts_proposes_the_claims_of_each_new_article() {
    let app = spawn_app().await;
    let site = FixtureSite::start();
    let story = app.story("Ferry").await;
    site.set(
        "/ferry",
        Answer::ok("text/html", article_page("Ferry runs aground", &FERRY, 1)),
    );
    let watch = add_watch(
        &app,
        json!({ "url": site.url("/ferry"), "story_id": story, "extract": true }),
    )
    .await;
    let report = poll(&app, watch).await;
    let proposed = report["created"][0]["claims_proposed"].as_u64().unwrap();
    assert!(proposed >= 2, "{report}");
    let claims = app
        .get_json(&format!("/v1/claims?story={story}&status=proposed"))
        .await;
    assert_eq!(claims["items"].as_array().unwrap().len() as u64, proposed);
}

#[tokio::test]
async fn the_background_poller_polls_due_watches_by_itself() {
    let app = spawn_app_with(TestOptions {
        watch_tick: Some(Duration::from_millis(50)),
        ..TestOptions::default()
    })
    .await;
    let site = FixtureSite::start();
    let story = app.story("Ferry").await;
    site.set(
        "/ferry",
        Answer::ok("text/html", article_page("Ferry runs aground", &FERRY, 1)),
    );
    let watch = add_watch(
        &app,
        json!({ "url": site.url("/ferry"), "story_id": story }),
    )
    .await;
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let shown = app.get_json(&format!("/v1/watches/{watch}")).await;
        if shown["last_outcome"] == "fetched" {
            // The next poll is a whole interval away.
            let next: chrono::DateTime<chrono::Utc> =
                shown["next_poll_at"].as_str().unwrap().parse().unwrap();
            assert!(
                next > chrono::Utc::now() + chrono::TimeDelta::seconds(800),
                "{shown}"
            );
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "never polled: {shown}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(articles_in(&app, story).await, 1);
    assert_eq!(site.hits("/ferry"), 1);
    // Paused, it is not polled.
    let paused = app
        .post_json(&format!("/v1/watches/{watch}/pause"), &json!({}))
        .await;
    assert_eq!(paused.status(), 200);
    let resumed = app
        .post_json(&format!("/v1/watches/{watch}/resume"), &json!({}))
        .await;
    let resumed: Value = resumed.json().await.unwrap();
    assert_eq!(resumed["paused"], false);
    // Resuming polls at once.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while site.hits("/ferry") < 2 {
        assert!(
            std::time::Instant::now() < deadline,
            "not polled after resuming"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn only_editors_manage_watches_and_bad_requests_write_nothing() {
    let app = spawn_app().await;
    let story = app.story("Ferry").await;
    let reporter = client_with(Some(&app.token_for("rosa", Role::Reporter).await));
    let res = reporter
        .post(app.url("/v1/watches"))
        .json(&json!({ "url": "https://harborwire.example/feed.xml", "story_id": story }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    for bad in [
        json!({ "url": "file:///etc/passwd", "story_id": story }),
        json!({ "url": "https://harborwire.example/feed.xml", "story_id": story, "interval_s": 1 }),
        json!({ "url": "https://harborwire.example/feed.xml", "story_id": 999_999 }),
        json!({ "url": "https://harborwire.example/feed.xml", "filing": "keywords", "story_id": story }),
        json!({ "url": "https://harborwire.example/feed.xml", "story_id": story, "colour": "red" }),
    ] {
        let res = app.post_json("/v1/watches", &bad).await;
        assert!(res.status().is_client_error(), "{bad}: {}", res.status());
        assert_eq!(
            res.headers()["content-type"],
            "application/problem+json",
            "{bad}"
        );
    }
    assert_eq!(
        app.get_json("/v1/watches").await["items"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    let watch = add_watch(
        &app,
        json!({ "url": "https://harborwire.example/feed.xml", "story_id": story }),
    )
    .await;
    let twice = app
        .post_json(
            "/v1/watches",
            &json!({ "url": "https://harborwire.example/feed.xml#latest", "story_id": story }),
        )
        .await;
    assert_eq!(twice.status(), 409);
    let res = reporter
        .delete(app.url(&format!("/v1/watches/{watch}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    // Readers see it.
    let shown: Value = reporter
        .get(app.url(&format!("/v1/watches/{watch}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(shown["filing"], "story");
    assert!(shown.get("etag").is_none());
    let res = app
        .client
        .delete(app.url(&format!("/v1/watches/{watch}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    assert_eq!(app.get(&format!("/v1/watches/{watch}")).await.status(), 404);
    let events = app.get_json("/v1/events?subject_type=watch").await;
    let actions: Vec<&str> = events["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["watch.deleted", "watch.created"]);
}

#[tokio::test]
async fn an_editor_files_a_held_article_from_the_watches_page() {
    let app = spawn_app().await;
    let site = FixtureSite::start();
    let story = app.story("Typhoon").await;
    serve_article(&site, "/tokyo", "台風で休校", shared(&TOKYO));
    site.set(
        "/feed.xml",
        Answer::ok(
            "application/rss+xml",
            rss(&[("台風で休校", &site.url("/tokyo"))]),
        ),
    );
    let watch = add_watch(&app, json!({ "url": site.url("/feed.xml") })).await;
    assert_eq!(count(&poll(&app, watch).await, "held"), 1);

    // A reviewer sees the watch and what waits, without a form to file it.
    let (reviewer, _) = crate::pages::signed_in(&app, "rita", Role::Reviewer).await;
    let html = reviewer.page("/ui/watches").await;
    assert!(html.contains(&site.url("/feed.xml")), "{html}");
    assert!(
        html.contains("台風で休校") && html.contains("held for an editor"),
        "{html}"
    );
    assert!(!html.contains("/file\""), "{html}");

    let (editor, _) = crate::pages::signed_in(&app, "eddie", Role::Editor).await;
    let html = editor.page("/ui/watches").await;
    let item = app.get_json(&format!("/v1/watches/{watch}/items")).await["items"][0]["id"]
        .as_i64()
        .unwrap();
    let action = format!("/ui/watches/{watch}/items/{item}/file");
    assert!(html.contains(&action), "{html}");
    let csrf = crate::pages::csrf_of(&html);
    // A story that is not a number is refused, and nothing is filed.
    let res = editor
        .post(&action, &[("csrf", csrf.as_str()), ("story_id", "typhoon")])
        .await;
    assert_eq!(res.status(), 422, "{}", res.text().await.unwrap());
    let story_text = story.to_string();
    let res = editor
        .post(
            &action,
            &[
                ("csrf", csrf.as_str()),
                ("story_id", story_text.as_str()),
                ("back", "/ui/watches"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());
    let report = poll(&app, watch).await;
    assert_eq!(count(&report, "created"), 1, "{report}");
    assert_eq!(articles_in(&app, story).await, 1);
    let filed = app.get_json("/v1/events?action=watch.item_filed").await;
    assert_eq!(filed["items"][0]["actor"], "eddie");
    assert!(!editor.page("/ui/watches").await.contains("台風で休校"));
}

#[tokio::test]
async fn a_watch_is_polled_once_at_a_time() {
    let app = spawn_app().await;
    let site = FixtureSite::start();
    let story = app.story("Ferry").await;
    let mut slow = Answer::ok("text/html", article_page("Ferry runs aground", &FERRY, 1));
    slow.delay = Duration::from_millis(1_500);
    site.set("/ferry", slow);
    let watch = add_watch(
        &app,
        json!({ "url": site.url("/ferry"), "story_id": story }),
    )
    .await;
    let path = format!("/v1/watches/{watch}/poll");
    let empty = json!({});
    let (first, second) = tokio::join!(app.post_json(&path, &empty), async {
        tokio::time::sleep(Duration::from_millis(400)).await;
        let shown = app.get_json(&format!("/v1/watches/{watch}")).await;
        assert!(shown["polling_since"].is_string(), "{shown}");
        app.post_json(&path, &empty).await
    });
    assert_eq!(second.status(), 409, "{}", second.text().await.unwrap());
    let first: Value = first.json().await.unwrap();
    assert_eq!(count(&first, "created"), 1, "{first}");
    // Once it ended, the watch polls again.
    let shown = app.get_json(&format!("/v1/watches/{watch}")).await;
    assert_eq!(shown["polling_since"], Value::Null);
    let third = poll(&app, watch).await;
    assert_eq!(count(&third, "unchanged"), 1, "{third}");
    assert_eq!(site.hits("/ferry"), 2);
}
