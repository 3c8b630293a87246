//! Attribution extraction: who said what, with which cue, in news text.
//!
//! Two extractors, one output:
//!
//! - **the model** (`model/`): two sequence taggers trained on PolNeAR —
//!   cues first, then each cue's source and content — shipped in
//!   `models/attribution.bin`; it gives every relation a probability;
//! - **the rules** (`rules.rs`): a lexicon of reporting cues and the shapes
//!   of reported speech around them (`“…,” the minister said.`, `X said
//!   that …`, `according to X, …`). Their findings are features of the
//!   model, and they answer alone if the model file does not read.
//!
//! Offsets are character (Unicode code point) offsets into the body, end
//! exclusive, as appearances store them.

pub mod citron;
pub mod eval;
pub mod hedge;
pub mod model;
mod proposal;
mod rules;
pub mod source;
mod text;
pub mod time;
pub mod tokens;

pub use proposal::{HedgeView, Proposal, ProposedTime, propose};

use serde::Serialize;

use model::{Model, RuleHint};
use text::Sentence;

/// A character span of the body, end exclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, utoipa::ToSchema)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AttributionKind {
    /// The content is a quotation, in quotation marks.
    DirectQuote,
    /// Reported speech without quotation marks.
    Paraphrase,
    /// Partly quoted.
    Mixed,
}

/// One attribution relation found in a body.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Attribution {
    /// The source phrase ("the minister", "sources close to the matter", "he");
    /// absent when the text does not name one. From its first piece to its last.
    pub source: Option<Span>,
    pub cue: Span,
    /// From the content's first piece to its last (empty, at the cue's end,
    /// when the model found a cue but no content).
    pub content: Span,
    pub kind: AttributionKind,
    /// The source's pieces, in text order.
    pub sources: Vec<Span>,
    /// The content's pieces: one, or several when the text splits it
    /// (“We will,” he said, “never agree.”).
    pub contents: Vec<Span>,
    /// The model's probability that the cue is right; absent when the rules
    /// found the relation alone.
    pub confidence: Option<f64>,
}

/// Finds the attribution relations of `body`, in text order.
pub fn extract(body: &str) -> Vec<Attribution> {
    attributions(body, relations(body).1)
}

/// The same with another model than the shipped one (to evaluate a model
/// just trained without building it in).
pub fn extract_with(model: &Model, body: &str) -> Vec<Attribution> {
    attributions(body, relations_with(Some(model), body).1)
}

/// What the rule-based extractor alone finds (to compare it with the model).
pub fn extract_by_rules(body: &str) -> Vec<Attribution> {
    attributions(body, rules::relations(body).1)
}

/// The rule extractor's relations of `body`, as hints for the model (what
/// training gives it too).
pub fn rule_hints(body: &str) -> Vec<RuleHint> {
    hints_of(&rules::relations(body).1)
}

fn hints_of(ruled: &[(usize, Found)]) -> Vec<RuleHint> {
    ruled
        .iter()
        .map(|(_, f)| RuleHint {
            source: f.source,
            cue: f.cue,
            content: f.content,
        })
        .collect()
}

fn attributions(body: &str, found: Vec<(usize, Found)>) -> Vec<Attribution> {
    let index = text::CharIndex::new(body);
    found
        .iter()
        .map(|(_, f)| f.attribution(body, &index))
        .collect()
}

/// The sentences of `body` and its relations, each with the index of the
/// sentence its cue is in: the model's, or the rules' if the model file did
/// not read.
fn relations(body: &str) -> (Vec<Sentence>, Vec<(usize, Found)>) {
    relations_with(Model::shipped(), body)
}

fn relations_with(model: Option<&Model>, body: &str) -> (Vec<Sentence>, Vec<(usize, Found)>) {
    let (sentences, ruled) = rules::relations(body);
    let Some(model) = model else {
        return (sentences, ruled);
    };
    let hints = hints_of(&ruled);
    let found = model
        .relations(body, &hints)
        .into_iter()
        .map(|r| {
            let n = sentences
                .partition_point(|s| s.end <= r.cue.0)
                .min(sentences.len().saturating_sub(1));
            (n, Found::from_model(r))
        })
        .collect();
    (sentences, found)
}

