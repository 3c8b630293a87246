//! SQL statements per request, read from `Server-Timing` (on in tests): list
//! and timeline endpoints cost the same number of statements for 2 rows as
//! for 40 (no N+1), and the hottest routes stay at their known budgets.

use serde_json::json;

use crate::helpers::{TestApp, spawn_app};

/// The number of SQL statements (BEGIN and COMMIT included) a GET sent.
async fn queries_for(app: &TestApp, path: &str) -> u32 {
    let res = app.get(path).await;
    assert_eq!(res.status(), 200, "GET {path}");
    statements(&res)
}

fn statements(res: &reqwest::Response) -> u32 {
    let timing = res
        .headers()
        .get("server-timing")
        .expect("Server-Timing is on in tests")
        .to_str()
        .unwrap()
        .to_owned();
    // db;desc="7 queries"
    timing
        .split('"')
        .nth(1)
        .and_then(|d| d.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("unexpected Server-Timing: {timing}"))
}

/// A story with `n` claims by several speakers, each claim quoted in an
/// article, revised once and reviewed once, plus a relation.
async fn story_with_claims(app: &TestApp, title: &str, n: usize) -> i64 {
    let story = app.story(title).await;
    let article = app
        .article(
            story,
            &format!("https://news.example/{title}"),
            "The minister said the port reopens on Monday.",
        )
        .await;
    let mut previous: Option<i64> = None;
    for i in 0..n {
        let speaker = app
            .speaker(&format!("{title} speaker {}", i % 3), "person")
            .await;
        let claim = app
            .create(
                "/v1/claims",
                json!({ "story_id": story, "speaker_id": speaker, "text": format!("The port reopens on Monday ({i})"),
                        "kind": "paraphrase", "appearances": [{ "article_id": article, "start": 13, "end": 45 }] }),
            )
            .await["id"]
            .as_i64()
            .unwrap();
        let path = format!("/v1/claims/{claim}");
        let res = app
            .patch_json(&path, &json!({ "text": format!("The port reopens on Tuesday ({i})"), "reason": "corrected" }), None)
            .await;
        assert_eq!(res.status(), 200);
        let tag = app.etag(&path).await;
        let res = app
            .client
            .post(app.url(&format!("{path}/reviews")))
            .header("If-Match", tag)
            .json(
                &json!({ "verdict": "mostly_true", "rationale": "The port authority confirms it" }),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201);
        if let Some(other) = previous {
            app.create(
                &format!("{path}/relations"),
                json!({ "kind": "supports", "target_id": other }),
            )
            .await;
        }
        previous = Some(claim);
    }
    story
}

#[tokio::test]
async fn lists_and_timelines_cost_the_same_statements_for_2_rows_as_for_40() {
    let app = spawn_app().await;
    let small = story_with_claims(&app, "small", 2).await;
    let large = story_with_claims(&app, "large", 40).await;
    let as_of = "2030-01-01T00:00:00Z";
    let routes = [
        "/v1/claims?story={story}",
        "/v1/claims?story={story}&limit=200",
        "/v1/stories/{story}/claims?as_of={as_of}",
        "/v1/stories/{story}/timeline",
        "/v1/stories/{story}/timeline?format=markdown",
        "/v1/stories/{story}/contested",
        "/v1/events?story={story}",
        "/v1/review-queue",
        "/v1/search?q=port",
    ];
    for route in routes {
        let path = |story: i64| {
            route
                .replace("{story}", &story.to_string())
                .replace("{as_of}", as_of)
        };
        let few = queries_for(&app, &path(small)).await;
        let many = queries_for(&app, &path(large)).await;
        assert_eq!(
            few, many,
            "{route}: {few} statements for the small story, {many} for the large one"
        );
        assert!(few <= 6, "{route} takes {few} statements");
    }
}

