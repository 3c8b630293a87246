//! What the two taggers see of each token: the word, its neighbours and
//! shape, quotation state, the paragraph's quotes, and what the rule-based
//! extractor found there; for the role tagger, all of it relative to one cue
//! (before or after it, how far, across how many sentence ends and other
//! cues). Features are FNV-1a hashes of a template number and its values, so
//! a model file is a table of 64-bit keys.

use super::super::tokens::{is_word, token_span, word_tokens};

/// A relation the rules found, in byte offsets: a hint for the taggers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RuleHint {
    pub source: Option<(usize, usize)>,
    pub cue: (usize, usize),
    pub content: (usize, usize),
}

/// A rule relation in tokens: source, cue, content.
pub type HintTokens = (
    Option<(usize, usize)>,
    (usize, usize),
    Option<(usize, usize)>,
);

/// Quotation state of a token.
const OUTSIDE: u8 = 0;
const INSIDE: u8 = 1;
const OPENS: u8 = 2;
const CLOSES: u8 = 3;

/// A body cut into tokens and paragraphs, with what the features need.
pub struct Doc {
    pub tokens: Vec<(usize, usize)>,
    lower: Vec<String>,
    shape: Vec<&'static str>,
    /// Token ranges of the paragraphs (lines).
    pub paragraphs: Vec<(usize, usize)>,
    paragraph_of: Vec<u32>,
    quote: Vec<u8>,
    sentence_end: Vec<bool>,
    /// The rules' relations in tokens: (source, cue, content).
    hints: Vec<HintTokens>,
    /// 1 on the first token of a rule cue, 2 on the others, else 0.
    hint_cue: Vec<u8>,
}

fn shape(t: &str) -> &'static str {
    let Some(first) = t.chars().next() else {
        return "e";
    };
    if first.is_numeric() {
        return "d";
    }
    if !is_word(first) {
        return match first {
            '“' | '”' | '"' | '‘' | '’' | '\'' | '«' | '»' | '「' | '」' => "q",
            ',' | '،' | '、' => ",",
            '.' | '!' | '?' | '。' | '؟' => ".",
            ':' | ';' => ":",
            '—' | '–' | '-' | '―' => "-",
            '(' | ')' | '[' | ']' => "(",
            _ => "p",
        };
    }
    if first.is_uppercase() {
        if t.chars().count() > 1 && !t.chars().any(char::is_lowercase) {
            "XX"
        } else {
            "Xx"
        }
    } else if first.is_lowercase() {
        "x"
    } else {
        // Scripts without case (Japanese, Arabic…).
        "w"
    }
}

impl Doc {
    pub fn new(text: &str, hints: &[RuleHint]) -> Self {
        let tokens = word_tokens(text);
        let lower: Vec<String> = tokens
            .iter()
            .map(|&(s, e)| text[s..e].to_lowercase())
            .collect();
        let shape: Vec<&'static str> = tokens.iter().map(|&(s, e)| shape(&text[s..e])).collect();
        let mut paragraphs = Vec::new();
        let mut paragraph_of = vec![0u32; tokens.len()];
        let mut start = 0;
        for i in 0..tokens.len() {
            if i > 0 && text[tokens[i - 1].1..tokens[i].0].contains('\n') {
                paragraphs.push((start, i));
                start = i;
            }
            paragraph_of[i] = paragraphs.len() as u32;
        }
        if start < tokens.len() {
            paragraphs.push((start, tokens.len()));
        }
        let mut quote = vec![OUTSIDE; tokens.len()];
        for &(lo, hi) in &paragraphs {
            let mut open = false;
            for i in lo..hi {
                quote[i] = match lower[i].as_str() {
                    "“" | "«" | "「" => {
                        open = true;
                        OPENS
                    }
                    "”" | "»" | "」" => {
                        open = false;
                        CLOSES
                    }
                    "\"" => {
                        open = !open;
                        if open { OPENS } else { CLOSES }
                    }
                    _ if open => INSIDE,
                    _ => OUTSIDE,
                };
            }
        }
        let sentence_end = shape.iter().map(|&s| s == ".").collect();
        let span = |(s, e): (usize, usize)| token_span(text, &tokens, s, e);
        let mut hint_cue = vec![0u8; tokens.len()];
        let mut in_tokens = Vec::new();
        for h in hints {
            let Some(cue) = span(h.cue) else { continue };
            for (i, mark) in hint_cue[cue.0..cue.1].iter_mut().enumerate() {
                *mark = if i == 0 { 1 } else { 2 };
            }
            in_tokens.push((h.source.and_then(span), cue, span(h.content)));
        }
        in_tokens.sort_by_key(|h| h.1);
        Doc {
            tokens,
            lower,
            shape,
            paragraphs,
            paragraph_of,
            quote,
            sentence_end,
            hints: in_tokens,
            hint_cue,
        }
    }

