//! Sentences and tokens with byte offsets, and byte → character offsets.

use super::Span;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    Word,
    Punct,
}

#[derive(Debug, Clone, Copy)]
pub struct Token {
    pub start: usize,
    pub end: usize,
    pub kind: TokenKind,
}

impl Token {
    pub fn text<'a>(&self, body: &'a str) -> &'a str {
        &body[self.start..self.end]
    }

    pub fn lower(&self, body: &str) -> String {
        self.text(body).to_lowercase()
    }
}

#[derive(Debug)]
pub struct Sentence {
    pub start: usize,
    pub end: usize,
    pub tokens: Vec<Token>,
    /// Byte ranges of quotations inside the sentence (marks included).
    pub quoted: Vec<(usize, usize)>,
    /// The token of the first "according to", found once per sentence.
    pub according_to: Option<usize>,
}

/// Byte offsets to character offsets.
pub struct CharIndex {
    starts: Vec<u32>,
    len: usize,
}

impl CharIndex {
    pub fn new(body: &str) -> Self {
        CharIndex {
            starts: body.char_indices().map(|(i, _)| i as u32).collect(),
            len: body.len(),
        }
    }

    fn char_of(&self, byte: usize) -> usize {
        if byte >= self.len {
            return self.starts.len();
        }
        self.starts.partition_point(|&b| (b as usize) < byte)
    }

    pub fn span(&self, start: usize, end: usize) -> Span {
        Span {
            start: self.char_of(start),
            end: self.char_of(end),
        }
    }
}

/// Abbreviations whose period does not end a sentence.
const ABBREVIATIONS: &[&str] = &[
    "mr", "mrs", "ms", "dr", "sen", "rep", "gov", "gen", "lt", "col", "sgt", "st", "jr", "sr",
    "inc", "corp", "co", "ltd", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sept", "sep",
    "oct", "nov", "dec", "no", "vs", "prof", "rev", "ft", "mt", "u.s", "u.n", "d.c", "a.m", "p.m",
    "e.g", "i.e", "sens", "reps", "govs", "pres", "supt", "capt", "adm", "cmdr",
];

fn is_open_quote(c: char) -> bool {
    matches!(c, '“' | '‘')
}

fn is_close_quote(c: char) -> bool {
    matches!(c, '”' | '’')
}

/// Cuts the body into sentences: at `.`, `!` or `?` followed by a space and a
/// capital, digit or opening quote, unless the word is an abbreviation or an
/// initial, and never inside a quotation (a quotation ends at its paragraph
/// at the latest). Paragraphs (lines) always end a sentence.
pub fn sentences(body: &str) -> Vec<Sentence> {
    let mut out = Vec::new();
    let mut line_start = 0;
    for line in body.split_inclusive('\n') {
        let line_end = line_start + line.len();
        split_paragraph(body, line_start, line_end, &mut out);
        line_start = line_end;
    }
    out
}

fn split_paragraph(body: &str, start: usize, end: usize, out: &mut Vec<Sentence>) {
    let text = &body[start..end];
    let chars: Vec<(usize, char)> = text.char_indices().map(|(i, c)| (start + i, c)).collect();
    let mut sentence_start = start;
    let mut depth = 0usize;
    let mut straight_open = false;
    for (k, &(at, c)) in chars.iter().enumerate() {
        match c {
            '“' => depth += 1,
            '”' => depth = depth.saturating_sub(1),
            '"' => straight_open = !straight_open,
            _ => {}
        }
        let in_quote = depth > 0 || straight_open;
        let ends_here = match c {
            '.' | '!' | '?' => !in_quote && !abbreviation_before(body, sentence_start, at),
            '”' | '"' => {
                !in_quote
                    && k > 0
                    && matches!(chars[k - 1].1, '.' | '!' | '?' | ',')
                    && chars[k - 1].1 != ','
            }
            _ => false,
        };
        if !ends_here {
            continue;
        }
        // The next non-space character must start a new sentence.
        let mut j = k + 1;
        while j < chars.len() && matches!(chars[j].1, '”' | '"' | '’' | ')') {
            j += 1;
        }
        let boundary = if j < chars.len() { chars[j].0 } else { end };
        let mut n = j;
        while n < chars.len() && chars[n].1.is_whitespace() {
            n += 1;
        }
        if n == j && n < chars.len() {
            continue; // no space after the period: "U.S.", "3.5"
        }
        let starts_new = n >= chars.len()
            || chars[n].1.is_uppercase()
            || chars[n].1.is_ascii_digit()
            || is_open_quote(chars[n].1)
            || chars[n].1 == '"';
        if starts_new {
            push_sentence(body, sentence_start, boundary, out);
            sentence_start = boundary;
        }
    }
    push_sentence(body, sentence_start, end, out);
}

