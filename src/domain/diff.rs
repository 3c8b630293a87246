//! Every text diff of the ledger: claim texts, article bodies, and how a span
//! of one article revision carries over to the next.
//!
//! Diffs are computed with `similar`, always under a deadline: past it the
//! algorithm settles for a coarser (still correct) diff, so a pathological
//! pair of texts cannot hold a worker. Offsets are Unicode code points, as in
//! every span of the ledger.

use std::ops::Range;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use similar::{Algorithm, DiffOp, DiffTag, DiffableStr, TextDiff, group_diff_ops};

/// How long one diff may search for a minimal edit script.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_millis(250);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum OpKind {
    Equal,
    Insert,
    Delete,
}

/// One structured diff operation. Applied in order to the old text (copy
/// `equal`, skip `delete`, add `insert`) it produces the new text. `len`
/// counts code points; `text` may be left out of `equal` operations when
/// the reader has the old text (article diffs), to keep responses small.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TextOp {
    pub op: OpKind,
    pub len: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

impl TextOp {
    fn new(op: OpKind, text: &str) -> Self {
        TextOp {
            op,
            len: text.chars().count(),
            text: Some(text.to_owned()),
        }
    }
}

/// Why a list of operations cannot be applied to a text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApplyError {
    #[error("operation {index} runs past the end of the source text")]
    PastEnd { index: usize },
    #[error("operation {index} expects {expected:?} but the source has {found:?}")]
    Mismatch {
        index: usize,
        expected: String,
        found: String,
    },
    #[error("{left} characters of the source text are not covered by the operations")]
    Leftover { left: usize },
    #[error("operation {index} is an insert without text")]
    InsertWithoutText { index: usize },
}

/// Rebuilds the new text from the old one and a list of operations.
pub fn apply_ops(old: &str, ops: &[TextOp]) -> Result<String, ApplyError> {
    let mut out = String::with_capacity(old.len());
    let mut rest = old;
    for (index, op) in ops.iter().enumerate() {
        match op.op {
            OpKind::Insert => out.push_str(
                op.text
                    .as_deref()
                    .ok_or(ApplyError::InsertWithoutText { index })?,
            ),
            OpKind::Equal | OpKind::Delete => {
                let end = rest
                    .char_indices()
                    .nth(op.len)
                    .map(|(i, _)| i)
                    .or_else(|| (rest.chars().count() == op.len).then_some(rest.len()))
                    .ok_or(ApplyError::PastEnd { index })?;
                let (taken, tail) = rest.split_at(end);
                if let Some(expected) = &op.text
                    && expected != taken
                {
                    return Err(ApplyError::Mismatch {
                        index,
                        expected: expected.clone(),
                        found: taken.to_owned(),
                    });
                }
                if op.op == OpKind::Equal {
                    out.push_str(taken);
                }
                rest = tail;
            }
        }
    }
    if rest.is_empty() {
        Ok(out)
    } else {
        Err(ApplyError::Leftover {
            left: rest.chars().count(),
        })
    }
}

/// Splits a text into sentences (and lines): every piece ends after a line
/// break, or after sentence-ending punctuation (and any closing quotes or
/// brackets) and the whitespace that follows it. The pieces concatenate to
/// the text exactly.
pub fn split_sentences(text: &str) -> Vec<&str> {
    let mut pieces = Vec::new();
    let mut start = 0;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let mut end = None;
        if c == '\n' {
            end = Some(i + 1);
        } else if matches!(c, '.' | '!' | '?' | '。' | '！' | '？') {
            let mut j = i + c.len_utf8();
            while let Some(&(k, q)) = chars.peek() {
                if matches!(q, '"' | '\'' | '”' | '’' | '»' | ')' | ']') {
                    chars.next();
                    j = k + q.len_utf8();
                } else {
                    break;
                }
            }
            let mut saw_space = false;
            while let Some(&(k, w)) = chars.peek() {
                if w.is_whitespace() && w != '\n' {
                    chars.next();
                    j = k + w.len_utf8();
                    saw_space = true;
                } else if w == '\n' {
                    chars.next();
                    j = k + 1;
                    saw_space = true;
                    break;
                } else {
                    break;
                }
            }
            if saw_space || matches!(c, '。' | '！' | '？') {
                end = Some(j);
            }
        }
        if let Some(end) = end {
            pieces.push(&text[start..end]);
            start = end;
        }
    }
    if start < text.len() {
        pieces.push(&text[start..]);
    }
    pieces
}