    /// The rules' relation whose cue overlaps the tokens `a..b` (hints are
    /// sorted by cue and their cues do not overlap, so a binary search
    /// finds it: a body with a cue every few words stays linear).
    pub fn hint_at(&self, a: usize, b: usize) -> Option<HintTokens> {
        let k = self.hints.partition_point(|(_, c, _)| c.1 <= a);
        self.hints.get(k).filter(|(_, c, _)| c.0 < b).copied()
    }

    /// For each token, how many sentence ends come before it (and the total
    /// at the end).
    pub fn sentence_ends_before(&self) -> Vec<usize> {
        let mut out = Vec::with_capacity(self.tokens.len() + 1);
        let mut n = 0;
        out.push(0);
        for &end in &self.sentence_end {
            n += usize::from(end);
            out.push(n);
        }
        out
    }

    /// The paragraph holding token `i`.
    pub fn paragraph(&self, i: usize) -> (usize, usize) {
        self.paragraphs[self.paragraph_of[i] as usize]
    }

    /// Token `i`'s lower-cased word, or a marker past the range's ends.
    fn word(&self, i: isize, lo: usize, hi: usize) -> &str {
        if i < lo as isize {
            "<s>"
        } else if i >= hi as isize {
            "</s>"
        } else {
            &self.lower[i as usize]
        }
    }

    fn shape_at(&self, i: isize, lo: usize, hi: usize) -> &'static str {
        if i < lo as isize {
            "<s>"
        } else if i >= hi as isize {
            "</s>"
        } else {
            self.shape[i as usize]
        }
    }
}

/// FNV-1a over a template number and its values: stable across platforms
/// and releases, which the model file relies on.
struct Feature(u64);

impl Feature {
    fn new(template: u8) -> Self {
        let mut f = Feature(0xcbf2_9ce4_8422_2325);
        f.byte(template);
        f
    }
    fn byte(&mut self, b: u8) {
        self.0 ^= u64::from(b);
        self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
    }
    fn s(mut self, s: &str) -> Self {
        for &b in s.as_bytes() {
            self.byte(b);
        }
        self.byte(0xff);
        self
    }
    fn n(mut self, n: u64) -> Self {
        for b in n.to_le_bytes() {
            self.byte(b);
        }
        self
    }
    fn get(self) -> u64 {
        self.0
    }
}

fn suffix(w: &str, n: usize) -> &str {
    let count = w.chars().count();
    if count <= n {
        return w;
    }
    w.char_indices().nth(count - n).map_or(w, |(b, _)| &w[b..])
}

fn prefix(w: &str, n: usize) -> &str {
    w.char_indices().nth(n).map_or(w, |(b, _)| &w[..b])
}

/// Where the nearest quotation mark within six tokens is: 0 none, 1 a
/// closing one before, 2 an opening one after, 3 another.
fn quote_near(d: &Doc, i: usize, lo: usize, hi: usize) -> u64 {
    for k in (i.saturating_sub(6).max(lo)..i).rev() {
        match d.quote[k] {
            CLOSES => return 1,
            OPENS => return 3,
            _ => {}
        }
    }
    for k in i + 1..(i + 7).min(hi) {
        match d.quote[k] {
            OPENS => return 2,
            CLOSES => return 3,
            _ => {}
        }
    }
    0
}

