//! Decoding a Bedrock error answer (status, `x-amzn-ErrorType`, JSON body) into a `GatewayError`.

use super::types::ErrorBody;
use crate::error::{BedrockErrorKind, GatewayError};

/// Classify a non-2xx Bedrock answer. The exception name comes from the `x-amzn-ErrorType`
/// header, else the body's `__type`, else the status; the message from the body.
pub fn from_response(status: u16, error_type_header: Option<&str>, body: &[u8]) -> GatewayError {
    let parsed: ErrorBody = serde_json::from_slice(body).unwrap_or_default();
    let kind = error_type_header
        .or(parsed.kind.as_deref())
        .map(BedrockErrorKind::from_code)
        .filter(|k| *k != BedrockErrorKind::Unknown)
        .unwrap_or_else(|| BedrockErrorKind::from_status(status));
    let message = match parsed.message {
        Some(m) if !m.trim().is_empty() => m.into_owned(),
        _ => {
            let text = String::from_utf8_lossy(body);
            let text = text.trim();
            if text.is_empty() || text.len() > 512 {
                format!("HTTP {status}")
            } else {
                text.to_owned()
            }
        }
    };
    GatewayError::Bedrock {
        kind,
        status,
        message,
    }
}

/// An in-stream exception frame (`:exception-type` + JSON payload).
pub fn from_exception(exception_type: &str, payload: &[u8]) -> GatewayError {
    let parsed: ErrorBody = serde_json::from_slice(payload).unwrap_or_default();
    let kind = BedrockErrorKind::from_code(exception_type);
    let message = parsed
        .message
        .map(|m| m.into_owned())
        .unwrap_or_else(|| exception_type.to_owned());
    let status = match kind {
        BedrockErrorKind::Validation => 400,
        BedrockErrorKind::Throttling => 429,
        BedrockErrorKind::ServiceUnavailable => 503,
        BedrockErrorKind::ModelStreamError => 424,
        _ => 500,
    };
    GatewayError::Bedrock {
        kind,
        status,
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_wins_then_body_type_then_status() {
        let e = from_response(
            429,
            Some("ThrottlingException:http://internal.amazon.com/coral/com.amazon.bedrock/"),
            br#"{"message":"Too many requests, please wait before trying again."}"#,
        );
        assert_eq!(e.status(), 429);
        assert_eq!(
            e.message(),
            "Bedrock: Too many requests, please wait before trying again."
        );
        let e = from_response(
            400,
            None,
            br#"{"__type":"ModelNotReadyException","Message":"warming"}"#,
        );
        assert_eq!(e.status(), 429);
        assert_eq!(e.message(), "Bedrock: warming");
        let e = from_response(503, None, b"<html>oops</html>");
        assert_eq!(e.status(), 503);
        assert_eq!(e.message(), "Bedrock: <html>oops</html>");
    }
}
