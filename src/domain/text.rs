//! Text as people write it, in any script: the stored form of names, the keys
//! two spellings of one name share, and the words search matches.
//!
//! Everything here is computed in Rust with the Unicode data compiled into
//! the binary (ICU4X), never by the database: a server initialised in the C
//! locale lowercases ASCII only and sees no letters outside it, so `lower()`,
//! `ILIKE`, `[[:alnum:]]` and PostgreSQL's own text-search parsing would give
//! different answers on different servers. The database only compares the
//! strings made here, byte for byte.

use std::borrow::Cow;

use icu_casemap::CaseMapper;
use icu_normalizer::{ComposingNormalizerBorrowed, DecomposingNormalizerBorrowed};
use icu_properties::props::{DefaultIgnorableCodePoint, GeneralCategory, Script};
use icu_properties::script::ScriptWithExtensions;
use icu_properties::{CodePointMapData, CodePointSetData};
use unicode_segmentation::UnicodeSegmentation;

const ZERO_WIDTH_NON_JOINER: char = '\u{200C}';
const ZERO_WIDTH_JOINER: char = '\u{200D}';
const COMBINING_DOT_ABOVE: char = '\u{0307}';

/// The stored form of a name, title, role or alias: NFC, white space
/// (including no-break and ideographic spaces) trimmed and collapsed to one
/// space, invisible format characters (zero-width space, soft hyphen, byte
/// order mark, bidirectional controls) and control characters removed.
/// Zero-width joiners and non-joiners are kept inside a word: Persian and
/// Indic names and emoji sequences need them.
pub fn clean_name(raw: &str) -> String {
    let nfc = ComposingNormalizerBorrowed::new_nfc().normalize(raw);
    let category = CodePointMapData::<GeneralCategory>::new();
    let mut out = String::with_capacity(nfc.len());
    let mut pending_space = false;
    for c in nfc.chars() {
        if c.is_whitespace() {
            pending_space = !out.is_empty();
            continue;
        }
        let joiner = c == ZERO_WIDTH_JOINER || c == ZERO_WIDTH_NON_JOINER;
        match category.get(c) {
            GeneralCategory::Format if !joiner => continue,
            GeneralCategory::Control => continue,
            _ => {}
        }
        if pending_space {
            out.push(' ');
            pending_space = false;
        }
        out.push(c);
    }
    // A joiner joins two letters; at either end of a word it joins nothing.
    let mut cleaned = String::with_capacity(out.len());
    for word in out.split(' ') {
        let word = word.trim_matches([ZERO_WIDTH_JOINER, ZERO_WIDTH_NON_JOINER]);
        if !word.is_empty() {
            if !cleaned.is_empty() {
                cleaned.push(' ');
            }
            cleaned.push_str(word);
        }
    }
    cleaned
}

