//! `claimtrail train-attribution --corpus DIR --out FILE`: trains the
//! attribution model (`domain::attribution::model::training`) on a corpus
//! and writes the model file.

use std::fs;
use std::time::Instant;

use anyhow::Context;
use claimtrail::config::TrainAttributionArgs;
use claimtrail::domain::attribution::citron::parse_quotes;
use claimtrail::domain::attribution::model::training::{self, GoldRelation, Options, TrainingDoc};
use claimtrail::domain::attribution::rule_hints;
use claimtrail::domain::attribution::tokens::char_starts;

use crate::attribution_corpus;

pub fn run(args: &TrainAttributionArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let corpus = attribution_corpus::read(&args.corpus)?;
    let docs: Vec<TrainingDoc> = corpus
        .iter()
        .filter_map(|t| {
            let ann = t.annotations.first()?;
            let bytes = char_starts(&t.text);
            let at = |c: usize| bytes[c.min(bytes.len() - 1)];
            let pieces = |v: &[claimtrail::domain::attribution::Span]| {
                v.iter().map(|s| (at(s.start), at(s.end))).collect()
            };
            let relations = parse_quotes(ann)
                .iter()
                .map(|q| GoldRelation {
                    cue: (at(q.cue.start), at(q.cue.end)),
                    sources: pieces(&q.sources),
                    contents: pieces(&q.contents),
                })
                .collect();
            Some(TrainingDoc {
                hints: rule_hints(&t.text),
                text: t.text.clone(),
                relations,
            })
        })
        .collect();
    anyhow::ensure!(
        !docs.is_empty(),
        "{} holds no annotated text",
        args.corpus.display()
    );
    let relations: usize = docs.iter().map(|d| d.relations.len()).sum();
    eprintln!(
        "{} texts, {relations} relations; {} passes, seed {}",
        docs.len(),
        args.epochs,
        args.seed
    );
    let options = Options {
        epochs: args.epochs,
        seed: args.seed,
        min_count: args.min_count,
        keep_above: args.keep_above,
    };
    let (model, report) = training::train(&docs, &options, &mut |e| {
        eprintln!(
            "{} pass {:>2}/{}: cue tagger wrong on {:>5} of {} paragraphs, role tagger on {:>5} of {} cues",
            if e.final_fit {
                "final fit       "
            } else {
                "calibration fit "
            },
            e.epoch,
            e.epochs,
            e.paragraphs_wrong,
            e.paragraphs,
            e.cues_wrong,
            e.cues
        );
    });
    let bytes = model.to_bytes();
    fs::write(&args.out, &bytes).with_context(|| format!("writing {}", args.out.display()))?;
    println!(
        "wrote {} ({:.1} MB) in {:.0} s: {} texts; cue tagger {} of {} features kept, role tagger {} of {}; \
         confidence curve fitted on {} held-out texts ({} cues found, {} right): slope {:.4}, intercept {:.3}",
        args.out.display(),
        bytes.len() as f64 / 1e6,
        started.elapsed().as_secs_f64(),
        report.documents,
        report.features_kept.0,
        report.features_seen.0,
        report.features_kept.1,
        report.features_seen.1,
        report.held_out,
        report.held_out_cues,
        report.held_out_right,
        report.slope,
        report.intercept,
    );
    Ok(())
}
