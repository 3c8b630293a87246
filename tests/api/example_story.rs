//! The example wire story, logged and corrected end to end.

use serde_json::{Value, json};

use crate::helpers::spawn_app;

/// A short wire story with every kind of attribution the ledger must hold.
/// Published on Monday 23 November 2026.
pub const BODY: &str = "MERIDA, Nov. 23 (Harbor Wire) -- The government has officially identified 17 citizens who were aboard the ferry Santa Lucia when it capsized off the northern coast last week, the Interior Ministry said on Monday. \
Interior Minister Ana Robles told reporters that divers would resume the search at dawn. \
\u{201c}We will not stop until every family has an answer,\u{201d} Robles said. \
Sources close to the matter said Friday that the vessel had apparently been carrying more passengers than its licence allowed. \
The ferry\u{2019}s operator, Santa Lucia Lines, has denied that the boat was overloaded. \
Coast guard commander Luis Ferrer said the sea had been calm when the distress call came in.";

/// The span of `needle` in `body`, in Unicode code points, end exclusive.
pub fn span(body: &str, needle: &str) -> (usize, usize) {
    let byte_start = body
        .find(needle)
        .unwrap_or_else(|| panic!("{needle:?} not in body"));
    let start = body[..byte_start].chars().count();
    (start, start + needle.chars().count())
}