/// The lines of a text, each with its line break.
pub fn split_lines(text: &str) -> Vec<&str> {
    text.split_inclusive('\n').collect()
}

/// Word tokens (Unicode word boundaries); they concatenate to the text.
pub fn split_words(text: &str) -> Vec<&str> {
    text.tokenize_unicode_words()
}

/// One aligned stretch of two texts, in bytes and in code points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    pub tag: DiffTag,
    pub old_bytes: Range<usize>,
    pub new_bytes: Range<usize>,
    pub old_chars: Range<usize>,
    pub new_chars: Range<usize>,
}

/// A full alignment of two texts: consecutive segments that cover both.
#[derive(Debug, Clone)]
pub struct Alignment<'a> {
    pub old: &'a str,
    pub new: &'a str,
    pub segments: Vec<Segment>,
    /// True when the deadline cut the search short (the diff is still
    /// correct, only coarser than it could be).
    pub timed_out: bool,
}

/// Start offsets (bytes, chars) of each token, plus the totals at the end.
fn offsets(tokens: &[&str]) -> Vec<(usize, usize)> {
    let mut out = Vec::with_capacity(tokens.len() + 1);
    let (mut b, mut c) = (0, 0);
    for t in tokens {
        out.push((b, c));
        b += t.len();
        c += t.chars().count();
    }
    out.push((b, c));
    out
}

struct AlignBuilder {
    segments: Vec<Segment>,
}

impl AlignBuilder {
    fn push(
        &mut self,
        tag: DiffTag,
        ob: Range<usize>,
        nb: Range<usize>,
        oc: Range<usize>,
        nc: Range<usize>,
    ) {
        if ob.is_empty() && nb.is_empty() {
            return;
        }
        if let Some(last) = self.segments.last_mut()
            && last.tag == tag
        {
            last.old_bytes.end = ob.end;
            last.new_bytes.end = nb.end;
            last.old_chars.end = oc.end;
            last.new_chars.end = nc.end;
            return;
        }
        self.segments.push(Segment {
            tag,
            old_bytes: ob,
            new_bytes: nb,
            old_chars: oc,
            new_chars: nc,
        });
    }

    /// Adds the diff of two token lists whose texts start at the given offsets.
    fn add_tokens(
        &mut self,
        old_tokens: &[&str],
        new_tokens: &[&str],
        base_old: (usize, usize),
        base_new: (usize, usize),
        deadline: Instant,
        refine: bool,
    ) -> bool {
        let ops = diff_tokens(old_tokens, new_tokens, deadline);
        self.add_ops(
            &ops, old_tokens, new_tokens, base_old, base_new, deadline, refine,
        )
    }

