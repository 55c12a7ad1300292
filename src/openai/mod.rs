//! The OpenAI chat-completions API's wire types (downstream side) and its error body: the
//! request as clients send it, borrowed from the request buffer, and the completion, chunk and
//! error shapes sent back. No translation logic lives here.

pub mod embeddings;
mod limits;
mod request;
mod response;
pub mod responses;

pub use limits::{exceeded as caps_exceeded, Counted, RequestCaps};
pub use request::*;
pub use response::*;

use crate::error::GatewayError;
use serde::{Deserialize, Serialize};

/// The OpenAI error body `{"error":{"message","type","param","code"}}`.
#[derive(Debug, Serialize)]
pub(crate) struct ErrorBody<'a> {
    /// The one member.
    pub(crate) error: ErrorDetail<'a>,
}

/// The members of an OpenAI error.
#[derive(Debug, Serialize)]
pub(crate) struct ErrorDetail<'a> {
    /// Human-readable message.
    pub(crate) message: &'a str,
    /// OpenAI's `type` (`invalid_request_error`, `server_error`, ...).
    #[serde(rename = "type")]
    pub(crate) r#type: &'a str,
    /// The request field at fault.
    pub(crate) param: Option<&'a str>,
    /// Machine-readable code.
    pub(crate) code: Option<&'a str>,
}

/// Render a gateway error as OpenAI's error body.
pub(crate) fn error_body(e: &GatewayError) -> Vec<u8> {
    let body = ErrorBody {
        error: ErrorDetail {
            message: &e.message(),
            r#type: e.openai_type(),
            param: e.param(),
            code: e.code(),
        },
    };
    serde_json::to_vec(&body).unwrap_or_else(|_| {
        br#"{"error":{"message":"internal error","type":"server_error","param":null,"code":"internal_error"}}"#.to_vec()
    })
}

/// Parse a request body, borrowing strings from it. Errors name the JSON path at fault.
pub fn parse_chat_request(body: &[u8]) -> Result<ChatRequest<'_>, GatewayError> {
    parse_chat_request_with(body, RequestCaps::default())
}

/// [`parse_chat_request`] with the listener's caps on messages, content parts and tools: a
/// request past one is refused while it is parsed, with a 400 naming the cap.
pub(crate) fn parse_chat_request_with(
    body: &[u8],
    caps: RequestCaps,
) -> Result<ChatRequest<'_>, GatewayError> {
    if let Some((what, cap)) = limits::exceeded(body, caps) {
        return Err(GatewayError::invalid(
            format!(
                "the request has more than {cap} {} (the listener's limits.{})",
                what.noun(),
                what.key()
            ),
            Some(what.param()),
        ));
    }
    parse_json(body)
}

/// Parse a JSON object body into `T` (a request type borrowing from it); errors name the JSON
/// path at fault.
pub(crate) fn parse_json<'a, T: Deserialize<'a>>(body: &'a [u8]) -> Result<T, GatewayError> {
    // serde would accept a JSON array for a struct (fields by position): require an object.
    match body.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'{') => {}
        None => {
            return Err(GatewayError::InvalidJson {
                message: "the request body is empty; send a JSON object".into(),
            })
        }
        Some(_) => {
            return Err(GatewayError::InvalidJson {
                message: "the request body must be a JSON object".into(),
            })
        }
    }
    // Fast path without path tracking (it costs ~8 % of parsing); on failure, parse again with
    // serde_path_to_error only to name where the error is.
    let mut de = serde_json::Deserializer::from_slice(body);
    if let Ok(req) = T::deserialize(&mut de) {
        if de.end().is_ok() {
            return Ok(req);
        }
    }
    let mut de = serde_json::Deserializer::from_slice(body);
    let req: T = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let message = if path.is_empty() || path == "." || path == "?" {
            inner.to_string()
        } else {
            format!("{path}: {inner}")
        };
        GatewayError::InvalidJson { message }
    })?;
    de.end().map_err(|e| GatewayError::InvalidJson {
        message: e.to_string(),
    })?;
    Ok(req)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_body_is_openai_shaped() {
        let e = GatewayError::unsupported("n", "n > 1 is not supported");
        let v: serde_json::Value = serde_json::from_slice(&error_body(&e)).unwrap();
        assert_eq!(v["error"]["param"], "n");
        assert_eq!(v["error"]["type"], "invalid_request_error");
        assert_eq!(v["error"]["code"], "unsupported_parameter");
        assert_eq!(v["error"]["message"], "n > 1 is not supported");
    }

    fn tiny_parts(n: usize) -> Vec<u8> {
        let parts = vec![r#"{"type":"text","text":"a"}"#; n].join(",");
        format!(r#"{{"model":"m","messages":[{{"role":"user","content":[{parts}]}}]}}"#)
            .into_bytes()
    }

    #[test]
    fn caps_are_enforced_while_parsing_and_named() {
        let caps = RequestCaps {
            max_messages: 3,
            max_content_parts: 10,
            max_tools: 2,
        };
        assert!(parse_chat_request_with(&tiny_parts(10), caps).is_ok());
        let e = parse_chat_request_with(&tiny_parts(11), caps).unwrap_err();
        assert_eq!(e.status(), 400);
        assert_eq!(e.param(), Some("messages"));
        assert!(e.message().contains("maxContentParts"), "{}", e.message());

        let msgs = [r#"{"role":"user","content":"hi"}"#; 4].join(",");
        let body = format!(r#"{{"messages":[{msgs}]}}"#);
        let e = parse_chat_request_with(body.as_bytes(), caps).unwrap_err();
        assert!(e.message().contains("maxMessages"), "{}", e.message());

        let tools = [r#"{"type":"function","function":{"name":"f"}}"#; 3].join(",");
        let body = format!(r#"{{"messages":[{{"role":"user","content":"x"}}],"tools":[{tools}]}}"#);
        let e = parse_chat_request_with(body.as_bytes(), caps).unwrap_err();
        assert_eq!(e.param(), Some("tools"));
        assert!(e.message().contains("maxTools"), "{}", e.message());
    }

    #[test]
    fn default_caps_admit_real_requests() {
        assert!(parse_chat_request(&tiny_parts(50_000)).is_ok());
        assert!(parse_chat_request(&tiny_parts(100_001)).is_err());
    }
}
