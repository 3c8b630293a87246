//! Training the two taggers from an annotated corpus: deterministic given
//! the documents, their order and a seed.

use super::super::tokens::token_span;
use super::features::{Doc, RuleHint, cue_features, role_features, role_window};
use super::perceptron::{FeatureMap, Trainer, Weights};
use super::{
    CONTENT_B, CONTENT_I, CUE_B, CUE_I, CUE_LABELS, Model, O, ROLE_CUE, ROLE_LABELS, SOURCE_B,
    SOURCE_I, cue_allowed, role_allowed,
};

/// A document and its gold relations, in byte offsets.
pub struct TrainingDoc {
    pub text: String,
    pub relations: Vec<GoldRelation>,
    /// The rule extractor's relations (features for the taggers).
    pub hints: Vec<RuleHint>,
}

/// One annotated relation, in byte offsets; sources and contents may be in
/// pieces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoldRelation {
    pub cue: (usize, usize),
    pub sources: Vec<(usize, usize)>,
    pub contents: Vec<(usize, usize)>,
}

#[derive(Debug, Clone, Copy)]
pub struct Options {
    pub epochs: usize,
    pub seed: u64,
    /// Features seen fewer times than this in training are not learnt.
    pub min_count: u32,
    /// Rows whose largest averaged weight is smaller than this are dropped
    /// from the file.
    pub keep_above: f32,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            epochs: 12,
            seed: 7,
            min_count: 2,
            keep_above: 3.0,
        }
    }
}

/// Progress of one pass over the training set.
#[derive(Debug, Clone, Copy)]
pub struct Epoch {
    /// Which fit: the held-out calibration fit or the final one.
    pub final_fit: bool,
    pub epoch: usize,
    pub epochs: usize,
    pub paragraphs_wrong: usize,
    pub paragraphs: usize,
    pub cues_wrong: usize,
    pub cues: usize,
}

#[derive(Debug, Clone)]
pub struct Report {
    pub documents: usize,
    pub held_out: usize,
    /// Held-out cues found, and how many of them were right.
    pub held_out_cues: usize,
    pub held_out_right: usize,
    pub features_seen: (usize, usize),
    pub features_kept: (usize, usize),
    pub slope: f32,
    pub intercept: f32,
}

/// xorshift64: a fixed, seedable order, the same on every platform.
struct Shuffle(u64);

impl Shuffle {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = (self.next() % (i as u64 + 1)) as usize;
            v.swap(i, j);
        }
    }
}

struct CueExample {
    features: Vec<Vec<u64>>,
    gold: Vec<usize>,
}

struct RoleExample {
    features: Vec<Vec<u64>>,
    gold: Vec<usize>,
    /// The cue, relative to the window.
    cue: (usize, usize),
}

/// A document's gold relations in tokens, one per distinct cue (relations
/// sharing a cue are merged).
type TokenRelation = ((usize, usize), Vec<(usize, usize)>, Vec<(usize, usize)>);

fn in_tokens(doc: &TrainingDoc, d: &Doc) -> Vec<TokenRelation> {
    let span = |&(s, e): &(usize, usize)| token_span(&doc.text, &d.tokens, s, e);
    let mut out: Vec<TokenRelation> = Vec::new();
    for r in &doc.relations {
        let Some(cue) = span(&r.cue) else { continue };
        let sources: Vec<_> = r.sources.iter().filter_map(span).collect();
        let contents: Vec<_> = r.contents.iter().filter_map(span).collect();
        match out.iter_mut().find(|e| e.0 == cue) {
            Some(e) => {
                e.1.extend(sources);
                e.2.extend(contents);
            }
            None => out.push((cue, sources, contents)),
        }
    }
    out
}

