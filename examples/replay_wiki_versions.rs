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
//! A folder without versions is skipped with a note; a document that fails
//! is reported and the replay goes on; the summary is always printed (exit 1
//! when anything failed).
//!
//!     cargo run --release -- serve &
//!     TOKEN=$(cargo run --release -q -- token create --user chief | tail -n 1)
//!     cargo run --release --example replay_wiki_versions -- DIR [--url http://127.0.0.1:8080] \
//!         [--token TOKEN | CLAIMTRAIL_TOKEN=…] [--limit N]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use claimtrail::domain::diff::{TextOp, apply_ops, split_sentences};
use serde_json::{Value, json};

struct Args {
    dir: PathBuf,
    url: String,
    token: Option<String>,
    limit: usize,
}

const USAGE: &str =
    "usage: replay_wiki_versions DIR [--url URL] [--token TOKEN (or CLAIMTRAIL_TOKEN)] [--limit N]";

fn args() -> Args {
    let mut it = std::env::args().skip(1);
    let mut args = Args {
        dir: PathBuf::new(),
        url: "http://127.0.0.1:8080".into(),
        token: std::env::var("CLAIMTRAIL_TOKEN")
            .ok()
            .filter(|t| !t.is_empty()),
        limit: usize::MAX,
    };
    let fail = |why: &str| -> ! {
        eprintln!("{why}\n{USAGE}");
        std::process::exit(2)
    };
    while let Some(a) = it.next() {
        match a.as_str() {
            "--url" => args.url = it.next().unwrap_or_else(|| fail("--url needs a value")),
            "--token" => {
                args.token = Some(it.next().unwrap_or_else(|| fail("--token needs a value")))
            }
            "--limit" => {
                args.limit = it
                    .next()
                    .and_then(|n| n.parse().ok())
                    .unwrap_or_else(|| fail("--limit needs a number"))
            }
            _ => args.dir = PathBuf::from(a),
        }
    }
    if !args.dir.is_dir() {
        fail("DIR must be a folder of documents");
    }
    if args.token.is_none() {
        fail(
            "a bearer token is needed: --token TOKEN or CLAIMTRAIL_TOKEN (claimtrail token create --user NAME)",
        );
    }
    args
}

/// The versions of a document, oldest first (`0.txt`, `1.txt`, …).
fn versions(doc: &Path) -> Result<Vec<String>, String> {
    let entries =
        std::fs::read_dir(doc).map_err(|e| format!("cannot read {}: {e}", doc.display()))?;
    let mut files: Vec<(usize, PathBuf)> = entries
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            Some((name.strip_suffix(".txt")?.parse().ok()?, e.path()))
        })
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|(_, p)| {
            std::fs::read(&p)
                .map(|b| String::from_utf8_lossy(&b).into_owned())
                .map_err(|e| format!("cannot read {}: {e}", p.display()))
        })
        .collect()
}