    /// Adds already computed operations over two token lists; with `refine`,
    /// replaced stretches are diffed again word by word.
    #[allow(clippy::too_many_arguments)]
    fn add_ops(
        &mut self,
        ops: &[DiffOp],
        old_tokens: &[&str],
        new_tokens: &[&str],
        base_old: (usize, usize),
        base_new: (usize, usize),
        deadline: Instant,
        refine: bool,
    ) -> bool {
        let oo = offsets(old_tokens);
        let no = offsets(new_tokens);
        let mut timed_out = Instant::now() >= deadline;
        for op in ops {
            let (tag, or, nr) = op.as_tag_tuple();
            let ob = base_old.0 + oo[or.start].0..base_old.0 + oo[or.end].0;
            let oc = base_old.1 + oo[or.start].1..base_old.1 + oo[or.end].1;
            let nb = base_new.0 + no[nr.start].0..base_new.0 + no[nr.end].0;
            let nc = base_new.1 + no[nr.start].1..base_new.1 + no[nr.end].1;
            if tag == DiffTag::Replace && refine {
                let old_words: Vec<&str> = old_tokens[or.clone()]
                    .iter()
                    .flat_map(|s| split_words(s))
                    .collect();
                let new_words: Vec<&str> = new_tokens[nr.clone()]
                    .iter()
                    .flat_map(|s| split_words(s))
                    .collect();
                timed_out |= self.add_tokens(
                    &old_words,
                    &new_words,
                    (ob.start, oc.start),
                    (nb.start, nc.start),
                    deadline,
                    false,
                );
            } else {
                self.push(tag, ob, nb, oc, nc);
            }
        }
        timed_out
    }
}

/// Diffs two token lists. Patience anchors on tokens that occur once on each
/// side, so common tokens (spaces, "the") cannot pull unrelated words into
/// alignment; past the deadline it settles for a coarser result.
fn diff_tokens(old_tokens: &[&str], new_tokens: &[&str], deadline: Instant) -> Vec<DiffOp> {
    TextDiff::configure()
        .algorithm(Algorithm::Patience)
        .deadline(deadline)
        .diff_slices(old_tokens, new_tokens)
        .ops()
        .to_vec()
}

/// Everything an article diff shows, from one sentence-level diff: the
/// alignment (refined to words inside changed sentences) and the unified text.
pub struct SentenceDiff<'a> {
    pub alignment: Alignment<'a>,
    pub unified: String,
    /// True when the unified text was cut at `max_lines`.
    pub unified_truncated: bool,
}

impl<'a> SentenceDiff<'a> {
    pub fn new(
        old: &'a str,
        new: &'a str,
        labels: (&str, &str),
        context: usize,
        max_lines: usize,
        timeout: Duration,
    ) -> Self {
        let deadline = Instant::now() + timeout;
        let old_units = split_sentences(old);
        let new_units = split_sentences(new);
        let ops = diff_tokens(&old_units, &new_units, deadline);
        let (unified, unified_truncated) =
            render_unified(&ops, &old_units, &new_units, labels, context, max_lines);
        let mut b = AlignBuilder {
            segments: Vec::new(),
        };
        let timed_out = b.add_ops(&ops, &old_units, &new_units, (0, 0), (0, 0), deadline, true);
        SentenceDiff {
            alignment: Alignment {
                old,
                new,
                segments: b.segments,
                timed_out,
            },
            unified,
            unified_truncated,
        }
    }
}

impl<'a> Alignment<'a> {
    /// Word-level alignment, for short texts such as claims.
    pub fn words(old: &'a str, new: &'a str, timeout: Duration) -> Self {
        let mut b = AlignBuilder {
            segments: Vec::new(),
        };
        let timed_out = b.add_tokens(
            &split_words(old),
            &split_words(new),
            (0, 0),
            (0, 0),
            Instant::now() + timeout,
            false,
        );
        Alignment {
            old,
            new,
            segments: b.segments,
            timed_out,
        }
    }

    /// Sentence-level alignment refined to words inside changed sentences,
    /// for article bodies: fast on long texts, precise where they differ.
    pub fn sentences(old: &'a str, new: &'a str, timeout: Duration) -> Self {
        let mut b = AlignBuilder {
            segments: Vec::new(),
        };
        let timed_out = b.add_tokens(
            &split_sentences(old),
            &split_sentences(new),
            (0, 0),
            (0, 0),
            Instant::now() + timeout,
            true,
        );
        Alignment {
            old,
            new,
            segments: b.segments,
            timed_out,
        }
    }

