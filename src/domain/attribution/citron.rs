//! Scoring with the matching rules of BBC R&D's Citron (`citron/metrics.py`),
//! the rules published attribution figures use, so that the project measures
//! what the field measures:
//!
//! - every span is snapped to word tokens (`tokens.rs`: white space trimmed,
//!   widened to whole tokens), so a span that keeps or drops a final period
//!   or a closing quotation mark is a different span;
//! - **exact cue**: a predicted relation is right if some gold relation has
//!   the same cue tokens; a gold one is found if some prediction has them;
//! - **exact source / content**: the cues overlap (Citron's test: `p.start
//!   <= g.end && p.end > g.start`, in tokens) and the lists of source
//!   (content) pieces are identical;
//! - **exact quote**: same cue, same sources, same contents;
//! - **overlap**: per document and role, the tokens predicted spans cover
//!   against those gold spans cover (precision over predicted tokens, recall
//!   over gold tokens), summed over documents.
//!
//! A relation of the corpus is one `E` line: its `Cue`, `Source` and
//! `Content` arguments (a trailing number on the role is dropped), with
//! discontinuous spans as separate pieces and the cue as one covering span;
//! relations without a cue are left out.

use std::collections::{BTreeSet, HashMap};

use serde::Serialize;

use super::Span;
use super::eval::Prf;
use super::tokens::{char_starts, token_span, word_tokens};

/// One relation, in character offsets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Quote {
    pub cue: Span,
    pub sources: Vec<Span>,
    pub contents: Vec<Span>,
}

/// The relations of one brat `.ann` file.
pub fn parse_quotes(ann: &str) -> Vec<Quote> {
    let mut spans: HashMap<&str, Vec<Span>> = HashMap::new();
    let mut events = Vec::new();
    for line in ann.lines() {
        let mut parts = line.split('\t');
        let (Some(id), Some(body)) = (parts.next(), parts.next()) else {
            continue;
        };
        if id.starts_with('T') {
            let Some((_, ranges)) = body.split_once(' ') else {
                continue;
            };
            let pieces = ranges
                .split(';')
                .filter_map(|r| {
                    let mut n = r.split_whitespace().map(str::parse::<usize>);
                    match (n.next(), n.next()) {
                        (Some(Ok(start)), Some(Ok(end))) if start < end => {
                            Some(Span { start, end })
                        }
                        _ => None,
                    }
                })
                .collect();
            spans.insert(id, pieces);
        } else if id.starts_with('E') {
            events.push(body);
        }
    }
    let mut quotes = Vec::new();
    for body in events {
        let (mut cue, mut sources, mut contents) = (Vec::new(), Vec::new(), Vec::new());
        for arg in body.split_whitespace() {
            let Some((role, target)) = arg.split_once(':') else {
                continue;
            };
            let pieces = spans.get(target).map_or(&[][..], Vec::as_slice);
            match role.trim_end_matches(|c: char| c.is_ascii_digit()) {
                "Cue" => cue.extend_from_slice(pieces),
                "Source" => sources.extend_from_slice(pieces),
                "Content" => contents.extend_from_slice(pieces),
                _ => {}
            }
        }
        let (Some(start), Some(end)) = (
            cue.iter().map(|s| s.start).min(),
            cue.iter().map(|s| s.end).max(),
        ) else {
            continue;
        };
        sources.sort();
        contents.sort();
        quotes.push(Quote {
            cue: Span { start, end },
            sources,
            contents,
        });
    }
    quotes
}

/// A relation in token indices.
#[derive(Debug, Clone, PartialEq, Eq)]
struct TokenQuote {
    cue: (usize, usize),
    sources: Vec<(usize, usize)>,
    contents: Vec<(usize, usize)>,
}

/// Tokens of a text, for snapping character spans.
struct Snapper<'a> {
    text: &'a str,
    tokens: Vec<(usize, usize)>,
    /// Byte offset of each character, and the text's length at the end.
    bytes: Vec<usize>,
}

impl<'a> Snapper<'a> {
    fn new(text: &'a str) -> Self {
        Snapper {
            text,
            tokens: word_tokens(text),
            bytes: char_starts(text),
        }
    }

    fn span(&self, s: Span) -> Option<(usize, usize)> {
        let at = |c: usize| self.bytes[c.min(self.bytes.len() - 1)];
        token_span(self.text, &self.tokens, at(s.start), at(s.end))
    }