struct Client {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Client {
    async fn send(&self, req: reqwest::RequestBuilder) -> Result<(u16, Value), String> {
        let res = req
            .bearer_auth(&self.token)
            .send()
            .await
            .map_err(|e| format!("request failed: {e}"))?;
        let status = res.status().as_u16();
        Ok((status, res.json().await.unwrap_or(Value::Null)))
    }
    async fn post(&self, path: &str, body: &Value) -> Result<(u16, Value), String> {
        self.send(self.http.post(format!("{}{path}", self.base)).json(body))
            .await
    }
    async fn get(&self, path: &str) -> Result<Value, String> {
        let (status, body) = self
            .send(self.http.get(format!("{}{path}", self.base)))
            .await?;
        if status != 200 {
            return Err(format!("GET {path}: {status} {body}"));
        }
        Ok(body)
    }
}

#[derive(Default)]
struct Totals {
    documents: usize,
    versions: usize,
    identical: usize,
    revisions: usize,
    diffs_checked: usize,
    carried: BTreeMap<String, usize>,
    failures: Vec<String>,
}

/// Replays one document; problems found are added to `totals.failures`, a
/// request that could not be made ends this document only.
async fn replay(
    client: &Client,
    doc: &Path,
    texts: &[String],
    run: &str,
    i: usize,
    speaker_id: i64,
    totals: &mut Totals,
) -> Result<(), String> {
    let title = doc
        .file_name()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned();
    let (status, story) = client
        .post(
            "/v1/stories",
            &json!({ "title": title, "slug": format!("replay-{run}-{i}") }),
        )
        .await?;
    let story_id = story["id"]
        .as_i64()
        .ok_or_else(|| format!("{title}: the story was not created: {status} {story}"))?;
    let url = format!("https://wiki.example/{run}/{i}");
    let mut article_id = 0;
    for (k, text) in texts.iter().enumerate() {
        totals.versions += 1;
        let body = json!({ "url": url, "outlet": "Wikipedia", "headline": title,
                           "published_at": "2021-10-05T00:00:00Z", "body": text, "story_id": story_id });
        let (status, posted) = client.post("/v1/articles", &body).await?;
        let expected = match k {
            0 => "created",
            _ if texts[k - 1] == *text => {
                totals.identical += 1;
                "unchanged"
            }
            _ => "revised",
        };
        if posted["outcome"] != expected {
            totals.failures.push(format!(
                "{title} v{k}: expected {expected}, got {status} {posted}"
            ));
        }
        article_id = posted["id"].as_i64().unwrap_or(article_id);
        for claim in posted["claims_affected"].as_array().into_iter().flatten() {
            for a in claim["appearances"].as_array().into_iter().flatten() {
                *totals
                    .carried
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
                let (status, body) = client.post("/v1/claims", &claim).await?;
                if status != 201 {
                    totals
                        .failures
                        .push(format!("{title}: claim not logged: {status} {body}"));
                }
            }
        }
    }
    if article_id == 0 {
        return Err(format!("{title}: the article was never created"));
    }
    let revisions = client
        .get(&format!("/v1/articles/{article_id}/revisions"))
        .await?;
    let count = revisions["items"].as_array().map_or(0, Vec::len);
    let expected = texts.len() - texts.windows(2).filter(|w| w[0] == w[1]).count();
    totals.revisions += count;
    if count != expected {
        totals
            .failures
            .push(format!("{title}: {count} revisions, expected {expected}"));
    }
    for r in 1..count {
        let old = client
            .get(&format!("/v1/articles/{article_id}/revisions/{r}"))
            .await?;
        let new = client
            .get(&format!("/v1/articles/{article_id}/revisions/{}", r + 1))
            .await?;
        let diff = client
            .get(&format!(
                "/v1/articles/{article_id}/diff?from={r}&to={}&max_ops=100000",
                r + 1
            ))
            .await?;
        let ops: Vec<TextOp> = serde_json::from_value(diff["ops"].clone())
            .map_err(|e| format!("{title}: the diff {r}→{} has no operations: {e}", r + 1))?;
        let rebuilt = apply_ops(old["body"].as_str().unwrap_or_default(), &ops);
        totals.diffs_checked += 1;
        if rebuilt.as_deref() != Ok(new["body"].as_str().unwrap_or_default())
            || diff["truncated"] == true
        {
            totals.failures.push(format!(
                "{title}: the diff {r}→{} does not rebuild the newer text",
                r + 1
            ));
        }
    }
    Ok(())
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args = args();
    let client = Client {
        http: reqwest::Client::new(),
        base: args.url.trim_end_matches('/').to_owned(),
        token: args.token.clone().unwrap_or_default(),
    };
    let run = format!("{}", std::process::id());
    let speaker_id = match client
        .post(
            "/v1/speakers",
            &json!({ "name": "Wikipedia editors", "kind": "publication" }),
        )
        .await
    {
        Ok((201, speaker)) => speaker["id"].as_i64().unwrap_or_default(),
        Ok((status, body)) => {
            eprintln!("the service refused the first request ({status}): {body}");
            std::process::exit(2)
        }
        Err(e) => {
            eprintln!("the service at {} cannot be reached: {e}", args.url);
            std::process::exit(2)
        }
    };

    let mut docs: Vec<PathBuf> = std::fs::read_dir(&args.dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.is_dir())
                .collect()
        })
        .unwrap_or_default();
    docs.sort();
    docs.truncate(args.limit);

    let started = Instant::now();
    let mut totals = Totals::default();
    let mut skipped = Vec::new();
    for (i, doc) in docs.iter().enumerate() {
        let texts = match versions(doc) {
            Ok(texts) => texts,
            Err(e) => {
                totals.failures.push(e);
                continue;
            }
        };
        if texts.is_empty() || texts.iter().any(|t| t.trim().is_empty()) {
            skipped.push(
                doc.file_name()
                    .unwrap_or_default()
                    .to_string_lossy()
                    .into_owned(),
            );
            continue;
        }
        totals.documents += 1;
        if let Err(e) = replay(&client, doc, &texts, &run, i, speaker_id, &mut totals).await {
            totals.failures.push(e);
        }
    }
    println!("documents replayed:   {}", totals.documents);
    println!(
        "skipped:              {} (no versions, or an empty one)",
        skipped.len()
    );
    for name in skipped.iter().take(10) {
        println!("  {name}");
    }
    println!("versions posted:      {}", totals.versions);
    println!(
        "byte-identical pairs: {} (answered unchanged)",
        totals.identical
    );
    println!(
        "revisions created:    {} (= versions - identical pairs: {})",
        totals.revisions,
        totals.revisions == totals.versions - totals.identical
    );
    println!("diffs rebuilt:        {}", totals.diffs_checked);
    println!("claim spans carried:  {:?}", totals.carried);
    println!(
        "time:                 {:.1} s",
        started.elapsed().as_secs_f64()
    );
    println!("failures:             {}", totals.failures.len());
    for f in totals.failures.iter().take(20) {
        println!("  {f}");
    }
    if !totals.failures.is_empty() {
        std::process::exit(1);
    }
}
