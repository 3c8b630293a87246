//! `claimtrail eval-attribution --corpus DIR`: the extractor scored on a
//! brat-standoff corpus; reading files and printing live here, the scoring
//! in `domain::attribution::eval`.

use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::path::Path;
use std::time::Instant;

use anyhow::Context;
use claimtrail::config::EvalAttributionArgs;
use claimtrail::domain::attribution::eval::{Prf, ScoreReport, Scores, parse_brat, score_document};
use claimtrail::domain::attribution::{Attribution, extract};
use serde::Serialize;

#[derive(Serialize)]
struct Report {
    #[serde(flatten)]
    overall: ScoreReport,
    mb_per_s: f64,
    texts: usize,
    annotation_files: usize,
    gold_relations: usize,
    predicted_relations: usize,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    per_publisher: BTreeMap<String, ScoreReport>,
}

pub fn run(args: &EvalAttributionArgs) -> anyhow::Result<()> {
    let text_dir = args.corpus.join("text");
    let ann_dir = args.corpus.join("attributions");
    let publishers = match &args.metadata {
        Some(path) => read_publishers(path)?,
        None => HashMap::new(),
    };

    let mut texts: BTreeMap<String, String> = BTreeMap::new();
    for entry in
        fs::read_dir(&text_dir).with_context(|| format!("reading {}", text_dir.display()))?
    {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "txt") {
            let stem = path
                .file_stem()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            texts.insert(stem, fs::read_to_string(&path)?);
        }
    }
    // Each text is extracted once, timed alone.
    let started = Instant::now();
    let predictions: HashMap<&str, Vec<Attribution>> = texts
        .iter()
        .map(|(k, t)| (k.as_str(), extract(t)))
        .collect();
    let seconds = started.elapsed().as_secs_f64();
    if let Some(path) = &args.predictions {
        let mut out = String::new();
        for (text, relations) in &predictions {
            out.push_str(&serde_json::to_string(
                &serde_json::json!({ "text": text, "relations": relations }),
            )?);
            out.push('\n');
        }
        fs::write(path, out).with_context(|| format!("writing {}", path.display()))?;
    }
    let bytes: usize = texts.values().map(String::len).sum();

    let mut overall = Scores::default();
    let mut by_publisher: BTreeMap<String, Scores> = BTreeMap::new();
    let (mut files, mut gold_relations, mut predicted_relations) = (0, 0, 0);
    let mut missed: BTreeMap<String, usize> = BTreeMap::new();
    let mut spurious: BTreeMap<String, usize> = BTreeMap::new();
    let mut anns: Vec<_> = fs::read_dir(&ann_dir)
        .with_context(|| format!("reading {}", ann_dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "ann"))
        .collect();
    anns.sort();
    for path in anns {
        let stem = path
            .file_stem()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        // PolNeAR names annotations <text>_<annotator>.ann.
        let text_key = if texts.contains_key(&stem) {
            stem.clone()
        } else {
            match stem.rsplit_once('_') {
                Some((base, _)) if texts.contains_key(base) => base.to_owned(),
                _ => continue,
            }
        };
        let gold = parse_brat(&fs::read_to_string(&path)?);
        let predicted = &predictions[text_key.as_str()];
        let scores = score_document(&texts[&text_key], &gold, predicted);
        if args.errors {
            cue_errors(
                &texts[&text_key],
                &gold,
                predicted,
                &mut missed,
                &mut spurious,
            );
        }
        overall.add(&scores);
        if let Some(publisher) = publishers.get(&text_key) {
            by_publisher
                .entry(publisher.clone())
                .or_default()
                .add(&scores);
        }
        files += 1;
        gold_relations += gold.len();
        predicted_relations += predicted.len();
    }
    let report = Report {
        overall: overall.report(),
        mb_per_s: if seconds > 0.0 {
            bytes as f64 / 1e6 / seconds
        } else {
            0.0
        },
        texts: texts.len(),
        annotation_files: files,
        gold_relations,
        predicted_relations,
        per_publisher: by_publisher
            .iter()
            .map(|(k, s)| (k.clone(), s.report()))
            .collect(),
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    println!(
        "{} texts, {} annotation files, {} gold relations, {} predicted; {:.1} MB/s on one core\n",
        report.texts, files, gold_relations, predicted_relations, report.mb_per_s
    );
    print_table("overall", &report.overall);
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
    for (publisher, r) in &report.per_publisher {
        print_table(publisher, r);
    }
    Ok(())
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

/// filename → publisher, from a tab-separated table with a header row.
fn read_publishers(path: &Path) -> anyhow::Result<HashMap<String, String>> {
    let table = fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut lines = table.lines();
    let header: Vec<&str> = lines.next().unwrap_or_default().split('\t').collect();
    let col = |name: &str| header.iter().position(|h| *h == name);
    let (Some(f), Some(p)) = (col("filename"), col("publisher")) else {
        anyhow::bail!("{} has no filename and publisher columns", path.display());
    };
    Ok(lines
        .filter_map(|l| {
            let cells: Vec<&str> = l.split('\t').collect();
            Some((cells.get(f)?.to_string(), cells.get(p)?.to_string()))
        })
        .collect())
}

/// Counts gold cues no prediction overlaps, and predicted cues no gold cue
/// overlaps, by their lowercased text.
fn cue_errors(
    text: &str,
    gold: &[claimtrail::domain::attribution::eval::GoldRelation],
    predicted: &[Attribution],
    missed: &mut BTreeMap<String, usize>,
    spurious: &mut BTreeMap<String, usize>,
) {
    let chars: Vec<char> = text.chars().collect();
    let cut = |s: claimtrail::domain::attribution::Span| {
        chars[s.start.min(chars.len())..s.end.min(chars.len())]
            .iter()
            .collect::<String>()
            .to_lowercase()
    };
    let overlaps = |a: claimtrail::domain::attribution::Span,
                    b: claimtrail::domain::attribution::Span| {
        a.start < b.end && b.start < a.end
    };
    for g in gold.iter().filter_map(|g| g.cue) {
        if !predicted.iter().any(|p| overlaps(p.cue, g)) {
            *missed.entry(cut(g)).or_default() += 1;
        }
    }
    for p in predicted {
        if !gold
            .iter()
            .filter_map(|g| g.cue)
            .any(|g| overlaps(p.cue, g))
        {
            *spurious.entry(cut(p.cue)).or_default() += 1;
        }
    }
}