    fn quotes(&self, quotes: &[Quote]) -> Vec<TokenQuote> {
        quotes
            .iter()
            .filter_map(|q| {
                let mut sources: Vec<_> = q.sources.iter().filter_map(|&s| self.span(s)).collect();
                let mut contents: Vec<_> =
                    q.contents.iter().filter_map(|&s| self.span(s)).collect();
                sources.sort();
                contents.sort();
                Some(TokenQuote {
                    cue: self.span(q.cue)?,
                    sources,
                    contents,
                })
            })
            .collect()
    }
}

/// Right and wrong counts for one exact rule.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Exact {
    /// Predictions that match some gold relation.
    pub true_positives: u64,
    pub false_positives: u64,
    /// Gold relations no prediction matches.
    pub false_negatives: u64,
}

impl Exact {
    pub fn prf(&self) -> Prf {
        prf(
            self.true_positives,
            self.true_positives + self.false_positives,
            self.true_positives + self.false_negatives,
        )
    }
}

/// Tokens covered by predictions, by gold, and by both.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Overlap {
    pub both: u64,
    pub predicted: u64,
    pub gold: u64,
}

impl Overlap {
    pub fn prf(&self) -> Prf {
        prf(self.both, self.predicted, self.gold)
    }
}

fn prf(hits: u64, predicted: u64, gold: u64) -> Prf {
    Prf::of(hits, predicted, hits, gold)
}

/// Counts over one or more documents.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub cue: Exact,
    pub source: Exact,
    pub content: Exact,
    pub quote: Exact,
    pub cue_overlap: Overlap,
    pub source_overlap: Overlap,
    pub content_overlap: Overlap,
    pub gold_quotes: u64,
    pub predicted_quotes: u64,
}

#[derive(Debug, Clone, Copy, Serialize)]
pub struct Report {
    pub cue_exact: Prf,
    pub cue_overlap: Prf,
    pub source_exact: Prf,
    pub source_overlap: Prf,
    pub content_exact: Prf,
    pub content_overlap: Prf,
    pub quote_exact: Prf,
    pub gold_quotes: u64,
    pub predicted_quotes: u64,
}

fn cues_overlap(p: (usize, usize), g: (usize, usize)) -> bool {
    // Citron's are_overlapping_spans: "<=", so adjacent spans count.
    p.0 <= g.1 && p.1 > g.0
}

fn exact(
    predicted: &[TokenQuote],
    gold: &[TokenQuote],
    same: impl Fn(&TokenQuote, &TokenQuote) -> bool,
) -> Exact {
    let true_positives = predicted
        .iter()
        .filter(|p| gold.iter().any(|g| same(p, g)))
        .count() as u64;
    Exact {
        true_positives,
        false_positives: predicted.len() as u64 - true_positives,
        false_negatives: gold
            .iter()
            .filter(|g| !predicted.iter().any(|p| same(p, g)))
            .count() as u64,
    }
}

fn covered<'q>(
    quotes: &'q [TokenQuote],
    pieces: impl Fn(&'q TokenQuote) -> Vec<(usize, usize)>,
) -> BTreeSet<usize> {
    quotes
        .iter()
        .flat_map(pieces)
        .flat_map(|(s, e)| s..e)
        .collect()
}

fn overlap<'q>(
    predicted: &'q [TokenQuote],
    gold: &'q [TokenQuote],
    pieces: impl Fn(&'q TokenQuote) -> Vec<(usize, usize)> + Copy,
) -> Overlap {
    let (p, g) = (covered(predicted, pieces), covered(gold, pieces));
    Overlap {
        both: p.intersection(&g).count() as u64,
        predicted: p.len() as u64,
        gold: g.len() as u64,
    }
}

impl Counts {
    /// Scores one document's predictions against its gold relations.
    pub fn document(text: &str, gold: &[Quote], predicted: &[Quote]) -> Counts {
        let snap = Snapper::new(text);
        let (g, p) = (snap.quotes(gold), snap.quotes(predicted));
        Counts {
            cue: exact(&p, &g, |p, g| p.cue == g.cue),
            source: exact(&p, &g, |p, g| {
                cues_overlap(p.cue, g.cue) && p.sources == g.sources
            }),
            content: exact(&p, &g, |p, g| {
                cues_overlap(p.cue, g.cue) && p.contents == g.contents
            }),
            quote: exact(&p, &g, |p, g| p == g),
            cue_overlap: overlap(&p, &g, |q| vec![q.cue]),
            source_overlap: overlap(&p, &g, |q| q.sources.clone()),
            content_overlap: overlap(&p, &g, |q| q.contents.clone()),
            gold_quotes: g.len() as u64,
            predicted_quotes: p.len() as u64,
        }
    }