/// Features of every token of the paragraph `(lo, hi)` for the cue tagger.
pub fn cue_features(d: &Doc, lo: usize, hi: usize) -> Vec<Vec<u64>> {
    // Does the paragraph quote anyone?
    let quotes = u64::from(d.quote[lo..hi].contains(&OPENS));
    (lo..hi)
        .map(|i| {
            let at = i as isize;
            let w = d.word(at, lo, hi);
            let (wm1, wp1) = (d.word(at - 1, lo, hi), d.word(at + 1, lo, hi));
            let (wm2, wp2) = (d.word(at - 2, lo, hi), d.word(at + 2, lo, hi));
            let (sm1, sp1) = (d.shape_at(at - 1, lo, hi), d.shape_at(at + 1, lo, hi));
            let q = u64::from(d.quote[i]);
            let hint = u64::from(d.hint_cue[i]);
            let near = quote_near(d, i, lo, hi);
            // "that", a colon, a quotation or "to" in the next three tokens.
            let then = (i + 1..(i + 4).min(hi))
                .find_map(|k| match (d.lower[k].as_str(), d.quote[k]) {
                    ("that", _) => Some(1),
                    (":", _) => Some(2),
                    (_, OPENS) => Some(3),
                    ("to", _) => Some(4),
                    _ => None,
                })
                .unwrap_or(0);
            // What comes just before: a name, a pronoun, a comma, a quote.
            let before = (lo..i)
                .rev()
                .take(3)
                .find_map(|k| match d.shape[k] {
                    "Xx" | "XX" => Some("X"),
                    "x" if matches!(
                        d.lower[k].as_str(),
                        "he" | "she" | "they" | "i" | "we" | "it"
                    ) =>
                    {
                        Some("pro")
                    }
                    "," => Some(","),
                    "q" => Some("q"),
                    _ => None,
                })
                .unwrap_or("-");
            vec![
                Feature::new(0).get(),
                Feature::new(1).s(w).get(),
                Feature::new(2).s(wm1).get(),
                Feature::new(3).s(wp1).get(),
                Feature::new(4).s(wm2).get(),
                Feature::new(5).s(wp2).get(),
                Feature::new(6).s(wm1).s(w).get(),
                Feature::new(7).s(w).s(wp1).get(),
                Feature::new(8).s(suffix(w, 3)).get(),
                Feature::new(9).s(d.shape[i]).get(),
                Feature::new(10).n(q).get(),
                Feature::new(11).n(q).s(w).get(),
                Feature::new(12).n(hint).get(),
                Feature::new(13).n(hint).s(w).get(),
                Feature::new(14).s(sm1).s(d.shape[i]).s(sp1).get(),
                Feature::new(15).s(wm2).s(wm1).s(w).get(),
                Feature::new(16).s(w).s(wp1).s(wp2).get(),
                Feature::new(17).s(suffix(w, 2)).s(wp1).get(),
                Feature::new(18).s(sm1).s(w).get(),
                Feature::new(19).s(w).s(sp1).get(),
                Feature::new(20).s(prefix(w, 5)).get(),
                Feature::new(21).s(prefix(w, 5)).s(wp1).get(),
                Feature::new(22).s(wm1).s(prefix(w, 5)).get(),
                Feature::new(23).n(q).s(sm1).s(sp1).get(),
                Feature::new(24).n(quotes).n(q).get(),
                Feature::new(25).n(quotes).s(prefix(w, 5)).get(),
                Feature::new(26).n(near).get(),
                Feature::new(27).n(near).s(suffix(w, 2)).get(),
                Feature::new(28).n(then).s(suffix(w, 2)).get(),
                Feature::new(29).n(then).s(prefix(w, 5)).get(),
                Feature::new(30).s(before).s(suffix(w, 2)).get(),
                Feature::new(31).s(before).s(prefix(w, 5)).get(),
            ]
        })
        .collect()
}

/// Token distance in buckets that widen with it.
fn bucket(n: usize) -> u64 {
    match n {
        0..=3 => n as u64,
        4..=5 => 4,
        6..=8 => 5,
        9..=12 => 6,
        13..=20 => 7,
        21..=35 => 8,
        _ => 9,
    }
}

fn coarse(n: usize) -> u64 {
    match n {
        0..=1 => 0,
        2..=3 => 1,
        4..=10 => 2,
        _ => 3,
    }
}

/// How far from its cue the role tagger looks, in tokens (99.7 % of
/// PolNeAR's source and content tokens are this close).
pub const ROLE_RADIUS: usize = 100;

/// The tokens the role tagger labels for the cue `(a, b)`: its paragraph,
/// at most `ROLE_RADIUS` tokens either side.
pub fn role_window(d: &Doc, a: usize, b: usize) -> (usize, usize) {
    let (lo, hi) = d.paragraph(a);
    (
        lo.max(a.saturating_sub(ROLE_RADIUS)),
        hi.min(b + ROLE_RADIUS),
    )
}

