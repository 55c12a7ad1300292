//! What basalt sends back on the Responses API: the `response` object, its output items and
//! usage, and the streamed events (one flat struct: each event type sets its own members).

// Serde mirrors of a wire format: every field is named as on the wire, and the mapping of
// each one is documented in docs/mapping.md.
#![allow(missing_docs)]

use serde::Serialize;
use serde_json::value::RawValue;
use std::borrow::Cow;

/// The request's parameters as the response object echoes them (owned: the answer leg keeps
/// them). `text`, `tool_choice`, `tools` and `metadata` are the client's JSON, verbatim.
#[derive(Debug, Clone)]
pub struct Echo {
    pub(crate) instructions: Option<String>,
    pub(crate) max_output_tokens: Option<u64>,
    pub(crate) parallel_tool_calls: bool,
    pub(crate) reasoning_effort: Option<String>,
    pub(crate) reasoning_summary: Option<String>,
    pub(crate) temperature: Option<f64>,
    pub(crate) top_p: Option<f64>,
    pub(crate) text: Box<RawValue>,
    pub(crate) tool_choice: Box<RawValue>,
    pub(crate) tools: Box<RawValue>,
    pub(crate) metadata: Box<RawValue>,
    pub(crate) user: Option<String>,
    pub(crate) service_tier: Option<String>,
}

/// The `response` object.
#[derive(Debug, Serialize)]
pub(crate) struct ResponseObject<'a> {
    pub(crate) id: &'a str,
    pub(crate) object: &'static str,
    pub(crate) created_at: u64,
    pub(crate) status: &'static str,
    pub(crate) background: bool,
    pub(crate) error: Option<ResponseError<'a>>,
    pub(crate) incomplete_details: Option<IncompleteDetails>,
    pub(crate) instructions: Option<&'a str>,
    pub(crate) max_output_tokens: Option<u64>,
    pub(crate) max_tool_calls: Option<u64>,
    pub(crate) model: &'a str,
    pub(crate) output: Vec<OutputItem<'a>>,
    pub(crate) parallel_tool_calls: bool,
    pub(crate) previous_response_id: Option<&'a str>,
    pub(crate) reasoning: ReasoningEcho<'a>,
    pub(crate) service_tier: Option<&'a str>,
    pub(crate) store: bool,
    pub(crate) temperature: Option<f64>,
    pub(crate) text: &'a RawValue,
    pub(crate) tool_choice: &'a RawValue,
    pub(crate) tools: &'a RawValue,
    pub(crate) top_p: Option<f64>,
    pub(crate) truncation: &'static str,
    pub(crate) usage: Option<Usage>,
    pub(crate) user: Option<&'a str>,
    pub(crate) metadata: &'a RawValue,
}

impl<'a> ResponseObject<'a> {
    /// A response object with the echoed request fields; status, output and usage to fill.
    pub(crate) fn new(id: &'a str, created_at: u64, model: &'a str, echo: &'a Echo) -> Self {
        ResponseObject {
            id,
            object: "response",
            created_at,
            status: "in_progress",
            background: false,
            error: None,
            incomplete_details: None,
            instructions: echo.instructions.as_deref(),
            max_output_tokens: echo.max_output_tokens,
            max_tool_calls: None,
            model,
            output: Vec::new(),
            parallel_tool_calls: echo.parallel_tool_calls,
            previous_response_id: None,
            reasoning: ReasoningEcho {
                effort: echo.reasoning_effort.as_deref(),
                summary: echo.reasoning_summary.as_deref(),
            },
            service_tier: echo.service_tier.as_deref(),
            store: false,
            temperature: echo.temperature,
            text: &echo.text,
            tool_choice: &echo.tool_choice,
            tools: &echo.tools,
            top_p: echo.top_p,
            truncation: "disabled",
            usage: None,
            user: echo.user.as_deref(),
            metadata: &echo.metadata,
        }
    }
}

#[derive(Debug, Serialize)]
pub(crate) struct ResponseError<'a> {
    pub(crate) code: &'a str,
    pub(crate) message: &'a str,
}

#[derive(Debug, Serialize, Clone, Copy, PartialEq, Eq)]
pub(crate) struct IncompleteDetails {
    /// `max_output_tokens` or `content_filter`.
    pub(crate) reason: &'static str,
}

#[derive(Debug, Serialize)]
pub(crate) struct ReasoningEcho<'a> {
    pub(crate) effort: Option<&'a str>,
    pub(crate) summary: Option<&'a str>,
}

/// An output item.
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(crate) enum OutputItem<'a> {
    Message {
        id: &'a str,
        status: &'static str,
        role: &'static str,
        content: Vec<OutputPart<'a>>,
    },
    FunctionCall {
        id: &'a str,
        status: &'static str,
        call_id: &'a str,
        name: &'a str,
        arguments: &'a str,
    },
    Reasoning {
        id: &'a str,
        summary: Vec<OutputPart<'a>>,
        #[serde(skip_serializing_if = "Option::is_none")]
        encrypted_content: Option<Cow<'a, str>>,
    },
}

/// A content part of a message (`output_text`) or a reasoning summary (`summary_text`).
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(crate) enum OutputPart<'a> {
    OutputText {
        text: &'a str,
        annotations: [(); 0],
        logprobs: [(); 0],
    },
    SummaryText {
        text: &'a str,
    },
}

impl<'a> OutputPart<'a> {
    pub(crate) fn output_text(text: &'a str) -> Self {
        OutputPart::OutputText {
            text,
            annotations: [],
            logprobs: [],
        }
    }
}

#[derive(Debug, Serialize, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Usage {
    pub(crate) input_tokens: u64,
    pub(crate) input_tokens_details: InputDetails,
    pub(crate) output_tokens: u64,
    pub(crate) output_tokens_details: OutputDetails,
    pub(crate) total_tokens: u64,
}

#[derive(Debug, Serialize, Clone, Copy, PartialEq, Eq)]
pub(crate) struct InputDetails {
    pub(crate) cached_tokens: u64,
    pub(crate) cache_write_tokens: u64,
}

#[derive(Debug, Serialize, Clone, Copy, PartialEq, Eq)]
pub(crate) struct OutputDetails {
    pub(crate) reasoning_tokens: u64,
}

/// One streamed event: `type` and `sequence_number`, plus the members its type has.
#[derive(Debug, Serialize)]
pub(crate) struct Event<'a> {
    #[serde(rename = "type")]
    pub(crate) kind: &'static str,
    pub(crate) sequence_number: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) response: Option<&'a ResponseObject<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) output_index: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) item_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) content_index: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) summary_index: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) item: Option<&'a OutputItem<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) part: Option<&'a OutputPart<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) delta: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) text: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) arguments: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) logprobs: Option<[(); 0]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) code: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) message: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) param: Option<Option<&'a str>>,
}

impl<'a> Event<'a> {
    /// An event of `kind` with no members set.
    pub(crate) fn new(kind: &'static str, sequence_number: u64) -> Self {
        Event {
            kind,
            sequence_number,
            response: None,
            output_index: None,
            item_id: None,
            content_index: None,
            summary_index: None,
            item: None,
            part: None,
            delta: None,
            text: None,
            arguments: None,
            logprobs: None,
            code: None,
            message: None,
            param: None,
        }
    }
}
