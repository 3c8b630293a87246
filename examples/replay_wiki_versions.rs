//! Replays multi-version documents through a running claimtrail, as a
//! newsroom would repost a corrected article, and checks what the ledger
//! recorded.
//!
//! Input: a folder of documents, one subfolder per document holding its
//! versions as `0.txt`, `1.txt`, … (oldest first), such as the "versions"
//! Wikipedia corpus. For each document the example creates a story, logs a
//! claim on the first sentence of version 0, then posts every version to the
//! same URL. It checks that
//!
//! - the article has one revision per version, less byte-identical
//!   consecutive versions (which must come back `unchanged`);
//! - the operations of every diff between consecutive revisions rebuild the
//!   newer text exactly;
//!
//! and reports how the claim's span was carried (present, altered, removed).
//!
//!     cargo run --release -- serve &
//!     cargo run --release --example replay_wiki_versions -- DIR [--url http://127.0.0.1:8080] [--limit N]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use claimtrail::domain::diff::{TextOp, apply_ops, split_sentences};
use serde_json::{Value, json};

struct Args {
    dir: PathBuf,
    url: String,
    limit: usize,
}

fn args() -> Args {
    let mut it = std::env::args().skip(1);
    let mut args = Args {
        dir: PathBuf::new(),
        url: "http://127.0.0.1:8080".into(),
        limit: usize::MAX,
    };
    while let Some(a) = it.next() {
        match a.as_str() {
            "--url" => args.url = it.next().expect("--url needs a value"),
            "--limit" => {
                args.limit = it
                    .next()
                    .and_then(|n| n.parse().ok())
                    .expect("--limit needs a number")
            }
            _ => args.dir = PathBuf::from(a),
        }
    }
    assert!(
        args.dir.is_dir(),
        "usage: replay_wiki_versions DIR [--url URL] [--limit N]"
    );
    args
}

fn versions(doc: &Path) -> Vec<String> {
    let mut files: Vec<(usize, PathBuf)> = std::fs::read_dir(doc)
        .unwrap()
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            Some((name.strip_suffix(".txt")?.parse().ok()?, e.path()))
        })
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|(_, p)| String::from_utf8_lossy(&std::fs::read(p).unwrap()).into_owned())
        .collect()
}

struct Client {
    http: reqwest::Client,
    base: String,
}