fn abbreviation_before(body: &str, from: usize, dot: usize) -> bool {
    let before = &body[from..dot];
    let word: String = before
        .chars()
        .rev()
        .take_while(|c| c.is_alphanumeric() || *c == '.')
        .collect::<Vec<char>>()
        .into_iter()
        .rev()
        .collect();
    if word.chars().count() == 1 && word.chars().all(char::is_uppercase) {
        return true; // an initial: "John F. Kennedy"
    }
    ABBREVIATIONS.contains(&word.to_lowercase().as_str())
}

fn push_sentence(body: &str, start: usize, end: usize, out: &mut Vec<Sentence>) {
    let raw = &body[start..end];
    let lead = raw.len() - raw.trim_start().len();
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return;
    }
    let start = start + lead;
    let end = start + trimmed.len();
    let (tokens, quoted) = tokenize(body, start, end);
    if tokens.is_empty() {
        return;
    }
    let according_to = tokens.windows(2).position(|w| {
        w[0].text(body).eq_ignore_ascii_case("according")
            && w[1].text(body).eq_ignore_ascii_case("to")
    });
    out.push(Sentence {
        start,
        end,
        tokens,
        quoted,
        according_to,
    });
}

/// A letter or digit, or a combining mark that belongs to the one before
/// ("José" written as e + U+0301 is one word).
fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || super::tokens::is_combining_mark(c)
}

fn tokenize(body: &str, start: usize, end: usize) -> (Vec<Token>, Vec<(usize, usize)>) {
    let text = &body[start..end];
    let chars: Vec<(usize, char)> = text.char_indices().map(|(i, c)| (start + i, c)).collect();
    let mut tokens = Vec::new();
    let mut quoted = Vec::new();
    let mut open: Option<usize> = None;
    let mut straight: Option<usize> = None;
    let mut k = 0;
    while k < chars.len() {
        let (at, c) = chars[k];
        if c.is_whitespace() {
            k += 1;
            continue;
        }
        if is_word_char(c) {
            let mut j = k + 1;
            while j < chars.len() {
                let c2 = chars[j].1;
                let joins = matches!(c2, '’' | '\'' | '-' | '.')
                    && j + 1 < chars.len()
                    && is_word_char(chars[j + 1].1);
                if is_word_char(c2) || joins {
                    j += 1;
                } else {
                    break;
                }
            }
            let mut e = if j < chars.len() { chars[j].0 } else { end };
            // "Mr." and "F." keep their period: it belongs to the name.
            if j < chars.len() && chars[j].1 == '.' {
                let word = &body[at..e];
                let initial = word.chars().count() == 1 && word.chars().all(char::is_uppercase);
                if initial || ABBREVIATIONS.contains(&word.to_lowercase().as_str()) {
                    j += 1;
                    e = if j < chars.len() { chars[j].0 } else { end };
                }
            }
            tokens.push(Token {
                start: at,
                end: e,
                kind: TokenKind::Word,
            });
            k = j;
            continue;
        }
        let e = if k + 1 < chars.len() {
            chars[k + 1].0
        } else {
            end
        };
        if is_open_quote(c) && c == '“' {
            open = Some(at);
        } else if is_close_quote(c) && c == '”' {
            if let Some(s) = open.take() {
                quoted.push((s, e));
            }
        } else if c == '"' {
            match straight.take() {
                Some(s) => quoted.push((s, e)),
                None => straight = Some(at),
            }
        }
        tokens.push(Token {
            start: at,
            end: e,
            kind: TokenKind::Punct,
        });
        k += 1;
    }
    // A quotation still open at the end of the sentence runs to its end.
    if let Some(s) = open.or(straight) {
        quoted.push((s, end));
    }
    (tokens, quoted)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(body: &str) -> Vec<&str> {
        sentences(body)
            .iter()
            .map(|s| &body[s.start..s.end])
            .collect()
    }

    #[test]
    fn sentences_skip_abbreviations_initials_and_quotations() {
        assert_eq!(
            texts("Sen. John F. Kennedy spoke in the U.S. on Friday. He left."),
            vec![
                "Sen. John F. Kennedy spoke in the U.S. on Friday.",
                "He left."
            ]
        );
        assert_eq!(
            texts("“It is over. We lost,” she said. Then she left.\nNew paragraph"),
            vec![
                "“It is over. We lost,” she said.",
                "Then she left.",
                "New paragraph"
            ]
        );
    }

    #[test]
    fn titles_and_initials_keep_their_period() {
        let body = "Mr. John F. Kennedy said so.";
        let sentence = &sentences(body)[0];
        let words: Vec<&str> = sentence.tokens.iter().map(|t| t.text(body)).collect();
        assert_eq!(words, ["Mr.", "John", "F.", "Kennedy", "said", "so", "."]);
    }

    #[test]
    fn character_offsets_count_code_points() {
        let body = "Zürich “ok”";
        let index = CharIndex::new(body);
        let quote = body.find('“').unwrap();
        assert_eq!(index.span(quote, body.len()), Span { start: 7, end: 11 });
    }
}
