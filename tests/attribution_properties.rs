//! The extractor never panics and keeps its spans inside the body, on any
//! text: news words and cue phrases mixed with quotation marks, dashes,
//! datelines, multi-byte letters and emoji.

use chrono::{DateTime, Utc};
use claimtrail::domain::attribution::{extract, propose};
use proptest::prelude::*;

fn text() -> impl Strategy<Value = String> {
    let token = prop_oneof![
        "[a-z]{1,8}",
        "[A-Z][a-z]{1,6}",
        Just(" said ".to_owned()),
        Just(" told ".to_owned()),
        Just("according to ".to_owned()),
        Just(" has said that ".to_owned()),
        Just(" he ".to_owned()),
        Just("officials ".to_owned()),
        Just("Friday ".to_owned()),
        Just("in March and May ".to_owned()),
        Just("reportedly ".to_owned()),
        Just("MERIDA, Nov. 27 (Wire) ".to_owned()),
        Just(" -- ".to_owned()),
        Just(" — ".to_owned()),
        Just("–".to_owned()),
        Just(", ".to_owned()),
        Just(". ".to_owned()),
        Just(": ".to_owned()),
        Just("\n\n".to_owned()),
        Just("\"".to_owned()),
        Just("\u{201c}".to_owned()),
        Just("\u{201d}".to_owned()),
        Just("\u{2019}".to_owned()),
        Just("(".to_owned()),
        Just(")".to_owned()),
        Just("Tōkyō".to_owned()),
        Just("東京".to_owned()),
        Just("🙂".to_owned()),
        Just("e\u{301}".to_owned()),
    ];
    proptest::collection::vec(token, 0..60).prop_map(|t| t.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn spans_stay_inside_the_body_and_nothing_panics(body in text()) {
        let chars = body.chars().count();
        for a in extract(&body) {
            prop_assert!(a.cue.start < a.cue.end && a.cue.end <= chars);
            // A cue whose content the model did not find has an empty one.
            if a.contents.is_empty() {
                prop_assert!(a.content.start == a.content.end && a.content.end <= chars);
            } else {
                prop_assert!(a.content.start < a.content.end && a.content.end <= chars);
            }
            if let Some(s) = a.source {
                prop_assert!(s.start < s.end && s.end <= chars);
            }
            for piece in a.sources.iter().chain(&a.contents) {
                prop_assert!(piece.start < piece.end && piece.end <= chars);
            }
            // Pieces lie in text order, within the extent they make up.
            for (pieces, extent) in [(&a.contents, Some(a.content)), (&a.sources, a.source)] {
                if let (Some(first), Some(last), Some(extent)) = (pieces.first(), pieces.last(), extent) {
                    prop_assert_eq!((first.start, last.end), (extent.start, extent.end));
                }
                prop_assert!(pieces.windows(2).all(|w| w[0].end <= w[1].start));
            }
            if let Some(p) = a.confidence {
                prop_assert!(p > 0.0 && p < 1.0, "{}", p);
            }
        }
        let published: DateTime<Utc> = "2026-11-27T15:00:00Z".parse().unwrap();
        for p in propose(&body, published) {
            prop_assert!((0.05..=1.0).contains(&p.confidence));
            prop_assert!(p.claim_text.chars().any(char::is_alphanumeric), "{:?}", p.claim_text);
            if let Some(w) = p.when {
                prop_assert!(w.start < w.end);
            }
        }
    }
}
