//! Claim proposals: each attribution relation with what a reporter needs to
//! log it as a claim — the claim text, how its source reads and which
//! earlier source it refers to, its hedges and suggested confidence, and the
//! time of the statement resolved against the publication time.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::hedge::{self, ANONYMOUS_SOURCE_WEIGHT};
use super::source::{self, Link, SourceReading};
use super::text::CharIndex;
use super::time::{self, TimeMention};
use super::{Attribution, AttributionKind, relations};
use crate::domain::claim::ClaimKind;
use crate::domain::when::TimePrecision;

/// A hedge cue of a proposal. An anonymous source is a hedge too, reported
/// with its words and cue ("sources close to the matter said").
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct HedgeView {
    pub text: String,
    pub start: usize,
    pub end: usize,
    pub weight: f64,
}

/// A resolved time expression, with its character span.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ProposedTime {
    pub expression: String,
    pub start_char: usize,
    pub end_char: usize,
    pub start: DateTime<Utc>,
    /// Exclusive.
    pub end: DateTime<Utc>,
    pub precision: TimePrecision,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Proposal {
    pub attribution: Attribution,
    /// The statement as a claim: the content without "that", its enclosing
    /// quotation marks or a trailing comma.
    pub claim_text: String,
    pub claim_kind: ClaimKind,
    pub cue_text: String,
    pub content_text: String,
    pub source_text: Option<String>,
    pub source: Option<SourceReading>,
    /// The earlier proposal whose (named) source this one's refers to.
    pub source_link: Option<(usize, Link)>,
    pub hedges: Vec<HedgeView>,
    pub confidence: f64,
    /// When the statement was made: a time expression of the sentence
    /// outside the content, the one nearest the cue ("…, officials said
    /// Friday").
    pub when: Option<ProposedTime>,
    /// Times inside the content: what the claim is about, not when it was
    /// said ("contacts with North Korea this spring").
    pub content_times: Vec<ProposedTime>,
}

/// Proposes the claims of an article body published at `published`.
pub fn propose(body: &str, published: DateTime<Utc>) -> Vec<Proposal> {
    let index = CharIndex::new(body);
    let (sentences, found) = relations(body);
    // A content of punctuation alone ("that “") is nothing to log; dropped
    // before sources are linked, so that links index the proposals.
    let (found, claim_texts): (Vec<_>, Vec<_>) = found
        .into_iter()
        .map(|nf| {
            let text = claim_text_of(body, &nf.1);
            (nf, text)
        })
        .filter(|(_, text)| text.chars().any(char::is_alphanumeric))
        .unzip();
    let readings: Vec<Option<SourceReading>> = found
        .iter()
        .map(|(_, f)| f.source.map(|(s, e)| source::read(&body[s..e])))
        .collect();
    let links = source::link_sources(&readings);
    let mut times_cache: Vec<Option<Vec<TimeMention>>> = vec![None; sentences.len()];
    found
        .iter()
        .zip(claim_texts)
        .zip(readings)
        .zip(links)
        .map(|((((n, f), claim_text), reading), link)| {
            let sentence = &sentences[*n];
            let attribution = f.attribution(body, &index);
            let extent = f.extent();
            let mut hedges: Vec<HedgeView> = hedge::find(body, &sentence.tokens, extent)
                .into_iter()
                .map(|h| {
                    let span = index.span(h.bytes.0, h.bytes.1);
                    HedgeView {
                        text: h.text,
                        start: span.start,
                        end: span.end,
                        weight: h.weight,
                    }
                })
                .collect();
            if let (Some(SourceReading::Anonymous { .. }), Some(s), Some(bytes)) =
                (&reading, attribution.source, f.source)
            {
                let (lo, hi) = (
                    s.start.min(attribution.cue.start),
                    s.end.max(attribution.cue.end),
                );
                // The words themselves: "sources close to the matter said",
                // "according to a port official".
                let (blo, bhi) = (bytes.0.min(f.cue.0), bytes.1.max(f.cue.1));
                let text = if bhi - blo <= 120 {
                    body[blo..bhi].to_owned()
                } else {
                    format!("{} {}", &body[bytes.0..bytes.1], &body[f.cue.0..f.cue.1])
                };
                hedges.push(HedgeView {
                    text,
                    start: lo,
                    end: hi,
                    weight: ANONYMOUS_SOURCE_WEIGHT,
                });
                hedges.sort_by_key(|h| h.start);
            }
            let confidence = hedge::confidence(hedges.iter().map(|h| h.weight));

            let times = times_cache[*n]
                .get_or_insert_with(|| time::find(body, &sentence.tokens, published));
            let to_view = |m: &TimeMention| {
                let span = index.span(m.bytes.0, m.bytes.1);
                ProposedTime {
                    expression: m.expression.clone(),
                    start_char: span.start,
                    end_char: span.end,
                    start: m.start,
                    end: m.end,
                    precision: m.precision,
                }
            };
            let inside = |m: &TimeMention| f.content.0 <= m.bytes.0 && m.bytes.1 <= f.content.1;
            // Mentions are in text order: the nearest outside the content on
            // each side of the cue, and the ones inside it, are found without
            // reading the whole sentence once per relation.
            let at_cue = times.partition_point(|m| m.bytes.0 < f.cue.0);
            let left = times[..at_cue].iter().rev().find(|m| !inside(m));
            let right = times[at_cue..].iter().find(|m| !inside(m));
            let when = match (left, right) {
                (Some(l), Some(r)) if r.bytes.0 - f.cue.0 < f.cue.0 - l.bytes.0 => Some(r),
                (Some(l), _) => Some(l),
                (None, r) => r,
            }
            .map(to_view);
            let from = times.partition_point(|m| m.bytes.0 < f.content.0);
            let content_times = times[from..]
                .iter()
                .take_while(|m| m.bytes.0 < f.content.1)
                .filter(|m| inside(m))
                .map(to_view)
                .collect();

            Proposal {
                claim_text,
                claim_kind: match attribution.kind {
                    AttributionKind::DirectQuote => ClaimKind::DirectQuote,
                    AttributionKind::Paraphrase | AttributionKind::Mixed => ClaimKind::Paraphrase,
                },
                cue_text: body[f.cue.0..f.cue.1].to_owned(),
                content_text: body[f.content.0..f.content.1].to_owned(),
                source_text: f.source.map(|(s, e)| body[s..e].to_owned()),
                source: reading,
                source_link: link,
                hedges,
                confidence,
                when,
                content_times,
                attribution,
            }
        })
        .collect()
}

