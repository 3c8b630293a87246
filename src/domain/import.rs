//! Bulk import of claims as NDJSON: one claim per line, in the shape of a
//! `POST /v1/claims` body (speaker by `speaker_id` or by `speaker` name).
//!
//! Lines are grouped into batches of consecutive lines. A batch is written in
//! one transaction, all or nothing: one invalid line rejects its whole batch,
//! and the report names every invalid line with its field errors. Blank lines
//! are skipped but still counted, so line numbers match the file.

use std::time::Duration;

use serde::Serialize;

use super::claim::NewClaim;
use super::validation::decode_json;
use crate::error::{AppError, FieldError};

/// Lines per batch unless the caller asks otherwise: large enough that a
/// commit's fixed cost is spread thin, small enough that a rejected batch
/// costs little to resend.
pub const DEFAULT_BATCH: usize = 1_000;
pub const MAX_BATCH: usize = 5_000;
/// The report lists at most this many invalid lines (the counts stay exact).
pub const MAX_REPORTED_ERRORS: usize = 1_000;

/// A batch size from a request: absent means the default.
pub fn batch_size(requested: Option<usize>) -> Result<usize, AppError> {
    match requested {
        None => Ok(DEFAULT_BATCH),
        Some(n) if (1..=MAX_BATCH).contains(&n) => Ok(n),
        Some(n) => Err(AppError::invalid(
            "batch",
            format!("must be between 1 and {MAX_BATCH} (got {n})"),
        )),
    }
}

/// One non-blank line of the input, numbered from 1 as an editor would.
#[derive(Debug, PartialEq, Eq)]
pub enum Line {
    Text {
        number: u64,
        bytes: Vec<u8>,
    },
    /// Longer than the line limit; its bytes were dropped unread.
    TooLong {
        number: u64,
    },
}

impl Line {
    pub fn number(&self) -> u64 {
        match self {
            Line::Text { number, .. } | Line::TooLong { number } => *number,
        }
    }
}

/// Cuts a byte stream into lines as chunks arrive, holding at most one line
/// (bounded by `max_line`) in memory.
#[derive(Debug)]
pub struct LineSplitter {
    buf: Vec<u8>,
    max_line: usize,
    next_number: u64,
    /// The current line went over `max_line`: drop bytes until its newline.
    overflowed: bool,
}

impl LineSplitter {
    pub fn new(max_line: usize) -> Self {
        LineSplitter {
            buf: Vec::new(),
            max_line,
            next_number: 1,
            overflowed: false,
        }
    }

    pub fn push(&mut self, mut chunk: &[u8], out: &mut Vec<Line>) {
        while let Some(i) = chunk.iter().position(|&b| b == b'\n') {
            self.take(&chunk[..i]);
            self.end_line(out);
            chunk = &chunk[i + 1..];
        }
        self.take(chunk);
    }

    /// The last line, when the input does not end with a newline.
    pub fn finish(&mut self, out: &mut Vec<Line>) {
        if !self.buf.is_empty() || self.overflowed {
            self.end_line(out);
        }
    }

    fn take(&mut self, part: &[u8]) {
        if self.overflowed {
            return;
        }
        if self.buf.len() + part.len() > self.max_line {
            self.overflowed = true;
            self.buf = Vec::new();
        } else {
            self.buf.extend_from_slice(part);
        }
    }

    fn end_line(&mut self, out: &mut Vec<Line>) {
        let number = self.next_number;
        self.next_number += 1;
        if std::mem::take(&mut self.overflowed) {
            out.push(Line::TooLong { number });
            return;
        }
        let mut bytes = std::mem::take(&mut self.buf);
        if bytes.last() == Some(&b'\r') {
            bytes.pop();
        }
        if !bytes.iter().all(u8::is_ascii_whitespace) {
            out.push(Line::Text { number, bytes });
        }
    }
}

/// Decodes one line into a new claim, or the field errors that stop it. A
/// line that is not JSON at all is reported under the field `line`.
pub fn parse_line(line: &Line, max_line: usize) -> Result<NewClaim, Vec<FieldError>> {
    match line {
        Line::TooLong { .. } => Err(vec![FieldError::new(
            "line",
            format!("is longer than {max_line} bytes"),
        )]),
        // A line is one line of JSON: its errors name the column, the
        // report names the file's line.
        Line::Text { bytes, .. } => decode_json(bytes).map_err(|e| {
            let mut errors = field_errors(e);
            for error in &mut errors {
                error.message = error.message.replace(" at line 1 column ", " at column ");
            }
            errors
        }),
    }
}

/// The field errors of a rejected line, whatever kind of error rejected it.
pub fn field_errors(err: AppError) -> Vec<FieldError> {
    match err {
        AppError::Validation(errors) => errors,
        other => vec![FieldError::new("line", other.to_string())],
    }
}

/// An invalid line and why.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct LineError {
    pub line: u64,
    pub errors: Vec<FieldError>,
}

/// A batch that was not written, by its first and last line.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct RejectedBatch {
    pub first_line: u64,
    pub last_line: u64,
    pub reason: String,
}

/// What an import did: counts, the claims it created, and every invalid line
/// (up to [`MAX_REPORTED_ERRORS`]).
#[derive(Debug, Default, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = ClaimImportReport)]
pub struct ImportReport {
    /// Non-blank lines read.
    pub lines: u64,
    /// Claims written (one revision and one audit event each).
    pub imported: u64,
    /// Lines that were invalid.
    pub invalid_lines: u64,
    /// Valid lines not written because another line of their batch was invalid.
    pub skipped_lines: u64,
    pub batches_committed: u64,
    pub batches_rejected: u64,
    /// The ids of the created claims run from `first_claim_id` to
    /// `last_claim_id` in line order, but need not be contiguous.
    pub first_claim_id: Option<i64>,
    pub last_claim_id: Option<i64>,
    pub errors: Vec<LineError>,
    /// More lines were invalid than `errors` lists.
    pub errors_truncated: bool,
    pub rejected_batches: Vec<RejectedBatch>,
    pub elapsed_ms: u64,
    pub claims_per_second: f64,
}

