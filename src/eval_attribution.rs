//! `claimtrail eval-attribution --corpus DIR`: the extractor scored on a
//! brat-standoff corpus, with the project's matching (`domain::attribution::
//! eval`) and with Citron's rules (`domain::attribution::citron`), overall,
//! by publisher and by kind of relation. Reading files and printing live
//! here.

use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::time::Instant;

use anyhow::Context;
use claimtrail::config::EvalAttributionArgs;
use claimtrail::domain::attribution::citron::{self, Quote};
use claimtrail::domain::attribution::eval::{Prf, ScoreReport, Scores, parse_brat, score_document};
use claimtrail::domain::attribution::model::Model;
use claimtrail::domain::attribution::{
    Attribution, AttributionKind, Span, extract, extract_by_rules, extract_with, kind_of,
};
use serde::Serialize;
use serde_json::json;

use crate::attribution_corpus::{self, read_publishers};

#[derive(Serialize)]
struct Report {
    extractor: &'static str,
    mb_per_s: f64,
    texts: usize,
    annotation_files: usize,
    gold_relations: usize,
    predicted_relations: usize,
    /// Against every annotation file, the project's matching.
    project: ScoreReport,
    /// Against each text's first annotation file, Citron's rules.
    citron: citron::Report,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    citron_by_publisher: BTreeMap<String, citron::Report>,
    citron_by_kind: BTreeMap<&'static str, citron::Report>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    project_by_publisher: BTreeMap<String, ScoreReport>,
}

fn kind_name(k: AttributionKind) -> &'static str {
    match k {
        AttributionKind::DirectQuote => "direct quote",
        AttributionKind::Paraphrase => "paraphrase",
        AttributionKind::Mixed => "mixed",
    }
}

fn quote_of(a: &Attribution) -> Quote {
    Quote {
        cue: a.cue,
        sources: a.sources.clone(),
        contents: a.contents.clone(),
    }
}

/// A relation's kind, from its content's text from first piece to last.
fn kind_of_quote(chars: &[char], q: &Quote) -> AttributionKind {
    let (Some(first), Some(last)) = (q.contents.first(), q.contents.last()) else {
        return AttributionKind::Paraphrase;
    };
    let cut = |s: Span| {
        chars[s.start.min(chars.len())..s.end.min(chars.len())]
            .iter()
            .collect::<String>()
    };
    kind_of(&cut(Span {
        start: first.start,
        end: last.end,
    }))
}

