//! Hiding secret values in text: the values of `authorization`, `x-api-key`,
//! `x-amz-security-token`, `cookie`, AWS `Signature=` / `Credential=` fragments and `Bearer`
//! tokens are replaced by [`REDACTED`]. Used on every log line (`logging`) and on every upstream
//! message that may reach a client (`bedrock::error::scrub`). Pure.

use std::borrow::Cow;

/// What replaces a secret value.
pub(crate) const REDACTED: &str = "<redacted>";

#[derive(Clone, Copy)]
enum Kind {
    /// A header value: a quoted string, or everything up to the end of the line.
    Header,
    /// `Signature=<hex>` (also `X-Amz-Signature=`).
    Signature,
    /// `Credential=<access key id>/…`: the key id (the scope after `/` is kept).
    Credential,
    /// `Bearer <token>` outside a header.
    Bearer,
}

/// Matched case-insensitively, not preceded by a letter, digit or `_` (so `x-api-key`,
/// `x-amz-security-token`, `proxy-authorization`, `set-cookie` and `X-Amz-Signature` match too),
/// not followed by a letter, digit, `_` or `-`.
const NAMES: &[(&str, Kind)] = &[
    ("authorization", Kind::Header),
    ("api-key", Kind::Header),
    ("security-token", Kind::Header),
    ("cookie", Kind::Header),
    ("signature", Kind::Signature),
    ("credential", Kind::Credential),
    ("bearer", Kind::Bearer),
];

/// `line` with the value of every secret-bearing header or fragment replaced by [`REDACTED`].
/// Recognised forms: `name: value`, `name=value`, `"name": "value"` (Debug of a header map),
/// `("name", "value")` (Debug of pairs), `"name":"value"` (JSON), `\"name\":\"value\"` (JSON
/// inside a Debug string), `Signature=…`, `Credential=KEYID/…`, `Bearer token`. An unquoted
/// header value runs to the end of the line (or to an escaped `\r`/`\n` inside a Debug string).
/// Borrows `line` when there is nothing to hide.
pub(crate) fn redact(line: &str) -> Cow<'_, str> {
    let b = line.as_bytes();
    let mut out: Option<String> = None;
    let mut copied = 0;
    let mut i = 0;
    while i < b.len() {
        let first = b[i].to_ascii_lowercase();
        if matches!(first, b'a' | b's' | b'c' | b'b') && starts_word(b, i) {
            let found = NAMES
                .iter()
                .find_map(|&(name, kind)| secret_after(b, i, name, kind));
            if let Some((start, end)) = found {
                let o = out.get_or_insert_with(|| String::with_capacity(line.len()));
                o.push_str(&line[copied..start]);
                o.push_str(REDACTED);
                copied = end;
                i = end.max(i + 1);
                continue;
            }
        }
        i += 1;
    }
    match out {
        None => Cow::Borrowed(line),
        Some(mut o) => {
            o.push_str(&line[copied..]);
            Cow::Owned(o)
        }
    }
}

/// Whether a word starts at `i`: after a non-word byte, or after an escaped `\n`, `\r` or
/// `\t` of a Debug string (`...\r\nAuthorization: ...`).
fn starts_word(b: &[u8], i: usize) -> bool {
    i == 0
        || !is_word(b[i - 1])
        || (i >= 2 && b[i - 2] == b'\\' && matches!(b[i - 1], b'n' | b'r' | b't'))
}