impl ImportReport {
    pub fn line_error(&mut self, error: LineError) {
        self.invalid_lines += 1;
        if self.errors.len() < MAX_REPORTED_ERRORS {
            self.errors.push(error);
        } else {
            self.errors_truncated = true;
        }
    }

    pub fn committed(&mut self, ids: &[i64]) {
        self.batches_committed += 1;
        self.imported += ids.len() as u64;
        if let (None, Some(&first)) = (self.first_claim_id, ids.first()) {
            self.first_claim_id = Some(first);
        }
        if let Some(&last) = ids.last() {
            self.last_claim_id = Some(last);
        }
    }

    pub fn rejected(&mut self, batch: RejectedBatch, valid_lines: u64) {
        self.batches_rejected += 1;
        self.skipped_lines += valid_lines;
        if self.rejected_batches.len() < MAX_REPORTED_ERRORS {
            self.rejected_batches.push(batch);
        }
    }

    pub fn finish(&mut self, elapsed: Duration) {
        self.elapsed_ms = elapsed.as_millis() as u64;
        let seconds = elapsed.as_secs_f64();
        self.claims_per_second = if seconds > 0.0 {
            (self.imported as f64 / seconds).round()
        } else {
            0.0
        };
    }

    /// Every batch was written.
    pub fn is_complete(&self) -> bool {
        self.batches_rejected == 0
    }

    /// One sentence for a problem+json `detail` or a terminal.
    pub fn summary(&self) -> String {
        format!(
            "{} of {} lines imported in {} committed batch(es); {} batch(es) rejected ({} invalid line(s), {} valid line(s) not written with them)",
            self.imported,
            self.lines,
            self.batches_committed,
            self.batches_rejected,
            self.invalid_lines,
            self.skipped_lines
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(chunks: &[&[u8]], max: usize) -> Vec<Line> {
        let mut s = LineSplitter::new(max);
        let mut out = Vec::new();
        for c in chunks {
            s.push(c, &mut out);
        }
        s.finish(&mut out);
        out
    }

    fn text(number: u64, s: &str) -> Line {
        Line::Text {
            number,
            bytes: s.as_bytes().to_vec(),
        }
    }

    #[test]
    fn lines_are_cut_across_chunks_and_numbered_like_the_file() {
        let lines = split(&[b"{\"a\"", b":1}\r\n\n  \n{\"b\":2}\n{\"c\"", b":3}"], 100);
        assert_eq!(
            lines,
            vec![
                text(1, "{\"a\":1}"),
                text(4, "{\"b\":2}"),
                text(5, "{\"c\":3}")
            ]
        );
    }

    #[test]
    fn an_overlong_line_is_reported_and_the_next_one_still_read() {
        let lines = split(&[b"0123456789", b"0123456789\nshort\n"], 12);
        assert_eq!(lines, vec![Line::TooLong { number: 1 }, text(2, "short")]);
        // An overlong last line without a newline is reported too.
        let lines = split(&[b"ok\n0123456789abcdef"], 12);
        assert_eq!(lines, vec![text(1, "ok"), Line::TooLong { number: 2 }]);
    }

    #[test]
    fn a_multibyte_character_split_between_chunks_survives() {
        let word = "Zürich".as_bytes();
        let lines = split(&[&word[..2], &word[2..], b"\n"], 100);
        assert_eq!(lines, vec![text(1, "Zürich")]);
    }

    #[test]
    fn line_errors_name_fields_or_the_line() {
        let bad_json = parse_line(&text(1, "{not json"), 100).unwrap_err();
        assert_eq!(bad_json[0].field, "line");
        assert!(
            bad_json[0].message.contains("malformed JSON"),
            "{bad_json:?}"
        );
        // The column within the line; the report gives the file's line.
        let message =
            &parse_line(&text(40, r#"{"story_id": 1, "text": x}"#), 100).unwrap_err()[0].message;
        assert!(
            message.contains("at column 25") && !message.contains("line 1"),
            "{message}"
        );
        let missing =
            parse_line(&text(1, r#"{"story_id":1,"kind":"paraphrase"}"#), 100).unwrap_err();
        assert_eq!(missing[0].field, "text");
        let too_long = parse_line(&Line::TooLong { number: 3 }, 100).unwrap_err();
        assert_eq!(too_long[0].message, "is longer than 100 bytes");
    }

    #[test]
    fn batch_sizes_are_bounded() {
        assert_eq!(batch_size(None).unwrap(), DEFAULT_BATCH);
        assert_eq!(batch_size(Some(1)).unwrap(), 1);
        assert!(batch_size(Some(0)).is_err());
        assert!(batch_size(Some(MAX_BATCH + 1)).is_err());
    }

    #[test]
    fn the_report_caps_listed_errors_but_keeps_exact_counts() {
        let mut report = ImportReport::default();
        for line in 0..(MAX_REPORTED_ERRORS as u64 + 5) {
            report.line_error(LineError {
                line,
                errors: vec![],
            });
        }
        assert_eq!(report.invalid_lines, MAX_REPORTED_ERRORS as u64 + 5);
        assert_eq!(report.errors.len(), MAX_REPORTED_ERRORS);
        assert!(report.errors_truncated);
        report.committed(&[7, 9]);
        report.committed(&[12]);
        assert_eq!(
            (report.first_claim_id, report.last_claim_id),
            (Some(7), Some(12))
        );
        assert_eq!(report.imported, 3);
    }
}
