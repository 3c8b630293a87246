//! The learned attribution tagger: two sequence labellers over word tokens,
//! trained on PolNeAR (`claimtrail train-attribution`) and shipped in the
//! repository (`models/attribution.bin`, loaded once at start-up).
//!
//! 1. The **cue tagger** labels each paragraph's tokens B/I/O for cues
//!    ("said", "according to", "has learned", ":").
//! 2. For each cue, the **role tagger** labels the tokens of its paragraph
//!    (within `ROLE_RADIUS`) as source, content or neither, with features
//!    relative to that cue; a source or content may come in pieces
//!    (“We will,” he said, “never agree.”).
//!
//! Both are first-order structured averaged perceptrons (`perceptron.rs`);
//! the rule-based extractor's findings are features, not answers. Each cue
//! gets a probability of being right: its margin (the best labelling's score
//! minus the best one without that cue) through a logistic curve fitted on
//! held-out training documents.

mod features;
mod file;
mod perceptron;
pub mod training;

use std::sync::OnceLock;

pub use features::RuleHint;
pub use file::FormatError;

use features::{Doc, cue_features, role_features, role_window};
use perceptron::{BestScores, Weights, viterbi};

/// Cue labels.
const O: usize = 0;
const CUE_B: usize = 1;
const CUE_I: usize = 2;
const CUE_LABELS: usize = 3;

/// Role labels; `ROLE_CUE` is fixed on the cue's own tokens.
const SOURCE_B: usize = 1;
const SOURCE_I: usize = 2;
const CONTENT_B: usize = 3;
const CONTENT_I: usize = 4;
const ROLE_CUE: usize = 5;
const ROLE_LABELS: usize = 6;

fn cue_allowed(prev: Option<usize>, y: usize) -> bool {
    y != CUE_I || matches!(prev, Some(CUE_B | CUE_I))
}

fn role_allowed(prev: Option<usize>, y: usize) -> bool {
    match y {
        SOURCE_I => matches!(prev, Some(SOURCE_B | SOURCE_I)),
        CONTENT_I => matches!(prev, Some(CONTENT_B | CONTENT_I)),
        _ => true,
    }
}

/// Token (or byte) ranges of a source's or a content's pieces.
type Pieces = Vec<(usize, usize)>;

/// A trained model.
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    cue: Weights,
    role: Weights,
    /// Logistic curve from a cue's margin to its probability: `1 / (1 +
    /// exp(-(slope · margin + intercept)))`.
    slope: f32,
    intercept: f32,
}

/// One relation the model found, in byte offsets.
#[derive(Debug, Clone, PartialEq)]
pub struct Relation {
    pub cue: (usize, usize),
    /// Pieces of the source, in text order (empty when none is named).
    pub sources: Vec<(usize, usize)>,
    /// Pieces of the content, in text order (empty when none was found).
    pub contents: Vec<(usize, usize)>,
    /// The probability that the cue is right.
    pub confidence: f64,
}

/// The model in `models/attribution.bin`.
static SHIPPED: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/models/attribution.bin"
));

