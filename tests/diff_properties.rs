//! Diff operations rebuild the target text exactly, for any edit.

use claimtrail::domain::diff::{Alignment, Carried, DEFAULT_TIMEOUT, apply_ops};
use proptest::prelude::*;

/// Text made of words, whitespace of every kind, punctuation and non-ASCII
/// letters (accents, CJK, emoji), including empty and whitespace-only text.
fn text() -> impl Strategy<Value = String> {
    let token = prop_oneof![
        "[a-z]{1,8}",
        Just(" ".to_owned()),
        Just("  ".to_owned()),
        Just("\n".to_owned()),
        Just("\t".to_owned()),
        Just(". ".to_owned()),
        Just(", ".to_owned()),
        Just("\u{201c}".to_owned()),
        Just("\u{201d}".to_owned()),
        Just("Tōkyō".to_owned()),
        Just("東京".to_owned()),
        Just("。".to_owned()),
        Just("🙂".to_owned()),
        Just("e\u{301}".to_owned()),
    ];
    proptest::collection::vec(token, 0..40).prop_map(|t| t.concat())
}

#[derive(Debug, Clone)]
enum Edit {
    Insert(usize, String),
    Delete(usize, usize),
    Replace(usize, usize, String),
}

fn edits() -> impl Strategy<Value = Vec<Edit>> {
    let edit = prop_oneof![
        (any::<usize>(), text()).prop_map(|(at, s)| Edit::Insert(at, s)),
        (any::<usize>(), 0usize..12).prop_map(|(at, n)| Edit::Delete(at, n)),
        (any::<usize>(), 0usize..12, text()).prop_map(|(at, n, s)| Edit::Replace(at, n, s)),
    ];
    proptest::collection::vec(edit, 0..6)
}

/// Applies edits at code-point positions (taken modulo the length).
fn edit(base: &str, edits: &[Edit]) -> String {
    let mut chars: Vec<char> = base.chars().collect();
    for e in edits {
        let len = chars.len();
        match e {
            Edit::Insert(at, s) => {
                let at = at % (len + 1);
                chars.splice(at..at, s.chars());
            }
            Edit::Delete(at, n) | Edit::Replace(at, n, _) => {
                let at = at % (len + 1);
                let end = (at + n).min(len);
                let with: Vec<char> = match e {
                    Edit::Replace(_, _, s) => s.chars().collect(),
                    _ => Vec::new(),
                };
                chars.splice(at..end, with);
            }
        }
    }
    chars.into_iter().collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn word_and_sentence_ops_rebuild_the_target(base in text(), changes in edits()) {
        let target = edit(&base, &changes);
        for alignment in [
            Alignment::words(&base, &target, DEFAULT_TIMEOUT),
            Alignment::sentences(&base, &target, DEFAULT_TIMEOUT),
        ] {
            let with_text = apply_ops(&base, &alignment.ops(true));
            prop_assert_eq!(with_text.as_deref(), Ok(target.as_str()));
            let compact = apply_ops(&base, &alignment.ops(false));
            prop_assert_eq!(compact.as_deref(), Ok(target.as_str()));
        }
    }

    #[test]
    fn carried_spans_stay_inside_the_new_text(base in text(), changes in edits(), a in any::<usize>(), b in any::<usize>()) {
        let target = edit(&base, &changes);
        let len = base.chars().count();
        prop_assume!(len > 0);
        let (s, e) = { let x = a % len; let y = b % len; (x.min(y), x.max(y) + 1) };
        let alignment = Alignment::sentences(&base, &target, DEFAULT_TIMEOUT);
        let new_len = target.chars().count();
        match alignment.carry(s, e) {
            Carried::Present { start, end } => {
                let old_text: String = base.chars().skip(s).take(e - s).collect();
                let new_text: String = target.chars().skip(start).take(end - start).collect();
                prop_assert_eq!(old_text, new_text);
            }
            Carried::Altered { start, end } => prop_assert!(start < end && end <= new_len),
            Carried::Removed { at } => prop_assert!(at <= new_len),
        }
    }
}

/// Phrases that an article repeats (a caption and the body, a pull quote).
fn phrase() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("the port will reopen on Monday".to_owned()),
        Just("東京の港は月曜日に再開する".to_owned()),
        Just("Tōkyō port reopens e\u{301}t\u{e9}".to_owned()),
        Just("we will not stop, ever".to_owned()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// A span on the second copy of a repeated phrase, with its
    /// surroundings unchanged, is carried to that copy whatever happens to
    /// the first one (edited, moved, removed) and to the text before it.
    #[test]
    fn a_repeated_phrase_is_carried_to_the_copy_it_was(
        head in text(), changes in edits(), phrase in phrase(), tail in text(),
    ) {
        let context = ". Officials said that ";
        let first = format!("{head}{phrase}");
        let base = format!("{first}{context}{phrase}.{tail}");
        let s = first.chars().count() + context.chars().count();
        let e = s + phrase.chars().count();
        let edited = edit(&first, &changes);
        let target = format!("{edited}{context}{phrase}.{tail}");
        let expected = edited.chars().count() + context.chars().count();
        for alignment in [
            Alignment::sentences(&base, &target, DEFAULT_TIMEOUT),
            Alignment::words(&base, &target, DEFAULT_TIMEOUT),
        ] {
            prop_assert_eq!(
                alignment.carry_in_context(s, e, &phrase),
                Carried::Present { start: expected, end: expected + (e - s) }
            );
        }
    }
}
