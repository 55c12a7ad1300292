//! Decoding a Bedrock error answer (status, `x-amzn-ErrorType`, JSON body, or an in-stream
//! exception frame) into a [`BedrockError`], its message scrubbed and bounded before any
//! client can see it.

use super::exceptions::{BedrockError, BedrockErrorKind};
use super::types::ErrorBody;
use crate::redact::{redact, REDACTED};

/// Longest upstream message relayed to a client (characters); longer ones are cut.
pub(crate) const MAX_MESSAGE_CHARS: usize = 512;

/// Classify a non-2xx Bedrock answer. The exception name comes from the `x-amzn-ErrorType`
/// header, else the body's `__type`, else the status; the message from the body. A name that
/// was sent but is not one Bedrock is known to use stays [`BedrockErrorKind::Unknown`].
pub(crate) fn from_response(
    status: u16,
    error_type_header: Option<&str>,
    body: &[u8],
) -> BedrockError {
    let parsed: ErrorBody = serde_json::from_slice(body).unwrap_or_default();
    let kind = match error_type_header.or(parsed.kind.as_deref()) {
        Some(name) if !name.trim().is_empty() => BedrockErrorKind::from_code(name),
        _ => BedrockErrorKind::from_status(status),
    };
    let message = match parsed.message {
        Some(m) if !m.trim().is_empty() => scrub(&m),
        _ => {
            let text = String::from_utf8_lossy(body);
            let text = text.trim();
            // A body that is not Bedrock's JSON is somebody else's page: say only its status.
            if text.is_empty() || text.len() > MAX_MESSAGE_CHARS || text.starts_with('<') {
                format!("HTTP {status}")
            } else {
                scrub(text)
            }
        }
    };
    BedrockError {
        kind,
        status,
        message,
    }
}

/// An in-stream exception frame (`:exception-type` + JSON payload); its status is the one
/// Bedrock would have answered the exception with.
pub(crate) fn from_exception(exception_type: &str, payload: &[u8]) -> BedrockError {
    let parsed: ErrorBody = serde_json::from_slice(payload).unwrap_or_default();
    let kind = BedrockErrorKind::from_code(exception_type);
    let message = match parsed.message {
        Some(m) if !m.trim().is_empty() => scrub(&m),
        _ => scrub(exception_type),
    };
    BedrockError {
        kind,
        status: kind.http_status(),
        message,
    }
}

/// An event-stream `error` frame (`:error-code`, `:error-message`).
pub(crate) fn from_error_frame(code: &str, message: &str) -> BedrockError {
    BedrockError {
        kind: BedrockErrorKind::from_code(code),
        status: 500,
        message: scrub(&format!("{code}: {message}")),
    }
}

/// Remove what must never reach a client from an upstream message: the secret values the log
/// redaction hides too ([`crate::redact`]), and beyond it access key ids, token-like runs and
/// network addresses; cut it to [`MAX_MESSAGE_CHARS`].
pub(crate) fn scrub(message: &str) -> String {
    let mut out = redact_words(&redact(message));
    if out.chars().count() > MAX_MESSAGE_CHARS {
        out = out.chars().take(MAX_MESSAGE_CHARS).collect();
        out.push('…');
    }
    out
}

/// Word-level rules: AWS access key ids (`AKIA…`, `ASIA…`), long token-like runs, IPv4
/// addresses with their ports.
fn redact_words(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        if is_key_id(word) || is_token(word) {
            out.push_str(REDACTED);
        } else if is_address(word) {
            out.push_str("[address]");
        } else {
            out.push_str(word);
        }
        word.clear();
    };
    for c in message.chars() {
        if c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '=' | '_' | '-' | '.' | ':') {
            word.push(c);
        } else {
            flush(&mut word, &mut out);
            out.push(c);
        }
    }
    flush(&mut word, &mut out);
    out
}