/// The key under which two spellings of one text are the same: Unicode's
/// compatibility caseless match (NFKD of the case folding of the NFKD of the
/// case folding of NFD), so that "ÉLODIE", "élodie", the decomposed "é" and
/// fullwidth "ｅ" agree, and "STRASSE" matches "straße". On top of it:
/// - default-ignorable characters (zero-width space and joiners, soft
///   hyphen, variation selectors) are dropped;
/// - the Turkish dotted and dotless i are one letter ("IŞIK", "Işık" and
///   "işik" agree; "İstanbul" and "istanbul" too): language-neutral case
///   folding keeps them apart, and a newsroom types names both ways;
/// - typographic apostrophes, quotation marks and dashes become their ASCII
///   forms ("O’Brien" is "O'Brien");
/// - white space is trimmed and collapsed to one space.
///
/// Accents stay: "Jose" does not match "José". The key is returned in NFC.
pub fn match_key(text: &str) -> String {
    let nfd = DecomposingNormalizerBorrowed::new_nfd();
    let nfkd = DecomposingNormalizerBorrowed::new_nfkd();
    let fold = CaseMapper::new();
    let once = nfkd
        .normalize(&fold.fold_string(&nfd.normalize(text)))
        .into_owned();
    let twice = nfkd.normalize(&fold.fold_string(&once)).into_owned();

    let ignorable = CodePointSetData::new::<DefaultIgnorableCodePoint>();
    let mut out = String::with_capacity(twice.len());
    let mut pending_space = false;
    let mut previous = '\0';
    for c in twice.chars() {
        if ignorable.contains(c) {
            continue;
        }
        if c.is_whitespace() {
            pending_space = !out.is_empty();
            continue;
        }
        // Folding "İ" gives "i" + combining dot above: drop the dot.
        if c == COMBINING_DOT_ABOVE && previous == 'i' {
            continue;
        }
        let c = match c {
            'ı' => 'i',
            '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}' | '\u{2032}' | '\u{02BC}'
            | '\u{00B4}' | '\u{0060}' => '\'',
            '\u{201C}' | '\u{201D}' | '\u{201E}' | '\u{201F}' | '\u{2033}' | '\u{00AB}'
            | '\u{00BB}' => '"',
            '\u{2010}'..='\u{2015}' | '\u{2212}' => '-',
            other => other,
        };
        if pending_space {
            out.push(' ');
            pending_space = false;
        }
        out.push(c);
        previous = c;
    }
    ComposingNormalizerBorrowed::new_nfc()
        .normalize(&out)
        .into_owned()
}

/// The words of `text` as search matches them, space-separated: every word
/// (Unicode word boundaries, UAX #29) that holds a letter or digit, as its
/// [`match_key`]. Chinese and Japanese are written without spaces, and
/// Korean attaches particles to words, so a run of Han, Hiragana, Katakana
/// or Hangul becomes its overlapping pairs of characters ("北朝鮮" → "北朝
/// 朝鮮"), the usual way to index those scripts without a dictionary; a
/// lone character stays as it is.
///
/// The result is what the database indexes (`to_tsvector` of it), so every
/// server splits and matches the same words whatever its locale.
pub fn search_document(text: &str) -> String {
    let mut out = String::new();
    for piece in search_pieces(&match_key(text)) {
        if let Piece::Term(term) = piece {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(&term);
        }
    }
    out
}

/// A web-search style query (`"exact phrase"`, `-excluded`, `or`) with its
/// words made into the terms of [`search_document`], its operators kept, for
/// `websearch_to_tsquery`.
pub fn search_query(query: &str) -> String {
    let mut out = String::new();
    let mut at_word_start = true;
    for piece in search_pieces(&match_key(query)) {
        match piece {
            Piece::Term(term) => {
                out.push_str(&term);
                at_word_start = false;
            }
            Piece::Quote => {
                out.push('"');
                at_word_start = true;
            }
            Piece::Minus if at_word_start => out.push('-'),
            // Inside a word ("well-known") a hyphen separates, as in documents.
            Piece::Minus => {
                out.push(' ');
                at_word_start = true;
            }
            Piece::Space => {
                out.push(' ');
                at_word_start = true;
            }
        }
    }
    out.trim().to_owned()
}

enum Piece {
    Term(String),
    Quote,
    Minus,
    Space,
}

/// Splits key text into terms and the few characters a query gives meaning.
fn search_pieces(key: &str) -> Vec<Piece> {
    let mut pieces = Vec::new();
    let mut run = String::new();
    let flush_run = |run: &mut String, pieces: &mut Vec<Piece>| {
        if run.is_empty() {
            return;
        }
        let chars: Vec<char> = run.chars().collect();
        if chars.len() == 1 {
            pieces.push(Piece::Term(run.clone()));
        } else {
            for (i, pair) in chars.windows(2).enumerate() {
                if i > 0 {
                    pieces.push(Piece::Space);
                }
                pieces.push(Piece::Term(pair.iter().collect()));
            }
        }
        run.clear();
    };
    for segment in key.split_word_bounds() {
        if segment.chars().all(is_written_without_spaces) {
            run.push_str(segment);
            continue;
        }
        flush_run(&mut run, &mut pieces);
        if segment.chars().any(char::is_alphanumeric) {
            pieces.push(Piece::Term(segment.to_owned()));
        } else if segment == "\"" {
            pieces.push(Piece::Quote);
        } else if segment == "-" {
            pieces.push(Piece::Minus);
        } else {
            pieces.push(Piece::Space);
        }
    }
    flush_run(&mut run, &mut pieces);
    pieces
}

