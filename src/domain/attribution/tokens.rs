//! Word tokens: a run of word characters (letters, digits, `_`), or one
//! character that is neither a word character nor white space — the
//! `\w+|[^\w\s]` tokenizer the field scores attribution spans in (BBC R&D's
//! Citron with its regex tokenizer). The tagger labels these tokens, so its
//! spans start and end where the scorer's do.

/// Byte ranges of the tokens of `text`, in order. A combining mark, a
/// variation selector or a zero-width joiner (and what it joins) stays with
/// the character before it, so that "é" written as e + U+0301 is one word
/// and an emoji sequence one mark (the scorer's `\w` would split them; a
/// span must not).
pub fn word_tokens(text: &str) -> Vec<(usize, usize)> {
    let mut out: Vec<(usize, usize)> = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c.is_whitespace() {
            continue;
        }
        let word = is_word(c);
        let mut end = i + c.len_utf8();
        let mut joined = false;
        while let Some(&(j, d)) = chars.peek() {
            let continues = joined
                || (word && is_word(d))
                || (!d.is_ascii() && (is_combining_mark(d) || is_joiner(d)));
            if !continues {
                break;
            }
            joined = d == '\u{200D}';
            end = j + d.len_utf8();
            chars.next();
        }
        out.push((i, end));
    }
    out
}

/// Characters that belong to the one before them without being marks: the
/// zero-width joiner, variation selectors, emoji skin tones and tags.
fn is_joiner(c: char) -> bool {
    matches!(c, '\u{200D}' | '\u{FE00}'..='\u{FE0F}' | '\u{1F3FB}'..='\u{1F3FF}' | '\u{E0020}'..='\u{E007F}')
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

/// The byte offset of each character of `text`, then `text.len()`: character
/// offsets (as corpora and appearances give them) to byte offsets.
pub fn char_starts(text: &str) -> Vec<usize> {
    let mut out: Vec<usize> = text.char_indices().map(|(b, _)| b).collect();
    out.push(text.len());
    out
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
        // e + U+0301: one word, as the reader sees it; an emoji sequence
        // joined by U+200D is one mark.
        assert_eq!(texts("Jose\u{301} said"), ["Jose\u{301}", "said"]);
        assert_eq!(texts("ok 👩\u{200D}🚒!"), ["ok", "👩\u{200D}🚒", "!"]);
        assert_eq!(
            texts("\u{301}a"),
            ["\u{301}", "a"],
            "a stray mark is a mark"
        );
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