impl Client {
    async fn send(&self, req: reqwest::RequestBuilder) -> (u16, Value) {
        let res = req.send().await.expect("request failed");
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
    }
    async fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        self.send(self.http.post(format!("{}{path}", self.base)).json(body))
            .await
    }
    async fn get(&self, path: &str) -> Value {
        let (status, body) = self
            .send(self.http.get(format!("{}{path}", self.base)))
            .await;
        assert_eq!(status, 200, "GET {path}: {body}");
        body
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args = args();
    let client = Client {
        http: reqwest::Client::new(),
        base: args.url.trim_end_matches('/').to_owned(),
    };
    let run = format!("{}", std::process::id());
    let (_, speaker) = client
        .post(
            "/v1/speakers",
            &json!({ "name": "Wikipedia editors", "kind": "publication" }),
        )
        .await;
    let speaker_id = speaker["id"].as_i64().expect("creating the speaker");

    let mut docs: Vec<PathBuf> = std::fs::read_dir(&args.dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    docs.sort();
    docs.truncate(args.limit);

    let started = Instant::now();
    let (mut versions_total, mut identical, mut revisions_total, mut diffs_checked, mut skipped) =
        (0, 0, 0, 0, 0);
    let mut failures = Vec::new();
    let mut carried: BTreeMap<String, usize> = BTreeMap::new();
    for (i, doc) in docs.iter().enumerate() {
        let texts = versions(doc);
        if texts.iter().any(|t| t.trim().is_empty()) {
            skipped += 1;
            continue;
        }
        let title = doc.file_name().unwrap().to_string_lossy().into_owned();
        let (_, story) = client
            .post(
                "/v1/stories",
                &json!({ "title": title, "slug": format!("replay-{run}-{i}") }),
            )
            .await;
        let story_id = story["id"].as_i64().expect("creating the story");
        let url = format!("https://wiki.example/{run}/{i}");
        let mut article_id = 0;
        for (k, text) in texts.iter().enumerate() {
            versions_total += 1;
            let body = json!({ "url": url, "outlet": "Wikipedia", "headline": title,
                               "published_at": "2021-10-05T00:00:00Z", "body": text, "story_id": story_id });
            let (status, posted) = client.post("/v1/articles", &body).await;
            let expected = match k {
                0 => "created",
                _ if texts[k - 1] == *text => {
                    identical += 1;
                    "unchanged"
                }
                _ => "revised",
            };
            if posted["outcome"] != expected {
                failures.push(format!(
                    "{title} v{k}: expected {expected}, got {status} {posted}"
                ));
            }
            article_id = posted["id"].as_i64().unwrap_or(article_id);
            for claim in posted["claims_affected"].as_array().into_iter().flatten() {
                for a in claim["appearances"].as_array().into_iter().flatten() {
                    *carried
                        .entry(a["state"].as_str().unwrap_or("?").to_owned())
                        .or_default() += 1;
                }
            }
            if k == 0 {
                // A claim on the first sentence, to follow through the edits.
                let first = split_sentences(text)
                    .first()
                    .map(|s| s.trim_end().chars().count())
                    .unwrap_or(0);
                if first > 0 {
                    let claim = json!({ "story_id": story_id, "speaker_id": speaker_id, "kind": "assertion",
                        "text": text.chars().take(first).collect::<String>(),
                        "appearances": [{ "article_id": article_id, "start": 0, "end": first }] });
                    let (status, body) = client.post("/v1/claims", &claim).await;
                    if status != 201 {
                        failures.push(format!("{title}: claim not logged: {status} {body}"));
                    }
                }
            }
        }
        let revisions = client
            .get(&format!("/v1/articles/{article_id}/revisions"))
            .await;
        let count = revisions["items"].as_array().map_or(0, Vec::len);
        let expected = texts.len() - texts.windows(2).filter(|w| w[0] == w[1]).count();
        revisions_total += count;
        if count != expected {
            failures.push(format!("{title}: {count} revisions, expected {expected}"));
        }
        for r in 1..count {
            let old = client
                .get(&format!("/v1/articles/{article_id}/revisions/{r}"))
                .await;
            let new = client
                .get(&format!("/v1/articles/{article_id}/revisions/{}", r + 1))
                .await;
            let diff = client
                .get(&format!(
                    "/v1/articles/{article_id}/diff?from={r}&to={}&max_ops=100000",
                    r + 1
                ))
                .await;
            let ops: Vec<TextOp> = serde_json::from_value(diff["ops"].clone()).expect("ops");
            let rebuilt = apply_ops(old["body"].as_str().unwrap(), &ops);
            diffs_checked += 1;
            if rebuilt.as_deref() != Ok(new["body"].as_str().unwrap()) || diff["truncated"] == true
            {
                failures.push(format!(
                    "{title}: the diff {r}→{} does not rebuild the newer text",
                    r + 1
                ));
            }
        }
    }
    println!("documents:            {}", docs.len() - skipped);
    println!("skipped (empty text): {skipped}");
    println!("versions posted:      {versions_total}");
    println!("byte-identical pairs: {identical} (answered unchanged)");
    println!(
        "revisions created:    {revisions_total} (= versions - identical pairs: {})",
        revisions_total == versions_total - identical
    );
    println!("diffs rebuilt:        {diffs_checked}");
    println!("claim spans carried:  {carried:?}");
    println!(
        "time:                 {:.1} s",
        started.elapsed().as_secs_f64()
    );
    if failures.is_empty() {
        println!("failures:             0");
    } else {
        println!("failures:             {}", failures.len());
        for f in failures.iter().take(20) {
            println!("  {f}");
        }
        std::process::exit(1);
    }
}