/// A letter of Han, Hiragana, Katakana or Hangul (by script extension, so
/// that the prolonged sound mark "ー" and the iteration mark "々" count).
fn is_written_without_spaces(c: char) -> bool {
    if !c.is_alphanumeric() {
        return false;
    }
    let scripts = ScriptWithExtensions::new();
    [
        Script::Han,
        Script::Hiragana,
        Script::Katakana,
        Script::Hangul,
    ]
    .into_iter()
    .any(|s| scripts.has_script(c, s))
}

/// `text` with every letter lowercased by Unicode's rules (not the server's
/// locale), for slugs: "Ελληνικά" → "ελληνικά", "STRASSE" stays "strasse"
/// and "straße" stays "straße".
pub fn lowercase(text: &str) -> Cow<'_, str> {
    if text.chars().any(char::is_uppercase) {
        Cow::Owned(text.to_lowercase())
    } else {
        Cow::Borrowed(text)
    }
}

/// Whether `c` is a combining mark (general category M): vowel signs of
/// Indic scripts, Arabic harakat, accents left combining after NFC. Slugs
/// keep them with the letter they belong to.
pub fn is_mark(c: char) -> bool {
    matches!(
        CodePointMapData::<GeneralCategory>::new().get(c),
        GeneralCategory::NonspacingMark
            | GeneralCategory::SpacingMark
            | GeneralCategory::EnclosingMark
    )
}

/// Whether `text` is in Unicode Normalization Form C.
pub fn is_nfc(text: &str) -> bool {
    ComposingNormalizerBorrowed::new_nfc().is_normalized(text)
}

/// `text` in Unicode Normalization Form C.
pub fn nfc(text: &str) -> Cow<'_, str> {
    ComposingNormalizerBorrowed::new_nfc().normalize(text)
}

/// The code points `[start, end)` of `text` (spans count code points).
pub fn char_slice(text: &str, start: usize, end: usize) -> &str {
    let from = byte_offset(text, start);
    let to = if end > start {
        from + byte_offset(&text[from..], end - start)
    } else {
        from
    };
    &text[from..to]
}

