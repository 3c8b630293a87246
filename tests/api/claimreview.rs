//! ClaimReview JSON-LD out, and back in, idempotently.

use std::collections::HashMap;

use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_problem, spawn_app};

/// The schema.org properties each type may carry (ClaimReview inherits from
/// Review and CreativeWork; Claim from CreativeWork; Rating and the
/// organization types from Thing), limited to those an export uses.
fn allowed() -> HashMap<&'static str, Vec<&'static str>> {
    let thing = ["@type", "name", "url", "description"];
    let creative_work = [
        "author",
        "datePublished",
        "headline",
        "firstAppearance",
        "appearance",
    ];
    HashMap::from([
        (
            "ClaimReview",
            [
                &thing[..],
                &creative_work[..],
                &[
                    "@context",
                    "claimReviewed",
                    "reviewRating",
                    "itemReviewed",
                    "reviewBody",
                ],
            ]
            .concat(),
        ),
        ("Claim", [&thing[..], &creative_work[..]].concat()),
        ("CreativeWork", [&thing[..], &creative_work[..]].concat()),
        (
            "Rating",
            [
                &thing[..],
                &[
                    "ratingValue",
                    "bestRating",
                    "worstRating",
                    "alternateName",
                    "author",
                ],
            ]
            .concat(),
        ),
        (
            "Person",
            [&thing[..], &["jobTitle", "affiliation"]].concat(),
        ),
        ("Organization", thing.to_vec()),
        ("GovernmentOrganization", thing.to_vec()),
    ])
}

/// Every object in the document has a known @type and only its properties.
fn check_schema(v: &Value, allowed: &HashMap<&str, Vec<&str>>) {
    match v {
        Value::Object(map) => {
            let kind = map["@type"]
                .as_str()
                .unwrap_or_else(|| panic!("no @type in {v}"));
            let props = allowed
                .get(kind)
                .unwrap_or_else(|| panic!("unexpected type {kind}"));
            for (key, value) in map {
                assert!(
                    props.contains(&key.as_str()),
                    "{kind} has no property {key}"
                );
                check_schema(value, allowed);
            }
        }
        Value::Array(items) => items.iter().for_each(|i| check_schema(i, allowed)),
        _ => {}
    }
}