pub fn run(args: &EvalAttributionArgs) -> anyhow::Result<()> {
    let corpus = attribution_corpus::read(&args.corpus)?;
    let publishers = match &args.metadata {
        Some(path) => read_publishers(path)?,
        None => HashMap::new(),
    };
    let model = match &args.model {
        Some(path) => {
            let bytes = fs::read(path).with_context(|| format!("reading {}", path.display()))?;
            Some(Model::from_bytes(&bytes).with_context(|| format!("reading {}", path.display()))?)
        }
        None => None,
    };
    let extractor = |text: &str| match (&model, args.rules) {
        (Some(m), _) => extract_with(m, text),
        (None, true) => extract_by_rules(text),
        (None, false) => extract(text),
    };
    let name = match (&model, args.rules) {
        (Some(_), _) => "model (from file)",
        (None, true) => "rules",
        (None, false) => "model",
    };
    // Each text is extracted once, timed alone.
    let started = Instant::now();
    let predictions: Vec<Vec<Attribution>> = corpus.iter().map(|t| extractor(&t.text)).collect();
    let seconds = started.elapsed().as_secs_f64();
    let bytes: usize = corpus.iter().map(|t| t.text.len()).sum();

    if let Some(path) = &args.predictions {
        let span = |s: &Span| json!({ "start": s.start, "end": s.end });
        let documents: serde_json::Map<String, serde_json::Value> = corpus
            .iter()
            .zip(&predictions)
            .map(|(t, found)| {
                let quotes = found
                    .iter()
                    .map(|a| {
                        json!({
                            "cue": span(&a.cue),
                            "sources": a.sources.iter().map(span).collect::<Vec<_>>(),
                            "contents": a.contents.iter().map(span).collect::<Vec<_>>(),
                            "kind": a.kind,
                            "confidence": a.confidence,
                        })
                    })
                    .collect();
                (t.name.clone(), serde_json::Value::Array(quotes))
            })
            .collect();
        let out = json!({
            "meta": { "extractor": name, "offsets": "characters, end exclusive" },
            "documents": documents,
        });
        fs::write(path, serde_json::to_string(&out)?)
            .with_context(|| format!("writing {}", path.display()))?;
    }

    let mut project = Scores::default();
    let mut project_by_publisher: BTreeMap<String, Scores> = BTreeMap::new();
    let mut cit = citron::Counts::default();
    let mut cit_by_publisher: BTreeMap<String, citron::Counts> = BTreeMap::new();
    let mut cit_by_kind: BTreeMap<&'static str, citron::Counts> = BTreeMap::new();
    let (mut files, mut gold_relations, mut predicted_relations) = (0, 0, 0);
    let mut missed: BTreeMap<String, usize> = BTreeMap::new();
    let mut spurious: BTreeMap<String, usize> = BTreeMap::new();
    for (t, predicted) in corpus.iter().zip(&predictions) {
        let publisher = publishers.get(&t.name);
        for ann in &t.annotations {
            let gold = parse_brat(ann);
            let scores = score_document(&t.text, &gold, predicted);
            project.add(&scores);
            if let Some(p) = publisher {
                project_by_publisher
                    .entry(p.clone())
                    .or_default()
                    .add(&scores);
            }
            files += 1;
            gold_relations += gold.len();
            predicted_relations += predicted.len();
        }
        // Citron's rules: the first annotation file, as the field's scorer.
        let Some(first) = t.annotations.first() else {
            continue;
        };
        let gold = citron::parse_quotes(first);
        let mine: Vec<Quote> = predicted.iter().map(quote_of).collect();
        let counts = citron::Counts::document(&t.text, &gold, &mine);
        cit.add(&counts);
        if let Some(p) = publisher {
            cit_by_publisher.entry(p.clone()).or_default().add(&counts);
        }
        let chars: Vec<char> = t.text.chars().collect();
        for kind in [
            AttributionKind::DirectQuote,
            AttributionKind::Paraphrase,
            AttributionKind::Mixed,
        ] {
            let of_kind = |qs: &[Quote]| -> Vec<Quote> {
                qs.iter()
                    .filter(|q| kind_of_quote(&chars, q) == kind)
                    .cloned()
                    .collect()
            };
            cit_by_kind
                .entry(kind_name(kind))
                .or_default()
                .add(&citron::Counts::document(
                    &t.text,
                    &of_kind(&gold),
                    &of_kind(&mine),
                ));
        }
        if args.errors {
            cue_errors(&chars, &gold, &mine, &mut missed, &mut spurious);
        }
    }
    let report = Report {
        extractor: name,
        mb_per_s: if seconds > 0.0 {
            bytes as f64 / 1e6 / seconds
        } else {
            0.0
        },
        texts: corpus.len(),
        annotation_files: files,
        gold_relations,
        predicted_relations,
        project: project.report(),
        citron: cit.report(),
        citron_by_publisher: cit_by_publisher
            .iter()
            .map(|(k, c)| (k.clone(), c.report()))
            .collect(),
        citron_by_kind: cit_by_kind.iter().map(|(k, c)| (*k, c.report())).collect(),
        project_by_publisher: project_by_publisher
            .iter()
            .map(|(k, s)| (k.clone(), s.report()))
            .collect(),
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    println!(
        "{}: {} texts, {} annotation files, {} gold relations, {} predicted (each annotation file counts them once); \
         {:.2} MB/s on one core\n",
        report.extractor, report.texts, files, gold_relations, predicted_relations, report.mb_per_s
    );
    println!("Citron's rules (word tokens; each text's first annotation file), F1:");
    citron_header("");
    citron_row("all", &report.citron);
    for (kind, r) in &report.citron_by_kind {
        citron_row(kind, r);
    }
    for (publisher, r) in &report.citron_by_publisher {
        citron_row(publisher, r);
    }
    println!("\nThe project's matching (punctuation trimmed; every annotation file):");
    print_table("overall", &report.project);
    for (publisher, r) in &report.project_by_publisher {
        print_table(publisher, r);
    }
    if args.errors {
        for (title, counts) in [
            ("missed cues", &missed),
            ("cues found but not annotated", &spurious),
        ] {
            let mut list: Vec<_> = counts.iter().collect();
            list.sort_by(|a, b| b.1.cmp(a.1));
            let top: Vec<String> = list
                .iter()
                .take(40)
                .map(|(k, v)| format!("{k:?} {v}"))
                .collect();
            println!("{title}: {}\n", top.join(", "));
        }
    }
    Ok(())
}

fn citron_header(title: &str) {
    println!(
        "{title:<20} {:>7} {:>7} {:>9} {:>9} {:>9} {:>9} {:>7} {:>7} {:>7}",
        "cue", "cue ov", "src exact", "src ov", "con exact", "con ov", "quote", "gold", "found"
    );
}

fn citron_row(title: &str, r: &citron::Report) {
    let f = |p: &Prf| format!("{:.3}", p.f1);
    println!(
        "{title:<20} {:>7} {:>7} {:>9} {:>9} {:>9} {:>9} {:>7} {:>7} {:>7}",
        f(&r.cue_exact),
        f(&r.cue_overlap),
        f(&r.source_exact),
        f(&r.source_overlap),
        f(&r.content_exact),
        f(&r.content_overlap),
        f(&r.quote_exact),
        r.gold_quotes,
        r.predicted_quotes
    );
}

fn print_table(title: &str, r: &ScoreReport) {
    let cell = |p: &Prf| format!("{:.3}  {:.3}  {:.3}", p.p, p.r, p.f1);
    println!("{title:<14} exact P  R      F1     | overlap P  R      F1");
    for (role, rr) in [
        ("cue", &r.cue),
        ("source", &r.source),
        ("content", &r.content),
    ] {
        println!("  {role:<12} {}  | {}", cell(&rr.exact), cell(&rr.overlap));
    }
    println!();
}

/// Counts gold cues no prediction overlaps, and predicted cues no gold cue
/// overlaps, by their lowercased text.
fn cue_errors(
    chars: &[char],
    gold: &[Quote],
    predicted: &[Quote],
    missed: &mut BTreeMap<String, usize>,
    spurious: &mut BTreeMap<String, usize>,
) {
    let cut = |s: Span| {
        chars[s.start.min(chars.len())..s.end.min(chars.len())]
            .iter()
            .collect::<String>()
            .to_lowercase()
    };
    let overlaps = |a: Span, b: Span| a.start < b.end && b.start < a.end;
    for g in gold {
        if !predicted.iter().any(|p| overlaps(p.cue, g.cue)) {
            *missed.entry(cut(g.cue)).or_default() += 1;
        }
    }
    for p in predicted {
        if !gold.iter().any(|g| overlaps(p.cue, g.cue)) {
            *spurious.entry(cut(p.cue)).or_default() += 1;
        }
    }
}
