//! Scoring extracted attributions against a corpus in brat standoff layout
//! (PolNeAR, PARC-style): `T<n>\t<Type> <start> <end>[;<start> <end>…]\t<text>`
//! lines for Source, Cue and Content spans, tied by
//! `E<n>\tAttribution:T… Content:T… Cue:T… Source:T…` lines.
//!
//! Matching rule, per document and per role (cue, source, content):
//! - a span is its outer extent (a discontinuous gold span runs from its first
//!   fragment's start to its last fragment's end), with whitespace and
//!   punctuation trimmed from both ends (quotation marks, commas, periods…);
//! - **exact**: predicted and gold spans are equal after trimming;
//! - **overlap**: they share at least one character after trimming;
//! - each gold span matches at most one predicted span and the other way round
//!   (greedy, in text order); precision is matched / predicted, recall is
//!   matched / gold.
//!
//! A relation without a source (PolNeAR's "Attribution-no-source") adds no
//! gold source; a document annotated by several annotators is scored against
//! each annotation file.

use serde::Serialize;

use super::{Attribution, Span};

/// One gold relation's spans (character offsets, outer extent).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GoldRelation {
    pub source: Option<Span>,
    pub cue: Option<Span>,
    pub content: Option<Span>,
}

/// Reads the relations of one `.ann` file; malformed lines are skipped.
pub fn parse_brat(ann: &str) -> Vec<GoldRelation> {
    use std::collections::HashMap;
    let mut spans: HashMap<&str, Span> = HashMap::new();
    for line in ann.lines() {
        let mut parts = line.split('\t');
        let (Some(id), Some(body)) = (parts.next(), parts.next()) else {
            continue;
        };
        if !id.starts_with('T') {
            continue;
        }
        let Some((_, ranges)) = body.split_once(' ') else {
            continue;
        };
        let mut start = usize::MAX;
        let mut end = 0;
        for range in ranges.split(';') {
            let mut nums = range
                .split_whitespace()
                .filter_map(|n| n.parse::<usize>().ok());
            if let (Some(s), Some(e)) = (nums.next(), nums.next()) {
                start = start.min(s);
                end = end.max(e);
            }
        }
        if start < end {
            spans.insert(id, Span { start, end });
        }
    }
    let mut relations = Vec::new();
    for line in ann.lines() {
        let mut parts = line.split('\t');
        let (Some(id), Some(body)) = (parts.next(), parts.next()) else {
            continue;
        };
        if !id.starts_with('E') {
            continue;
        }
        let mut relation = GoldRelation::default();
        for arg in body.split_whitespace() {
            let Some((role, target)) = arg.split_once(':') else {
                continue;
            };
            let span = spans.get(target).copied();
            match role {
                "Source" => relation.source = span,
                "Cue" => relation.cue = span,
                "Content" => relation.content = span,
                _ => {}
            }
        }
        relations.push(relation);
    }
    relations
}

/// Matched, predicted and gold counts for one role and one rule.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub matched_predicted: u64,
    pub matched_gold: u64,
    pub predicted: u64,
    pub gold: u64,
}

#[derive(Debug, Clone, Copy, Serialize, PartialEq)]
pub struct Prf {
    pub p: f64,
    pub r: f64,
    pub f1: f64,
}

impl Prf {
    /// Precision `matched_predicted / predicted`, recall `matched_gold /
    /// gold` (0 when nothing was predicted or annotated), and their F1.
    pub fn of(matched_predicted: u64, predicted: u64, matched_gold: u64, gold: u64) -> Prf {
        let ratio = |a: u64, b: u64| if b == 0 { 0.0 } else { a as f64 / b as f64 };
        let p = ratio(matched_predicted, predicted);
        let r = ratio(matched_gold, gold);
        let f1 = if p + r == 0.0 {
            0.0
        } else {
            2.0 * p * r / (p + r)
        };
        Prf { p, r, f1 }
    }
}

impl Counts {
    pub fn prf(&self) -> Prf {
        Prf::of(
            self.matched_predicted,
            self.predicted,
            self.matched_gold,
            self.gold,
        )
    }

    fn add(&mut self, other: Counts) {
        self.matched_predicted += other.matched_predicted;
        self.matched_gold += other.matched_gold;
        self.predicted += other.predicted;
        self.gold += other.gold;
    }
}

/// Exact and overlap counts for one role.
#[derive(Debug, Clone, Copy, Default)]
pub struct RoleCounts {
    pub exact: Counts,
    pub overlap: Counts,
}

/// Counts for the three roles.
#[derive(Debug, Clone, Copy, Default)]
pub struct Scores {
    pub cue: RoleCounts,
    pub source: RoleCounts,
    pub content: RoleCounts,
}

#[derive(Debug, Clone, Copy, Serialize)]
pub struct RoleReport {
    pub exact: Prf,
    pub overlap: Prf,
}

#[derive(Debug, Clone, Copy, Serialize)]
pub struct ScoreReport {
    pub cue: RoleReport,
    pub source: RoleReport,
    pub content: RoleReport,
}