async fn import(app: &TestApp, story: i64, doc: &Value) -> Value {
    let res = app
        .post_json(&format!("/v1/import/claimreview?story={story}"), doc)
        .await;
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

#[tokio::test]
async fn a_reviewed_claim_exports_as_claimreview_and_reimports_idempotently() {
    let app = spawn_app().await;
    let story = app.story("Export").await;
    let speaker = app
        .create("/v1/speakers", json!({ "name": "Fumio Kishida", "kind": "person", "role": "Prime Minister", "aliases": ["Kishida"] }))
        .await["id"]
        .as_i64()
        .unwrap();
    let body = "Prime Minister Fumio Kishida said Japan had held two rounds of talks.";
    let article = app.article(story, "https://news.example/talks", body).await;
    let claim = app
        .create("/v1/claims", json!({ "story_id": story, "speaker_id": speaker, "kind": "paraphrase",
            "text": "Japan held two rounds of talks", "appearances": [{ "article_id": article, "start": 40, "end": 68 }] }))
        .await["id"]
        .as_i64()
        .unwrap();
    let path = format!("/v1/claims/{claim}");
    assert_problem(app.get(&format!("{path}/claimreview")).await, 404).await;
    let tag = app.etag(&path).await;
    let res = app
        .client
        .post(app.url(&format!("{path}/reviews")))
        .header("if-match", tag)
        .json(
            &json!({ "verdict": "mostly_false", "rationale": "Only one round took place.",
                       "evidence": [{ "url": "https://gov.example/talks" }] }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);

    let res = app.get(&format!("{path}/claimreview")).await;
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/ld+json")
    );
    let doc: Value = res.json().await.unwrap();
    check_schema(&doc, &allowed());
    assert_eq!(doc["@context"], "https://schema.org");
    assert_eq!(doc["claimReviewed"], "Japan held two rounds of talks");
    assert_eq!(doc["reviewRating"]["ratingValue"], 2);
    assert_eq!(doc["reviewRating"]["bestRating"], 5);
    assert_eq!(doc["reviewRating"]["worstRating"], 1);
    assert_eq!(doc["reviewRating"]["alternateName"], "Mostly false");
    assert_eq!(doc["itemReviewed"]["@type"], "Claim");
    assert_eq!(doc["itemReviewed"]["author"]["name"], "Fumio Kishida");
    assert_eq!(doc["itemReviewed"]["author"]["jobTitle"], "Prime Minister");
    assert_eq!(
        doc["itemReviewed"]["appearance"][0]["url"],
        "https://news.example/talks"
    );
    assert!(doc["itemReviewed"]["datePublished"].is_string());
    assert!(doc["datePublished"].is_string() && doc["url"].is_string());
    assert_eq!(doc["author"]["name"], "admin");

    // claimtrail's own export piped back in is recognised by its review
    // address: nothing is written, in this story or another one.
    let other = app.story("Imported").await;
    let before = app.row_counts().await;
    for story in [story, other] {
        let back = import(&app, story, &doc).await;
        assert_eq!(
            (back["created"].as_u64(), back["matched"].as_u64()),
            (Some(0), Some(1)),
            "{back}"
        );
        assert_eq!(back["items"][0]["claim_id"], claim);
    }
    assert_eq!(
        app.row_counts().await,
        before,
        "re-importing an export wrote something"
    );
    // And the export is the same afterwards, byte for byte.
    let again = app
        .get(&format!("{path}/claimreview"))
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(again, serde_json::to_string(&doc).unwrap());
}

#[tokio::test]
async fn a_data_feed_imports_item_by_item_with_a_report() {
    let app = spawn_app().await;
    let story = app.story("Feed").await;
    app.create(
        "/v1/speakers",
        json!({ "name": "Fumio Kishida", "kind": "person", "aliases": ["Kishida"] }),
    )
    .await;
    let feed = json!({
        "@context": "https://schema.org", "@type": "DataFeed",
        "dataFeedElement": [
            { "@type": "DataFeedItem", "item": [{
                "@type": "ClaimReview", "url": "https://checker.example/1", "claimReviewed": "The abduction issue has been settled",
                "author": { "@type": "Organization", "name": "Checker" },
                "itemReviewed": { "@type": "Claim", "author": { "@type": "GovernmentOrganization", "name": "DPRK Foreign Ministry" } },
                "reviewRating": { "@type": "Rating", "ratingValue": 1, "bestRating": 5, "worstRating": 1, "alternateName": "False" } }] },
            { "@type": "DataFeedItem", "item": {
                "@type": "ClaimReview", "url": "https://checker.example/2", "claimReviewed": "Japan seeks the return of 12 abductees",
                "itemReviewed": { "@type": "Claim", "author": { "@type": "Person", "name": "kishida" } },
                "reviewRating": { "@type": "Rating", "alternateName": "Pants on Fire!" } } },
            { "@type": "DataFeedItem", "item": {
                "@type": "ClaimReview", "url": "https://checker.example/3", "claimReviewed": "No rating here",
                "itemReviewed": { "@type": "Claim", "author": { "@type": "Person", "name": "Someone" } } } }
        ]
    });
    let report = import(&app, story, &feed).await;
    assert_eq!(
        (report["created"].as_u64(), report["rejected"].as_u64()),
        (Some(2), Some(1)),
        "{report}"
    );
    assert_eq!(report["items"][2]["problems"][0]["field"], "reviewRating");
    let kishida = app.get_json("/v1/speakers?q=kishida").await["items"][0]["id"].clone();
    assert_eq!(
        report["items"][1]["speaker_id"], kishida,
        "matched by alias, ignoring case"
    );
    let dprk = app
        .get_json(&format!(
            "/v1/speakers/{}",
            report["items"][0]["speaker_id"]
        ))
        .await;
    assert_eq!(dprk["kind"], "government");
    assert_problem(
        app.post_json("/v1/import/claimreview?story=9999", &feed)
            .await,
        422,
    )
    .await;
    assert_problem(app.post_json("/v1/import/claimreview", &feed).await, 400).await;
}

#[tokio::test]
async fn claims_can_name_their_speaker_by_alias_or_title() {
    let app = spawn_app().await;
    let story = app.story("Aliases").await;
    let id = app
        .create("/v1/speakers", json!({ "name": "Fumio Kishida", "kind": "person", "role": "Prime Minister", "aliases": ["Kishida"] }))
        .await["id"]
        .clone();
    for name in ["Kishida", "prime minister fumio kishida", "Fumio Kishida"] {
        let claim = app
            .create("/v1/claims", json!({ "story_id": story, "speaker": name, "kind": "paraphrase", "text": format!("Said as {name}") }))
            .await;
        assert_eq!(claim["speaker_id"], id, "{name}");
    }
    let res = app.post_json("/v1/claims", &json!({ "story_id": story, "speaker": "Shinzo Abe", "kind": "paraphrase", "text": "x" })).await;
    let problem = assert_problem(res, 422).await;
    assert_eq!(problem["errors"][0]["field"], "speaker");
    let res = app
        .post_json(
            "/v1/claims",
            &json!({ "story_id": story, "kind": "paraphrase", "text": "x" }),
        )
        .await;
    assert_problem(res, 422).await;
}

#[tokio::test]
async fn merging_speakers_moves_their_claims_as_new_revisions() {
    let app = spawn_app().await;
    let story = app.story("Merge").await;
    let a = app
        .create(
            "/v1/speakers",
            json!({ "name": "Fumio Kishida", "kind": "person", "aliases": ["Kishida"] }),
        )
        .await["id"]
        .as_i64()
        .unwrap();
    let b = app
        .create(
            "/v1/speakers",
            json!({ "name": "PM Kishida", "kind": "person", "aliases": ["the Prime Minister"] }),
        )
        .await["id"]
        .as_i64()
        .unwrap();
    let c1 = app.claim(story, b, "Japan will keep talking").await["id"]
        .as_i64()
        .unwrap();
    let c2 = app.claim(story, b, "Talks will continue in Mongolia").await["id"]
        .as_i64()
        .unwrap();
    let kept = app.claim(story, a, "Already right").await["id"]
        .as_i64()
        .unwrap();

    let res = app
        .post_json(&format!("/v1/speakers/{b}/merge"), &json!({ "into": a }))
        .await;
    assert_eq!(res.status(), 200);
    let merged: Value = res.json().await.unwrap();
    assert_eq!(merged["claims_moved"], json!([c1, c2]));
    assert_eq!(
        merged["speaker"]["aliases"],
        json!(["Kishida", "PM Kishida", "the Prime Minister"])
    );
    for id in [c1, c2] {
        let claim = app.get_json(&format!("/v1/claims/{id}")).await;
        assert_eq!(
            (claim["speaker_id"].as_i64(), claim["revision"].as_i64()),
            (Some(a), Some(2))
        );
        let first = app.get_json(&format!("/v1/claims/{id}/revisions/1")).await;
        assert_eq!(first["speaker_id"], b, "history keeps the old attribution");
    }
    assert_eq!(
        app.get_json(&format!("/v1/claims/{kept}")).await["revision"],
        1
    );
    assert_eq!(
        app.get_json(&format!("/v1/speakers/{b}")).await["merged_into"],
        a
    );
    let by_alias = app.create("/v1/claims", json!({ "story_id": story, "speaker": "the prime minister", "kind": "paraphrase", "text": "x" })).await;
    assert_eq!(by_alias["speaker_id"], a);
    assert_problem(
        app.post_json(&format!("/v1/speakers/{b}/merge"), &json!({ "into": a }))
            .await,
        409,
    )
    .await;
    assert_problem(
        app.post_json(&format!("/v1/speakers/{a}/merge"), &json!({ "into": a }))
            .await,
        422,
    )
    .await;
    assert_problem(
        app.post_json(&format!("/v1/speakers/{a}/merge"), &json!({ "into": 999 }))
            .await,
        422,
    )
    .await;
    assert_problem(
        app.post_json("/v1/speakers/999/merge", &json!({ "into": a }))
            .await,
        404,
    )
    .await;
}

/// ClaimReview records in eleven languages, written for these tests in the
/// shapes fact-checkers publish (words-only ratings, numbers as text, other
/// scales, relative URLs, missing claimants, arrays where objects are usual,
/// a page's @graph), and a few with real defects.
fn mixed_language_records() -> Value {
    let review = |url: &str, lang: &str, claim: &str, rating: Value, claimant: Value| {
        let mut item = json!({
            "@context": "https://schema.org", "@type": "ClaimReview", "url": url,
            "inLanguage": lang, "claimReviewed": claim, "datePublished": "2026-10-0\u{37}",
            "author": { "@type": "Organization", "name": format!("Checker {lang}"), "url": "https://checker.example" },
            "reviewRating": rating,
        });
        if !claimant.is_null() {
            item["itemReviewed"] = json!({ "@type": "Claim", "author": claimant,
                "appearance": [{ "@type": "CreativeWork", "url": "https://social.example/post/1" }] });
        }
        item
    };
    let words = |w: &str| json!({ "@type": "Rating", "alternateName": w });
    let person = |n: &str| json!({ "@type": "Person", "name": n });
    json!({ "@graph": [
        { "@type": "WebPage", "name": "A fact-checker's page" },
        review("https://checker.example/es/1", "es", "El puerto reabrirá el lunes", words("Falso"), person("María López")),
        review("https://checker.example/es/2", "es", "La inflación bajó a la mitad", words("Engañoso"), person("María López")),
        review("https://checker.example/es/3", "es", "Se construyeron 300 escuelas", words("Mixto"), json!([person("Juan Pérez")])),
        review("https://checker.example/es/4", "es", "Nadie murió en el incendio", json!({ "alternateName": "Falso", "ratingValue": "5", "bestRating": "5", "worstRating": "1" }), person("Juan Pérez")),
        review("/pt/5", "pt", "O desemprego caiu 20%", words("Sem contexto"), person("Ana Souza")),
        review("https://checker.example/pt/6", "pt", "A vacina altera o DNA", words("Falso"), json!(null)),
        review("https://checker.example/fr/7", "fr", "Le chômage n'a jamais été aussi bas", words("Plutôt vrai"), person("Jean Martin")),
        review("https://checker.example/fr/8", "fr", "La France importe 80 % de son blé", words("Faux"), person("Jean Martin")),
        review("https://checker.example/de/9", "de", "Die Renten wurden halbiert", words("Falsch"), person("Max Müller")),
        review("https://checker.example/de/10", "de", "Das Foto zeigt Berlin 2020", words("Irreführend"), json!({ "@type": "Organization", "name": "Ein Kanal" })),
        review("https://checker.example/it/11", "it", "L'Italia produce metà dell'energia in Europa", words("Fuorviante"), person("Luca Rossi")),
        review("https://checker.example/it/12", "it", "Il ponte è crollato ieri", json!({ "ratingValue": 1, "bestRating": 5, "worstRating": 1 }), person("Luca Rossi")),
        review("https://checker.example/zh/13", "zh", "政府已經取消所有稅收", words("錯誤"), person("王小明")),
        review("https://checker.example/zh/14", "zh", "这张照片拍摄于去年", words("误导"), person("王小明")),
        review("https://checker.example/ja/15", "ja", "首相は辞任を表明した", words("誤り"), person("田中太郎")),
        review("https://checker.example/ja/16", "ja", "円安は過去最大になった", words("ミスリード"), person("田中太郎")),
        review("https://checker.example/ar/17", "ar", "الحكومة رفعت الأسعار بنسبة 50%", words("زائف"), person("أحمد علي")),
        review("https://checker.example/ar/18", "ar", "الصورة من احتجاجات العام الماضي", words("مضلل"), person("أحمد علي")),
        review("https://checker.example/hi/19", "hi", "सरकार ने सभी कर माफ कर दिए", words("गलत"), person("राम शर्मा")),
        review("https://checker.example/hi/20", "hi", "यह वीडियो पिछले साल का है", words("भ्रामक"), person("राम शर्मा")),
        review("https://checker.example/id/21", "id", "Pemerintah membagikan uang tunai", words("Hoaks"), person("Budi Santoso")),
        review("https://checker.example/id/22", "id", "Banjir terjadi di seluruh kota", words("Sebagian benar"), person("Budi Santoso")),
        review("https://checker.example/en/23", "en", "The bridge will reopen on Monday", words("Pants on Fire!"), person("Pat Doe")),
        review("https://checker.example/en/24", "en", "Crime fell by half", json!({ "ratingValue": 1, "bestRating": 1, "worstRating": 6, "alternateName": "True" }), person("Pat Doe")),
        review("https://checker.example/en/25", "en", "“Taxes were cut,” the minister said", words("Half True"), person("Pat Doe")),
        review("https://checker.example/en/26", "en", "Unemployment is at a record low", json!({ "ratingValue": 2, "bestRating": 10, "worstRating": 0 }), person("Pat Doe")),
        review("https://checker.example/en/27", "en", "The dam burst last night", words("False: the video is from 2019"), person("Pat Doe")),
        review("https://checker.example/en/28", "en", "Schools will close in March", words("Unproven"), person("Pat Doe")),
        // Defects: no claim text, no URL, a rating nobody can read.
        review("https://checker.example/en/29", "en", "   ", words("False"), person("Pat Doe")),
        { "@type": "ClaimReview", "claimReviewed": "Without an address", "reviewRating": words("False") },
        review("https://checker.example/en/30", "en", "A rating in no vocabulary", words("Our verdict: see below"), person("Pat Doe")),
    ]})
}

#[tokio::test]
async fn fact_checkers_records_in_eleven_languages_import_with_few_rejections() {
    let app = spawn_app().await;
    let story = app.story("Mixed languages").await;
    let doc = mixed_language_records();
    let report = import_from(&app, story, "https://checker.example/news/page.html", &doc).await;
    let items = report["items"].as_array().unwrap();
    assert_eq!(items.len(), 31, "the WebPage of the graph is not an item");
    let rejected: Vec<&Value> = items
        .iter()
        .filter(|i| i["outcome"] == "rejected")
        .collect();
    // Only the three defective records, each named by its defect, and
    // every problem of a record at once.
    assert_eq!(rejected.len(), 3, "{report}");
    assert!(
        rejected.len() * 10 <= items.len(),
        "more than 1 in 10 rejected"
    );
    let fields: Vec<&str> = rejected
        .iter()
        .map(|r| r["problems"][0]["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["claimReviewed", "url", "reviewRating"]);
    let statuses: Vec<String> = items
        .iter()
        .filter(|i| i["outcome"] == "created")
        .map(|i| {
            let claim = i["claim_id"].as_i64().unwrap();
            claim.to_string()
        })
        .collect();
    assert_eq!(statuses.len(), 28);
    let status = async |index: usize| {
        let id = items[index]["claim_id"].as_i64().unwrap();
        app.get_json(&format!("/v1/claims/{id}")).await["status"].clone()
    };
    assert_eq!(status(0).await, "false", "Falso");
    assert_eq!(status(1).await, "disputed", "Engañoso");
    assert_eq!(status(12).await, "false", "錯誤");
    assert_eq!(status(16).await, "false", "زائف");
    assert_eq!(
        status(23).await,
        "verified",
        "1 on an inverted scale from 6 to 1 is the best"
    );
    // Words and number that disagree: the words win, and the report says so.
    assert!(
        items[3]["warnings"][0]
            .as_str()
            .unwrap()
            .contains("words were used"),
        "{}",
        items[3]
    );
    // A relative URL is resolved against the page.
    let relative = app
        .get_json(&format!("/v1/claims/{}/reviews", items[4]["claim_id"]))
        .await;
    assert_eq!(
        relative["items"][0]["source_url"],
        "https://checker.example/pt/5"
    );
    // A record without a claimant goes to an unknown speaker.
    let unknown = app
        .get_json(&format!("/v1/claims/{}", items[5]["claim_id"]))
        .await;
    assert_eq!(unknown["speaker"]["name"], "Unknown claimant");
    assert_eq!(unknown["speaker"]["kind"], "anonymous");

    // A record with several defects names them all.
    let broken = import(
        &app,
        story,
        &json!({ "@type": "ClaimReview", "claimReviewed": "", "reviewRating": { "ratingValue": 9, "bestRating": 5 } }),
    )
    .await;
    let problems: Vec<&str> = broken["items"][0]["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["field"].as_str().unwrap())
        .collect();
    assert_eq!(problems, ["claimReviewed", "url", "reviewRating"]);

    // The same records again: everything is matched, nothing written.
    let before = app.row_counts().await;
    let again = import_from(&app, story, "https://checker.example/news/page.html", &doc).await;
    assert_eq!(
        (again["created"].as_u64(), again["matched"].as_u64()),
        (Some(0), Some(28)),
        "{again}"
    );
    assert_eq!(app.row_counts().await, before);
}

#[tokio::test]
async fn an_imported_review_exports_as_it_came_and_round_trips_unchanged() {
    let app = spawn_app().await;
    let story = app.story("Round trip").await;
    let original = json!({
        "@context": "https://schema.org", "@type": "ClaimReview",
        "url": "https://checker.example/es/verificacion/42", "inLanguage": "es",
        "claimReviewed": "El gobierno cerró 200 hospitales",
        "datePublished": "2026-09-30",
        "author": { "@type": "Organization", "name": "Verificador", "url": "https://checker.example" },
        "reviewRating": { "@type": "Rating", "ratingValue": "2", "bestRating": "7", "worstRating": "1", "alternateName": "Engañoso" },
        "itemReviewed": { "@type": "Claim", "author": { "@type": "Person", "name": "Diputada Ruiz" },
            "datePublished": "2026-09-28", "appearance": { "@type": "CreativeWork", "url": "https://social.example/p/9" } }
    });
    let first = import(&app, story, &original).await;
    let claim = first["items"][0]["claim_id"].as_i64().unwrap();
    let exported = app
        .get(&format!("/v1/claims/{claim}/claimreview"))
        .await
        .text()
        .await
        .unwrap();
    let doc: Value = serde_json::from_str(&exported).unwrap();
    // The fact-checker's, not the ledger's: URL, author, date, rating as given.
    assert_eq!(doc["url"], original["url"]);
    assert_eq!(doc["author"], original["author"]);
    assert_eq!(doc["datePublished"], "2026-09-30");
    assert_eq!(doc["reviewRating"], original["reviewRating"]);
    assert_eq!(doc["inLanguage"], "es");
    assert_eq!(doc["itemReviewed"], original["itemReviewed"]);
    // export → import → export: nothing written, the same bytes.
    let before = app.row_counts().await;
    let back = import(&app, story, &doc).await;
    assert_eq!(back["matched"], 1, "{back}");
    assert_eq!(app.row_counts().await, before);
    let again = app
        .get(&format!("/v1/claims/{claim}/claimreview"))
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(again, exported);
    // A second capture of the same review, its quotes typographic: the same.
    let mut capture = original.clone();
    capture["claimReviewed"] = json!("El gobierno  cerró 200 hospitales ");
    let third = import(&app, story, &capture).await;
    assert_eq!(third["matched"], 1);
    assert_eq!(third["items"][0]["claim_id"], claim);
}

#[tokio::test]
async fn the_same_claim_captured_with_other_quotes_is_one_claim() {
    let app = spawn_app().await;
    let story = app.story("Quotes").await;
    let record = |url: &str, claim: &str| {
        json!({
        "@type": "ClaimReview", "url": url, "claimReviewed": claim,
        "itemReviewed": { "@type": "Claim", "author": { "@type": "Person", "name": "Pat Doe" } },
        "reviewRating": { "alternateName": "False" } })
    };
    let a = import(
        &app,
        story,
        &record("https://a.example/1", "He said \"we won\" twice"),
    )
    .await;
    let b = import(
        &app,
        story,
        &record("https://b.example/1", "He said “we won”  twice"),
    )
    .await;
    assert_eq!(a["items"][0]["claim_id"], b["items"][0]["claim_id"]);
}

async fn import_from(app: &TestApp, story: i64, page: &str, doc: &Value) -> Value {
    let page = url::form_urlencoded::byte_serialize(page.as_bytes()).collect::<String>();
    let res = app
        .post_json(
            &format!("/v1/import/claimreview?story={story}&page={page}"),
            doc,
        )
        .await;
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}
