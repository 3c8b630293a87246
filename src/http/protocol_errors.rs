//! Requests the HTTP parser refuses before the application sees them (a
//! 64 KB URL, too many or too large headers, a control character in a
//! header, a raw 0xFF in the path, a request head that never finishes) are
//! answered by actix-http itself with a bare status line: no security
//! headers, no problem+json body. It offers no hook for those answers, so
//! the connection's write side carries one: a response that ends what is
//! written, is an error, has no body and lacks the headers every response
//! of the application carries is one of those, and is rewritten into a
//! problem+json response with the same status and the security headers.
//!
//! Such an answer is always the last thing written on its connection (the
//! parser closes it after), so only the end of each write is examined. A
//! text body that itself ends with such a status line and headers (an
//! article's diff can hold any text) would be taken for one: the only
//! response that can be garbled that way is the one of whoever wrote that
//! text and asked for it.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::http::problem::{PROBLEM_JSON, Problem};

/// The headers every response carries (added to the application's by
/// middleware, and to the parser's by this module).
pub const SECURITY_HEADERS: &[(&str, &str)] = &[
    ("x-content-type-options", "nosniff"),
    ("cache-control", "no-store"),
    ("x-frame-options", "DENY"),
    (
        "content-security-policy",
        "default-src 'none'; frame-ancestors 'none'",
    ),
    ("referrer-policy", "no-referrer"),
    ("cross-origin-resource-policy", "same-origin"),
    (
        "strict-transport-security",
        "max-age=31536000; includeSubDomains",
    ),
];

/// The parser's own answers are a status line and a few headers.
const LONGEST_BARE_HEAD: usize = 512;

/// Where the parser's bare error answer starts in `written`, if it ends it.
fn bare_error_head(written: &[u8]) -> Option<usize> {
    if !written.ends_with(b"\r\n\r\n") {
        return None;
    }
    let window_start = written.len().saturating_sub(LONGEST_BARE_HEAD);
    let window = &written[window_start..];
    // A response may follow the previous one's body directly, so the last
    // status line is looked for anywhere in the window.
    let start = window_start + window.windows(7).rposition(|w| w == b"HTTP/1.")?;
    let head = &written[start..];
    let mut headers = [httparse::EMPTY_HEADER; 16];
    let mut response = httparse::Response::new(&mut headers);
    match response.parse(head) {
        Ok(httparse::Status::Complete(len)) if len == head.len() => {}
        _ => return None,
    }
    if response.code? < 400 {
        return None;
    }
    // The application's answers carry the security headers; the parser's
    // have no body.
    let marks_a_real_answer = |h: &httparse::Header<'_>| {
        h.name.eq_ignore_ascii_case("x-content-type-options")
            || h.name.eq_ignore_ascii_case("transfer-encoding")
            || (h.name.eq_ignore_ascii_case("content-length") && h.value != b"0")
    };
    (!response.headers.iter().any(marks_a_real_answer)).then_some(start)
}