impl Scores {
    pub fn report(&self) -> ScoreReport {
        let role = |c: &RoleCounts| RoleReport {
            exact: c.exact.prf(),
            overlap: c.overlap.prf(),
        };
        ScoreReport {
            cue: role(&self.cue),
            source: role(&self.source),
            content: role(&self.content),
        }
    }

    pub fn add(&mut self, other: &Scores) {
        for (a, b) in [
            (&mut self.cue, &other.cue),
            (&mut self.source, &other.source),
            (&mut self.content, &other.content),
        ] {
            a.exact.add(b.exact);
            a.overlap.add(b.overlap);
        }
    }
}

type GoldSpan = fn(&GoldRelation) -> Option<Span>;
type PredictedSpan = fn(&Attribution) -> Option<Span>;

/// Scores one document's predictions against one annotation of it.
pub fn score_document(text: &str, gold: &[GoldRelation], predicted: &[Attribution]) -> Scores {
    let chars: Vec<char> = text.chars().collect();
    let trim = |s: Span| trim_span(&chars, s);
    let roles: [(GoldSpan, PredictedSpan); 3] = [
        (|g| g.cue, |a| Some(a.cue)),
        (|g| g.source, |a| a.source),
        (|g| g.content, |a| Some(a.content)),
    ];
    let mut scores = Scores::default();
    for (k, (gold_of, predicted_of)) in roles.iter().enumerate() {
        let g: Vec<Span> = gold.iter().filter_map(gold_of).filter_map(trim).collect();
        let p: Vec<Span> = predicted
            .iter()
            .filter_map(predicted_of)
            .filter_map(trim)
            .collect();
        let counts = RoleCounts {
            exact: match_spans(&g, &p, |a, b| a == b),
            overlap: match_spans(&g, &p, |a, b| a.start < b.end && b.start < a.end),
        };
        match k {
            0 => scores.cue = counts,
            1 => scores.source = counts,
            _ => scores.content = counts,
        }
    }
    scores
}

fn trim_span(chars: &[char], s: Span) -> Option<Span> {
    let end = s.end.min(chars.len());
    let mut start = s.start.min(end);
    let mut end = end;
    let skip = |c: char| {
        c.is_whitespace()
            || (c.is_ascii_punctuation() && c != '$' && c != '%')
            || matches!(c, '“' | '”' | '‘' | '’' | '—' | '–' | '…')
    };
    while start < end && skip(chars[start]) {
        start += 1;
    }
    while end > start && skip(chars[end - 1]) {
        end -= 1;
    }
    (start < end).then_some(Span { start, end })
}

/// One-to-one greedy matching in text order.
fn match_spans(
    gold: &[Span],
    predicted: &[Span],
    matches: impl Fn(&Span, &Span) -> bool,
) -> Counts {
    let mut taken = vec![false; predicted.len()];
    let mut matched = 0;
    for g in gold {
        if let Some(i) = (0..predicted.len()).find(|&i| !taken[i] && matches(g, &predicted[i])) {
            taken[i] = true;
            matched += 1;
        }
    }
    Counts {
        matched_predicted: matched,
        matched_gold: matched,
        predicted: predicted.len() as u64,
        gold: gold.len() as u64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::attribution::AttributionKind;

    const ANN: &str = "T1\tSource 0 7\tsources\nT2\tCue 8 12\tsaid\nT3\tContent 14 20;22 26\tit was over\nE1\tAttribution:T9 Content:T3 Cue:T2 Source:T1\nT9\tAttribution 8 12\tsaid\nT10\tDiscard 30 31\tx\n";

    #[test]
    fn brat_relations_take_the_outer_extent_of_discontinuous_spans() {
        let rels = parse_brat(ANN);
        assert_eq!(rels.len(), 1);
        assert_eq!(rels[0].source, Some(Span { start: 0, end: 7 }));
        assert_eq!(rels[0].content, Some(Span { start: 14, end: 26 }));
    }

    #[test]
    fn exact_ignores_surrounding_punctuation_and_overlap_needs_one_character() {
        let text = "sources said “it was over.” yes";
        let gold = vec![GoldRelation {
            source: Some(Span { start: 0, end: 7 }),
            cue: Some(Span { start: 8, end: 12 }),
            content: Some(Span { start: 13, end: 27 }),
        }];
        let predicted = vec![Attribution {
            source: Some(Span { start: 0, end: 4 }),
            cue: Span { start: 8, end: 12 },
            content: Span { start: 14, end: 25 },
            kind: AttributionKind::DirectQuote,
            sources: vec![Span { start: 0, end: 4 }],
            contents: vec![Span { start: 14, end: 25 }],
            confidence: None,
        }];
        let s = score_document(text, &gold, &predicted);
        assert_eq!(s.cue.exact.matched_gold, 1);
        assert_eq!(s.content.exact.matched_gold, 1, "quotes and period trimmed");
        assert_eq!(s.source.exact.matched_gold, 0);
        assert_eq!(s.source.overlap.matched_gold, 1);
        let r = s.report();
        assert_eq!(r.source.exact.f1, 0.0);
        assert_eq!(r.source.overlap.f1, 1.0);
    }
}