#[tokio::test]
async fn the_ferry_story_is_logged_corrected_and_replayed() {
    let app = spawn_app().await;

    let story = app
        .create(
            "/v1/stories",
            json!({ "title": "Santa Lucia ferry disaster" }),
        )
        .await;
    assert_eq!(story["slug"], "santa-lucia-ferry-disaster");
    let story_id = story["id"].as_i64().unwrap();

    let ministry = app
        .create(
            "/v1/speakers",
            json!({ "name": "Interior Ministry", "kind": "government" }),
        )
        .await["id"]
        .as_i64()
        .unwrap();
    let robles = app
        .create(
            "/v1/speakers",
            json!({ "name": "Ana Robles", "kind": "person", "role": "Interior Minister",
                    "affiliation": "Interior Ministry", "aliases": ["Robles"] }),
        )
        .await;
    assert_eq!(robles["role"], "Interior Minister");
    assert_eq!(robles["aliases"], json!(["Robles"]));
    let robles = robles["id"].as_i64().unwrap();
    let sources = app
        .create(
            "/v1/speakers",
            json!({ "name": "sources close to the matter", "kind": "anonymous" }),
        )
        .await["id"]
        .as_i64()
        .unwrap();
    let operator = app
        .create(
            "/v1/speakers",
            json!({ "name": "Santa Lucia Lines", "kind": "organization" }),
        )
        .await["id"]
        .as_i64()
        .unwrap();
    let ferrer = app
        .create(
            "/v1/speakers",
            json!({ "name": "Luis Ferrer", "kind": "person", "role": "Coast guard commander" }),
        )
        .await["id"]
        .as_i64()
        .unwrap();

    let article = app
        .create(
            "/v1/articles",
            json!({
                "url": "https://harborwire.example/2026/11/23/santa-lucia-ferry",
                "outlet": "Harbor Wire",
                "headline": "Government identifies 17 citizens aboard capsized ferry",
                "published_at": "2026-11-23T08:30:00Z",
                "body": BODY,
                "story_id": story_id
            }),
        )
        .await;
    let article_id = article["id"].as_i64().unwrap();
    assert_eq!(article["revision"], 1);
    assert_eq!(article["body_chars"], BODY.chars().count());
    assert_eq!(article["body"], BODY);

    let appearance = |needle: &str| {
        let (start, end) = span(BODY, needle);
        json!([{ "article_id": article_id, "start": start, "end": end }])
    };
    let count_text = "The government has officially identified 17 citizens who were aboard the ferry Santa Lucia when it capsized off the northern coast last week";
    let claims: Vec<Value> = vec![
        json!({ "story_id": story_id, "speaker_id": ministry, "kind": "assertion", "cue": "said",
                "text": count_text, "confidence": 1.0,
                "when": { "at": "2026-11-23", "expression": "on Monday" },
                "appearances": appearance(count_text) }),
        json!({ "story_id": story_id, "speaker_id": robles, "kind": "paraphrase", "cue": "told reporters",
                "text": "Divers will resume the search at dawn", "confidence": 0.9,
                "appearances": appearance("divers would resume the search at dawn") }),
        json!({ "story_id": story_id, "speaker_id": robles, "kind": "direct_quote", "cue": "said",
                "text": "We will not stop until every family has an answer", "confidence": 1.0,
                "appearances": appearance("We will not stop until every family has an answer") }),
        json!({ "story_id": story_id, "speaker_id": sources, "kind": "paraphrase", "cue": "said",
                "text": "The vessel had been carrying more passengers than its licence allowed",
                "confidence": 0.4, "hedges": ["apparently", "sources said"],
                "when": { "at": "2026-11-20", "precision": "day", "expression": "Friday" },
                "appearances": appearance("the vessel had apparently been carrying more passengers than its licence allowed") }),
        json!({ "story_id": story_id, "speaker_id": operator, "kind": "paraphrase", "cue": "has denied",
                "text": "The boat was not overloaded", "confidence": 0.8,
                "appearances": appearance("has denied that the boat was overloaded") }),
        json!({ "story_id": story_id, "speaker_id": ferrer, "kind": "paraphrase", "cue": "said",
                "text": "The sea was calm when the distress call came in", "confidence": 0.9,
                "appearances": appearance("the sea had been calm when the distress call came in") }),
    ];
    let mut ids = Vec::new();
    for body in &claims {
        let res = app.post_json("/v1/claims", body).await;
        assert_eq!(res.status(), 201);
        assert_eq!(res.headers()["etag"], "\"1\"");
        let location = res.headers()["location"].to_str().unwrap().to_owned();
        let created: Value = res.json().await.unwrap();
        assert_eq!(location, format!("/v1/claims/{}", created["id"]));
        assert_eq!(created["revision"], 1);
        assert_eq!(created["status"], "unverified");
        // The excerpt is cut from the stored body by the database itself.
        let (start, end) = (
            created["appearances"][0]["start"].as_u64().unwrap() as usize,
            created["appearances"][0]["end"].as_u64().unwrap() as usize,
        );
        let expected: String = BODY.chars().skip(start).take(end - start).collect();
        assert_eq!(created["appearances"][0]["excerpt"], expected);
        ids.push(created["id"].as_i64().unwrap());
    }

    // The Friday claim keeps its statement time and its hedges.
    let friday = app.get_json(&format!("/v1/claims/{}", ids[3])).await;
    assert_eq!(friday["when"]["at"], "2026-11-20T00:00:00Z");
    assert_eq!(friday["when"]["precision"], "day");
    assert_eq!(friday["when"]["expression"], "Friday");
    assert_eq!(friday["hedges"], json!(["apparently", "sources said"]));
    assert_eq!(friday["speaker"]["kind"], "anonymous");
    assert_eq!(
        friday["appearances"][0]["excerpt"],
        "the vessel had apparently been carrying more passengers than its licence allowed"
    );

    // Correction 1: the dawn search was announced by the coast guard, not the minister.
    let res = app
        .patch_json(
            &format!("/v1/claims/{}", ids[1]),
            &json!({ "speaker_id": ferrer, "reason": "misattributed: the coast guard announced the search" }),
            Some("\"1\""),
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["etag"], "\"2\"");
    let corrected: Value = res.json().await.unwrap();
    assert_eq!(corrected["revision"], 2);
    assert_eq!(corrected["changed"], true);
    assert_eq!(corrected["changed_fields"], json!(["speaker_id"]));
    assert_eq!(corrected["speaker"]["name"], "Luis Ferrer");
    assert_eq!(
        corrected["appearances"][0]["excerpt"],
        "divers would resume the search at dawn"
    );

    // Correction 2: the count claim's text is tightened.
    let res = app
        .patch_json(
            &format!("/v1/claims/{}", ids[0]),
            &json!({ "text": "The government has officially identified 17 citizens aboard the ferry Santa Lucia",
                     "reason": "trimmed to the attributed fact" }),
            Some("\"1\""),
        )
        .await;
    assert_eq!(res.status(), 200);
    let corrected: Value = res.json().await.unwrap();
    assert_eq!(corrected["changed_fields"], json!(["text"]));

    // Every revision is kept, with its author, reason and snapshot.
    let revisions = app
        .get_json(&format!("/v1/claims/{}/revisions", ids[1]))
        .await;
    let items = revisions["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["revision"], 1);
    assert_eq!(items[0]["speaker_id"], robles);
    assert_eq!(items[0]["reason"], Value::Null);
    assert_eq!(items[1]["revision"], 2);
    assert_eq!(items[1]["speaker_id"], ferrer);
    assert_eq!(
        items[1]["reason"],
        "misattributed: the coast guard announced the search"
    );
    assert_eq!(items[1]["appearances"], items[0]["appearances"]);

    let first = app
        .get_json(&format!("/v1/claims/{}/revisions/1", ids[0]))
        .await;
    assert_eq!(first["text"], count_text);
    let second = app
        .get_json(&format!("/v1/claims/{}/revisions/2", ids[0]))
        .await;
    assert_eq!(
        second["text"],
        "The government has officially identified 17 citizens aboard the ferry Santa Lucia"
    );

    // The story's claims, filtered and whole.
    let listed = app.get_json(&format!("/v1/claims?story={story_id}")).await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 6);
    let quotes = app
        .get_json(&format!("/v1/claims?story={story_id}&kind=direct_quote"))
        .await;
    assert_eq!(quotes["items"].as_array().unwrap().len(), 1);
    assert_eq!(quotes["items"][0]["id"], ids[2]);
    let by_ferrer = app.get_json(&format!("/v1/claims?speaker={ferrer}")).await;
    let mut ferrer_ids: Vec<i64> = by_ferrer["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_i64().unwrap())
        .collect();
    ferrer_ids.sort();
    assert_eq!(ferrer_ids, vec![ids[1], ids[5]]);
    let said_friday = app
        .get_json(&format!(
            "/v1/claims?story={story_id}&said_from=2026-11-20&said_to=2026-11-21"
        ))
        .await;
    assert_eq!(said_friday["items"].as_array().unwrap().len(), 1);
    assert_eq!(said_friday["items"][0]["id"], ids[3]);

    // One audit event per mutation: the test's admin user and token, story,
    // 5 speakers, article, 6 claims, 2 corrections.
    let counts = app.row_counts().await;
    let count = |table: &str| counts.iter().find(|(n, _)| n == table).unwrap().1;
    assert_eq!(count("audit_events"), 2 + 1 + 5 + 1 + 6 + 2);
    assert_eq!(count("claim_revisions"), 6 + 2);
    assert_eq!(count("claim_appearances"), 6);
}
