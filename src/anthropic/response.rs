//! What basalt sends back on the Messages API: the `message` object, its content blocks and
//! usage, and the events of a streamed message.

// Serde mirrors of a wire format: every field is named as on the wire, and the mapping of
// each one is documented in docs/mapping.md.
#![allow(missing_docs)]

use serde::Serialize;
use serde_json::value::RawValue;

#[derive(Debug, Serialize)]
pub(crate) struct Message<'a> {
    pub(crate) id: &'a str,
    #[serde(rename = "type")]
    pub(crate) kind: &'static str,
    pub(crate) role: &'static str,
    pub(crate) content: Vec<OutBlock<'a>>,
    pub(crate) model: &'a str,
    pub(crate) stop_reason: Option<&'static str>,
    pub(crate) stop_sequence: Option<&'a str>,
    pub(crate) usage: Usage,
}

/// An answer content block.
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(crate) enum OutBlock<'a> {
    Text {
        text: &'a str,
    },
    Thinking {
        thinking: &'a str,
        signature: &'a str,
    },
    RedactedThinking {
        data: &'a str,
    },
    ToolUse {
        id: &'a str,
        name: &'a str,
        input: &'a RawValue,
    },
}

#[derive(Debug, Serialize, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Usage {
    pub(crate) input_tokens: u64,
    pub(crate) cache_creation_input_tokens: u64,
    pub(crate) cache_read_input_tokens: u64,
    pub(crate) output_tokens: u64,
}

/// A streamed event's payload (its `type` is also the SSE event name).
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(crate) enum Event<'a> {
    MessageStart {
        message: Message<'a>,
    },
    ContentBlockStart {
        index: usize,
        content_block: OutBlock<'a>,
    },
    ContentBlockDelta {
        index: usize,
        delta: Delta<'a>,
    },
    ContentBlockStop {
        index: usize,
    },
    MessageDelta {
        delta: StopDelta<'a>,
        usage: Usage,
    },
    MessageStop,
    Ping,
}

impl Event<'_> {
    /// The SSE `event:` name.
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Event::MessageStart { .. } => "message_start",
            Event::ContentBlockStart { .. } => "content_block_start",
            Event::ContentBlockDelta { .. } => "content_block_delta",
            Event::ContentBlockStop { .. } => "content_block_stop",
            Event::MessageDelta { .. } => "message_delta",
            Event::MessageStop => "message_stop",
            Event::Ping => "ping",
        }
    }
}

/// A `content_block_delta` payload: `text_delta`, `input_json_delta`, `thinking_delta` or
/// `signature_delta`.
#[derive(Debug, Serialize)]
#[serde(tag = "type")]
pub(crate) enum Delta<'a> {
    #[serde(rename = "text_delta")]
    Text { text: &'a str },
    #[serde(rename = "input_json_delta")]
    InputJson { partial_json: &'a str },
    #[serde(rename = "thinking_delta")]
    Thinking { thinking: &'a str },
    #[serde(rename = "signature_delta")]
    Signature { signature: &'a str },
}

#[derive(Debug, Serialize)]
pub(crate) struct StopDelta<'a> {
    pub(crate) stop_reason: Option<&'static str>,
    pub(crate) stop_sequence: Option<&'a str>,
}

/// The count_tokens answer.
#[derive(Debug, Serialize)]
pub(crate) struct TokenCount {
    pub(crate) input_tokens: u64,
}