/// Features of every token of `(lo, hi)` for the role tagger, relative to
/// the cue `(a, b)`; `cue_starts` marks the first token of every cue found
/// in the document. Cue tokens get no features (their label is fixed).
pub fn role_features(
    d: &Doc,
    (a, b): (usize, usize),
    (lo, hi): (usize, usize),
    cue_starts: &[bool],
) -> Vec<Vec<u64>> {
    let first = d.lower[a].as_str();
    let last = d.lower[b - 1].as_str();
    let hint = d.hint_at(a, b);
    let cue_quote = u64::from(d.quote[a]);
    // Sentence ends and other cues between each token and the cue, from
    // prefix sums over the window.
    let n = hi - lo;
    let mut ends = vec![0usize; n + 1];
    let mut cues = vec![0usize; n + 1];
    for k in 0..n {
        let i = lo + k;
        ends[k + 1] = ends[k] + usize::from(d.sentence_end[i]);
        cues[k + 1] = cues[k] + usize::from(cue_starts[i] && !(a <= i && i < b));
    }
    let between = |sums: &[usize], i: usize| {
        if i < a {
            sums[a - lo] - sums[i + 1 - lo]
        } else {
            sums[i - lo] - sums[b - lo]
        }
    };
    (lo..hi)
        .map(|i| {
            if (a..b).contains(&i) {
                return Vec::new();
            }
            let at = i as isize;
            let side: u64 = u64::from(i >= b);
            let distance = if i < a { a - i } else { i - b + 1 };
            let (far, near) = (bucket(distance), coarse(distance));
            let ends = between(&ends, i).min(3) as u64;
            let others = between(&cues, i).min(2) as u64;
            let w = d.word(at, lo, hi);
            let (wm1, wp1) = (d.word(at - 1, lo, hi), d.word(at + 1, lo, hi));
            let sh = d.shape[i];
            let q = u64::from(d.quote[i]);
            let role: u64 = match hint {
                None => 0,
                Some((source, _, content)) => {
                    if source.is_some_and(|s| (s.0..s.1).contains(&i)) {
                        1
                    } else if content.is_some_and(|c| (c.0..c.1).contains(&i)) {
                        2
                    } else {
                        3
                    }
                }
            };
            let paragraph_ends =
                u64::from(i + 1 == hi || d.paragraph_of[i + 1] != d.paragraph_of[i]);
            let mut f = vec![
                Feature::new(100).n(side).get(),
                Feature::new(101).n(side).n(far).get(),
                Feature::new(102).n(side).n(ends).get(),
                Feature::new(103).n(side).n(others).get(),
                Feature::new(104).n(side).n(ends).n(others).n(near).get(),
                Feature::new(105).n(side).s(w).get(),
                Feature::new(106).n(side).s(wm1).get(),
                Feature::new(107).n(side).s(wp1).get(),
                Feature::new(108).n(side).s(sh).get(),
                Feature::new(109).n(side).n(near).s(w).get(),
                Feature::new(110).n(side).n(q).n(cue_quote).get(),
                Feature::new(111).n(side).n(q).n(near).get(),
                Feature::new(112).n(side).s(first).get(),
                Feature::new(113).n(side).s(last).n(near).get(),
                Feature::new(114).n(side).n(role).get(),
                Feature::new(115).n(side).n(role).n(near).get(),
                Feature::new(116).n(side).s(sh).n(ends).get(),
                Feature::new(117).n(side).s(wm1).s(w).get(),
                Feature::new(118).n(side).s(w).s(wp1).get(),
                Feature::new(119).n(side).n(q).s(sh).get(),
                Feature::new(120).n(side).n(role).s(sh).get(),
                Feature::new(121).n(side).n(paragraph_ends).s(sh).get(),
            ];
            // Commas between the token and the cue: "X, a spokesman, said".
            let commas = {
                let (x, y) = if i < a { (i + 1, a) } else { (b, i) };
                (x..y).filter(|&k| d.shape[k] == ",").count().min(3) as u64
            };
            let before_cue = d.word(a as isize - 1, lo, hi);
            let after_cue = d.word(b as isize, lo, hi);
            // Where the rules' spans for this cue start and end.
            let edge: u64 = match hint {
                None => 16,
                Some((source, _, content)) => {
                    u64::from(source.is_some_and(|s| s.0 == i))
                        | u64::from(source.is_some_and(|s| s.1 == i + 1)) << 1
                        | u64::from(content.is_some_and(|c| c.0 == i)) << 2
                        | u64::from(content.is_some_and(|c| c.1 == i + 1)) << 3
                }
            };
            f.extend([
                Feature::new(130).n(side).n(commas).n(ends).get(),
                Feature::new(131).n(side).s(w).n(ends).get(),
                Feature::new(132).n(side).s(before_cue).n(near).get(),
                Feature::new(133).n(side).s(after_cue).n(near).get(),
                Feature::new(134)
                    .n(side)
                    .s(d.shape_at(at - 1, lo, hi))
                    .s(sh)
                    .s(d.shape_at(at + 1, lo, hi))
                    .get(),
                Feature::new(135).n(side).n(commas).s(sh).get(),
                Feature::new(136).n(side).s(d.word(at - 2, lo, hi)).get(),
                Feature::new(137).n(side).s(d.word(at + 2, lo, hi)).get(),
                Feature::new(138).n(side).n(commas).s(w).get(),
                Feature::new(139).n(side).n(edge).get(),
                Feature::new(140).n(side).n(edge).s(sh).get(),
                Feature::new(141).n(side).n(q).n(ends).n(near).get(),
            ]);
            if distance <= 3 {
                f.push(
                    Feature::new(122)
                        .n(side)
                        .n(distance as u64)
                        .s(first)
                        .s(w)
                        .get(),
                );
                f.push(
                    Feature::new(123)
                        .n(side)
                        .n(distance as u64)
                        .s(last)
                        .s(w)
                        .get(),
                );
            }
            f
        })
        .collect()
}