fn examples(docs: &[&TrainingDoc]) -> (Vec<CueExample>, Vec<RoleExample>) {
    let mut cue_examples = Vec::new();
    let mut role_examples = Vec::new();
    for doc in docs {
        let d = Doc::new(&doc.text, &doc.hints);
        let gold = in_tokens(doc, &d);
        let mut cue_labels = vec![O; d.tokens.len()];
        let mut starts = vec![false; d.tokens.len()];
        for (cue, _, _) in &gold {
            starts[cue.0] = true;
            for (k, label) in cue_labels[cue.0..cue.1].iter_mut().enumerate() {
                *label = if k == 0 { CUE_B } else { CUE_I };
            }
        }
        for &(lo, hi) in &d.paragraphs {
            cue_examples.push(CueExample {
                features: cue_features(&d, lo, hi),
                gold: cue_labels[lo..hi].to_vec(),
            });
        }
        for (cue, sources, contents) in &gold {
            let (lo, hi) = role_window(&d, cue.0, cue.1);
            let mut labels = vec![O; hi - lo];
            labels[cue.0 - lo..cue.1 - lo].fill(ROLE_CUE);
            for (pieces, begin, inside) in [
                (contents, CONTENT_B, CONTENT_I),
                (sources, SOURCE_B, SOURCE_I),
            ] {
                for &(s, e) in pieces {
                    let (s, e) = (s.max(lo), e.min(hi));
                    for i in s..e {
                        if labels[i - lo] != ROLE_CUE {
                            labels[i - lo] = if i == s { begin } else { inside };
                        }
                    }
                }
            }
            // Where pieces overlapped, an "inside" may follow something else:
            // it begins a piece then.
            for k in 0..labels.len() {
                let prev = k.checked_sub(1).map(|p| labels[p]);
                if !role_allowed(prev, labels[k]) {
                    labels[k] -= 1;
                }
            }
            role_examples.push(RoleExample {
                features: role_features(&d, *cue, (lo, hi), &starts),
                gold: labels,
                cue: (cue.0 - lo, cue.1 - lo),
            });
        }
    }
    (cue_examples, role_examples)
}

/// Features seen at least `min` times, in a fixed order.
fn frequent<'a>(examples: impl Iterator<Item = &'a Vec<Vec<u64>>>, min: u32) -> (usize, Vec<u64>) {
    let mut count: FeatureMap<u32> = FeatureMap::default();
    for features in examples {
        for f in features.iter().flatten() {
            *count.entry(*f).or_default() += 1;
        }
    }
    let seen = count.len();
    let mut keep: Vec<u64> = count
        .into_iter()
        .filter(|&(_, c)| c >= min)
        .map(|(f, _)| f)
        .collect();
    keep.sort_unstable();
    (seen, keep)
}

struct Fit {
    cue: Weights,
    role: Weights,
    seen: (usize, usize),
}

fn fit(
    docs: &[&TrainingDoc],
    options: &Options,
    final_fit: bool,
    progress: &mut dyn FnMut(Epoch),
) -> Fit {
    let (cue_examples, role_examples) = examples(docs);
    let (cue_seen, cue_keep) =
        frequent(cue_examples.iter().map(|e| &e.features), options.min_count);
    let (role_seen, role_keep) =
        frequent(role_examples.iter().map(|e| &e.features), options.min_count);
    let mut cue = Trainer::new(CUE_LABELS, cue_keep);
    let mut role = Trainer::new(ROLE_LABELS, role_keep);
    let mut shuffle = Shuffle(options.seed.max(1));
    let mut cue_order: Vec<usize> = (0..cue_examples.len()).collect();
    let mut role_order: Vec<usize> = (0..role_examples.len()).collect();
    for epoch in 0..options.epochs {
        shuffle.shuffle(&mut cue_order);
        let mut paragraphs_wrong = 0;
        for &k in &cue_order {
            let e = &cue_examples[k];
            paragraphs_wrong +=
                usize::from(cue.learn(&e.features, &e.gold, cue_allowed, &|_| None));
        }
        shuffle.shuffle(&mut role_order);
        let mut cues_wrong = 0;
        for &k in &role_order {
            let e = &role_examples[k];
            let (a, b) = e.cue;
            let fixed = move |i: usize| (a <= i && i < b).then_some(ROLE_CUE);
            cues_wrong += usize::from(role.learn(&e.features, &e.gold, role_allowed, &fixed));
        }
        progress(Epoch {
            final_fit,
            epoch: epoch + 1,
            epochs: options.epochs,
            paragraphs_wrong,
            paragraphs: cue_examples.len(),
            cues_wrong,
            cues: role_examples.len(),
        });
    }
    Fit {
        cue: cue.average(options.keep_above, super::file::QUANTUM),
        role: role.average(options.keep_above, super::file::QUANTUM),
        seen: (cue_seen, role_seen),
    }
}