    /// The structured operations; `equal_text` keeps the text of equal runs.
    pub fn ops(&self, equal_text: bool) -> Vec<TextOp> {
        let mut ops = Vec::with_capacity(self.segments.len() + 4);
        for s in &self.segments {
            let old = &self.old[s.old_bytes.clone()];
            let new = &self.new[s.new_bytes.clone()];
            match s.tag {
                DiffTag::Equal => {
                    let mut op = TextOp::new(OpKind::Equal, old);
                    if !equal_text {
                        op.text = None;
                    }
                    ops.push(op)
                }
                DiffTag::Delete => ops.push(TextOp::new(OpKind::Delete, old)),
                DiffTag::Insert => ops.push(TextOp::new(OpKind::Insert, new)),
                DiffTag::Replace => {
                    ops.push(TextOp::new(OpKind::Delete, old));
                    ops.push(TextOp::new(OpKind::Insert, new));
                }
            }
        }
        ops
    }

    pub fn is_identical(&self) -> bool {
        self.segments.iter().all(|s| s.tag == DiffTag::Equal)
    }

    /// Code points inserted and deleted.
    pub fn churn(&self) -> (usize, usize) {
        self.segments
            .iter()
            .fold((0, 0), |(ins, del), s| match s.tag {
                DiffTag::Equal => (ins, del),
                _ => (ins + s.new_chars.len(), del + s.old_chars.len()),
            })
    }

    /// Where the old span `[start, end)` is in the new text.
    pub fn carry(&self, start: usize, end: usize) -> Carried {
        let touched = self.segments.iter().any(|s| {
            s.tag != DiffTag::Equal
                && if s.old_chars.is_empty() {
                    // A pure insertion touches a span only strictly inside it.
                    start < s.old_chars.start && s.old_chars.start < end
                } else {
                    s.old_chars.start < end && start < s.old_chars.end
                }
        });
        let new_start = self.map_left(start);
        let new_end = self.map_right(end);
        if !touched {
            return Carried::Present {
                start: new_start,
                end: new_start + (end - start),
            };
        }
        if new_end <= new_start {
            Carried::Removed { at: new_start }
        } else {
            Carried::Altered {
                start: new_start,
                end: new_end,
            }
        }
    }

    /// The new position of an old span start: inside a changed stretch, the
    /// start of what replaced it.
    fn map_left(&self, pos: usize) -> usize {
        for s in &self.segments {
            if s.old_chars.start <= pos && pos < s.old_chars.end {
                return match s.tag {
                    DiffTag::Equal => s.new_chars.start + (pos - s.old_chars.start),
                    _ => s.new_chars.start,
                };
            }
        }
        self.segments.last().map_or(0, |s| s.new_chars.end)
    }

    /// The new position of an old span end: inside a changed stretch, the end
    /// of what replaced it.
    fn map_right(&self, pos: usize) -> usize {
        for s in &self.segments {
            if s.old_chars.start < pos && pos <= s.old_chars.end {
                return match s.tag {
                    DiffTag::Equal => s.new_chars.start + (pos - s.old_chars.start),
                    _ => s.new_chars.end,
                };
            }
        }
        0
    }
}

/// How much text on each side of a span its surroundings compare, in bytes.
const CONTEXT_BYTES: usize = 240;
/// Shorter removed texts are not looked for again: a few words turn up
/// anywhere.
const MIN_FOUND_AGAIN_CHARS: usize = 12;
/// A text the diff saw removed is taken as moved when it is found once, and
/// is at least this long or shares this much of its surroundings.
const MIN_MOVED_CHARS: usize = 40;
const MIN_SHARED_CONTEXT_BYTES: usize = 24;
/// Occurrences of one text considered at most.
const MAX_OCCURRENCES: usize = 64;

