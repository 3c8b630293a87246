//! The reviewer pages at the HTML level: sessions, CSRF, escaping, the
//! queue, the claim page's forms and the stale-form conflict.

use regex::Regex;
use reqwest::redirect::Policy;
use reqwest::{Client, Response, StatusCode};
use serde_json::json;

use crate::helpers::{TestApp, spawn_app};
use claimtrail::domain::auth::Role;

/// A browser: keeps cookies, does not follow redirects (the tests look at
/// each one).
pub(crate) struct Browser {
    client: Client,
    base: String,
}

impl Browser {
    fn new(app: &TestApp) -> Self {
        Browser {
            client: Client::builder()
                .cookie_store(true)
                .redirect(Policy::none())
                .build()
                .unwrap(),
            base: app.address.clone(),
        }
    }

    pub(crate) async fn get(&self, path: &str) -> Response {
        self.client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap()
    }

    pub(crate) async fn page(&self, path: &str) -> String {
        let res = self.get(path).await;
        assert_eq!(res.status(), StatusCode::OK, "GET {path}");
        res.text().await.unwrap()
    }

    pub(crate) async fn post(&self, path: &str, form: &[(&str, &str)]) -> Response {
        self.client
            .post(format!("{}{path}", self.base))
            .form(form)
            .send()
            .await
            .unwrap()
    }
}

