//! The diff layer under load: article bodies of 100 KB and 1 MB with about 1%
//! of their lines edited, and a claim text with one word changed. After the
//! criterion runs it times the 1 MB article diff against `diff -u` on the
//! same two files, in the same run, and prints the ratio.
//!
//!     cargo bench --bench diff

use std::hint::black_box;
use std::process::Command;
use std::time::{Duration, Instant};

use claimtrail::domain::diff::{Alignment, DEFAULT_TIMEOUT, SentenceDiff, apply_ops};
use criterion::{Criterion, criterion_group};

const WORDS: &[&str] = &[
    "the",
    "ministry",
    "said",
    "on",
    "monday",
    "that",
    "divers",
    "would",
    "resume",
    "search",
    "at",
    "dawn",
    "officials",
    "reported",
    "ferry",
    "capsized",
    "northern",
    "coast",
    "citizens",
    "aboard",
    "according",
    "to",
    "sources",
    "close",
    "matter",
    "government",
    "identified",
    "passengers",
    "licence",
    "operator",
];

/// A deterministic article of about `bytes` bytes: sentences of 8–20 words,
/// one per line, like a wire story cut into paragraphs.
fn article(bytes: usize, seed: u64) -> Vec<String> {
    let mut state = seed;
    let mut next = move || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 33) as usize
    };
    let mut lines = Vec::new();
    let mut size = 0;
    while size < bytes {
        let n = 8 + next() % 13;
        let mut line: Vec<&str> = (0..n).map(|_| WORDS[next() % WORDS.len()]).collect();
        line[0] = "The";
        let text = format!("{} {}.", line.join(" "), next() % 1000);
        size += text.len() + 1;
        lines.push(text);
    }
    lines
}

/// Edits about 1% of the lines: a changed number, an inserted line, a dropped line.
fn edit(lines: &[String]) -> Vec<String> {
    let mut out = Vec::with_capacity(lines.len());
    for (i, line) in lines.iter().enumerate() {
        match i % 300 {
            7 => out.push(line.replace(" said ", " told reporters ")),
            107 => {
                out.push(line.clone());
                out.push("Officials later denied the report.".to_owned());
            }
            207 => {}
            _ => out.push(line.clone()),
        }
    }
    out
}

fn pair(bytes: usize) -> (String, String) {
    let lines = article(bytes, bytes as u64);
    (lines.join("\n") + "\n", edit(&lines).join("\n") + "\n")
}

/// What `GET /v1/articles/{id}/diff` computes: the sentence-level unified
/// diff and the word-level operations.
fn article_diff(old: &str, new: &str) -> usize {
    let diff = SentenceDiff::new(old, new, ("a", "b"), 2, 5_000, DEFAULT_TIMEOUT);
    diff.unified.len() + diff.alignment.ops(false).len()
}

fn benches(c: &mut Criterion) {
    for (name, bytes) in [("100KB", 100_000), ("1MB", 1_000_000)] {
        let (old, new) = pair(bytes);
        let ops = Alignment::sentences(&old, &new, DEFAULT_TIMEOUT).ops(false);
        assert_eq!(
            apply_ops(&old, &ops).as_deref(),
            Ok(new.as_str()),
            "ops must rebuild the new text"
        );
        let mut group = c.benchmark_group("article_diff");
        group
            .sample_size(20)
            .measurement_time(Duration::from_secs(5));
        group.bench_function(name, |b| {
            b.iter(|| article_diff(black_box(&old), black_box(&new)))
        });
        group.finish();
    }
    let old =
        "Japan held several informal contacts with North Korea this spring, sources said Friday.";
    let new = "Japan held two informal contacts with North Korea this spring, sources said Friday.";
    c.bench_function("claim_text_word_change", |b| {
        b.iter(|| Alignment::words(black_box(old), black_box(new), DEFAULT_TIMEOUT).ops(true))
    });
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

/// Times our 1 MB article diff and `diff -u` on the same files, alternating.
fn compare_with_diff_u() {
    let (old, new) = pair(1_000_000);
    let dir = std::env::temp_dir().join(format!("claimtrail-diff-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (a, b) = (dir.join("old.txt"), dir.join("new.txt"));
    std::fs::write(&a, &old).unwrap();
    std::fs::write(&b, &new).unwrap();
    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    for _ in 0..15 {
        let t = Instant::now();
        black_box(article_diff(&old, &new));
        ours.push(t.elapsed());
        let t = Instant::now();
        let out = Command::new("diff").arg("-u").arg(&a).arg(&b).output();
        theirs.push(t.elapsed());
        if out.is_err() {
            println!("diff -u is not installed; no ratio");
            let _ = std::fs::remove_dir_all(&dir);
            return;
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    let (ours, theirs) = (median(ours), median(theirs));
    println!(
        "1 MB article, ~1% of lines edited: claimtrail {:.2} ms, diff -u {:.2} ms, ratio {:.2} (target: under 50 ms and within 2x)",
        ours.as_secs_f64() * 1e3,
        theirs.as_secs_f64() * 1e3,
        ours.as_secs_f64() / theirs.as_secs_f64()
    );
}

criterion_group!(diff_benches, benches);

fn main() {
    diff_benches();
    Criterion::default().configure_from_args().final_summary();
    compare_with_diff_u();
}