/// Fits `p = 1 / (1 + exp(-(slope · x + intercept)))` to (x, right) pairs
/// (Platt scaling): Newton's method on the log-loss of standardised x, each
/// step halved until the loss falls, with a small ridge so that separable
/// data still gives finite numbers.
fn logistic(points: &[(f32, bool)]) -> (f32, f32) {
    let fallback = (0.1, 0.0);
    if points.iter().all(|p| p.1) || points.iter().all(|p| !p.1) {
        return fallback;
    }
    let n = points.len() as f64;
    let mean = points.iter().map(|p| f64::from(p.0)).sum::<f64>() / n;
    let sd = (points
        .iter()
        .map(|p| (f64::from(p.0) - mean).powi(2))
        .sum::<f64>()
        / n)
        .sqrt();
    if sd == 0.0 || !sd.is_finite() {
        return fallback;
    }
    let z: Vec<(f64, f64)> = points
        .iter()
        .map(|p| ((f64::from(p.0) - mean) / sd, f64::from(u8::from(p.1))))
        .collect();
    let ridge = 1e-3;
    let loss = |a: f64, b: f64| {
        z.iter()
            .map(|&(x, y)| {
                let t = a * x + b;
                // log(1 + e^t) − y·t, computed without overflow.
                t.max(0.0) + (-t.abs()).exp().ln_1p() - y * t
            })
            .sum::<f64>()
            + ridge * a * a / 2.0
    };
    let (mut a, mut b) = (0.0f64, 0.0f64);
    for _ in 0..100 {
        let (mut ga, mut gb, mut haa, mut hab, mut hbb) = (ridge * a, 0.0, ridge, 0.0, 1e-9);
        for &(x, y) in &z {
            let p = 1.0 / (1.0 + (-(a * x + b)).exp());
            let w = p * (1.0 - p);
            ga += (p - y) * x;
            gb += p - y;
            haa += w * x * x;
            hab += w * x;
            hbb += w;
        }
        let det = haa * hbb - hab * hab;
        if det.abs() < 1e-18 {
            break;
        }
        let da = (hbb * ga - hab * gb) / det;
        let db = (haa * gb - hab * ga) / det;
        let before = loss(a, b);
        let mut step = 1.0;
        while step > 1e-6 && loss(a - step * da, b - step * db) > before {
            step /= 2.0;
        }
        a -= step * da;
        b -= step * db;
        if (step * da).abs() < 1e-10 && (step * db).abs() < 1e-10 {
            break;
        }
    }
    ((a / sd) as f32, (b - a * mean / sd) as f32)
}

