//! The Anthropic Messages API's wire types (downstream side) and its error body: the request as
//! Anthropic clients send it (borrowed from the request buffer), the message, stream events and
//! error shapes sent back. No translation logic lives here.

mod request;
mod response;

pub use request::*;
pub(crate) use response::*;

use crate::error::GatewayError;
use crate::openai::{caps_exceeded, RequestCaps};
use serde::Serialize;

/// Anthropic's error body `{"type":"error","error":{"type","message"}}`.
#[derive(Debug, Serialize)]
struct ErrorBody<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    error: ErrorDetail<'a>,
}

#[derive(Debug, Serialize)]
struct ErrorDetail<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    message: &'a str,
}

/// Render a gateway error as Anthropic's error body.
pub fn error_body(e: &GatewayError) -> Vec<u8> {
    let body = ErrorBody {
        kind: "error",
        error: ErrorDetail {
            kind: e.anthropic_type(),
            message: &e.message(),
        },
    };
    serde_json::to_vec(&body).unwrap_or_else(|_| {
        br#"{"type":"error","error":{"type":"api_error","message":"internal error"}}"#.to_vec()
    })
}

/// Parse a Messages (or count_tokens) request with the listener's caps on messages, content
/// blocks and tools; errors name the JSON path at fault.
pub fn parse_request(body: &[u8], caps: RequestCaps) -> Result<MessagesRequest<'_>, GatewayError> {
    if let Some((what, cap)) = caps_exceeded(body, caps) {
        return Err(GatewayError::invalid(
            format!(
                "the request has more than {cap} {} (the listener's limits.{})",
                what.noun(),
                what.key()
            ),
            Some(what.param()),
        ));
    }
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
    let mut de = serde_json::Deserializer::from_slice(body);
    let req = serde_path_to_error::deserialize(&mut de).map_err(|e| {
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
    fn error_body_is_anthropic_shaped() {
        let e = GatewayError::unsupported("tools[0]", "web_search is not available");
        let v: serde_json::Value = serde_json::from_slice(&error_body(&e)).unwrap();
        assert_eq!(v["type"], "error");
        assert_eq!(v["error"]["type"], "invalid_request_error");
        assert_eq!(v["error"]["message"], "web_search is not available");
    }

    #[test]
    fn caps_apply_to_messages_and_tools() {
        let caps = RequestCaps {
            max_messages: 1,
            max_content_parts: 10,
            max_tools: 1,
        };
        let body = br#"{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"a"},{"role":"user","content":"b"}]}"#;
        let e = parse_request(body, caps).unwrap_err();
        assert_eq!(e.status(), 400);
        assert!(e.message().contains("maxMessages"), "{}", e.message());
    }

    #[test]
    fn borrowed_tool_input_survives_parsing() {
        let body = br#"{"messages":[{"role":"assistant","content":[{"type":"tool_use","id":"t","name":"f","input":{"a":[1,2]}}]}]}"#;
        let r = parse_request(body, RequestCaps::default()).unwrap();
        let Some(m) = r.messages.as_ref().and_then(|m| m.first()) else {
            panic!("no message")
        };
        let Content::Blocks(b) = &m.content else {
            panic!("no blocks")
        };
        assert_eq!(b[0].input.map(|r| r.get()), Some(r#"{"a":[1,2]}"#));
    }
}
