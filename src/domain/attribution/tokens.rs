//! Word tokens: a run of word characters (letters, digits, `_`), or one
//! character that is neither a word character nor white space — the
//! `\w+|[^\w\s]` tokenizer the field scores attribution spans in (BBC R&D's
//! Citron with its regex tokenizer). The tagger labels these tokens, so its
//! spans start and end where the scorer's do.

use unicode_segmentation::UnicodeSegmentation;

/// Byte ranges of the tokens of `text`, in order. Text is read in grapheme
/// clusters, so that a combining mark stays with the letter it marks (the
/// scorer's `\w` splits "é" written as e + U+0301 in two; a span must not).
pub fn word_tokens(text: &str) -> Vec<(usize, usize)> {
    let mut out: Vec<(usize, usize)> = Vec::new();
    let mut in_word = false;
    for (i, g) in text.grapheme_indices(true) {
        let first = g.chars().next().unwrap_or(' ');
        if is_word(first) {
            match out.last_mut() {
                Some(last) if in_word && last.1 == i => last.1 = i + g.len(),
                _ => out.push((i, i + g.len())),
            }
            in_word = true;
        } else {
            in_word = false;
            if !first.is_whitespace() {
                out.push((i, i + g.len()));
            }
        }
    }
    out
}

pub fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Combining marks of the scripts news is written in (Latin, Greek and
/// Cyrillic accents, Hebrew and Arabic vowel marks, Devanagari signs, kana
/// voicing marks): the standard library cannot tell a character's general
/// category, and a mark must stay with the letter it marks.
pub fn is_combining_mark(c: char) -> bool {
    matches!(c,
        '\u{0300}'..='\u{036F}'
        | '\u{0483}'..='\u{0489}'
        | '\u{0591}'..='\u{05BD}'
        | '\u{05BF}' | '\u{05C1}' | '\u{05C2}' | '\u{05C4}' | '\u{05C5}' | '\u{05C7}'
        | '\u{0610}'..='\u{061A}'
        | '\u{064B}'..='\u{065F}'
        | '\u{0670}'
        | '\u{06D6}'..='\u{06DC}'
        | '\u{06DF}'..='\u{06E4}'
        | '\u{06E7}' | '\u{06E8}'
        | '\u{06EA}'..='\u{06ED}'
        | '\u{0900}'..='\u{0903}'
        | '\u{093A}'..='\u{094F}'
        | '\u{1AB0}'..='\u{1AFF}'
        | '\u{1DC0}'..='\u{1DFF}'
        | '\u{20D0}'..='\u{20FF}'
        | '\u{3099}' | '\u{309A}'
        | '\u{FE20}'..='\u{FE2F}')
}

/// The tokens a byte span covers, as `[first, end)` token indices: white
/// space trimmed, then widened to whole tokens (`None` if it covers none).
pub fn token_span(
    text: &str,
    tokens: &[(usize, usize)],
    start: usize,
    end: usize,
) -> Option<(usize, usize)> {
    let end = end.min(text.len());
    let start = start.min(end);
    let inner = text.get(start..end)?;
    let start = start + (inner.len() - inner.trim_start().len());
    let end = end - (inner.len() - inner.trim_end().len());
    if start >= end {
        return None;
    }
    let first = tokens.partition_point(|t| t.1 <= start);
    let last = tokens.partition_point(|t| t.0 < end);
    (first < last).then_some((first, last))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(s: &str) -> Vec<&str> {
        word_tokens(s).into_iter().map(|(a, b)| &s[a..b]).collect()
    }

    #[test]
    fn words_and_single_marks_in_any_script() {
        assert_eq!(
            texts("“We’ll see,” he said."),
            ["“", "We", "’", "ll", "see", ",", "”", "he", "said", "."]
        );
        assert_eq!(
            texts("岸田首相は「合意しない」と述べた。"),
            ["岸田首相は", "「", "合意しない", "」", "と述べた", "。"]
        );
        assert_eq!(
            texts("قال الوزير: «لن نوافق»"),
            ["قال", "الوزير", ":", "«", "لن", "نوافق", "»"]
        );
        assert_eq!(texts("Ο υπουργός είπε"), ["Ο", "υπουργός", "είπε"]);
        // e + U+0301: one word, as the reader sees it.
        assert_eq!(texts("Jose\u{301} said"), ["Jose\u{301}", "said"]);
    }

    #[test]
    fn a_span_is_trimmed_and_widened_to_whole_tokens() {
        let s = "He said: yes, indeed.";
        let t = word_tokens(s);
        // " said: y" → "said", ":", "yes"
        assert_eq!(token_span(s, &t, 2, 10), Some((1, 4)));
        assert_eq!(token_span(s, &t, 2, 3), None);
        assert_eq!(token_span(s, &t, 0, 100), Some((0, t.len())));
    }
}
