//! The reviewer pages in a real browser: headless Chromium driven through
//! chromedriver (WebDriver). A reviewer signs in, works the queue, reviews
//! a claim, hits a stale-form conflict and re-applies it, reads a diff,
//! opens the article and travels the timeline, on a laptop and a phone.
//!
//! Each page's screenshot is written to `target/screenshots/`; with
//! `CLAIMTRAIL_UPDATE_SCREENSHOTS=1` also to `docs/screenshots/`, which the
//! docs show.

use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app};
use claimtrail::domain::auth::Role;

/// A chromedriver process on a free loopback port, killed on drop.
struct Driver {
    child: Child,
    port: u16,
}

impl Drop for Driver {
    /// Stops chromedriver and the browsers it started (its process group),
    /// whether the test passed or not.
    fn drop(&mut self) {
        let group = nix::unistd::Pid::from_raw(self.child.id() as i32);
        let _ = nix::sys::signal::killpg(group, nix::sys::signal::Signal::SIGKILL);
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn start_driver() -> Driver {
    let port = free_port();
    let child = Command::new("chromedriver")
        .arg(format!("--port={port}"))
        .process_group(0)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver must be installed for the browser tests (Debian: apt-get install chromium chromium-driver)");
    let driver = Driver { child, port };
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return driver;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("chromedriver did not start listening on 127.0.0.1:{port}");
}

async fn browser(driver: &Driver) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({ "args": ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                         "--disable-gpu", "--window-size=1280,1000", "--lang=en"] }),
    );
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{}", driver.port))
        .await
        .expect("a Chromium session through chromedriver")
}