/// Trains a model: first on nine documents in ten to fit the confidence
/// curve on the tenth, then on every document.
pub fn train(
    docs: &[TrainingDoc],
    options: &Options,
    progress: &mut dyn FnMut(Epoch),
) -> (Model, Report) {
    let mut order: Vec<usize> = (0..docs.len()).collect();
    Shuffle(options.seed.max(1) ^ 0x9e37_79b9_7f4a_7c15).shuffle(&mut order);
    let held_out: Vec<&TrainingDoc> = order.iter().step_by(10).map(|&k| &docs[k]).collect();
    let rest: Vec<&TrainingDoc> = order
        .iter()
        .enumerate()
        .filter(|(n, _)| n % 10 != 0)
        .map(|(_, &k)| &docs[k])
        .collect();

    let partial = fit(&rest, options, false, progress);
    let probe = Model {
        cue: partial.cue,
        role: partial.role,
        slope: 1.0,
        intercept: 0.0,
    };
    let mut points = Vec::new();
    for doc in &held_out {
        let d = Doc::new(&doc.text, &doc.hints);
        let gold: Vec<(usize, usize)> = in_tokens(doc, &d).into_iter().map(|r| r.0).collect();
        for (cue, margin) in probe.cues(&d) {
            points.push((margin, gold.contains(&cue)));
        }
    }
    let (slope, intercept) = logistic(&points);

    let all: Vec<&TrainingDoc> = docs.iter().collect();
    let full = fit(&all, options, true, progress);
    let model = Model {
        slope,
        intercept,
        cue: full.cue,
        role: full.role,
    };
    let report = Report {
        documents: docs.len(),
        held_out: held_out.len(),
        held_out_cues: points.len(),
        held_out_right: points.iter().filter(|p| p.1).count(),
        features_seen: full.seen,
        features_kept: model.size(),
        slope,
        intercept,
    };
    (model, report)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A toy corpus: "X said Y." and "Y, X said." lines.
    fn corpus() -> Vec<TrainingDoc> {
        let names = [
            "Ana Robles",
            "the minister",
            "officials",
            "Kenji Sato",
            "the mayor",
            "a spokesman",
        ];
        let facts = [
            "the ferry was full",
            "talks will resume",
            "the port is closed",
            "rain is coming",
        ];
        let mut docs = Vec::new();
        for (n, name) in names.iter().enumerate() {
            let mut text = String::new();
            let mut relations = Vec::new();
            for (k, fact) in facts.iter().enumerate() {
                let start = text.len();
                let (line, cue, source, content) = if (n + k) % 2 == 0 {
                    let l = format!("{name} said {fact}.");
                    (
                        l.clone(),
                        (name.len() + 1, name.len() + 5),
                        (0, name.len()),
                        (name.len() + 6, l.len() - 1),
                    )
                } else {
                    let l = format!("{fact}, {name} said.");
                    let c = fact.len() + 2 + name.len() + 1;
                    (
                        l.clone(),
                        (c, c + 4),
                        (fact.len() + 2, fact.len() + 2 + name.len()),
                        (0, fact.len()),
                    )
                };
                let shift = |(s, e): (usize, usize)| (start + s, start + e);
                relations.push(GoldRelation {
                    cue: shift(cue),
                    sources: vec![shift(source)],
                    contents: vec![shift(content)],
                });
                text.push_str(&line);
                text.push('\n');
            }
            docs.push(TrainingDoc {
                text,
                relations,
                hints: Vec::new(),
            });
        }
        docs
    }

    fn options() -> Options {
        Options {
            epochs: 5,
            seed: 3,
            min_count: 1,
            keep_above: 0.0,
        }
    }

    #[test]
    fn a_model_trained_on_a_toy_corpus_reads_a_new_sentence() {
        let (model, report) = train(&corpus(), &options(), &mut |_| {});
        assert_eq!(report.documents, 6);
        let body = "the bridge is open, the mayor said.";
        let found = model.relations(body, &[]);
        assert_eq!(found.len(), 1, "{found:?}");
        let text = |v: &[(usize, usize)]| {
            v.iter()
                .map(|&(s, e)| body[s..e].to_owned())
                .collect::<Vec<_>>()
        };
        assert_eq!(&body[found[0].cue.0..found[0].cue.1], "said");
        assert_eq!(text(&found[0].sources), ["the mayor"]);
        assert_eq!(text(&found[0].contents), ["the bridge is open"]);
    }

    #[test]
    fn training_is_deterministic_given_the_seed() {
        let docs = corpus();
        let (a, _) = train(&docs, &options(), &mut |_| {});
        let (b, _) = train(&docs, &options(), &mut |_| {});
        assert_eq!(a.to_bytes(), b.to_bytes());
    }

    #[test]
    fn every_epoch_is_reported() {
        let mut seen = Vec::new();
        train(&corpus(), &options(), &mut |e| {
            seen.push((e.final_fit, e.epoch))
        });
        assert_eq!(
            seen.len(),
            10,
            "five for the held-out fit, five for the final one"
        );
        assert_eq!(seen.last(), Some(&(true, 5)));
    }

    #[test]
    fn the_confidence_curve_rises_with_the_margin() {
        // Right more often as x grows: right when a scrambled 0..200 falls below i.
        let points: Vec<(f32, bool)> = (0..200)
            .map(|i| (i as f32 / 10.0, (i * 7919) % 200 < i))
            .collect();
        let (slope, intercept) = logistic(&points);
        assert!(slope > 0.0, "{slope}");
        let p = |x: f32| 1.0 / (1.0 + (-(slope * x + intercept)).exp());
        assert!(p(1.0) < 0.3 && p(19.0) > 0.7, "{} {}", p(1.0), p(19.0));
        // Perfectly separated points still give finite numbers.
        let (s, i) = logistic(&[(0.0, false), (1.0, false), (5.0, true), (6.0, true)]);
        assert!(s.is_finite() && i.is_finite() && s > 0.0);
        assert_eq!(
            logistic(&[(1.0, true), (2.0, true)]),
            (0.1, 0.0),
            "nothing to fit"
        );
    }
}