#[tokio::test]
async fn the_hot_routes_stay_within_their_statement_budgets() {
    let app = spawn_app().await;
    let story = story_with_claims(&app, "budget", 3).await;
    let claims = app.get_json(&format!("/v1/claims?story={story}")).await;
    let id = claims["items"][0]["id"].as_i64().unwrap();

    // The token was checked by an earlier request and is cached, so: the
    // claim with its speaker, and its appearances.
    assert_eq!(queries_for(&app, &format!("/v1/claims/{id}")).await, 2);
    // The current revision, both revisions, their appearances.
    assert_eq!(queries_for(&app, &format!("/v1/claims/{id}/diff")).await, 3);

    // Logging a claim: one statement writes the claim, its revision, its
    // appearances and its event (the database checks the references); one
    // more finds its likely duplicates.
    let res = app
        .post_json(
            "/v1/claims",
            &json!({ "story_id": story, "speaker": "budget speaker 0", "text": "A new claim", "kind": "assertion" }),
        )
        .await;
    assert_eq!(res.status(), 201);
    let by_name = statements(&res);
    let res = app
        .post_json(
            "/v1/claims",
            &json!({ "story_id": story, "speaker_id": claims["items"][0]["speaker_id"], "text": "Another new claim", "kind": "assertion" }),
        )
        .await;
    assert_eq!(res.status(), 201);
    let by_id = statements(&res);
    assert_eq!(by_id, 2, "a claim without appearances");
    // Naming the speaker costs the two lookups of the name.
    assert_eq!(by_name, by_id + 2);
    let article = app
        .create(
            "/v1/articles",
            json!({ "url": "https://budget.example/a", "outlet": "Budget Wire", "headline": "Budget",
                    "published_at": "2026-11-20T09:00:00Z", "story_id": story,
                    "body": "The budget passed on Friday, officials said." }),
        )
        .await["id"]
        .clone();
    let res = app
        .post_json(
            "/v1/claims",
            &json!({ "story_id": story, "speaker_id": claims["items"][0]["speaker_id"], "text": "The budget passed",
                     "kind": "paraphrase", "appearances": [{ "article_id": article, "start": 0, "end": 17 },
                                                            { "article_id": article, "start": 4, "end": 10 }] }),
        )
        .await;
    assert_eq!(res.status(), 201);
    assert_eq!(statements(&res), 2, "a claim with two appearances");
}

#[tokio::test]
async fn extraction_statements_do_not_grow_with_the_article() {
    let app = spawn_app().await;
    let story = app.story("Extraction budget").await;
    app.speaker("Ana Robles", "person").await;
    let sentence = |i: usize| {
        format!(
            "The port reopens on day {i}, Ana Robles said. Officials told reporters that ferry {i} sank. "
        )
    };
    let mut costs = Vec::new();
    for (n, sentences) in [(1, 1), (2, 40)] {
        let body: String = (0..sentences).map(sentence).collect();
        let article = app
            .article(story, &format!("https://news.example/extract-{n}"), &body)
            .await;
        let path = format!("/v1/articles/{article}/extract");
        let res = app.client.post(app.url(&path)).send().await.unwrap();
        assert_eq!(res.status(), 200);
        let preview = statements(&res);
        let res = app
            .client
            .post(app.url(&format!("{path}?apply=true")))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201);
        let apply = statements(&res);
        let body: serde_json::Value = res.json().await.unwrap();
        assert_eq!(
            body["applied"]["claims"].as_array().unwrap().len(),
            sentences * 2
        );
        costs.push((preview, apply));
    }
    // A preview: the article, the speaker names, their records, the logged spans.
    assert_eq!(costs[0].0, 4, "{costs:?}");
    assert_eq!(costs[0].0, costs[1].0, "{costs:?}");
    // Applying: the same for 2 claims as for 80 (one new anonymous speaker each time).
    assert_eq!(costs[0].1, costs[1].1, "{costs:?}");
}

#[tokio::test]
async fn statements_put_together_at_run_time_are_prepared_once_per_connection() {
    use claimtrail::storage::events::{self, EventFilter};
    use claimtrail::storage::{PageRequest, SortOrder};
    use diesel::QueryableByName;
    use diesel_async::RunQueryDsl;
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let app = spawn_app().await;
    let story = story_with_claims(&app, "Prepared", 3).await;
    let mut conn = app.db().await;
    let prepared = async |conn: &mut diesel_async::AsyncPgConnection| {
        diesel::sql_query(
            "SELECT count(*) AS n FROM pg_prepared_statements WHERE statement LIKE '%FROM audit_events e LEFT JOIN%' AND statement NOT LIKE '%pg_prepared_statements%'",
        )
        .get_result::<Count>(conn)
        .await
        .unwrap()
        .n
    };
    for after in [None, Some(1), Some(2), None] {
        let filter = EventFilter {
            story_id: Some(story),
            ..EventFilter::default()
        };
        let page = PageRequest {
            after,
            limit: 10,
            order: SortOrder::Asc,
        };
        let listed = events::list(&mut conn, filter, page).await.unwrap();
        assert!(!listed.items.is_empty());
    }
    // Two texts (with and without a cursor), each prepared once.
    assert_eq!(prepared(&mut conn).await, 2);
}
