//! Is a page's text a new version of the article, or the same text in new
//! chrome? Main-content extraction already leaves out the chrome that
//! churns on every request (navigation, "updated 3 minutes ago", ad slots,
//! related links); what is left to tell apart is layout, not wording:
//! runs of spaces and line breaks, non-breaking spaces, and the same
//! letters written composed or decomposed (é as one character or as e and
//! a combining accent). The version key ignores exactly those; any other
//! difference, down to one digit or one comma, is a new version.

use icu_normalizer::ComposingNormalizerBorrowed;

/// What a fetched text is, next to the last version recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// The very same text.
    Same,
    /// The same words laid out differently: no new version.
    Cosmetic,
    /// Different words: a new version.
    Changed,
}

/// The text with its layout taken out: NFC, every run of white space
/// (Unicode's, non-breaking included) one space, no space at either end,
/// and no invisible zero-width characters.
pub fn version_key(text: &str) -> String {
    let nfc = ComposingNormalizerBorrowed::new_nfc().normalize(text);
    let mut key = String::with_capacity(nfc.len());
    let mut pending_space = false;
    for c in nfc.chars() {
        // Invisible: zero-width space, word joiner, byte-order mark.
        if matches!(c, '\u{200B}' | '\u{2060}' | '\u{FEFF}') {
            continue;
        }
        if c.is_whitespace() {
            pending_space = !key.is_empty();
            continue;
        }
        if pending_space {
            key.push(' ');
            pending_space = false;
        }
        key.push(c);
    }
    key
}

/// `new` next to `recorded`, the last version's text.
pub fn compare(recorded: &str, new: &str) -> Change {
    if recorded == new {
        Change::Same
    } else if version_key(recorded) == version_key(new) {
        Change::Cosmetic
    } else {
        Change::Changed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_is_not_a_new_version() {
        let v1 = "The ferry left at 9:40.\n\nDivers found the logbook.";
        assert_eq!(compare(v1, v1), Change::Same);
        for cosmetic in [
            "The ferry left at 9:40.\nDivers found the logbook.",
            "  The ferry  left at 9:40.\u{00A0}\n\n\n Divers found the logbook. ",
            "The fer\u{200B}ry left at 9:40. Divers found the logbook.",
        ] {
            assert_eq!(compare(v1, cosmetic), Change::Cosmetic, "{cosmetic:?}");
        }
    }

    #[test]
    fn composed_and_decomposed_letters_are_the_same_words() {
        assert_eq!(
            compare("Ο υπουργός δήλωσε", "Ο υπουργο\u{301}ς δη\u{301}λωσε"),
            Change::Cosmetic
        );
        assert_eq!(compare("café", "cafe\u{301}"), Change::Cosmetic);
    }

    #[test]
    fn any_change_of_wording_is_a_new_version() {
        let v1 = "政府は17人の市民を確認した。";
        assert_eq!(compare(v1, "政府は18人の市民を確認した。"), Change::Changed);
        assert_eq!(
            compare("about 70% of the people", "more than 70% of the people"),
            Change::Changed
        );
        assert_eq!(
            compare("said, on Friday", "said on Friday"),
            Change::Changed
        );
        assert_eq!(compare("قال الوزير", "قالت الوزيرة"), Change::Changed);
        // Words that only a space separated are still two words.
        assert_eq!(compare("a b", "ab"), Change::Changed);
    }
}