/// The problem+json answer for a bare one.
fn problem_response(head: &[u8]) -> Vec<u8> {
    let mut headers = [httparse::EMPTY_HEADER; 16];
    let mut response = httparse::Response::new(&mut headers);
    let _ = response.parse(head);
    let code = response.code.unwrap_or(400);
    let status = actix_web::http::StatusCode::from_u16(code)
        .unwrap_or(actix_web::http::StatusCode::BAD_REQUEST);
    let (slug, title, detail) = match code {
        431 => (
            "header-fields-too-large",
            "Request header fields too large",
            "the request line and headers must stay within 32 KB and 96 headers",
        ),
        408 => (
            "request-timeout",
            "Request timeout",
            "the request line and headers did not arrive in time",
        ),
        400..=499 => (
            "malformed-request",
            "Malformed request",
            "the request line or headers are not valid HTTP/1.1 (a URL longer than 64 KB, \
             a control character, a byte that is not allowed in a URL, or a malformed header)",
        ),
        _ => (
            "internal",
            "Internal error",
            "an internal error occurred; it has been logged",
        ),
    };
    let body = serde_json::to_vec(&Problem::new(status, slug, title, detail))
        .unwrap_or_else(|_| b"{}".to_vec());
    let mut out = format!(
        "HTTP/1.1 {} {}\r\ncontent-type: {PROBLEM_JSON}\r\ncontent-length: {}\r\n",
        status.as_u16(),
        status.canonical_reason().unwrap_or(""),
        body.len()
    )
    .into_bytes();
    for (name, value) in SECURITY_HEADERS {
        out.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
    }
    let mut closes = false;
    for h in response.headers.iter() {
        if h.name.eq_ignore_ascii_case("date") || h.name.eq_ignore_ascii_case("connection") {
            closes |= h.name.eq_ignore_ascii_case("connection");
            out.extend_from_slice(h.name.as_bytes());
            out.extend_from_slice(b": ");
            out.extend_from_slice(h.value);
            out.extend_from_slice(b"\r\n");
        }
    }
    if !closes {
        // The parser closes the connection after these answers.
        out.extend_from_slice(b"connection: close\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(&body);
    out
}

/// A connection whose bare error answers become problem+json.
pub struct ProblemStream<T> {
    inner: T,
    /// Rewritten bytes not yet handed to `inner`.
    pending: Vec<u8>,
    pending_at: usize,
}

impl<T> ProblemStream<T> {
    pub fn new(inner: T) -> Self {
        ProblemStream {
            inner,
            pending: Vec::new(),
            pending_at: 0,
        }
    }
}

impl<T: AsyncWrite + Unpin> ProblemStream<T> {
    fn poll_drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.pending_at < self.pending.len() {
            let n =
                ready!(Pin::new(&mut self.inner).poll_write(cx, &self.pending[self.pending_at..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.pending_at += n;
        }
        self.pending.clear();
        self.pending_at = 0;
        Poll::Ready(Ok(()))
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for ProblemStream<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for ProblemStream<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        ready!(this.poll_drain(cx))?;
        let Some(start) = bare_error_head(buf) else {
            return Pin::new(&mut this.inner).poll_write(cx, buf);
        };
        let mut out = buf[..start].to_vec();
        out.extend_from_slice(&problem_response(&buf[start..]));
        this.pending = out;
        // All of `buf` is taken; what `inner` does not take now is written
        // by the next write, flush or shutdown.
        if let Poll::Ready(Err(e)) = this.poll_drain(cx) {
            return Poll::Ready(Err(e));
        }
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_drain(cx))?;
        Pin::new(&mut this.inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_drain(cx))?;
        Pin::new(&mut this.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BARE_400: &[u8] =
        b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\ndate: Wed, 02 Dec 2026 12:00:00 GMT\r\n\r\n";

    #[test]
    fn the_parsers_bare_answers_are_found_at_the_end_of_a_write() {
        assert_eq!(bare_error_head(BARE_400), Some(0));
        let after_a_response = [
            &b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nx-content-type-options: nosniff\r\n\r\n{}"[..],
            BARE_400,
        ]
        .concat();
        assert_eq!(
            bare_error_head(&after_a_response),
            Some(after_a_response.len() - BARE_400.len())
        );
        let bare_431 = b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\n\r\n";
        assert_eq!(bare_error_head(bare_431), Some(0));
    }

    #[test]
    fn the_applications_answers_are_left_alone() {
        // Every application response carries the security headers.
        let app_error = b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nx-content-type-options: nosniff\r\n\r\n";
        assert_eq!(bare_error_head(app_error), None);
        // Successes, bodies, heads cut short, chunked answers.
        assert_eq!(bare_error_head(b"HTTP/1.1 204 No Content\r\n\r\n"), None);
        assert_eq!(
            bare_error_head(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 5\r\n\r\n"),
            None
        );
        assert_eq!(bare_error_head(b"{\"text\":\"HTTP/1.1 400 x\"}"), None);
        assert_eq!(bare_error_head(b"HTTP/1.1 400 Bad Request\r\n"), None);
        assert_eq!(
            bare_error_head(
                b"HTTP/1.1 500 Internal Server Error\r\ntransfer-encoding: chunked\r\n\r\n"
            ),
            None
        );
    }

    #[test]
    fn a_bare_answer_becomes_problem_json_with_the_security_headers() {
        let out = String::from_utf8(problem_response(BARE_400)).unwrap();
        let (head, body) = out.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 400 Bad Request\r\n"), "{head}");
        assert!(
            head.contains("content-type: application/problem+json"),
            "{head}"
        );
        for (name, value) in SECURITY_HEADERS {
            assert!(head.contains(&format!("{name}: {value}")), "{head}");
        }
        assert!(head.contains("connection: close"), "{head}");
        assert!(head.contains("date: Wed, 02 Dec 2026"), "{head}");
        assert!(
            head.contains(&format!("content-length: {}", body.len())),
            "{head}"
        );
        let problem: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(problem["status"], 400);
        assert_eq!(problem["type"], "urn:claimtrail:problem:malformed-request");
        // The rewritten answer is not taken for a bare one again.
        assert_eq!(bare_error_head(out.as_bytes()), None);
    }
}