/// Saves the page as it looks now.
async fn screenshot(page: &Client, name: &str) {
    let png = page.screenshot().await.unwrap();
    assert!(png.starts_with(b"\x89PNG"), "a PNG");
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = root.join("target/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(format!("{name}.png")), &png).unwrap();
    if std::env::var_os("CLAIMTRAIL_UPDATE_SCREENSHOTS").is_some() {
        let docs = root.join("docs/screenshots");
        std::fs::create_dir_all(&docs).unwrap();
        std::fs::write(docs.join(format!("{name}.png")), &png).unwrap();
    }
}

/// Waits until the page a click or a form led to shows `what` (a click
/// returns before the navigation it starts has finished).
async fn arrive(page: &Client, what: Locator<'_>) {
    page.wait()
        .at_most(Duration::from_secs(15))
        .for_element(what)
        .await
        .expect("the next page");
}

async fn text_of(page: &Client, css: &str) -> String {
    page.find(Locator::Css(css))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

async fn path_of(page: &Client) -> String {
    page.current_url().await.unwrap().path().to_owned()
}

/// A story with an article, three claims on it (one later corrected by the
/// outlet) and one revised by an editor: something to review.
async fn newsroom(app: &TestApp) -> (i64, i64, Vec<i64>) {
    let story = app.story("Ferry disaster off Santa Lucia").await;
    let coast_guard = app.speaker("Coast Guard", "organization").await;
    let minister = app.speaker("Ana Robles", "person").await;
    let body = "The coast guard said 17 passengers were rescued overnight. \
                Interior Minister Ana Robles told reporters that divers would resume the search at dawn. \
                «Το πλοίο ήταν υπερφορτωμένο», είπε ένας λιμενικός. 政府は邦人の安否を確認中だ。";
    let url = "https://news.example/ferry";
    let article = app.article(story, url, body).await;
    let mut claims = Vec::new();
    for (speaker, part) in [
        (coast_guard, "17 passengers were rescued overnight"),
        (minister, "divers would resume the search at dawn"),
        (coast_guard, "«Το πλοίο ήταν υπερφορτωμένο»"),
    ] {
        claims.push(app.claim_quoting(story, speaker, article, body, part).await);
    }
    // The outlet corrects the count: the first claim's span is altered.
    app.repost(story, url, &body.replace("17 passengers", "19 passengers"))
        .await;
    (story, article, claims)
}

#[tokio::test]
async fn a_reviewer_works_through_a_story_in_a_real_browser() {
    let app = spawn_app().await;
    let (story, article, claims) = newsroom(&app).await;
    let token = app.token_for("rita", Role::Reviewer).await;
    let driver = start_driver().await;
    let page = browser(&driver).await;
    journey(&app, &page, &token, story, article, &claims).await;
    page.close().await.unwrap();
}

async fn journey(
    app: &TestApp,
    page: &Client,
    token: &str,
    story: i64,
    article: i64,
    claims: &[i64],
) {
    // Signing in: the service's address leads to the sign-in form and back.
    page.goto(&app.url("/")).await.unwrap();
    assert_eq!(path_of(page).await, "/ui/sign-in");
    screenshot(page, "sign-in").await;
    let form = page
        .form(Locator::Css("form[action='/ui/sign-in']"))
        .await
        .unwrap();
    form.set_by_name("token", token).await.unwrap();
    form.submit().await.unwrap();
    arrive(page, Locator::Css("form.who")).await;
    assert_eq!(path_of(page).await, "/ui/queue");
    let cookies = page.get_all_cookies().await.unwrap();
    let session = cookies
        .iter()
        .find(|c| c.name() == "claimtrail_session")
        .expect("a session cookie");
    assert_eq!(session.http_only(), Some(true));
    assert_ne!(session.value(), token);
    // Scripts cannot read the session.
    let visible: Value = page
        .execute("return document.cookie", vec![])
        .await
        .unwrap();
    assert!(
        !visible.as_str().unwrap().contains("claimtrail_session"),
        "{visible}"
    );

    // The queue: why each claim waits; take one from its row.
    let queue = page.source().await.unwrap();
    assert!(
        queue.contains("span altered by an article correction"),
        "{queue}"
    );
    screenshot(page, "queue").await;
    page.find(Locator::Css(&format!(
        "button[aria-label='Take claim {}']",
        claims[1]
    )))
    .await
    .unwrap()
    .click()
    .await
    .unwrap();
    assert_eq!(path_of(page).await, "/ui/queue");
    arrive(
        page,
        Locator::XPath("//td[@data-label='Assignee'][contains(., 'rita')]"),
    )
    .await;
    assert!(
        page.source()
            .await
            .unwrap()
            .contains("<td data-label=\"Assignee\">\n      rita"),
        "taken by rita"
    );

    // The claim page: the span in its article, and a verdict with evidence.
    page.find(Locator::LinkText("divers would resume the search at dawn"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    arrive(page, Locator::Css("#actions-heading")).await;
    assert_eq!(path_of(page).await, format!("/ui/claims/{}", claims[1]));
    assert_eq!(
        text_of(page, "mark").await,
        "divers would resume the search at dawn"
    );
    screenshot(page, "claim").await;
    let review = page
        .form(Locator::Css("form[action$='/reviews']"))
        .await
        .unwrap();
    review.set_by_name("verdict", "mostly_true").await.unwrap();
    review
        .set_by_name(
            "rationale",
            "The coast guard's schedule confirms a dawn restart.",
        )
        .await
        .unwrap();
    review
        .set_by_name("evidence_url", "https://coastguard.example/notice-42")
        .await
        .unwrap();
    review
        .set_by_name("evidence_title", "Notice 42")
        .await
        .unwrap();
    review.submit().await.unwrap();
    arrive(page, Locator::Css(".verdict")).await;
    assert_eq!(text_of(page, ".verdict").await, "mostly_true");
    assert_eq!(text_of(page, ".evidence a").await, "Notice 42");

    // A stale form: the claim changes while the page is open.
    page.goto(&app.url(&format!("/ui/claims/{}", claims[0])))
        .await
        .unwrap();
    let res = app
        .patch_json(
            &format!("/v1/claims/{}", claims[0]),
            &json!({ "text": "19 passengers were rescued overnight", "reason": "outlet corrected the count" }),
            None,
        )
        .await;
    assert_eq!(res.status(), 200);
    let status = page
        .form(Locator::Css("form[action$='/status']"))
        .await
        .unwrap();
    status.set_by_name("status", "in_review").await.unwrap();
    status
        .set_by_name("reason", "checking the count with the coast guard")
        .await
        .unwrap();
    status.submit().await.unwrap();
    arrive(
        page,
        Locator::XPath("//h1[contains(., 'changed while you were looking at it')]"),
    )
    .await;
    let conflict = page.source().await.unwrap();
    assert!(
        conflict.contains("changed while you were looking at it"),
        "{conflict}"
    );
    assert_eq!(text_of(page, ".diff del").await, "17");
    assert_eq!(text_of(page, ".diff ins").await, "19");
    screenshot(page, "conflict").await;
    page.find(Locator::Css("form[action$='/status'] button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    arrive(page, Locator::Css(".status-in_review")).await;
    assert_eq!(path_of(page).await, format!("/ui/claims/{}", claims[0]));
    let claim = app.get_json(&format!("/v1/claims/{}", claims[0])).await;
    assert_eq!(claim["status"], "in_review");
    let events = app
        .get_json(&format!(
            "/v1/events?subject_type=claim&subject_id={}&action=claim.status_changed",
            claims[0]
        ))
        .await;
    assert_eq!(events["items"][0]["actor"], "rita", "{events}");

    // Reading a diff between any two revisions.
    page.goto(&app.url(&format!("/ui/claims/{}?from=1&to=3", claims[0])))
        .await
        .unwrap();
    assert_eq!(text_of(page, "#diff-heading").await, "Revision 1 → 3");

    // The article: both revisions, the changed words and the spans.
    page.goto(&app.url(&format!("/ui/articles/{article}")))
        .await
        .unwrap();
    let marks = page.find_all(Locator::Css(".pane mark")).await.unwrap();
    assert!(
        marks.len() >= 6,
        "three spans on each side, found {}",
        marks.len()
    );
    screenshot(page, "article").await;

    // The timeline, then the story as it stood before the edit.
    page.goto(&app.url(&format!("/ui/stories/{story}/timeline")))
        .await
        .unwrap();
    assert!(page.find_all(Locator::Css(".event")).await.unwrap().len() >= 8);
    screenshot(page, "timeline").await;
    let first_claim_logged: String = app
        .get_json(&format!("/v1/stories/{story}/timeline?kind=claim_logged"))
        .await["items"][2]["occurred_at"]
        .as_str()
        .unwrap()
        .to_owned();
    let after_logging = chrono::DateTime::parse_from_rfc3339(&first_claim_logged).unwrap()
        + chrono::Duration::milliseconds(1);
    page.goto(&app.url(&format!(
            "/ui/stories/{story}/timeline?as_of={}",
            after_logging
                .to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
                .replace(':', "%3A")
                .replace('+', "%2B")
        )))
    .await
    .unwrap();
    let then = text_of(page, "#as-of-heading + div table").await;
    assert!(
        then.contains("17 passengers were rescued overnight"),
        "{then}"
    );
    assert!(!then.contains("19 passengers"), "{then}");

    // On a phone: no sideways scrolling, the queue's rows become cards.
    page.set_window_size(390, 844).await.unwrap();
    page.goto(&app.url("/ui/queue")).await.unwrap();
    let fits: Value = page
        .execute(
            "return document.documentElement.scrollWidth <= window.innerWidth",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(fits, json!(true), "the queue fits a phone's width");
    screenshot(page, "queue-phone").await;

    // The keyboard reaches the skip link first.
    page.find(Locator::Css("body"))
        .await
        .unwrap()
        .send_keys("\u{e004}")
        .await
        .unwrap();
    let focused: Value = page
        .execute("return document.activeElement.className", vec![])
        .await
        .unwrap();
    assert_eq!(focused, json!("skip"));

    // Sign-out ends the session.
    page.set_window_size(1280, 1000).await.unwrap();
    page.find(Locator::Css("form.who button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    arrive(page, Locator::Css("#token")).await;
    assert_eq!(path_of(page).await, "/ui/sign-in");
    page.goto(&app.url("/ui/queue")).await.unwrap();
    assert_eq!(path_of(page).await, "/ui/sign-in");
}

#[tokio::test]
async fn an_editor_files_a_held_article_from_the_watches_page_in_a_real_browser() {
    use crate::watches::fixture_site::{Answer, FixtureSite};
    let app = spawn_app().await;
    let site = FixtureSite::start();
    let story = app.story("Ferry disaster off Santa Lucia").await;
    site.set(
        "/ferry",
        Answer::ok(
            "text/html; charset=utf-8",
            "<!doctype html><html lang=\"el\"><head><title>Ναυάγιο στο λιμάνι</title></head><body>\
             <nav><a href=\"/\">Αρχική</a></nav><article><h1>Ναυάγιο στο λιμάνι</h1>\
             <p>Το λιμενικό ανακοίνωσε την Παρασκευή ότι δεκαεπτά επιβάτες διασώθηκαν από το πλοίο που προσάραξε κοντά στο βόρειο λιμάνι.</p>\
             <p>Η εταιρεία δήλωσε ότι η γραμμή θα μείνει κλειστή μέχρι να ολοκληρωθεί ο έλεγχος της γάστρας από δύτες.</p>\
             </article></body></html>",
        ),
    );
    let watch = app
        .create("/v1/watches", json!({ "url": site.url("/ferry") }))
        .await["id"]
        .as_i64()
        .unwrap();
    let polled: Value = app
        .post_json(&format!("/v1/watches/{watch}/poll"), &json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(polled["held"], 1, "{polled}");

    let token = app.token_for("eddie", Role::Editor).await;
    let driver = start_driver().await;
    let page = browser(&driver).await;
    page.goto(&app.url("/ui/sign-in")).await.unwrap();
    let form = page
        .form(Locator::Css("form[action='/ui/sign-in']"))
        .await
        .unwrap();
    form.set_by_name("token", &token).await.unwrap();
    form.submit().await.unwrap();
    arrive(&page, Locator::Css("form.who")).await;
    page.find(Locator::LinkText("Watches"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    arrive(&page, Locator::Id("held-heading")).await;
    assert!(text_of(&page, "main").await.contains("Ναυάγιο στο λιμάνι"));
    screenshot(&page, "watches").await;
    let file = page
        .form(Locator::Css("form[action$='/file']"))
        .await
        .unwrap();
    file.set_by_name("story_id", &story.to_string())
        .await
        .unwrap();
    file.submit().await.unwrap();
    page.wait()
        .at_most(Duration::from_secs(15))
        .for_element(Locator::XPath("//p[contains(., 'No article is waiting.')]"))
        .await
        .expect("the article filed");
    let polled: Value = app
        .post_json(&format!("/v1/watches/{watch}/poll"), &json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(polled["created"][0]["url"], site.url("/ferry"), "{polled}");
    page.close().await.unwrap();
}