/// The CSRF token a page's forms carry.
pub(crate) fn csrf_of(html: &str) -> String {
    Regex::new(r#"name="csrf" value="([^"]+)""#)
        .unwrap()
        .captures(html)
        .expect("a form with a CSRF token")[1]
        .to_owned()
}

fn location(res: &Response) -> &str {
    res.headers()["location"].to_str().unwrap()
}

/// A browser signed in as a new user with this role.
pub(crate) async fn signed_in(app: &TestApp, name: &str, role: Role) -> (Browser, String) {
    let token = app.token_for(name, role).await;
    let browser = Browser::new(app);
    let form = browser.page("/ui/sign-in").await;
    let csrf = csrf_of(&form);
    let res = browser
        .post(
            "/ui/sign-in",
            &[
                ("token", token.as_str()),
                ("csrf", csrf.as_str()),
                ("next", "/ui/queue"),
            ],
        )
        .await;
    assert_eq!(
        res.status(),
        StatusCode::SEE_OTHER,
        "{}",
        res.text().await.unwrap()
    );
    assert_eq!(location(&res), "/ui/queue");
    (browser, token)
}

#[tokio::test]
async fn a_browser_without_a_session_is_sent_to_sign_in_and_back() {
    let app = spawn_app().await;
    let browser = Browser::new(&app);
    let root = browser.get("/").await;
    assert_eq!(location(&root), "/ui/queue");
    let res = browser.get("/ui/claims/7?from=1").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        location(&res),
        "/ui/sign-in?next=%2Fui%2Fclaims%2F7%3Ffrom%3D1"
    );
    let form = browser.page("/ui/sign-in?next=%2Fui%2Fclaims%2F7").await;
    assert!(
        form.contains(r#"name="next" value="/ui/claims/7""#),
        "{form}"
    );
    assert!(form.contains(r#"<label for="token">"#));
    // Elsewhere is never a place to return to.
    let form = browser
        .page("/ui/sign-in?next=https%3A%2F%2Fevil.example%2F")
        .await;
    assert!(form.contains(r#"name="next" value="/ui/queue""#));
}

#[tokio::test]
async fn signing_in_keeps_a_session_id_in_a_strict_http_only_cookie_never_the_token() {
    let app = spawn_app().await;
    let token = app.token_for("rosa", Role::Reviewer).await;
    let browser = Browser::new(&app);
    let csrf = csrf_of(&browser.page("/ui/sign-in").await);
    let res = browser
        .post(
            "/ui/sign-in",
            &[("token", token.as_str()), ("csrf", csrf.as_str())],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let cookie = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("claimtrail_session="))
        .expect("a session cookie");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Strict"), "{cookie}");
    assert!(cookie.contains("Max-Age="), "{cookie}");
    assert!(
        !cookie.contains(&token),
        "the token itself never goes to the browser"
    );
    let queue = browser.page("/ui/queue").await;
    assert!(queue.contains("rosa"), "{queue}");

    // Sign-out ends the session on the server: the old cookie opens nothing.
    let session = cookie.split(';').next().unwrap().to_owned();
    let res = browser
        .post("/ui/sign-out", &[("csrf", csrf_of(&queue).as_str())])
        .await;
    assert_eq!(location(&res), "/ui/sign-in");
    let replayed = Client::builder()
        .redirect(Policy::none())
        .build()
        .unwrap()
        .get(app.url("/ui/queue"))
        .header("cookie", session)
        .send()
        .await
        .unwrap();
    assert_eq!(replayed.status(), StatusCode::SEE_OTHER);
    assert!(location(&replayed).starts_with("/ui/sign-in"));
}

#[tokio::test]
async fn a_wrong_token_or_a_sign_in_form_from_elsewhere_opens_no_session() {
    let app = spawn_app().await;
    let token = app.token_for("olu", Role::Reviewer).await;
    let browser = Browser::new(&app);
    let csrf = csrf_of(&browser.page("/ui/sign-in").await);
    let res = browser
        .post(
            "/ui/sign-in",
            &[("token", "ct_not-a-token"), ("csrf", csrf.as_str())],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert!(res.text().await.unwrap().contains("unknown or revoked"));
    // A form posted from another site has no sign-in cookie to match.
    let stranger = Browser::new(&app);
    let res = stranger
        .post(
            "/ui/sign-in",
            &[("token", token.as_str()), ("csrf", csrf.as_str())],
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(
        res.headers()
            .get("set-cookie")
            .is_none_or(|c| !c.to_str().unwrap().contains("claimtrail_session="))
    );
}

#[tokio::test]
async fn a_form_without_the_sessions_csrf_token_is_refused_and_writes_nothing() {
    let app = spawn_app().await;
    let story = app.story("Floods").await;
    let speaker = app.speaker("Mayor", "person").await;
    let id = app.claim(story, speaker, "The river rose two metres").await["id"]
        .as_i64()
        .unwrap();
    let (browser, _) = signed_in(&app, "ines", Role::Reviewer).await;
    let before = app.row_counts().await;
    let res = browser
        .post(
            &format!("/ui/claims/{id}/comments"),
            &[("csrf", "guessed"), ("body", "forged")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = browser
        .post(
            &format!("/ui/claims/{id}/status"),
            &[
                ("revision", "1"),
                ("status", "in_review"),
                ("reason", "forged"),
            ],
        )
        .await;
    assert!(res.status().is_client_error(), "{}", res.status());
    assert_eq!(app.row_counts().await, before);
}

#[tokio::test]
async fn hostile_text_renders_as_text_under_a_policy_without_scripts() {
    let app = spawn_app().await;
    let story = app.story("Escaping").await;
    let speaker = app.speaker("<img src=x onerror=alert(2)>", "person").await;
    let id = app
        .claim(
            story,
            speaker,
            "<script>alert(1)</script> said \"quoted\" & more",
        )
        .await["id"]
        .as_i64()
        .unwrap();
    let (browser, _) = signed_in(&app, "kofi", Role::Reviewer).await;
    for path in ["/ui/queue".to_owned(), format!("/ui/claims/{id}")] {
        let res = browser.get(&path).await;
        let policy = res.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(
            policy.contains("default-src 'none'")
                && !policy.contains("unsafe-inline")
                && !policy.contains("script-src"),
            "{policy}"
        );
        assert_eq!(res.headers()["x-frame-options"], "DENY");
        let html = res.text().await.unwrap();
        assert!(!html.contains("<script"), "{path}: {html}");
        assert!(!html.contains("<img src=x"), "{path}");
        // Escaped as entities (named or numbered), so it reads as the text it is.
        let escaped = [
            "&lt;script&gt;alert(1)&lt;/script&gt;",
            "&#60;script&#62;alert(1)&#60;/script&#62;",
        ];
        assert!(escaped.iter().any(|e| html.contains(e)), "{path}: {html}");
    }
}

#[tokio::test]
async fn the_queue_says_why_each_claim_waits_and_take_assigns_it_in_the_audit_log() {
    let app = spawn_app().await;
    let story = app.story("Quake").await;
    let speaker = app.speaker("Civil protection", "organization").await;
    let id = app
        .claim(story, speaker, "Rescuers reached the village overnight")
        .await["id"]
        .as_i64()
        .unwrap();
    let (browser, _) = signed_in(&app, "mei", Role::Reviewer).await;
    let queue = browser.page(&format!("/ui/queue?story={story}")).await;
    assert!(queue.contains("Rescuers reached the village overnight"));
    assert!(
        queue.contains(r#"<td data-label="Why">new</td>"#),
        "{queue}"
    );
    let res = browser
        .post(
            &format!("/ui/claims/{id}/take"),
            &[
                ("csrf", csrf_of(&queue).as_str()),
                ("back", "/ui/queue?assignee=me"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), "/ui/queue?assignee=me");
    let mine = browser.page("/ui/queue?assignee=me").await;
    assert!(
        mine.contains("Rescuers reached the village overnight"),
        "{mine}"
    );
    let claim = app.get_json(&format!("/v1/claims/{id}")).await;
    assert_eq!(claim["assignee"], "mei");
    let events = app
        .get_json(&format!("/v1/events?subject_type=claim&subject_id={id}"))
        .await;
    assert!(
        events["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "claim.assigned" && e["actor"] == "mei"),
        "{events}"
    );
}

/// Posts the claim page's verdict form (revision 1: true, with the census
/// table as evidence), as read from `page`.
pub(crate) async fn census_verdict(browser: &Browser, id: i64, page: &str) -> Response {
    browser
        .post(
            &format!("/ui/claims/{id}/reviews"),
            &[
                ("csrf", csrf_of(page).as_str()),
                ("revision", "1"),
                ("verdict", "true"),
                ("rationale", "Matches the 2021 census table"),
                ("evidence_url", "https://stats.example/census-2021"),
                ("evidence_title", "Census 2021, table 1"),
                ("confidence", "0.9"),
            ],
        )
        .await
}

#[tokio::test]
async fn a_verdict_from_the_claim_page_is_the_reviewers_in_the_ledger() {
    let app = spawn_app().await;
    let story = app.story("Census").await;
    let speaker = app.speaker("Statistics office", "organization").await;
    let id = app
        .claim(
            story,
            speaker,
            "Το 2021 η χώρα είχε 10,4 εκατομμύρια κατοίκους",
        )
        .await["id"]
        .as_i64()
        .unwrap();
    let (browser, _) = signed_in(&app, "eleni", Role::Reviewer).await;
    let page = browser.page(&format!("/ui/claims/{id}")).await;
    let res = census_verdict(&browser, id, &page).await;
    assert_eq!(
        res.status(),
        StatusCode::SEE_OTHER,
        "{}",
        res.text().await.unwrap()
    );
    let page = browser.page(&format!("/ui/claims/{id}")).await;
    assert!(page.contains(r#"<a href="https://stats.example/census-2021" rel="noopener noreferrer nofollow">Census 2021, table 1</a>"#), "{page}");
    assert!(page.contains("status-verified"));
    let claim = app.get_json(&format!("/v1/claims/{id}")).await;
    assert_eq!(claim["status"], "verified");
    let reviews = app.get_json(&format!("/v1/claims/{id}/reviews")).await;
    assert_eq!(reviews["items"][0]["reviewer"], "eleni");

    // A bad form is a page naming the field, and writes nothing.
    let before = app.row_counts().await;
    let res = browser
        .post(
            &format!("/ui/claims/{id}/comments"),
            &[("csrf", csrf_of(&page).as_str()), ("body", "   ")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.unwrap().contains("<strong>body</strong>"));
    assert_eq!(app.row_counts().await, before);
}

#[tokio::test]
async fn a_stale_form_gets_a_conflict_page_with_the_diff_and_can_be_reapplied() {
    let app = spawn_app().await;
    let story = app.story("Evacuation").await;
    let speaker = app.speaker("外務省", "organization").await;
    let id = app
        .claim(story, speaker, "政府は17人の邦人を確認した")
        .await["id"]
        .as_i64()
        .unwrap();
    let (browser, _) = signed_in(&app, "hana", Role::Reviewer).await;
    let page = browser.page(&format!("/ui/claims/{id}")).await;
    assert!(page.contains(r#"name="revision" value="1""#));
    // Meanwhile an editor corrects the figure.
    let res = app
        .patch_json(
            &format!("/v1/claims/{id}"),
            &json!({ "text": "政府は19人の邦人を確認した", "reason": "ministry update" }),
            None,
        )
        .await;
    assert_eq!(res.status(), 200);

    let before = app.row_counts().await;
    let res = browser
        .post(
            &format!("/ui/claims/{id}/status"),
            &[
                ("csrf", csrf_of(&page).as_str()),
                ("revision", "1"),
                ("status", "in_review"),
                ("reason", "checking the figure"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    let conflict = res.text().await.unwrap();
    assert_eq!(
        app.row_counts().await,
        before,
        "a stale form writes nothing"
    );
    assert!(
        conflict.contains("<del>17</del>")
            || conflict.contains("<del>政府は17人の邦人を確認した</del>"),
        "{conflict}"
    );
    assert!(
        conflict.contains("<ins>19</ins>")
            || conflict.contains("<ins>政府は19人の邦人を確認した</ins>"),
        "{conflict}"
    );
    assert!(conflict.contains("ministry update"));
    assert!(conflict.contains(r#"name="revision" value="2""#));
    assert!(conflict.contains(r#"name="reason" value="checking the figure""#));

    // Re-applying sends the same change against the revision now shown.
    let res = browser
        .post(
            &format!("/ui/claims/{id}/status"),
            &[
                ("csrf", csrf_of(&conflict).as_str()),
                ("revision", "2"),
                ("status", "in_review"),
                ("reason", "checking the figure"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let claim = app.get_json(&format!("/v1/claims/{id}")).await;
    assert_eq!(
        (claim["status"].as_str(), claim["revision"].as_i64()),
        (Some("in_review"), Some(3))
    );
}

#[tokio::test]
async fn the_claim_page_shows_the_span_in_its_article_and_the_history_as_a_word_diff() {
    let app = spawn_app().await;
    let story = app.story("Ferry").await;
    let speaker = app.speaker("Coast guard", "organization").await;
    let body = "Ο λιμενικός ανακοίνωσε ότι 17 επιβάτες διασώθηκαν. Οι έρευνες συνεχίζονται.";
    let article = app.article(story, "https://news.example/ferry", body).await;
    let id = app
        .claim_quoting(story, speaker, article, body, "17 επιβάτες διασώθηκαν")
        .await;
    let res = app
        .patch_json(
            &format!("/v1/claims/{id}"),
            &json!({ "text": "19 επιβάτες διασώθηκαν", "reason": "corrected count" }),
            None,
        )
        .await;
    assert_eq!(res.status(), 200);
    let (browser, _) = signed_in(&app, "nikos", Role::Editor).await;
    let page = browser.page(&format!("/ui/claims/{id}")).await;
    assert!(
        page.contains("ανακοίνωσε ότι <mark>17 επιβάτες διασώθηκαν</mark>. Οι έρευνες"),
        "{page}"
    );
    assert!(page.contains("Revision 1 → 2"));
    assert!(
        page.contains("<del>17</del>") && page.contains("<ins>19</ins>"),
        "{page}"
    );
    assert!(page.contains("corrected count"));
    // Any two revisions, by address.
    let same = browser.page(&format!("/ui/claims/{id}?from=2&to=2")).await;
    assert!(!same.contains("<del>"));
    let missing = browser.get(&format!("/ui/claims/{id}?from=9")).await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert!(
        missing.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let nowhere = browser.get("/ui/no-such-page").await;
    assert_eq!(nowhere.status(), StatusCode::NOT_FOUND);
}

/// An article with two claims on it, then a correction that alters one
/// span: (article id, claim on the kept sentence, claim on the edited one).
async fn corrected_article(app: &TestApp, story: i64, speaker: i64) -> (i64, i64, i64) {
    let url = "https://news.example/rescue";
    let body = "The coast guard said 17 passengers were rescued. Divers will resume at dawn.";
    let article = app.article(story, url, body).await;
    let altered = app
        .claim_quoting(story, speaker, article, body, "17 passengers were rescued")
        .await;
    let kept = app
        .claim_quoting(story, speaker, article, body, "Divers will resume at dawn")
        .await;
    app.repost(story, url, &body.replace("17 passengers", "19 passengers"))
        .await;
    (article, kept, altered)
}

#[tokio::test]
async fn the_article_page_marks_changes_and_the_claims_spans_on_both_sides() {
    let app = spawn_app().await;
    let story = app.story("Rescue").await;
    let speaker = app.speaker("Coast guard", "organization").await;
    let (article, kept, altered) = corrected_article(&app, story, speaker).await;
    let (browser, _) = signed_in(&app, "ade", Role::Reviewer).await;
    let page = browser.page(&format!("/ui/articles/{article}")).await;
    assert!(page.contains("Revision 1 → 2"), "{page}");
    // The edited words, struck on the old side and underlined on the new,
    // inside the altered claim's span.
    assert!(
        page.contains(&format!(r#"<mark title="claim {altered}">"#)),
        "{page}"
    );
    assert!(page.contains("<del>"), "{page}");
    assert!(page.contains("<ins>"), "{page}");
    assert!(
        page.contains(&format!(
            r#"<mark title="claim {kept}">Divers will resume at dawn<sup>"#
        )),
        "{page}"
    );
    let row = |claim: i64, state: &str| {
        format!(r#"<td><a href="/ui/claims/{claim}">claim {claim}</a></td><td>{state}</td>"#)
    };
    assert!(page.contains(&row(kept, "present")), "{page}");
    assert!(page.contains(&row(altered, "altered")), "{page}");
    let first = browser
        .page(&format!("/ui/articles/{article}?from=1&to=1"))
        .await;
    assert!(!first.contains("<ins>") && !first.contains("<del>"));
    assert_eq!(
        browser.get("/ui/articles/999").await.status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn the_timeline_page_groups_events_by_day_and_shows_the_story_as_of_a_moment() {
    let app = spawn_app().await;
    let story = app.story("Rescue timeline").await;
    let speaker = app.speaker("Coast guard", "organization").await;
    let id = app
        .claim(story, speaker, "Rescuers found 17 survivors")
        .await["id"]
        .as_i64()
        .unwrap();
    let before_edit = chrono::Utc::now();
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let res = app
        .patch_json(
            &format!("/v1/claims/{id}"),
            &json!({ "text": "Rescuers found 19 survivors", "reason": "new count" }),
            None,
        )
        .await;
    assert_eq!(res.status(), 200);
    let (browser, _) = signed_in(&app, "zoe", Role::Reviewer).await;
    let page = browser.page(&format!("/ui/stories/{story}/timeline")).await;
    let today = chrono::Utc::now().format("%A %-d %B %Y").to_string();
    assert!(page.contains(&format!("<h3>{today}</h3>")), "{page}");
    assert!(page.contains("created the story"), "{page}");
    assert!(
        page.contains("<del>17</del>") && page.contains("<ins>19</ins>"),
        "{page}"
    );
    // Filtered by kind: the revision only.
    let revised = browser
        .page(&format!("/ui/stories/{story}/timeline?kind=claim_revised"))
        .await;
    assert!(
        revised.contains("revised claim") && !revised.contains("created the story"),
        "{revised}"
    );
    // The story as it was recorded before the edit.
    let at = before_edit.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string();
    let then = browser
        .page(&format!(
            "/ui/stories/{story}/timeline?as_of={}",
            at.replace(':', "%3A")
        ))
        .await;
    assert!(then.contains("Rescuers found 17 survivors"), "{then}");
    assert!(
        !then.contains(r#">Rescuers found 19 survivors</a>"#),
        "{then}"
    );
    // A moment before the story, and an unknown kind, are pages that say so.
    let early = browser
        .get(&format!(
            "/ui/stories/{story}/timeline?as_of=2001-01-01T00%3A00"
        ))
        .await;
    assert_eq!(early.status(), StatusCode::NOT_FOUND);
    let unknown = browser
        .get(&format!("/ui/stories/{story}/timeline?kind=gossip"))
        .await;
    assert_eq!(unknown.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(unknown.text().await.unwrap().contains("unknown kind"));
}

#[tokio::test]
async fn every_list_on_the_claim_page_pages_to_its_oldest_entries() {
    let app = spawn_app().await;
    let story = app.story("Long thread").await;
    let speaker = app.speaker("Spokesperson", "person").await;
    let id = app
        .claim(story, speaker, "The port will reopen on Monday")
        .await["id"]
        .as_i64()
        .unwrap();
    for i in 1..=51 {
        let res = app
            .post_json(
                &format!("/v1/claims/{id}/comments"),
                &json!({ "body": format!("note number {i:02}") }),
            )
            .await;
        assert_eq!(res.status(), 201);
    }
    let (browser, _) = signed_in(&app, "ida", Role::Reviewer).await;
    let page = browser.page(&format!("/ui/claims/{id}")).await;
    assert!(page.contains("note number 51") && !page.contains("note number 01"));
    let older = Regex::new(r#"<a href="([^"]+)">Older comments</a>"#)
        .unwrap()
        .captures(&page)
        .expect("an older page")[1]
        .replace("&#38;", "&")
        .replace("&amp;", "&");
    let rest = browser.page(&older).await;
    assert!(
        rest.contains("note number 01") && !rest.contains("note number 51"),
        "{rest}"
    );
    assert!(!rest.contains("Older comments"));
}

#[tokio::test]
async fn a_claim_is_assigned_to_a_colleague_or_to_nobody_from_its_row() {
    let app = spawn_app().await;
    let story = app.story("Budget").await;
    let speaker = app.speaker("Finance ministry", "organization").await;
    let id = app
        .claim(story, speaker, "The deficit fell to 2.9 percent")
        .await["id"]
        .as_i64()
        .unwrap();
    app.token_for("sami", Role::Reviewer).await;
    let (browser, _) = signed_in(&app, "lena", Role::Editor).await;
    let queue = browser.page("/ui/queue").await;
    assert!(queue.contains(&format!(
        r#"<label class="visually-hidden" for="assign-{id}">"#
    )));
    let csrf = csrf_of(&queue);
    let res = browser
        .post(
            &format!("/ui/claims/{id}/assign"),
            &[
                ("csrf", csrf.as_str()),
                ("assignee", "sami"),
                ("back", "/ui/queue"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        app.get_json(&format!("/v1/claims/{id}")).await["assignee"],
        "sami"
    );
    // Someone who may not review is refused by the API's rule, and nothing changes.
    app.token_for("rob", Role::Reporter).await;
    let res = browser
        .post(
            &format!("/ui/claims/{id}/assign"),
            &[("csrf", csrf.as_str()), ("assignee", "rob")],
        )
        .await;
    assert!(res.status().is_client_error(), "{}", res.status());
    assert_eq!(
        app.get_json(&format!("/v1/claims/{id}")).await["assignee"],
        "sami"
    );
    let res = browser
        .post(
            &format!("/ui/claims/{id}/assign"),
            &[("csrf", csrf.as_str()), ("assignee", "")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(app.get_json(&format!("/v1/claims/{id}")).await["assignee"].is_null());
    let events = app
        .get_json(&format!(
            "/v1/events?subject_type=claim&subject_id={id}&action=claim.assigned"
        ))
        .await;
    assert!(
        events["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["actor"] == "lena"),
        "{events}"
    );
}

#[tokio::test]
async fn an_articles_revisions_page_to_the_first() {
    let app = spawn_app().await;
    let story = app.story("Live blog").await;
    let article = app
        .article(story, "https://news.example/live", "Update 0.")
        .await;
    for i in 1..=51 {
        app.repost(story, "https://news.example/live", &format!("Update {i}."))
            .await;
    }
    let (browser, _) = signed_in(&app, "tom", Role::Reviewer).await;
    let page = browser.page(&format!("/ui/articles/{article}")).await;
    assert!(page.contains("Revision 51 → 52"));
    assert!(page.contains(r#"<li value="52">"#) && !page.contains(r#"<li value="2">"#));
    let older = Regex::new(r#"<a href="([^"]+)">Older revisions</a>"#)
        .unwrap()
        .captures(&page)
        .expect("an older page")[1]
        .replace("&#38;", "&")
        .replace("&amp;", "&");
    let rest = browser.page(&older).await;
    assert!(
        rest.contains(r#"<li value="1">"#) && !rest.contains(r#"<li value="52">"#),
        "{rest}"
    );
    assert!(
        rest.contains("Revision 51 → 52"),
        "the comparison shown is kept"
    );
}

#[tokio::test]
async fn signing_in_clears_sessions_a_day_past_their_end() {
    use diesel_async::RunQueryDsl;
    let app = spawn_app().await;
    signed_in(&app, "old", Role::Reviewer).await;
    let mut conn = app.db().await;
    // Two days old, and expired a day and a half ago; and one still live.
    diesel::sql_query(
        "UPDATE browser_sessions SET created_at = now() - interval '2 days', expires_at = now() - interval '36 hours'",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    let (browser, _) = signed_in(&app, "new", Role::Reviewer).await;
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let left: Count = diesel::sql_query("SELECT count(*) AS n FROM browser_sessions")
        .get_result(&mut conn)
        .await
        .unwrap();
    assert_eq!(left.n, 1, "only the new session is left");
    assert!(browser.page("/ui/queue").await.contains("new"));
}

#[tokio::test]
async fn spans_in_arabic_and_with_combining_marks_are_marked_where_the_article_says_them() {
    let app = spawn_app().await;
    let story = app.story("Arabic and combining marks").await;
    let speaker = app.speaker("وزارة الداخلية", "organization").await;
    // "café" written with a combining acute accent (e + U+0301): two code points.
    let body = "قالت الوزارة إن ١٧ مواطناً تم التعرف عليهم. The cafe\u{301} reopened on Monday.";
    let article = app.article(story, "https://news.example/ar", body).await;
    let arabic = app
        .claim_quoting(story, speaker, article, body, "١٧ مواطناً تم التعرف عليهم")
        .await;
    let cafe = app
        .claim_quoting(story, speaker, article, body, "cafe\u{301} reopened")
        .await;
    let (browser, _) = signed_in(&app, "salma", Role::Reviewer).await;
    let page = browser.page(&format!("/ui/claims/{arabic}")).await;
    assert!(
        page.contains("قالت الوزارة إن <mark>١٧ مواطناً تم التعرف عليهم</mark>. The cafe\u{301}"),
        "{page}"
    );
    let page = browser.page(&format!("/ui/claims/{cafe}")).await;
    assert!(
        page.contains("The <mark>cafe\u{301} reopened</mark> on Monday."),
        "{page}"
    );
    let queue = browser.page("/ui/queue").await;
    assert!(queue.contains("وزارة الداخلية"));
}