impl Alignment<'_> {
    /// As [`Alignment::carry`]; and when the span kept its text (`excerpt`)
    /// but that text occurs more than once in the new text (a phrase in a
    /// caption and in the body), the occurrence whose surroundings match
    /// the old span's, rather than wherever the diff happened to map it.
    ///
    /// A span the diff saw edited or removed whose exact text is still in
    /// the new text (its sentence moved: the diff pairs text in order, so a
    /// moved sentence is a deletion and an insertion) is present where it
    /// went, when the text is long enough to tell.
    pub fn carry_in_context(&self, start: usize, end: usize, excerpt: &str) -> Carried {
        let carried = self.carry(start, end);
        let guess = match carried {
            Carried::Present { start, .. } | Carried::Altered { start, .. } => start,
            Carried::Removed { at } => at,
        };
        let moved_too_short = !matches!(carried, Carried::Present { .. })
            && excerpt.chars().count() < MIN_FOUND_AGAIN_CHARS;
        if excerpt.is_empty() || moved_too_short {
            return carried;
        }
        let found = occurrences(self.new, excerpt);
        let present = matches!(carried, Carried::Present { .. });
        // Present: choose among copies. Otherwise a single copy only: with
        // two, the sentence may be gone and its words left in a caption.
        if (present && found.len() < 2) || (!present && found.len() != 1) {
            return carried;
        }
        let old_start = crate::domain::text::byte_offset(self.old, start);
        let old_end = old_start + excerpt.len();
        let (best, shared) = best_occurrence(
            self.new,
            &found,
            excerpt.len(),
            (
                &self.old[..old_start],
                &self.old[old_end.min(self.old.len())..],
            ),
            guess,
        );
        // A moved text counts as present when it is a whole statement or
        // kept some of its surroundings; a short phrase on its own could be
        // any other mention of it.
        if !present
            && excerpt.chars().count() < MIN_MOVED_CHARS
            && shared < MIN_SHARED_CONTEXT_BYTES
        {
            return carried;
        }
        Carried::Present {
            start: best,
            end: best + (end - start),
        }
    }

    /// A text an earlier revision removed, found again in the new text: its
    /// occurrence whose surroundings best match the place it was removed
    /// from (`at`, a code point of the old text). `None` when it is not
    /// there, or too short to tell.
    pub fn find_again(&self, text: &str, at: usize) -> Option<(usize, usize)> {
        let chars = text.chars().count();
        if chars < MIN_FOUND_AGAIN_CHARS {
            return None;
        }
        let found = occurrences(self.new, text);
        if found.is_empty() {
            return None;
        }
        let at_byte = crate::domain::text::byte_offset(self.old, at);
        let (start, _) = best_occurrence(
            self.new,
            &found,
            text.len(),
            (&self.old[..at_byte], &self.old[at_byte..]),
            self.map_left(at),
        );
        Some((start, start + chars))
    }
}

/// Byte offsets where `needle` starts in `hay` (overlaps included).
fn occurrences(hay: &str, needle: &str) -> Vec<usize> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(i) = hay[from..].find(needle) {
        out.push(from + i);
        if out.len() == MAX_OCCURRENCES {
            break;
        }
        from += i + needle.chars().next().map_or(1, char::len_utf8);
    }
    out
}

/// Of the occurrences (byte offsets, each `len` bytes long), the one whose
/// surroundings share the most text with `(before, after)`: the longest
/// common end of what precedes plus the longest common start of what
/// follows. Ties go to the one nearest `guess` (a code point). Returns the
/// code point where it starts and how many bytes of surroundings it shares.
fn best_occurrence(
    new: &str,
    found: &[usize],
    len: usize,
    (before, after): (&str, &str),
    guess: usize,
) -> (usize, usize) {
    let before = &before.as_bytes()[before.len().saturating_sub(CONTEXT_BYTES)..];
    let after = &after.as_bytes()[..after.len().min(CONTEXT_BYTES)];
    let scored = found.iter().map(|&b| {
        let left = new.as_bytes()[..b]
            .iter()
            .rev()
            .zip(before.iter().rev())
            .take_while(|(x, y)| x == y)
            .count();
        let right = new.as_bytes()[b + len..]
            .iter()
            .zip(after)
            .take_while(|(x, y)| x == y)
            .count();
        let start = new[..b].chars().count();
        (left + right, start)
    });
    scored
        .max_by(|a, b| {
            a.0.cmp(&b.0)
                .then_with(|| b.1.abs_diff(guess).cmp(&a.1.abs_diff(guess)))
        })
        .map_or((guess, 0), |(shared, start)| (start, shared))
}