impl Model {
    /// The model shipped with this build, read on first use (`serve` reads
    /// it at start-up). `None` if its file does not read, in which case
    /// extraction falls back to the rules alone; a unit test keeps that from
    /// shipping.
    pub fn shipped() -> Option<&'static Model> {
        static MODEL: OnceLock<Option<Model>> = OnceLock::new();
        MODEL
            .get_or_init(|| match Model::from_bytes(SHIPPED) {
                Ok(m) => Some(m),
                Err(e) => {
                    tracing::error!(error = %e, "the attribution model does not read; extracting with the rules alone");
                    None
                }
            })
            .as_ref()
    }

    /// Which model proposed a claim, for its audit event: the SHA-256 of
    /// the shipped file (first 16 bytes, hex). Retraining changes it.
    pub fn shipped_id() -> &'static str {
        static ID: OnceLock<String> = OnceLock::new();
        ID.get_or_init(|| {
            use sha2::{Digest, Sha256};
            format!("sha256:{}", hex::encode(&Sha256::digest(SHIPPED)[..16]))
        })
    }

    /// Feature rows of the cue and the role tagger.
    pub fn size(&self) -> (usize, usize) {
        (self.cue.len(), self.role.len())
    }

    /// The relations of `body`, in order of their cues; `hints` are the rule
    /// extractor's relations.
    pub fn relations(&self, body: &str, hints: &[RuleHint]) -> Vec<Relation> {
        let d = Doc::new(body, hints);
        let cues = self.cues(&d);
        let mut starts = vec![false; d.tokens.len()];
        for &(c, _) in &cues {
            starts[c.0] = true;
        }
        let (sources, contents): (Vec<Pieces>, Vec<Pieces>) = cues
            .iter()
            .map(|&(cue, _)| self.roles(&d, cue, &starts))
            .unzip();
        let cue_spans: Vec<(usize, usize)> = cues.iter().map(|c| c.0).collect();
        let mut contents = nearest_cue_keeps(&cue_spans, contents, &d.sentence_ends_before());
        // A cue the rules read too, left without content by the tagger (or
        // by the step above): the rules' content stands in.
        for (pieces, &(a, b)) in contents.iter_mut().zip(&cue_spans) {
            if pieces.is_empty()
                && let Some((_, _, Some(content))) = d.hint_at(a, b)
            {
                pieces.push(content);
            }
        }
        let bytes = |(s, e): (usize, usize)| (d.tokens[s].0, d.tokens[e - 1].1);
        cues.into_iter()
            .zip(sources)
            .zip(contents)
            .map(|(((cue, margin), sources), contents)| Relation {
                cue: bytes(cue),
                sources: sources.into_iter().map(bytes).collect(),
                contents: contents.into_iter().map(bytes).collect(),
                confidence: self.probability(margin),
            })
            .collect()
    }

    /// The cue's probability of being right, to three decimals and never 0
    /// or 1: a calibrated curve says "almost surely", not "surely".
    fn probability(&self, margin: f32) -> f64 {
        let p = 1.0
            / (1.0
                + (-(f64::from(self.slope) * f64::from(margin) + f64::from(self.intercept))).exp());
        ((p * 1000.0).round() / 1000.0).clamp(0.001, 0.999)
    }

    /// Cue token spans with their margins.
    fn cues(&self, d: &Doc) -> Vec<((usize, usize), f32)> {
        let mut out = Vec::new();
        for &(lo, hi) in &d.paragraphs {
            let em = self.cue.emissions(&cue_features(d, lo, hi));
            let Some((labels, best)) =
                viterbi(CUE_LABELS, &em, &self.cue.transitions, cue_allowed, &|_| {
                    None
                })
            else {
                continue;
            };
            // Margins from best scores at both ends: the cost of one
            // stretch each, so a long paragraph with many cues stays linear.
            let scores = BestScores::new(CUE_LABELS, &em, &self.cue.transitions, cue_allowed);
            for (a, b) in runs(&labels, CUE_B, CUE_I) {
                // The best labelling in which these tokens are no cue.
                let without =
                    scores.with_stretch(&em, &self.cue.transitions, cue_allowed, (a, b), O);
                out.push(((lo + a, lo + b), (best - without).min(1e6)));
            }
        }
        out
    }

    /// Source and content pieces of the cue `(a, b)`, in tokens.
    fn roles(&self, d: &Doc, (a, b): (usize, usize), starts: &[bool]) -> (Pieces, Pieces) {
        let (lo, hi) = role_window(d, a, b);
        let em = self
            .role
            .emissions(&role_features(d, (a, b), (lo, hi), starts));
        let fixed = |i: usize| (a <= lo + i && lo + i < b).then_some(ROLE_CUE);
        let Some((labels, _)) = viterbi(
            ROLE_LABELS,
            &em,
            &self.role.transitions,
            role_allowed,
            &fixed,
        ) else {
            return (Vec::new(), Vec::new());
        };
        let shift = |v: Vec<(usize, usize)>| v.into_iter().map(|(s, e)| (s + lo, e + lo)).collect();
        (
            shift(runs(&labels, SOURCE_B, SOURCE_I)),
            shift(runs(&labels, CONTENT_B, CONTENT_I)),
        )
    }
}