fn is_key_id(w: &str) -> bool {
    let w = w.trim_end_matches(['.', ':', ',']);
    ["AKIA", "ASIA", "AROA", "AIDA"]
        .iter()
        .any(|p| w.starts_with(p))
        && w.len() >= 16
        && w.bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

/// A run of 40+ base64/hex characters with no `.` or `:` (model ids and ARNs have them).
fn is_token(w: &str) -> bool {
    w.len() >= 40
        && w.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=' | b'_' | b'-'))
}

/// `a.b.c.d` or `a.b.c.d:port`, with trailing punctuation allowed.
fn is_address(w: &str) -> bool {
    let w = w.trim_end_matches(['.', ':', ',']);
    let host = w.split(':').next().unwrap_or(w);
    let parts: Vec<&str> = host.split('.').collect();
    parts.len() == 4
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.len() <= 3 && p.bytes().all(|b| b.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use BedrockErrorKind as K;

    #[test]
    fn header_wins_then_body_type_then_status() {
        let e = from_response(
            429,
            Some("ThrottlingException:http://internal.amazon.com/coral/com.amazon.bedrock/"),
            br#"{"message":"Too many requests, please wait before trying again."}"#,
        );
        assert_eq!(e.kind, K::Throttling);
        assert_eq!(
            e.message,
            "Too many requests, please wait before trying again."
        );
        let e = from_response(
            400,
            None,
            br#"{"__type":"ModelNotReadyException","Message":"warming"}"#,
        );
        assert_eq!((e.kind, e.message.as_str()), (K::ModelNotReady, "warming"));
        let e = from_response(503, None, b"<html>oops</html>");
        assert_eq!(
            (e.kind, e.message.as_str()),
            (K::ServiceUnavailable, "HTTP 503")
        );
    }

    #[test]
    fn an_unknown_exception_name_stays_unknown() {
        let e = from_response(500, Some("SomethingNewException"), br#"{"message":"x"}"#);
        assert_eq!(e.kind, K::Unknown);
        let e = from_response(500, None, br#"{"message":"x"}"#);
        assert_eq!(e.kind, K::InternalServer);
    }

    #[test]
    fn in_stream_exceptions_take_the_tables_status() {
        let e = from_exception("throttlingException", br#"{"message":"slow down"}"#);
        assert_eq!((e.kind, e.status), (K::Throttling, 429));
        let e = from_exception("modelStreamErrorException", b"{}");
        assert_eq!((e.kind, e.status), (K::ModelStreamError, 424));
        assert_eq!(e.message, "modelStreamErrorException");
    }

    #[test]
    fn credentials_and_addresses_are_scrubbed() {
        let echoed = r#"{"message":"denied; headers: {\"authorization\": \"AWS4-HMAC-SHA256 Credential=AKIDBASALTLOCAL/20261205/us-east-1/bedrock/aws4_request, SignedHeaders=host, Signature=0123abcd\", \"x-amz-security-token\": \"session-token-value+/=\"} from 10.1.2.3:8080"}"#;
        let e = from_response(403, Some("AccessDeniedException"), echoed.as_bytes());
        for secret in [
            "AKIDBASALTLOCAL",
            "0123abcd",
            "session-token-value",
            "10.1.2.3",
        ] {
            assert!(!e.message.contains(secret), "{secret} in {}", e.message);
        }
        assert!(e.message.starts_with("denied; headers:"), "{}", e.message);
        assert_eq!(
            scrub("key ASIAEXAMPLEEXAMPLE12 and x-api-key: k-123"),
            format!("key {REDACTED} and x-api-key: {REDACTED}")
        );
        let long_token = "A".repeat(30) + &"b/+".repeat(10);
        assert_eq!(
            scrub(&format!("t {long_token} end")),
            format!("t {REDACTED} end")
        );
    }

    #[test]
    fn real_bedrock_messages_pass_unchanged() {
        for m in [
            "The model returned the following errors: messages.0.content: field required",
            "Too many tokens per day, please wait before trying again.",
            "The provided model identifier is invalid: us.anthropic.claude-3-7-sonnet-20250219-v1:0",
            "Malformed input request: #: extraneous key [foo] is not permitted, please reformat your input and try again.",
        ] {
            assert_eq!(scrub(m), m);
        }
    }

    #[test]
    fn long_messages_are_cut() {
        let m = "é".repeat(MAX_MESSAGE_CHARS * 2);
        let s = scrub(&m);
        assert_eq!(s.chars().count(), MAX_MESSAGE_CHARS + 1);
        assert!(s.ends_with('…'));
    }
}
