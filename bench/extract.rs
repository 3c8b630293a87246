//! Attribution extraction over 1 MB bodies: news-like text, and the shapes
//! that could make rules slow (one sentence with no end, an unclosed
//! quotation holding the whole body, a body made of cue words). Each must
//! stay linear: the HTTP layer runs extraction on every intake with
//! `?extract=true`.
//!
//!     cargo bench --bench extract

use std::hint::black_box;
use std::time::Duration;

use chrono::{DateTime, Utc};
use claimtrail::domain::attribution::{extract, propose};
use criterion::{Criterion, criterion_group, criterion_main};

const MB: usize = 1 << 20;

/// Sentences of the kinds the rules read, written for this benchmark.
const SENTENCES: &[&str] = &[
    "Japan engaged in several informal contacts with North Korea this spring, sources close to the matter said Friday.",
    "“We will never give up,” Prime Minister Fumio Kishida told reporters on Thursday.",
    "He added that the issue has apparently not been settled.",
    "According to the coast guard, 17 citizens were identified in March and May.",
    "The ferry was reportedly overloaded, a Japanese diplomatic source said.",
    "The mayor has said the shelters will stay open until Monday.",
    "Divers resumed the search at dawn on the northern coast.",
    "“It is too early to say,” said Ana Robles, a spokeswoman for the ministry, “but we are hopeful.”",
];

fn repeat_to(pieces: &[&str], size: usize) -> String {
    let mut out = String::with_capacity(size + 256);
    let mut i = 0;
    while out.len() < size {
        out.push_str(pieces[i % pieces.len()]);
        out.push(if i % 6 == 5 { '\n' } else { ' ' });
        i += 1;
    }
    out
}

fn bodies() -> Vec<(&'static str, String)> {
    let news = repeat_to(SENTENCES, MB);
    let no_end = news.replace(['.', '\n'], ",");
    let unclosed = format!("“{}", news.replace(['“', '”', '"'], ""));
    let cues = repeat_to(&["officials said", "he told", "according to"], MB);
    vec![
        ("news", news),
        ("one_sentence", no_end),
        ("unclosed_quote", unclosed),
        ("cue_words", cues),
    ]
}

fn bench(c: &mut Criterion) {
    let published: DateTime<Utc> = "2026-11-27T15:00:00Z".parse().unwrap();
    let mut group = c.benchmark_group("extract_1mb");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(5));
    for (name, body) in bodies() {
        group.bench_function(format!("{name}/relations"), |b| {
            b.iter(|| black_box(extract(black_box(&body))))
        });
        group.bench_function(format!("{name}/proposals"), |b| {
            b.iter(|| black_box(propose(black_box(&body), published)))
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