/// Byte ranges of one relation.
struct Found {
    /// From the source's first piece to its last.
    source: Option<(usize, usize)>,
    cue: (usize, usize),
    /// From the content's first piece to its last.
    content: (usize, usize),
    /// The content's pieces when there are several (a quotation split by
    /// its cue); empty when it is one.
    parts: Vec<(usize, usize)>,
    /// The source's pieces when there are several.
    source_parts: Vec<(usize, usize)>,
    /// The model's probability; `None` from the rules.
    confidence: Option<f64>,
}

impl Found {
    /// A relation of the rules, each span in one piece.
    fn ruled(source: Option<(usize, usize)>, cue: (usize, usize), content: (usize, usize)) -> Self {
        Found {
            source,
            cue,
            content,
            parts: Vec::new(),
            source_parts: Vec::new(),
            confidence: None,
        }
    }

    /// A relation of the rules whose content the cue splits in two.
    fn split(
        source: Option<(usize, usize)>,
        cue: (usize, usize),
        parts: [(usize, usize); 2],
    ) -> Self {
        Found {
            content: (parts[0].0, parts[1].1),
            parts: parts.to_vec(),
            ..Found::ruled(source, cue, parts[0])
        }
    }

    fn from_model(r: model::Relation) -> Self {
        let extent = |pieces: &[(usize, usize)]| Some((pieces.first()?.0, pieces.last()?.1));
        Found {
            source: extent(&r.sources),
            cue: r.cue,
            // No content found: an empty one where the cue ends.
            content: extent(&r.contents).unwrap_or((r.cue.1, r.cue.1)),
            parts: if r.contents.len() > 1 {
                r.contents
            } else {
                Vec::new()
            },
            source_parts: if r.sources.len() > 1 {
                r.sources
            } else {
                Vec::new()
            },
            confidence: Some(r.confidence),
        }
    }

    /// The content's pieces (one when it is whole).
    fn pieces(&self) -> Vec<(usize, usize)> {
        if self.parts.is_empty() {
            vec![self.content]
        } else {
            self.parts.clone()
        }
    }

    fn attribution(&self, body: &str, index: &text::CharIndex) -> Attribution {
        let span = |&(s, e): &(usize, usize)| index.span(s, e);
        let sources = if self.source_parts.is_empty() {
            self.source.iter().map(span).collect()
        } else {
            self.source_parts.iter().map(span).collect()
        };
        let contents = if self.content.0 < self.content.1 {
            self.pieces().iter().map(span).collect()
        } else {
            Vec::new()
        };
        Attribution {
            source: self.source.as_ref().map(span),
            cue: span(&self.cue),
            content: span(&self.content),
            kind: if self.parts.is_empty() {
                kind_of(&body[self.content.0..self.content.1])
            } else if self
                .parts
                .iter()
                .all(|&(s, e)| kind_of(&body[s..e]) == AttributionKind::DirectQuote)
            {
                // “We will,” he said, “never agree.”
                AttributionKind::DirectQuote
            } else {
                AttributionKind::Mixed
            },
            sources,
            contents,
            confidence: self.confidence,
        }
    }

    /// From the first to the last byte of its spans.
    fn extent(&self) -> (usize, usize) {
        let mut lo = self.cue.0.min(self.content.0);
        let mut hi = self.cue.1.max(self.content.1);
        if let Some((s, e)) = self.source {
            lo = lo.min(s);
            hi = hi.max(e);
        }
        (lo, hi)
    }
}

/// Whether a content is a quotation, reported speech or both, from its
/// quotation marks.
pub fn kind_of(content: &str) -> AttributionKind {
    let quotes = content
        .chars()
        .filter(|c| matches!(c, '“' | '”' | '"'))
        .count();
    let trimmed = content.trim_start_matches(['t', 'h', 'a', ' ']);
    // “We will never agree,” he said: the content stops at the comma inside
    // the quotation, before its closing mark.
    if quotes == 1 && content.starts_with(['“', '"']) {
        return AttributionKind::DirectQuote;
    }
    if quotes >= 2 && (trimmed.starts_with(['“', '"']) || content.starts_with(['“', '"'])) {
        let inner = content.trim().trim_end_matches(['.', ',']);
        if inner.ends_with(['”', '"']) && quotes == 2 {
            return AttributionKind::DirectQuote;
        }
        return AttributionKind::Mixed;
    }
    if quotes >= 2 {
        AttributionKind::Mixed
    } else {
        AttributionKind::Paraphrase
    }
}