fn is_word(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

fn skip_blanks(b: &[u8], mut j: usize) -> usize {
    while j < b.len() && (b[j] == b' ' || b[j] == b'\t') {
        j += 1;
    }
    j
}

/// The byte range of the secret value after `name` at `i`, if `name` is there and is followed
/// by a separator and a non-empty value. Every returned bound is at an ASCII byte or the end.
fn secret_after(b: &[u8], i: usize, name: &str, kind: Kind) -> Option<(usize, usize)> {
    let end_name = i + name.len();
    if b.len() < end_name || !b[i..end_name].eq_ignore_ascii_case(name.as_bytes()) {
        return None;
    }
    let mut j = end_name;
    if j < b.len() && (is_word(b[j]) || b[j] == b'-') {
        return None;
    }
    if let Kind::Bearer = kind {
        let start = skip_blanks(b, j);
        if start == j {
            return None;
        }
        let end = scan(b, start, |c| {
            c.is_ascii_alphanumeric() || b"-._~+/=".contains(&c)
        });
        return (end > start).then_some((start, end));
    }
    let quoted_name = i > 0 && (b[i - 1] == b'"' || b[i - 1] == b'\'');
    if b[j..].starts_with(b"\\\"") {
        j += 2;
    } else if j < b.len() && (b[j] == b'"' || b[j] == b'\'') {
        j += 1;
    }
    j = skip_blanks(b, j);
    match b.get(j) {
        Some(b':' | b'=') => j += 1,
        Some(b',') if quoted_name => j += 1,
        _ => return None,
    }
    j = skip_blanks(b, j);
    let (start, end) = if b[j..].starts_with(b"\\\"") {
        // `\"value\"`: JSON inside a Debug string.
        let start = j + 2;
        let end = find(b, start, b"\\\"").unwrap_or(b.len());
        (start, end)
    } else if b.get(j) == Some(&b'"') {
        (j + 1, quoted_end(b, j + 1))
    } else if b.get(j) == Some(&b'\'') {
        let start = j + 1;
        (start, find(b, start, b"'").unwrap_or(b.len()))
    } else {
        let end = match kind {
            Kind::Signature => scan(b, j, |c| c.is_ascii_alphanumeric() || b"+/=_-".contains(&c)),
            Kind::Credential => scan(b, j, |c| c.is_ascii_alphanumeric()),
            _ => unquoted_end(b, j),
        };
        (j, end)
    };
    (end > start).then_some((start, end))
}

/// The first index at or after `from` whose byte does not satisfy `keep`.
fn scan(b: &[u8], from: usize, keep: impl Fn(u8) -> bool) -> usize {
    b[from..]
        .iter()
        .position(|&c| !keep(c))
        .map_or(b.len(), |p| from + p)
}

fn find(b: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    b[from..]
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| from + p)
}

/// The closing `"` of a Debug/JSON-quoted string starting at `from` (after the opening quote).
fn quoted_end(b: &[u8], from: usize) -> usize {
    let mut k = from;
    while k < b.len() {
        match b[k] {
            b'\\' => k += 2,
            b'"' => return k,
            _ => k += 1,
        }
    }
    b.len()
}