    pub fn add(&mut self, o: &Counts) {
        for (a, b) in [
            (&mut self.cue, o.cue),
            (&mut self.source, o.source),
            (&mut self.content, o.content),
            (&mut self.quote, o.quote),
        ] {
            a.true_positives += b.true_positives;
            a.false_positives += b.false_positives;
            a.false_negatives += b.false_negatives;
        }
        for (a, b) in [
            (&mut self.cue_overlap, o.cue_overlap),
            (&mut self.source_overlap, o.source_overlap),
            (&mut self.content_overlap, o.content_overlap),
        ] {
            a.both += b.both;
            a.predicted += b.predicted;
            a.gold += b.gold;
        }
        self.gold_quotes += o.gold_quotes;
        self.predicted_quotes += o.predicted_quotes;
    }

    pub fn report(&self) -> Report {
        Report {
            cue_exact: self.cue.prf(),
            cue_overlap: self.cue_overlap.prf(),
            source_exact: self.source.prf(),
            source_overlap: self.source_overlap.prf(),
            content_exact: self.content.prf(),
            content_overlap: self.content_overlap.prf(),
            quote_exact: self.quote.prf(),
            gold_quotes: self.gold_quotes,
            predicted_quotes: self.predicted_quotes,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(text: &str, piece: &str) -> Span {
        let b = text.find(piece).unwrap();
        Span {
            start: text[..b].chars().count(),
            end: text[..b].chars().count() + piece.chars().count(),
        }
    }

    const TEXT: &str =
        "“We will never agree,” the minister said on Friday. Talks go on, aides said.";

    fn gold() -> Vec<Quote> {
        vec![
            Quote {
                cue: span(TEXT, "said on"),
                sources: vec![span(TEXT, "the minister")],
                contents: vec![span(TEXT, "“We will never agree,”")],
            },
            Quote {
                cue: span(TEXT, "said."),
                sources: vec![span(TEXT, "aides")],
                contents: vec![span(TEXT, "Talks go on")],
            },
        ]
    }

    #[test]
    fn gold_against_itself_scores_one() {
        let c = Counts::document(TEXT, &gold(), &gold());
        let r = c.report();
        for prf in [
            r.cue_exact,
            r.source_exact,
            r.content_exact,
            r.quote_exact,
            r.content_overlap,
        ] {
            assert_eq!((prf.p, prf.r), (1.0, 1.0));
        }
    }

    #[test]
    fn a_final_period_or_a_dropped_quotation_mark_is_another_span() {
        // "said on" snaps to the tokens "said", "on": the gold cue above.
        let mut predicted = gold();
        predicted[0].cue = span(TEXT, "said");
        predicted[0].contents = vec![span(TEXT, "“We will never agree,")];
        predicted[1].contents = vec![span(TEXT, "Talks go on,")];
        let c = Counts::document(TEXT, &gold(), &predicted);
        assert_eq!(c.cue.true_positives, 1, "\"said\" is not \"said on\"");
        assert_eq!(c.content.true_positives, 0);
        assert_eq!(c.source.true_positives, 2, "the cues still overlap");
        // Overlap counts tokens: all gold content tokens but the closing mark.
        assert_eq!(c.content_overlap.gold, 10);
        assert_eq!(c.content_overlap.both, 9);
        assert_eq!(c.content_overlap.predicted, 10);
    }

    #[test]
    fn white_space_is_trimmed_and_spans_widen_to_whole_tokens() {
        let mut predicted = gold();
        // " aide" (a leading space, half a word) is "aides".
        let s = span(TEXT, " aide");
        predicted[1].sources = vec![s];
        let c = Counts::document(TEXT, &gold(), &predicted);
        assert_eq!(c.source.true_positives, 2);
    }

    #[test]
    fn brat_relations_keep_their_pieces() {
        let ann = "T1\tSource 0 2\tHe\nT2\tCue 3 7\tsaid\nT3\tContent 8 12;20 25\tthis that\n\
                   E1\tAttribution:T9 Cue:T2 Source:T1 Content:T3\nE2\tAttribution:T8 Content2:T3\n";
        let q = parse_quotes(ann);
        assert_eq!(q.len(), 1, "a relation without a cue is left out");
        assert_eq!(q[0].cue, Span { start: 3, end: 7 });
        assert_eq!(
            q[0].contents,
            [Span { start: 8, end: 12 }, Span { start: 20, end: 25 }]
        );
        assert_eq!(q[0].sources, [Span { start: 0, end: 2 }]);
    }
}
