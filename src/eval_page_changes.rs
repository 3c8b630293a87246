//! `claimtrail eval-page-changes --corpus DIR`: the page reader and the
//! version rule (`domain::outlet::{page, change}`) replayed on a corpus of
//! real multi-version documents (the "versions" dataset's layout:
//! `<title>/<k>.txt`, k = 0 the oldest). Each version is wrapped in an
//! article page whose chrome churns on every fetch (clock, "updated N
//! minutes ago", trending links, a tracking script, comment counts,
//! indentation, non-breaking spaces) and fetched twice; the second fetch,
//! and a fetch of a version equal to the one before, must record nothing.
//! Nothing is fetched over a network: the pages are built in memory.

use std::fs;
use std::path::Path;

use anyhow::Context;
use claimtrail::config::EvalPageChangesArgs;
use claimtrail::domain::outlet::change::{Change, compare, version_key};
use claimtrail::domain::outlet::page::read_page;
use serde::Serialize;

#[derive(Debug, Default, Serialize)]
struct Report {
    documents: usize,
    versions: usize,
    /// Versions whose words differ from the one before (each document's
    /// first version counts): what a watcher must record.
    distinct_versions: usize,
    /// Versions that differ from the one before in layout only (spaces,
    /// line breaks): not new versions.
    layout_only_versions: usize,
    fetches: usize,
    recorded: usize,
    /// Recorded on a fetch whose text had not changed.
    false_changes: usize,
    /// A changed text not recorded.
    missed_changes: usize,
    /// Pages the reader found no article in.
    unreadable: usize,
    /// Recorded versions whose text is not the document's text, word for
    /// word (the reader lost or added words).
    text_mismatches: usize,
    seconds: f64,
}

pub fn run(args: &EvalPageChangesArgs) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let mut report = Report::default();
    let mut churn = Churn(0x5eed);
    for versions in read_corpus(&args.corpus)? {
        report.documents += 1;
        let address = format!("https://wiki.example/{}", report.documents);
        let mut recorded: Option<String> = None;
        let mut previous: Option<&str> = None;
        for text in &versions {
            report.versions += 1;
            let changed = previous.is_none_or(|p| version_key(p) != version_key(text));
            if changed {
                report.distinct_versions += 1;
            } else if previous.is_some_and(|p| p != text) {
                report.layout_only_versions += 1;
            }
            previous = Some(text);
            // Each version is fetched twice, in different chrome.
            for fetch in 0..2 {
                report.fetches += 1;
                let html = churn.page(text);
                let Ok(page) = read_page(&html, &address) else {
                    report.unreadable += 1;
                    continue;
                };
                let record = match &recorded {
                    None => true,
                    Some(old) => compare(old, &page.body) == Change::Changed,
                };
                let should = changed && fetch == 0;
                match (record, should) {
                    (true, false) => report.false_changes += 1,
                    (false, true) => report.missed_changes += 1,
                    _ => {}
                }
                if record {
                    report.recorded += 1;
                    if version_key(&page.body) != version_key(text) {
                        report.text_mismatches += 1;
                    }
                    recorded = Some(page.body);
                }
            }
        }
    }
    report.seconds = started.elapsed().as_secs_f64();
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!(
            "{} documents, {} versions ({} with new words, {} in new layout only), {} fetches in {:.1} s\n\
             recorded {} | false changes {} | missed changes {} | unreadable pages {} | recorded text not the document's {}",
            report.documents,
            report.versions,
            report.distinct_versions,
            report.layout_only_versions,
            report.fetches,
            report.seconds,
            report.recorded,
            report.false_changes,
            report.missed_changes,
            report.unreadable,
            report.text_mismatches
        );
    }
    Ok(())
}

/// Every document of the corpus with at least one version, in folder-name
/// order, each as its versions oldest first.
pub(crate) fn read_corpus(corpus: &Path) -> anyhow::Result<Vec<Vec<String>>> {
    let mut folders: Vec<_> = fs::read_dir(corpus)
        .with_context(|| format!("reading {}", corpus.display()))?
        .filter_map(Result::ok)
        .filter(|e| e.path().is_dir())
        .collect();
    folders.sort_by_key(|e| e.file_name());
    let mut documents = Vec::new();
    for folder in folders {
        let versions = read_versions(&folder.path())?;
        if !versions.is_empty() {
            documents.push(versions);
        }
    }
    Ok(documents)
}

/// A document's versions in order: `0.txt`, `1.txt`, …
fn read_versions(dir: &Path) -> anyhow::Result<Vec<String>> {
    let mut numbered: Vec<(u32, String)> = Vec::new();
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        let Some(k) = path
            .file_stem()
            .and_then(|s| s.to_str())
            .and_then(|s| s.parse::<u32>().ok())
            .filter(|_| path.extension().is_some_and(|e| e == "txt"))
        else {
            continue;
        };
        numbered.push((
            k,
            fs::read_to_string(&path).with_context(|| path.display().to_string())?,
        ));
    }
    numbered.sort_by_key(|(k, _)| *k);
    Ok(numbered.into_iter().map(|(_, text)| text).collect())
}

/// Page chrome that differs on every fetch (a fixed-seed generator, so
/// that runs repeat).
pub(crate) struct Churn(pub(crate) u64);

impl Churn {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }

    pub(crate) fn page(&mut self, text: &str) -> String {
        let minutes = self.next() % 59 + 1;
        let stamp = 1_764_236_400 + self.next() % 100_000;
        let trending: Vec<String> = (0..3 + self.next() % 4)
            .map(|i| {
                format!(
                    "<li><a href=\"/t/{}\">Trending story {}</a></li>",
                    self.next(),
                    i + self.next() % 90
                )
            })
            .collect();
        let indent = " ".repeat((self.next() % 8) as usize);
        let newline = if self.next().is_multiple_of(2) {
            "\n"
        } else {
            ""
        };
        let mut paragraphs = String::new();
        for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
            let mut escaped = escape(line);
            // Now and then a non-breaking space where a space was.
            if self.next().is_multiple_of(3) {
                escaped = escaped.replacen(' ', "&nbsp;", 1);
            }
            paragraphs.push_str(&format!("{newline}{indent}<p>{escaped}</p>"));
        }
        format!(
            "<!doctype html><html lang=\"en\"><head><title>Page</title>\
             <script>window.t={stamp};window.ab=\"{}\";</script></head><body>{newline}\
             <header><nav><a href=\"/\">Home</a> <a href=\"/world\">World</a></nav>\
             <div class=\"ticker\">Updated {minutes} minutes ago</div></header>{newline}\
             <main><article>{paragraphs}{newline}</article>\
             <aside class=\"trending\"><h2>Trending</h2><ul>{}</ul></aside></main>\
             <div id=\"comments\">{} comments</div>\
             <footer>&copy; 2026 Example. Page generated at {stamp}.</footer></body></html>",
            self.next(),
            trending.join(""),
            self.next() % 500
        )
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