/// What became of a span after an edit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Carried {
    /// Its text is untouched; it may have moved.
    Present { start: usize, end: usize },
    /// Its text was edited; the new span covers what replaced it.
    Altered { start: usize, end: usize },
    /// Its text is gone; `at` is where it was.
    Removed { at: usize },
}

/// A unified diff of two texts cut into units (lines or sentences), each
/// shown on its own line. Returns the text and whether `max_lines` cut it.
pub fn unified(
    old_units: &[&str],
    new_units: &[&str],
    labels: (&str, &str),
    context: usize,
    max_lines: usize,
    timeout: Duration,
) -> (String, bool) {
    let ops = diff_tokens(old_units, new_units, Instant::now() + timeout);
    render_unified(&ops, old_units, new_units, labels, context, max_lines)
}

fn render_unified(
    ops: &[DiffOp],
    old_units: &[&str],
    new_units: &[&str],
    labels: (&str, &str),
    context: usize,
    max_lines: usize,
) -> (String, bool) {
    let groups = group_diff_ops(ops.to_vec(), context);
    if groups.is_empty() {
        return (String::new(), false);
    }
    let mut out = format!("--- {}\n+++ {}\n", labels.0, labels.1);
    let mut lines = 0;
    for group in groups {
        let (first, last) = (&group[0], &group[group.len() - 1]);
        let (o, n) = (
            first.old_range().start..last.old_range().end,
            first.new_range().start..last.new_range().end,
        );
        out.push_str(&format!("@@ -{} +{} @@\n", hunk_range(&o), hunk_range(&n)));
        for op in &group {
            let (tag, or, nr) = op.as_tag_tuple();
            let mut emit = |prefix: char, unit: &str| {
                lines += 1;
                out.push(prefix);
                out.push_str(unit.trim_end_matches(['\n', '\r']).trim_end());
                out.push('\n');
            };
            match tag {
                DiffTag::Equal => or.for_each(|i| emit(' ', old_units[i])),
                DiffTag::Delete => or.for_each(|i| emit('-', old_units[i])),
                DiffTag::Insert => nr.for_each(|i| emit('+', new_units[i])),
                DiffTag::Replace => {
                    or.for_each(|i| emit('-', old_units[i]));
                    nr.for_each(|i| emit('+', new_units[i]));
                }
            }
            if lines > max_lines {
                out.push_str("... (truncated)\n");
                return (out, true);
            }
        }
    }
    (out, false)
}

