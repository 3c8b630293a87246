//! A page's bytes as text, decoded the way a browser would: a byte-order
//! mark first, then the charset the server declared, then a `<meta>`
//! declaration near the top of the page, else UTF-8 (the WHATWG Encoding
//! Standard's labels and decoders, via `encoding_rs`). Many outlets in
//! Japan, Korea, China and the Arab world still serve Shift_JIS, EUC-KR,
//! GBK or windows-1256.

use encoding_rs::{Encoding, UTF_8};

/// Bytes of the page searched for a `<meta>` charset (HTML asks for the
/// declaration within the first 1024).
const META_WINDOW: usize = 1024;

pub fn decode_page(bytes: &[u8], declared: Option<&str>) -> String {
    let encoding = Encoding::for_bom(bytes)
        .map(|(e, _)| e)
        .or_else(|| declared.and_then(|l| Encoding::for_label(l.trim().as_bytes())))
        .or_else(|| meta_charset(&bytes[..bytes.len().min(META_WINDOW)]))
        .unwrap_or(UTF_8);
    let (text, _, _) = encoding.decode(bytes);
    text.into_owned()
}

/// `<meta charset="…">` or `<meta http-equiv="Content-Type"
/// content="text/html; charset=…">`, read from ASCII bytes.
fn meta_charset(head: &[u8]) -> Option<&'static Encoding> {
    let lower: Vec<u8> = head.iter().map(u8::to_ascii_lowercase).collect();
    let mut from = 0;
    while let Some(at) = find(&lower[from..], b"charset") {
        let mut i = from + at + b"charset".len();
        from = i;
        while lower.get(i).is_some_and(|b| b.is_ascii_whitespace()) {
            i += 1;
        }
        if lower.get(i) != Some(&b'=') {
            continue;
        }
        i += 1;
        while lower
            .get(i)
            .is_some_and(|b| b.is_ascii_whitespace() || *b == b'"' || *b == b'\'')
        {
            i += 1;
        }
        let end = lower[i..]
            .iter()
            .position(|b| !(b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b':' | b'.')))
            .map_or(lower.len(), |n| i + n);
        if let Some(encoding) = Encoding::for_label(&lower[i..end]) {
            // A page cannot declare itself UTF-16 in ASCII bytes.
            return Some(
                if encoding.is_single_byte() || encoding.output_encoding() == encoding {
                    encoding
                } else {
                    UTF_8
                },
            );
        }
    }
    None
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shift_jis_page_declared_in_meta_reads_as_japanese() {
        let text = "<html><head><meta charset=\"Shift_JIS\"></head><body><p>政府は１７人の邦人を確認したと発表した。</p></body></html>";
        let (bytes, _, _) = encoding_rs::SHIFT_JIS.encode(text);
        assert_eq!(decode_page(&bytes, None), text);
    }

    #[test]
    fn the_servers_charset_comes_before_meta_and_a_bom_before_both() {
        let text = "<meta http-equiv=\"Content-Type\" content=\"text/html; charset=utf-8\"><p>قال الوزير إن المحادثات ستستأنف</p>";
        let (bytes, _, _) = encoding_rs::WINDOWS_1256.encode(text);
        assert_eq!(decode_page(&bytes, Some("windows-1256")), text);
        let mut with_bom = vec![0xEF, 0xBB, 0xBF];
        with_bom.extend_from_slice("Ελληνικά".as_bytes());
        assert_eq!(decode_page(&with_bom, Some("iso-8859-7")), "Ελληνικά");
    }

    #[test]
    fn without_a_declaration_it_is_utf8() {
        assert_eq!(decode_page("Καλημέρα".as_bytes(), None), "Καλημέρα");
        assert_eq!(decode_page(b"caf\xe9", None), "caf\u{FFFD}");
    }
}
