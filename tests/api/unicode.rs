//! Text in any script, on a server in the C locale (the test cluster is
//! initialised with `--no-locale`, where PostgreSQL's `lower()` and
//! character classes know ASCII only): slugs, look-ups by name, search and
//! exact round trips must not depend on that.

use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_problem, invalid_fields, spawn_app};

fn encode(q: &str) -> String {
    url::form_urlencoded::byte_serialize(q.as_bytes()).collect()
}

async fn search_ids(app: &TestApp, q: &str, types: &str) -> Vec<i64> {
    let hits = app
        .get_json(&format!("/v1/search?q={}&types={types}", encode(q)))
        .await;
    hits["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["id"].as_i64().unwrap())
        .collect()
}

#[tokio::test]
async fn stories_titled_in_any_script_get_a_slug() {
    let app = spawn_app().await;
    let titles = [
        ("Café Zürich", "café-zürich"),
        ("日本・北朝鮮", "日本-北朝鮮"),
        ("Ελληνικά ΝΈΑ", "ελληνικά-νέα"),
        ("straße", "straße"),
        ("هيئة الانتخابات", "هيئة-الانتخابات"),
        ("हिन्दी समाचार", "हिन्दी-समाचार"),
        ("İstanbul Işık", "i̇stanbul-işık"),
    ];
    for (title, slug) in titles {
        let res = app
            .post_json("/v1/stories", &json!({ "title": title }))
            .await;
        let status = res.status();
        let body: Value = res.json().await.unwrap();
        assert_eq!(status, 201, "{title}: {body}");
        assert_eq!(body["slug"], slug, "{title}");
        assert_eq!(body["title"], title);
    }
    // A decomposed title is stored composed, and its slug is the same one.
    let res = app
        .post_json(
            "/v1/stories",
            &json!({ "title": "Cafe\u{301} Zu\u{308}rich" }),
        )
        .await;
    let body = assert_problem(res, 409).await;
    assert_eq!(body["existing_id"], 1, "{body}");
}

#[tokio::test]
async fn a_slug_that_breaks_the_rules_is_refused_in_the_apis_words() {
    let app = spawn_app().await;
    for slug in ["Ελληνικά", "a--b", "café zürich", "cafe\u{301}\u{301}x-"] {
        let res = app
            .post_json("/v1/stories", &json!({ "title": "Any", "slug": slug }))
            .await;
        let problem = assert_problem(res, 422).await;
        assert_eq!(invalid_fields(&problem), ["slug"], "{slug}: {problem}");
        let text = problem.to_string();
        assert!(
            !text.contains("constraint") && !text.contains("stories_"),
            "{text}"
        );
    }
    let res = app
        .post_json(
            "/v1/stories",
            &json!({ "title": "Any", "slug": "ελληνικά-νέα" }),
        )
        .await;
    assert_eq!(res.status(), 201);
}

#[tokio::test]
async fn names_are_stored_composed_without_invisible_characters() {
    let app = spawn_app().await;
    let speaker = app
        .create(
            "/v1/speakers",
            json!({ "name": "\u{feff}Jose\u{301} Nu\u{301}n\u{303}ez\u{200b}\u{a0}", "kind": "person",
                    "role": "Ministro\u{a0}\u{a0}del Interior" }),
        )
        .await;
    assert_eq!(speaker["name"], "José Núñez");
    assert_eq!(speaker["role"], "Ministro del Interior");
    // The response names what was cleaned; a clean name changes nothing.
    assert_eq!(speaker["normalized"], json!(["name", "role"]));
    let clean = app
        .create(
            "/v1/speakers",
            json!({ "name": "Ana Robles", "kind": "person" }),
        )
        .await;
    assert!(clean.get("normalized").is_none(), "{clean}");
    let res = app
        .post_json(
            "/v1/speakers",
            &json!({ "name": "\u{200b}\u{2060}", "kind": "person" }),
        )
        .await;
    let problem = assert_problem(res, 422).await;
    assert_eq!(invalid_fields(&problem), ["name"]);
}

#[tokio::test]
async fn every_spelling_of_a_name_finds_the_same_speaker() {
    let app = spawn_app().await;
    let story = app.story("Spellings").await;
    let jose = app.speaker("José Núñez", "person").await;
    let elodie = app.speaker("ÉLODIE DURAND", "person").await;
    let isik = app.speaker("Işık Yılmaz", "person").await;
    let tsipras = app.speaker("ΑΛΈΞΗΣ ΤΣΊΠΡΑΣ", "person").await;
    let strasse = app.speaker("Jürgen Straße", "person").await;
    let spellings = [
        ("Jose\u{301} Nu\u{301}n\u{303}ez", jose),
        ("José Núñez\u{a0}", jose),
        ("José\u{200b} Núñez", jose),
        ("Ｊｏｓé Ｎúñｅｚ", jose),
        ("josé núñez", jose),
        ("élodie durand", elodie),
        ("IŞIK YILMAZ", isik),
        ("ışık yılmaz", isik),
        ("αλέξης τσίπρας", tsipras),
        ("JÜRGEN STRASSE", strasse),
    ];
    for (spelling, expected) in spellings {
        let claim = app
            .create(
                "/v1/claims",
                json!({ "story_id": story, "speaker": spelling, "text": "A statement", "kind": "paraphrase" }),
            )
            .await;
        assert_eq!(claim["speaker_id"], expected, "{spelling:?}");
    }
    // No spelling made a speaker of its own.
    let all = app.get_json("/v1/speakers?limit=100").await;
    assert_eq!(all["items"].as_array().unwrap().len(), 5, "{all}");
    // Accents are part of a name: "Jose Nunez" is someone else (or nobody).
    let res = app
        .post_json(
            "/v1/claims",
            &json!({ "story_id": story, "speaker": "Jose Nunez", "text": "x", "kind": "paraphrase" }),
        )
        .await;
    assert_problem(res, 422).await;
}

#[tokio::test]
async fn speakers_are_listed_by_part_of_a_name_in_any_case() {
    let app = spawn_app().await;
    let zola = app.speaker("ÉMILE ZOLA", "person").await;
    let ministry = app
        .create(
            "/v1/speakers",
            json!({ "name": "Υπουργείο Εσωτερικών", "kind": "government", "aliases": ["ΥΠΕΣ"] }),
        )
        .await["id"]
        .as_i64()
        .unwrap();
    app.speaker("Emile Durkheim", "person").await;
    for (q, expected) in [
        ("émile", vec![zola]),
        ("ZOLA", vec![zola]),
        ("E\u{301}mile", vec![zola]),
        ("εσωτερικών", vec![ministry]),
        ("υπες", vec![ministry]),
    ] {
        let list = app.get_json(&format!("/v1/speakers?q={}", encode(q))).await;
        let ids: Vec<i64> = list["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["id"].as_i64().unwrap())
            .collect();
        assert_eq!(ids, expected, "{q}");
    }
}

#[tokio::test]
async fn search_finds_words_in_any_case_and_script() {
    let app = spawn_app().await;
    let story = app.story("Everywhere").await;
    let source = app.speaker("Sources", "anonymous").await;
    let claim = async |text: &str| app.claim(story, source, text).await["id"].as_i64().unwrap();
    let french = claim("L'ÉCOLE PUBLIQUE RESTERA FERMÉE").await;
    let japanese = claim("日本政府は北朝鮮と非公式に接触した").await;
    let greek = claim("Η ΚΥΒΈΡΝΗΣΗ ΑΝΑΚΟΊΝΩΣΕ ΝΈΑ ΜΈΤΡΑ").await;
    let arabic = claim("قالت الحكومة إن المحادثات انتهت").await;
    let german = claim("Die STRASSE bleibt gesperrt").await;
    let korean = claim("북한은 대화를 거부했다").await;
    for (q, expected) in [
        ("école", french),
        ("ÉCOLE fermée", french),
        ("北朝鮮", japanese),
        ("非公式", japanese),
        ("κυβέρνηση", greek),
        ("المحادثات", arabic),
        ("straße", german),
        ("북한", korean),
    ] {
        assert_eq!(search_ids(&app, q, "claim").await, [expected], "{q}");
    }
    assert!(search_ids(&app, "南朝鮮", "claim").await.is_empty());

    // Headlines and speakers too.
    let article = app
        .create(
            "/v1/articles",
            json!({ "url": "https://news.example/gr", "outlet": "Καθημερινή", "headline": "ΝΈΑ ΜΈΤΡΑ ΓΙΑ ΤΗΝ ΟΙΚΟΝΟΜΊΑ",
                    "published_at": "2026-11-20T09:00:00Z", "body": "Κείμενο.", "story_id": story }),
        )
        .await["id"]
        .as_i64()
        .unwrap();
    assert_eq!(search_ids(&app, "οικονομία", "article").await, [article]);
    let zola = app.speaker("ÉMILE ZOLA", "person").await;
    assert_eq!(search_ids(&app, "émile", "speaker").await, [zola]);
}

#[tokio::test]
async fn text_in_every_script_round_trips_exactly() {
    let app = spawn_app().await;
    let story = app.story("Round trip").await;
    let speaker = app.speaker("مصدر", "anonymous").await;
    // Decomposed accents, a right-to-left mark, a family emoji joined by
    // ZWJ, and spaces at the ends of the body: claims and bodies are kept
    // exactly as sent.
    let body =
        " \u{200f}قالت الحكومة إن المحادثات انتهت. Cafe\u{301} 👨\u{200d}👩\u{200d}👧 日本語。 ";
    let article = app.article(story, "https://news.example/rt", body).await;
    let text = "قالت الحكومة إن المحادثات انتهت";
    let start = body.chars().position(|c| c == 'ق').unwrap() as i64;
    let end = start + text.chars().count() as i64;
    let claim = app
        .create(
            "/v1/claims",
            json!({ "story_id": story, "speaker_id": speaker, "text": "Cafe\u{301} 👨\u{200d}👩\u{200d}👧 日本語",
                    "kind": "direct_quote", "appearances": [{ "article_id": article, "start": start, "end": end }] }),
        )
        .await;
    let id = claim["id"].as_i64().unwrap();
    let read = app.get_json(&format!("/v1/claims/{id}")).await;
    assert_eq!(read["text"], "Cafe\u{301} 👨\u{200d}👩\u{200d}👧 日本語");
    assert_eq!(read["appearances"][0]["excerpt"], text);
    let stored = app.get_json(&format!("/v1/articles/{article}")).await;
    assert_eq!(stored["body"], body);
    assert_eq!(stored["body_chars"], body.chars().count());
}

#[tokio::test]
async fn keys_of_rows_written_before_they_existed_are_made_at_start() {
    use diesel_async::RunQueryDsl;
    let app = spawn_app().await;
    let story = app.story("Before").await;
    let zola = app.speaker("ÉMILE ZOLA", "person").await;
    let claim = app.claim(story, zola, "L'ÉCOLE RESTERA FERMÉE").await["id"]
        .as_i64()
        .unwrap();
    // As the migration that added them left rows written before it.
    let mut conn = app.db().await;
    for sql in [
        "UPDATE speakers SET name_key = '', alias_keys = '{}', search_terms = ''",
        "UPDATE claims SET text_key = '', search_terms = ''",
        "UPDATE articles SET search_terms = ''",
        "UPDATE text_keys_version SET version = 0",
    ] {
        diesel::sql_query(sql).execute(&mut conn).await.unwrap();
    }
    assert!(search_ids(&app, "école", "claim").await.is_empty());

    let url = app.database_url.clone();
    tokio::task::spawn_blocking(move || claimtrail::storage::migrate::run_pending(&url))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(search_ids(&app, "école", "claim").await, [claim]);
    let found = app
        .get_json(&format!("/v1/speakers?q={}", encode("émile")))
        .await;
    assert_eq!(found["items"][0]["id"], zola);
    let again = app
        .create(
            "/v1/claims",
            json!({ "story_id": story, "speaker": "émile zola", "text": "x", "kind": "paraphrase" }),
        )
        .await;
    assert_eq!(again["speaker_id"], zola);
}

#[tokio::test]
async fn claim_text_cue_and_hedges_are_kept_exactly_as_sent() {
    let app = spawn_app().await;
    let story = app.story("Exact").await;
    let speaker = app.speaker("Ana Robles", "person").await;
    let text = "  \u{201c}We will not stop,\u{201d} she said.\n";
    let claim = app
        .create(
            "/v1/claims",
            json!({ "story_id": story, "speaker_id": speaker, "kind": "direct_quote", "text": text,
                    "cue": " told reporters ", "hedges": [" reportedly"] }),
        )
        .await;
    let id = claim["id"].as_i64().unwrap();
    let read = app.get_json(&format!("/v1/claims/{id}")).await;
    assert_eq!(read["text"], text);
    assert_eq!(read["cue"], " told reporters ");
    assert_eq!(read["hedges"], json!([" reportedly"]));
    // A change of white space alone is a change, and its diff rebuilds it.
    let res = app
        .patch_json(
            &format!("/v1/claims/{id}"),
            &json!({ "text": text.trim(), "reason": "trimmed" }),
            Some("\"1\""),
        )
        .await;
    assert_eq!(res.status(), 200);
    let diff = app
        .get_json(&format!("/v1/claims/{id}/diff?from=1&to=2"))
        .await;
    let ops: Vec<claimtrail::domain::diff::TextOp> =
        serde_json::from_value(diff["text"]["ops"].clone()).unwrap();
    assert_eq!(
        claimtrail::domain::diff::apply_ops(text, &ops).as_deref(),
        Ok(text.trim())
    );
    // Blank is not text.
    let res = app
        .post_json(
            "/v1/claims",
            &json!({ "story_id": story, "speaker_id": speaker, "kind": "paraphrase", "text": " \n\u{3000}" }),
        )
        .await;
    let problem = assert_problem(res, 422).await;
    assert_eq!(invalid_fields(&problem), ["text"]);
}
