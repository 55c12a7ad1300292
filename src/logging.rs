//! The process logger: `BASALT_LOG` (RUST_LOG syntax, default `info`) to stderr, with two guards
//! so that no secret (client keys, Bedrock API key, AWS signature, session token) reaches a log.
//!
//! 1. **Caps** (`CAPS`): the dependencies that dump HTTP headers or request/response bodies at
//!    `debug`/`trace` are held at a fixed maximum level. The cap is enforced by the logger itself,
//!    after the `BASALT_LOG` filter, so no directive can lift it (an env-filter directive would
//!    not do: a longer one such as `pingora_core::protocols=trace` overrides a shorter one).
//! 2. **Redaction** (`redact`): every formatted message, ours and every dependency's, has the
//!    values of `authorization`, `x-api-key`, `x-amz-security-token`, `cookie` and AWS
//!    `Signature=` / `Credential=` fragments replaced by `<redacted>`. This catches what the caps
//!    cannot know about (a new dependency, an error message that echoes a header); it is a
//!    textual heuristic, so it errs on the side of hiding too much (an unquoted header value is
//!    hidden up to the end of the line).

use log::{LevelFilter, Log, Metadata, Record};
use std::borrow::Cow;

/// Highest level at which each header-dumping dependency may log, whatever `BASALT_LOG` says.
/// A name covers the crate of that name and every crate named `<name>_…` (`pingora` covers
/// `pingora_core`, `pingora_proxy`, …; `aws` covers every `aws_*` crate).
pub(crate) const CAPS: &[(&str, LevelFilter)] = &[
    // pingora_core::protocols::http::v1::client traces "Writing request header: {to_wire:?}"
    // (the signed upstream request: `authorization`, `x-amz-security-token`) and debugs
    // "Response header"; pingora_proxy traces "Request header: {:?}" (the client's key) and
    // debugs "Sending header to upstream {:?}"; pingora_cache debugs cached headers.
    // Their info/warn/error lines print no header.
    ("pingora", LevelFilter::Info),
    // rustls traces whole handshake messages (ClientHello, tickets, certificates); its debug
    // lines (suite chosen, resumption) are safe and useful for TLS problems.
    ("rustls", LevelFilter::Debug),
    // The crates below log through `tracing`. Today nothing of theirs reaches this logger (no
    // tracing subscriber is installed and tracing's `log` feature is off), but one dependency
    // enabling that feature would bridge them, so they are capped in advance:
    // aws_smithy_runtime traces "transmitting request" / "received response" with every header
    // and the STS/SSO answers (temporary credentials); aws_sigv4 traces the request being signed;
    // aws_config debugs profile and credential-process details.
    ("aws", LevelFilter::Info),
    // h2 debugs every frame sent (HEADERS included); hyper/hyper_util trace connection I/O.
    ("h2", LevelFilter::Info),
    ("hyper", LevelFilter::Info),
    // Not in the dependency tree today; HTTP clients that dump headers at debug/trace.
    ("reqwest", LevelFilter::Info),
    ("ureq", LevelFilter::Info),
    // Span enter/exit records of the tracing→log bridge carry span fields (requests, operations).
    ("tracing", LevelFilter::Info),
];

/// What replaces a secret value.
pub(crate) const REDACTED: &str = "<redacted>";

/// Install the logger: `BASALT_LOG` (RUST_LOG syntax), default `info`; logs go to stderr, with
/// `CAPS` applied and every line passed through `redact`. A second call does nothing.
pub fn init() {
    let env = env_logger::Env::new().filter_or("BASALT_LOG", "info");
    let inner = env_logger::Builder::from_env(env)
        .target(env_logger::Target::Stderr)
        .build();
    let max = inner.filter();
    if log::set_boxed_logger(Box::new(Guarded { inner })).is_ok() {
        log::set_max_level(max);
    }
}