/// Content tokens claimed by several cues go to the nearest of them: in
/// PolNeAR two relations almost never share content (9 of 19,833 in
/// train), while the role tagger, labelling each cue on its own, may give a
/// neighbouring cue's quotation to this one too ("…, sources said Friday.
/// “We will never give up,” Kishida told reporters": the quotation is
/// Kishida's alone). Measured on PolNeAR dev it moves no score by more than
/// 0.004; it keeps other people's words out of a proposal's claim text.
/// Pieces are token ranges; each relation keeps the parts of its pieces it
/// owns.
///
/// Nearest counts sentence ends between token and cue first, then tokens;
/// `ends_before[t]` is the number of sentence ends before token `t`.
fn nearest_cue_keeps(
    cues: &[(usize, usize)],
    contents: Vec<Vec<(usize, usize)>>,
    ends_before: &[usize],
) -> Vec<Vec<(usize, usize)>> {
    let ends = |from: usize, to: usize| ends_before[to] - ends_before[from];
    let distance = |(a, b): (usize, usize), t: usize| {
        if t < a {
            (ends(t + 1, a), a - t)
        } else {
            (ends(b, t), t + 1 - b)
        }
    };
    let mut owner: std::collections::HashMap<usize, usize> = std::collections::HashMap::new();
    for (r, pieces) in contents.iter().enumerate() {
        for &(s, e) in pieces {
            for t in s..e {
                owner
                    .entry(t)
                    .and_modify(|o| {
                        if distance(cues[r], t) < distance(cues[*o], t) {
                            *o = r;
                        }
                    })
                    .or_insert(r);
            }
        }
    }
    contents
        .into_iter()
        .enumerate()
        .map(|(r, pieces)| {
            let mut kept = Vec::new();
            for (s, e) in pieces {
                let mut start = None;
                for t in s..=e {
                    let mine = t < e && owner.get(&t) == Some(&r);
                    match (mine, start) {
                        (true, None) => start = Some(t),
                        (false, Some(from)) => {
                            kept.push((from, t));
                            start = None;
                        }
                        _ => {}
                    }
                }
            }
            kept
        })
        .collect()
}

/// Maximal runs of `begin` followed by `inside` labels, as index ranges.
fn runs(labels: &[usize], begin: usize, inside: usize) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut k = 0;
    while k < labels.len() {
        if labels[k] == begin {
            let s = k;
            k += 1;
            while k < labels.len() && labels[k] == inside {
                k += 1;
            }
            out.push((s, k));
        } else {
            k += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_model_is_named_by_its_digest() {
        let id = Model::shipped_id();
        assert!(id.starts_with("sha256:") && id.len() == 7 + 32, "{id}");
        assert_eq!(id, Model::shipped_id());
    }

    #[test]
    fn the_shipped_model_reads() {
        let model = Model::shipped().expect("models/attribution.bin reads");
        let (cue, role) = model.size();
        assert!(
            cue > 1000 && role > 1000,
            "{cue} cue rows, {role} role rows"
        );
    }

    #[test]
    fn the_shipped_model_finds_a_plain_attribution() {
        let model = Model::shipped().unwrap();
        let body = "The ferry was overloaded, the coast guard said on Friday.";
        let found = model.relations(body, &crate::domain::attribution::rule_hints(body));
        assert_eq!(found.len(), 1, "{found:?}");
        let r = &found[0];
        assert_eq!(&body[r.cue.0..r.cue.1], "said");
        assert_eq!(
            r.sources
                .iter()
                .map(|&(s, e)| &body[s..e])
                .collect::<Vec<_>>(),
            ["the coast guard"]
        );
        assert_eq!(
            r.contents
                .iter()
                .map(|&(s, e)| &body[s..e])
                .collect::<Vec<_>>(),
            ["The ferry was overloaded"]
        );
        assert!(r.confidence > 0.5 && r.confidence < 1.0, "{}", r.confidence);
        assert_eq!(r.confidence, (r.confidence * 1000.0).round() / 1000.0);
        assert_eq!(model.probability(1e6), 0.999);
        assert_eq!(model.probability(-1e6), 0.001);
    }

    #[test]
    fn shared_content_goes_to_the_nearest_cue() {
        // Cue 0 at token 10, cue 1 at token 20; both claim tokens 12..18.
        let cues = [(10, 11), (20, 21)];
        let no_ends = vec![0; 40];
        let got = nearest_cue_keeps(
            &cues,
            vec![vec![(0, 9), (12, 18)], vec![(12, 19)]],
            &no_ends,
        );
        // Token 15 is as near to both: the first claim stands.
        assert_eq!(got[0], [(0, 9), (12, 16)], "tokens 12..16 are nearer cue 0");
        assert_eq!(got[1], [(16, 19)]);
        let alone = nearest_cue_keeps(&cues, vec![vec![(0, 9)], vec![(22, 30)]], &no_ends);
        assert_eq!(alone, [vec![(0, 9)], vec![(22, 30)]]);
        // A sentence ends at token 11: all of 12..18 is in cue 1's sentence.
        let ends: Vec<usize> = (0..40).map(|t| usize::from(t > 11)).collect();
        let got = nearest_cue_keeps(&cues, vec![vec![(12, 18)], vec![(12, 19)]], &ends);
        assert_eq!(got, [vec![], vec![(12, 19)]]);
    }

    #[test]
    fn runs_are_begin_inside_sequences() {
        assert_eq!(
            runs(&[0, 1, 2, 2, 0, 1, 1, 2], 1, 2),
            [(1, 4), (5, 6), (6, 8)]
        );
        assert!(runs(&[0, 2, 0], 1, 2).is_empty());
    }
}