/// `start,len` as unified diffs number lines (1-based; an empty range names
/// the line before it).
fn hunk_range(r: &Range<usize>) -> String {
    let len = r.end - r.start;
    let start = if len == 0 { r.start } else { r.start + 1 };
    format!("{start},{len}")
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: Duration = DEFAULT_TIMEOUT;

    fn rebuilds(old: &str, new: &str) {
        for alignment in [
            Alignment::words(old, new, T),
            Alignment::sentences(old, new, T),
        ] {
            assert_eq!(
                apply_ops(old, &alignment.ops(true)).as_deref(),
                Ok(new),
                "{old:?} -> {new:?}"
            );
            assert_eq!(
                apply_ops(old, &alignment.ops(false)).as_deref(),
                Ok(new),
                "{old:?} -> {new:?}"
            );
        }
    }

    #[test]
    fn word_ops_name_the_changed_word() {
        let a = Alignment::words("Japan held several contacts", "Japan held two contacts", T);
        let ops = a.ops(true);
        let changed: Vec<_> = ops
            .iter()
            .filter(|o| o.op != OpKind::Equal)
            .map(|o| (o.op, o.text.clone().unwrap()))
            .collect();
        assert_eq!(
            changed,
            [
                (OpKind::Delete, "several".into()),
                (OpKind::Insert, "two".into())
            ]
        );
        rebuilds("Japan held several contacts", "Japan held two contacts");
    }

    #[test]
    fn edge_cases_rebuild() {
        rebuilds("", "");
        rebuilds("", "new text");
        rebuilds("old text", "");
        rebuilds("a  b", "a b");
        rebuilds("   ", "\t\n ");
        rebuilds("東京で会談。合意した。", "東京で会談。合意しなかった。");
        rebuilds(
            "Tōkyō said \u{201c}no\u{201d}.",
            "Tōkyō said \u{201c}yes\u{201d}.",
        );
        rebuilds("line one\nline two\n", "line one\nline 2\nline three");
    }

    #[test]
    fn sentences_concatenate_to_the_text() {
        let text = "He said so. \u{201c}We will,\u{201d} she said! Really? Yes.\nNew line\n\nend";
        let parts = split_sentences(text);
        assert_eq!(parts.concat(), text);
        assert_eq!(parts[0], "He said so. ");
        assert!(parts.len() >= 6, "{parts:?}");
    }

    #[test]
    fn apply_refuses_ops_that_do_not_fit() {
        let ops = vec![TextOp::new(OpKind::Equal, "abc")];
        assert!(matches!(
            apply_ops("abd", &ops),
            Err(ApplyError::Mismatch { .. })
        ));
        assert!(matches!(
            apply_ops("abcd", &ops),
            Err(ApplyError::Leftover { left: 1 })
        ));
        assert!(matches!(
            apply_ops("ab", &ops),
            Err(ApplyError::PastEnd { .. })
        ));
    }

    #[test]
    fn spans_move_change_or_vanish_with_the_text() {
        let old =
            "Officials said the bridge would reopen. The mayor denied it. Repairs cost 3 million.";
        let new =
            "Late on Friday, officials said the bridge would reopen. The mayor did not deny it. ";
        let a = Alignment::sentences(old, new, T);
        let span = |needle: &str| {
            let s = old[..old.find(needle).unwrap()].chars().count();
            (s, s + needle.chars().count())
        };
        let (s, e) = span("the bridge would reopen");
        match a.carry(s, e) {
            Carried::Present { start, end } => {
                assert_eq!(
                    new.chars()
                        .skip(start)
                        .take(end - start)
                        .collect::<String>(),
                    "the bridge would reopen"
                )
            }
            other => panic!("expected present, got {other:?}"),
        }
        let (s, e) = span("The mayor denied it");
        match a.carry(s, e) {
            Carried::Altered { start, end } => {
                let text: String = new.chars().skip(start).take(end - start).collect();
                assert!(text.contains("did not deny"), "{text}");
            }
            other => panic!("expected altered, got {other:?}"),
        }
        let (s, e) = span("Repairs cost 3 million.");
        assert!(
            matches!(a.carry(s, e), Carried::Removed { .. }),
            "{:?}",
            a.carry(s, e)
        );
    }

    #[test]
    fn an_insertion_at_a_span_boundary_does_not_alter_it() {
        let a = Alignment::words("alpha beta gamma", "alpha NEW beta gamma", T);
        // "beta" is at 6..10 in the old text.
        assert_eq!(a.carry(6, 10), Carried::Present { start: 10, end: 14 });
        assert!(matches!(a.carry(0, 10), Carried::Altered { .. }));
    }

    #[test]
    fn unified_diff_marks_changed_sentences() {
        let old = split_sentences("One. Two. Three. Four. Five.");
        let new = split_sentences("One. Two. 3. Four. Five.");
        let (text, truncated) = unified(&old, &new, ("a", "b"), 1, 100, T);
        assert!(!truncated);
        assert_eq!(
            text,
            "--- a\n+++ b\n@@ -2,3 +2,3 @@\n Two.\n-Three.\n+3.\n Four.\n"
        );
        let (same, _) = unified(&old, &old, ("a", "b"), 1, 100, T);
        assert_eq!(same, "");
    }

    #[test]
    fn a_pathological_pair_finishes_within_its_deadline() {
        let old: String = (0..200_000)
            .map(|i| char::from(b'a' + (i * 7 % 26) as u8))
            .collect();
        let new: String = (0..200_000)
            .map(|i| char::from(b'a' + (i * 11 % 26) as u8))
            .collect();
        let old = old
            .as_bytes()
            .chunks(5)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect::<Vec<_>>()
            .join(" ");
        let new = new
            .as_bytes()
            .chunks(5)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect::<Vec<_>>()
            .join(" ");
        let a = Alignment::words(&old, &new, Duration::from_millis(50));
        assert_eq!(apply_ops(&old, &a.ops(false)).as_deref(), Ok(new.as_str()));
    }

    #[test]
    fn a_repeated_phrase_is_followed_to_the_copy_with_the_same_surroundings() {
        let old = "Caption: the port will reopen soon. Officials said the port will reopen soon after repairs.";
        let new = "New caption: the port will reopen soon. Officials said on Monday the port will reopen soon after repairs.";
        let phrase = "the port will reopen soon";
        let body_copy = old.rfind(phrase).unwrap();
        let start = old[..body_copy].chars().count();
        let a = Alignment::words(old, new, Duration::from_secs(1));
        let carried = a.carry_in_context(start, start + phrase.chars().count(), phrase);
        let new_copy = new[..new.rfind(phrase).unwrap()].chars().count();
        assert_eq!(
            carried,
            Carried::Present {
                start: new_copy,
                end: new_copy + phrase.chars().count()
            }
        );
    }

    #[test]
    fn a_moved_sentence_stays_present_where_it_went() {
        let claim = "Divers will resume the search at dawn.";
        let old = format!("The ferry sank. {claim} Families waited.");
        let new = format!("The ferry sank. Families waited. {claim}");
        let start = old[..old.find(claim).unwrap()].chars().count();
        let a = Alignment::sentences(&old, &new, Duration::from_secs(1));
        let end = start + claim.chars().count();
        let moved = new[..new.find(claim).unwrap()].chars().count();
        assert_eq!(
            a.carry_in_context(start, end, claim),
            Carried::Present {
                start: moved,
                end: moved + claim.chars().count()
            }
        );
    }

    #[test]
    fn removed_text_is_found_again_near_where_it_was() {
        let claim = "Divers will resume the search at dawn.";
        let old = "The ferry sank. Families waited.";
        let new = format!("The ferry sank. {claim} Families waited. Later: {claim}");
        let at = "The ferry sank. ".chars().count();
        let a = Alignment::sentences(old, &new, Duration::from_secs(1));
        let found = a.find_again(claim, at).unwrap();
        assert_eq!(found, (at, at + claim.chars().count()));
        assert_eq!(a.find_again("Not there at all, nowhere", at), None);
        assert_eq!(a.find_again("sank.", at), None, "too short to tell");
    }

    #[test]
    fn a_removed_sentence_is_not_found_in_a_caption_that_repeats_its_words() {
        let old = "Caption: the port will reopen. The mayor said the port will reopen.";
        let new = "Caption: the port will reopen.";
        let phrase = "the port will reopen";
        let start = old[..old.rfind(phrase).unwrap()].chars().count();
        let a = Alignment::sentences(old, new, Duration::from_secs(1));
        let carried = a.carry_in_context(start, start + phrase.chars().count(), phrase);
        assert!(matches!(carried, Carried::Removed { .. }), "{carried:?}");
    }
}