/// env_logger behind the caps and the redaction.
struct Guarded {
    inner: env_logger::Logger,
}

/// The cap for a log target, if its crate is one of [`CAPS`].
fn cap(target: &str) -> Option<LevelFilter> {
    let krate = target.split("::").next().unwrap_or(target);
    CAPS.iter()
        .find(|(name, _)| {
            krate
                .strip_prefix(name)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('_'))
        })
        .map(|&(_, level)| level)
}

fn allowed(metadata: &Metadata<'_>) -> bool {
    cap(metadata.target()).is_none_or(|max| metadata.level() <= max)
}

impl Log for Guarded {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        allowed(metadata) && self.inner.enabled(metadata)
    }

    fn log(&self, record: &Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let text: Cow<'_, str> = match record.args().as_str() {
            Some(s) => Cow::Borrowed(s),
            None => Cow::Owned(record.args().to_string()),
        };
        let clean = redact(&text);
        self.inner.log(
            &Record::builder()
                .metadata(record.metadata().clone())
                .args(format_args!("{clean}"))
                .module_path(record.module_path())
                .file(record.file())
                .line(record.line())
                .build(),
        );
    }

    fn flush(&self) {
        self.inner.flush();
    }
}

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
    use std::io::Write;
    use std::sync::{Arc, Mutex};

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

    #[test]
    fn caps_cover_the_header_dumping_crates() {
        assert_eq!(
            cap("pingora_core::protocols::http::v1::client"),
            Some(LevelFilter::Info)
        );
        assert_eq!(cap("pingora_proxy"), Some(LevelFilter::Info));
        assert_eq!(
            cap("aws_smithy_runtime::client::orchestrator"),
            Some(LevelFilter::Info)
        );
        assert_eq!(
            cap("aws_sigv4::http_request::sign"),
            Some(LevelFilter::Info)
        );
        assert_eq!(cap("hyper_util::client"), Some(LevelFilter::Info));
        assert_eq!(cap("rustls::client::hs"), Some(LevelFilter::Debug));
        assert_eq!(cap("tracing::span"), Some(LevelFilter::Info));
        assert_eq!(cap("basalt::access"), None);
        assert_eq!(cap("h2o"), None);
        assert_eq!(cap("awsome"), None);
    }

    #[derive(Clone, Default)]
    struct Sink(Arc<Mutex<Vec<u8>>>);

    impl Write for Sink {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn the_logger_caps_and_redacts_whatever_the_filter_says() {
        let sink = Sink::default();
        let inner = env_logger::Builder::new()
            .parse_filters("trace,pingora_core::protocols=trace")
            .target(env_logger::Target::Pipe(Box::new(sink.clone())))
            .build();
        let logger = Guarded { inner };
        let emit = |target: &str, level: log::Level, text: &str| {
            logger.log(
                &Record::builder()
                    .target(target)
                    .level(level)
                    .args(format_args!("{text}"))
                    .build(),
            )
        };
        emit(
            "pingora_core::protocols::http::v1::client",
            log::Level::Trace,
            "Writing request header: secret-1",
        );
        emit(
            "pingora_proxy",
            log::Level::Debug,
            "Request header: secret-2",
        );
        emit(
            "pingora_core::server",
            log::Level::Info,
            "Bootstrap starting",
        );
        emit(
            "basalt::proxy",
            log::Level::Trace,
            "sent {\"authorization\": \"Bearer secret-3\"}",
        );
        let out = String::from_utf8(sink.0.lock().unwrap().clone()).unwrap();
        assert!(!out.contains("secret-"), "{out}");
        assert!(out.contains("Bootstrap starting"), "{out}");
        assert!(
            out.contains("sent {\"authorization\": \"<redacted>\"}"),
            "{out}"
        );
        let capped = Metadata::builder()
            .target("aws_sigv4::sign")
            .level(log::Level::Trace)
            .build();
        assert!(!logger.enabled(&capped));
    }
}