/// The claim text of a relation: its content's pieces as claim texts, one
/// after the other (“We will,” he said, “never agree.” → We will never
/// agree.).
fn claim_text_of(body: &str, f: &super::Found) -> String {
    f.pieces()
        .iter()
        .map(|&(s, e)| claim_text(&body[s..e]))
        .filter(|t| !t.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The content as a claim's text.
fn claim_text(content: &str) -> String {
    let mut t = content.trim();
    if let Some(rest) = t.strip_prefix("that ") {
        t = rest.trim_start();
    }
    t = t.trim_end_matches([',', ';', ':']).trim_end();
    let opens = |c: char| matches!(c, '“' | '"' | '‘');
    let closes = |c: char| matches!(c, '”' | '"' | '’');
    let quote_marks = t.chars().filter(|&c| matches!(c, '“' | '”' | '"')).count();
    // One quotation from end to end: drop its marks (and a comma inside them).
    if quote_marks == 2 && t.starts_with(opens) && t.ends_with(closes) {
        let inner = &t[t.chars().next().map_or(0, char::len_utf8)..];
        let inner = &inner[..inner.len() - inner.chars().last().map_or(0, char::len_utf8)];
        t = inner.trim().trim_end_matches(',').trim_end();
    } else if quote_marks == 1 && t.starts_with(opens) {
        // “We will never agree,” he said: the content stops at the comma
        // inside the quotation.
        t = t[t.chars().next().map_or(0, char::len_utf8)..].trim_start();
    }
    t.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::speaker::SpeakerKind;

    fn published() -> DateTime<Utc> {
        // A Friday.
        "2026-11-27T15:00:00Z".parse().unwrap()
    }

    #[test]
    fn a_proposal_carries_its_claim_text_source_time_and_hedges() {
        let body = "Japan engaged in several informal contacts with North Korea this spring, \
                    sources close to the matter said Friday. “We will never agree,” \
                    Prime Minister Fumio Kishida told reporters. He reportedly wants talks.";
        let got = propose(body, published());
        let first = &got[0];
        assert_eq!(
            first.claim_text,
            "Japan engaged in several informal contacts with North Korea this spring"
        );
        assert_eq!(
            first.source,
            Some(SourceReading::Anonymous {
                descriptor: "sources close to the matter".into()
            })
        );
        let when = first.when.as_ref().expect("Friday");
        assert_eq!(when.expression, "Friday");
        assert_eq!(when.start.to_rfc3339(), "2026-11-27T00:00:00+00:00");
        assert_eq!(when.precision, TimePrecision::Day);
        assert_eq!(first.content_times[0].expression, "this spring");
        assert_eq!(
            first
                .hedges
                .iter()
                .map(|h| h.text.as_str())
                .collect::<Vec<_>>(),
            ["sources close to the matter said"]
        );
        assert_eq!(first.confidence, 0.8);

        let quote = &got[1];
        assert_eq!(quote.claim_text, "We will never agree");
        assert_eq!(quote.claim_kind, ClaimKind::DirectQuote);
        assert!(matches!(
            &quote.source,
            Some(SourceReading::Named { name, kind: SpeakerKind::Person, .. }) if name == "Fumio Kishida"
        ));
        assert_eq!(quote.confidence, 1.0);
    }

    #[test]
    fn a_quotation_split_by_its_cue_is_one_claim() {
        let got = propose("“We will,” Kishida said, “never agree.”", published());
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].claim_text, "We will never agree.");
        assert_eq!(got[0].claim_kind, ClaimKind::DirectQuote);
        assert_eq!(
            got[0].content_text,
            "“We will,” Kishida said, “never agree.”"
        );
    }

    #[test]
    fn claim_text_drops_that_and_enclosing_quotes() {
        assert_eq!(
            claim_text("that the ferry was overloaded."),
            "the ferry was overloaded."
        );
        assert_eq!(claim_text("“We will,”"), "We will");
        assert_eq!(claim_text("“a” and “b”"), "“a” and “b”");
        assert_eq!(claim_text("“We will never agree"), "We will never agree");
    }
}
