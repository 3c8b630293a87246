//! Hedge cues and the confidence they suggest.
//!
//! A claim put firmly ("the government has officially identified 17
//! citizens") keeps confidence 1. Each hedge in or around it lowers the
//! confidence by its weight: `confidence = Π (1 − weight)`, rounded to two
//! decimals. Hearsay markers ("reportedly", "allegedly") weigh most, then
//! epistemic verbs and adverbs ("suspects", "apparently", "may"), and an
//! anonymous source counts as a hedge ("sources said"). Boosters such as
//! "officially" or "confirmed" are not hedges and lower nothing.

use super::text::{Token, TokenKind};

/// One hedge cue: its byte range in the body, its words, its weight.
#[derive(Debug, Clone, PartialEq)]
pub struct HedgeCue {
    pub bytes: (usize, usize),
    pub text: String,
    pub weight: f64,
}

/// Single-word hedges and their weights.
const HEDGES: &[(&str, f64)] = &[
    // Hearsay: the writer does not vouch for it.
    ("reportedly", 0.3),
    ("allegedly", 0.3),
    ("purportedly", 0.3),
    ("supposedly", 0.3),
    ("rumored", 0.3),
    ("rumoured", 0.3),
    ("unconfirmed", 0.3),
    ("unverified", 0.3),
    // Epistemic: the speaker is unsure or inferring.
    ("apparently", 0.2),
    ("seemingly", 0.2),
    ("suspects", 0.2),
    ("suspected", 0.2),
    ("suspect", 0.2),
    ("implying", 0.2),
    ("implied", 0.2),
    ("implies", 0.2),
    ("believed", 0.15),
    ("believes", 0.15),
    ("speculated", 0.25),
    ("speculation", 0.25),
    ("possibly", 0.2),
    ("perhaps", 0.2),
    ("maybe", 0.2),
    ("probably", 0.15),
    ("likely", 0.15),
    ("unlikely", 0.15),
    ("appears", 0.15),
    ("appeared", 0.15),
    ("seems", 0.15),
    ("seemed", 0.15),
    ("suggests", 0.15),
    ("suggested", 0.15),
    ("claimed", 0.15),
    ("claims", 0.15),
    ("alleged", 0.2),
    ("alleges", 0.2),
    ("estimated", 0.1),
    ("may", 0.15),
    ("might", 0.2),
    ("could", 0.15),
];

/// Weight of an anonymous source ("sources said"), a hedge reported with its words.
pub const ANONYMOUS_SOURCE_WEIGHT: f64 = 0.2;

/// The hedge cues among `toks` within the byte range `within`.
pub fn find(body: &str, toks: &[Token], within: (usize, usize)) -> Vec<HedgeCue> {
    // Tokens are in order: look only at those in range, so that a sentence
    // holding many relations is not read once per relation.
    let first = toks.partition_point(|t| t.start < within.0);
    toks[first..]
        .iter()
        .take_while(|t| t.start < within.1)
        .filter(|t| t.kind == TokenKind::Word && t.end <= within.1)
        .filter_map(|t| {
            let lower = t.lower(body);
            // "May" capitalised mid-sentence is the month.
            if lower == "may" && t.text(body) == "May" {
                return None;
            }
            HEDGES
                .iter()
                .find(|(w, _)| *w == lower)
                .map(|&(_, weight)| HedgeCue {
                    bytes: (t.start, t.end),
                    text: t.text(body).to_owned(),
                    weight,
                })
        })
        .collect()
}

/// The confidence the weights suggest, in [0.05, 1], two decimals.
pub fn confidence(weights: impl IntoIterator<Item = f64>) -> f64 {
    let c = weights.into_iter().fold(1.0, |c, w| c * (1.0 - w));
    (c.max(0.05) * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::attribution::text;

    fn hedges(s: &str) -> Vec<String> {
        let sent = &text::sentences(s)[0];
        find(s, &sent.tokens, (0, s.len()))
            .into_iter()
            .map(|h| h.text)
            .collect()
    }

    #[test]
    fn hedges_are_found_and_boosters_are_not() {
        assert_eq!(
            hedges("He apparently suspects the ferry was reportedly overloaded."),
            ["apparently", "suspects", "reportedly"]
        );
        assert!(hedges("The government has officially identified 17 citizens.").is_empty());
        assert!(hedges("It happened in May.").is_empty());
        assert_eq!(hedges("Prices may rise."), ["may"]);
    }

    #[test]
    fn confidence_multiplies_the_weights() {
        assert_eq!(confidence([]), 1.0);
        assert_eq!(confidence([0.2]), 0.8);
        assert_eq!(confidence([0.3, ANONYMOUS_SOURCE_WEIGHT]), 0.56);
        assert_eq!(confidence([0.3; 20]), 0.05);
    }
}