/// An unquoted header value ends at a line break, raw or escaped (`\r`, `\n` inside a Debug
/// string), or at the end of the line.
fn unquoted_end(b: &[u8], from: usize) -> usize {
    let mut k = from;
    while k < b.len() {
        match b[k] {
            b'\r' | b'\n' => return k,
            b'\\' if matches!(b.get(k + 1), Some(b'r' | b'n')) => return k,
            _ => k += 1,
        }
    }
    b.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(line: &str) -> String {
        redact(line).into_owned()
    }

    #[test]
    fn nothing_to_hide_borrows() {
        for line in [
            "listener default on 0.0.0.0:8080 (http)",
            "credentials: static keys from secret bedrock-secret",
            "authorization failed for client 10.0.0.1",
            "The request signature we calculated does not match the signature you provided.",
            "{\"route\":\"bedrock\",\"status\":200}",
            "",
        ] {
            assert!(matches!(redact(line), Cow::Borrowed(_)), "{line}");
        }
    }

    #[test]
    fn debug_header_maps() {
        assert_eq!(
            r(r#"headers: {"host": "h", "authorization": "Bearer abc", "x-api-key": "k1"}"#),
            r#"headers: {"host": "h", "authorization": "<redacted>", "x-api-key": "<redacted>"}"#
        );
        assert_eq!(
            r(r#"{"x-amz-security-token": "IQoJb3JpZ2luX2VjE+/=", "cookie": "a=1; b=2"}"#),
            r#"{"x-amz-security-token": "<redacted>", "cookie": "<redacted>"}"#
        );
        // An escaped quote inside the value does not end it.
        assert_eq!(
            r(r#""Authorization": "Bearer a\"b", "x": "y""#),
            r#""Authorization": "<redacted>", "x": "y""#
        );
        // Pairs, as in Debug of Vec<(String, String)>, and JSON.
        assert_eq!(
            r(r#"[("authorization", "Bearer abc"), ("host", "h")]"#),
            r#"[("authorization", "<redacted>"), ("host", "h")]"#
        );
        assert_eq!(
            r(r#"{"authorization":"Bearer abc","set-cookie":"s=1"}"#),
            r#"{"authorization":"<redacted>","set-cookie":"<redacted>"}"#
        );
        assert_eq!(
            r(r#""{\"authorization\":\"Bearer abc\",\"a\":1}""#),
            r#""{\"authorization\":\"<redacted>\",\"a\":1}""#
        );
        // A wrapped value is hidden to the end of the line.
        assert_eq!(
            r(r#"authorization: Some("Bearer abc"), next"#),
            "authorization: <redacted>"
        );
    }

    #[test]
    fn raw_header_lines() {
        assert_eq!(
            r("x-amz-security-token: xyz"),
            "x-amz-security-token: <redacted>"
        );
        assert_eq!(r("X-Api-Key:k-123"), "X-Api-Key:<redacted>");
        assert_eq!(
            r("Proxy-Authorization: Basic dXNlcjpwYXNz"),
            "Proxy-Authorization: <redacted>"
        );
        // Debug of the bytes written on the wire: values end at the escaped CRLF.
        let wire = r#"b"POST /model/m/converse HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer bedrock-key\r\nX-Amz-Security-Token: tok+/=\r\nContent-Length: 2\r\n\r\n""#;
        assert_eq!(
            r(wire),
            r#"b"POST /model/m/converse HTTP/1.1\r\nHost: h\r\nAuthorization: <redacted>\r\nX-Amz-Security-Token: <redacted>\r\nContent-Length: 2\r\n\r\n""#
        );
        // Real line breaks too.
        assert_eq!(r("Cookie: a=1\nHost: h"), "Cookie: <redacted>\nHost: h");
    }

    #[test]
    fn aws_signature_fragments() {
        let sigv4 = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240101/us-east-1/bedrock/aws4_request, SignedHeaders=host;x-amz-date, Signature=0123abcdef";
        assert_eq!(
            r(sigv4),
            "AWS4-HMAC-SHA256 Credential=<redacted>/20240101/us-east-1/bedrock/aws4_request, SignedHeaders=host;x-amz-date, Signature=<redacted>"
        );
        assert_eq!(
            r("GET /?X-Amz-Credential=ASIAX%2F20240101%2Fus-east-1&X-Amz-Security-Token=t%2Bo&X-Amz-Signature=ff00"),
            "GET /?X-Amz-Credential=<redacted>%2F20240101%2Fus-east-1&X-Amz-Security-Token=<redacted>"
        );
        assert_eq!(
            r("sent Bearer sk-abc.def_1 to upstream"),
            "sent Bearer <redacted> to upstream"
        );
    }

    #[test]
    fn non_ascii_text_is_kept_intact() {
        assert_eq!(
            r("ünï authorization: ççç\r\nnext ünï"),
            "ünï authorization: <redacted>\r\nnext ünï"
        );
        assert_eq!(r("é\"cookie\": \"é\"é"), "é\"cookie\": \"<redacted>\"é");
        assert_eq!(r("authorization"), "authorization");
        assert_eq!(r("authorization: "), "authorization: ");
        assert_eq!(r("Bearer"), "Bearer");
    }
}