/// The byte offset of code point `chars` of `text` (its length when past
/// the end).
pub fn byte_offset(text: &str, chars: usize) -> usize {
    text.char_indices()
        .nth(chars)
        .map_or(text.len(), |(i, _)| i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_stored_composed_and_without_invisible_characters() {
        let decomposed = "Jose\u{301} Nu\u{301}n\u{303}ez";
        assert_eq!(clean_name(decomposed), "José Núñez");
        assert_eq!(clean_name("José Núñez\u{a0}"), "José Núñez");
        assert_eq!(clean_name("José\u{200b} Núñez"), "José Núñez");
        assert_eq!(
            clean_name("\u{feff}  José \t\n Núñez \u{3000}"),
            "José Núñez"
        );
        assert_eq!(clean_name("Sha\u{ad}ron"), "Sharon");
        assert_eq!(clean_name("\u{202b}محمد\u{202c}"), "محمد");
        assert_eq!(clean_name("\u{200b}"), "");
    }

    #[test]
    fn joiners_inside_a_word_are_kept() {
        // Persian: the non-joiner is part of the spelling.
        assert_eq!(clean_name("می\u{200c}خواهم"), "می\u{200c}خواهم");
        assert_eq!(clean_name("\u{200d}Ali\u{200c}"), "Ali");
    }

    #[test]
    fn fullwidth_letters_are_kept_as_written() {
        assert_eq!(clean_name("ＡＢＣ"), "ＡＢＣ");
    }

    #[test]
    fn keys_ignore_case_in_every_script() {
        assert_eq!(match_key("ÉLODIE DURAND"), match_key("élodie durand"));
        assert_eq!(match_key("ΕΛΛΗΝΙΚΆ"), match_key("ελληνικά"));
        // Final sigma folds like any sigma.
        assert_eq!(match_key("ΟΔΥΣΣΕΥΣ"), match_key("οδυσσευς"));
        assert_eq!(match_key("STRASSE"), match_key("straße"));
        assert_eq!(match_key("ЁЛКА"), match_key("ёлка"));
    }

    #[test]
    fn keys_ignore_normalization_width_and_invisible_characters() {
        let composed = match_key("José Núñez");
        assert_eq!(match_key("Jose\u{301} Nu\u{301}n\u{303}ez"), composed);
        assert_eq!(match_key("José\u{200b} Núñez\u{a0}"), composed);
        assert_eq!(match_key("José  Núñez"), composed);
        assert_eq!(match_key("ＩＢＭ"), match_key("ibm"));
        assert!(is_nfc(&composed));
    }

    #[test]
    fn keys_keep_accents_and_scripts_apart() {
        assert_ne!(match_key("José"), match_key("Jose"));
        assert_ne!(match_key("日本"), match_key("日木"));
    }

    #[test]
    fn turkish_dotted_and_dotless_i_are_one_letter_in_keys() {
        assert_eq!(match_key("IŞIK"), match_key("Işık"));
        assert_eq!(match_key("İstanbul"), match_key("istanbul"));
        assert_eq!(match_key("İSTANBUL"), match_key("ıstanbul"));
    }

    #[test]
    fn typographic_punctuation_matches_its_ascii_form() {
        assert_eq!(match_key("O’Brien"), match_key("O'Brien"));
        assert_eq!(match_key("“hello”"), match_key("\"hello\""));
        assert_eq!(match_key("Jean–Pierre"), match_key("jean-pierre"));
    }

    #[test]
    fn search_documents_fold_case_and_split_words() {
        assert_eq!(
            search_document("ÉCOLE Publique, 2026!"),
            "école publique 2026"
        );
        assert_eq!(search_document("Ὀδυσσεύς"), search_document("ὀδυσσεύς"));
        assert_eq!(search_document("مرحبا بالعالم"), "مرحبا بالعالم");
        assert_eq!(search_document("???"), "");
    }

    #[test]
    fn scripts_without_spaces_are_indexed_by_pairs() {
        assert_eq!(search_document("日本・北朝鮮"), "日本 北朝 朝鮮");
        assert_eq!(
            search_document("政府は北朝鮮と接触した"),
            "政府 府は は北 北朝 朝鮮 鮮と と接 接触 触し した"
        );
        assert_eq!(search_document("コーヒー"), "コー ーヒ ヒー");
        assert_eq!(search_document("北"), "北");
        // A query for a word inside the run finds its pairs in the document.
        let doc = search_document("政府は北朝鮮と接触した");
        for term in search_query("北朝鮮").split(' ') {
            assert!(doc.split(' ').any(|t| t == term), "{term}");
        }
    }

    #[test]
    fn queries_keep_their_operators() {
        assert_eq!(search_query("ÉCOLE -Lycée"), "école -lycée");
        assert_eq!(
            search_query("“Exact Phrase” or Other"),
            "\"exact phrase\" or other"
        );
        assert_eq!(search_query("well-known"), "well known");
        assert_eq!(search_query("  "), "");
    }

    #[test]
    fn slugs_lowercase_by_unicode_rules() {
        assert_eq!(lowercase("Ελληνικά"), "ελληνικά");
        assert_eq!(lowercase("CAFÉ"), "café");
        assert_eq!(lowercase("straße"), "straße");
        assert!(is_mark('\u{094D}'));
        assert!(is_mark('\u{064E}'));
        assert!(!is_mark('a'));
    }
}
