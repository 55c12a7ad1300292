//! The output items of a response as both the JSON and the streamed answer build them: one item
//! per Converse content block, in order (text → `message`, toolUse → `function_call`,
//! reasoning → `reasoning` with its text as the summary), and the stop reason and usage
//! mapped to the response's status and `usage`.

use super::replay;
use crate::bedrock::types as cv;
use crate::openai::responses::response as wire;
use std::borrow::Cow;

/// What an output item is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Message,
    FunctionCall,
    Reasoning,
}

/// One output item, owned: the stream accumulates it delta by delta.
#[derive(Debug)]
pub(crate) struct Item {
    pub(crate) kind: Kind,
    pub(crate) id: String,
    /// The message text, the reasoning text, or the call's arguments.
    pub(crate) text: String,
    pub(crate) call_id: String,
    pub(crate) name: String,
    pub(crate) signature: Option<String>,
    pub(crate) redacted: Option<String>,
}

impl Item {
    /// A new empty item; its id is `<msg|fc|rs>_<the response id's suffix>_<output index>`.
    pub(crate) fn new(kind: Kind, response_id: &str, index: usize) -> Self {
        let prefix = match kind {
            Kind::Message => "msg",
            Kind::FunctionCall => "fc",
            Kind::Reasoning => "rs",
        };
        let suffix = response_id.strip_prefix("resp_").unwrap_or(response_id);
        Item {
            kind,
            id: format!("{prefix}_{suffix}_{index}"),
            text: String::new(),
            call_id: String::new(),
            name: String::new(),
            signature: None,
            redacted: None,
        }
    }

    /// The reasoning's `encrypted_content` (basalt's replay form), when it can be replayed.
    fn encrypted(&self) -> Option<String> {
        if let Some(data) = &self.redacted {
            return Some(replay::redacted(data));
        }
        self.signature
            .as_deref()
            .map(|s| replay::signed(&self.text, s))
    }

    /// The item on the wire; `status` is `in_progress` while streaming, then `completed`.
    pub(crate) fn wire(
        &self,
        include_encrypted: bool,
        status: &'static str,
    ) -> wire::OutputItem<'_> {
        match self.kind {
            Kind::Message => wire::OutputItem::Message {
                id: &self.id,
                status,
                role: "assistant",
                content: if status == "in_progress" {
                    Vec::new()
                } else {
                    vec![wire::OutputPart::output_text(&self.text)]
                },
            },
            Kind::FunctionCall => wire::OutputItem::FunctionCall {
                id: &self.id,
                status,
                call_id: &self.call_id,
                name: &self.name,
                arguments: if self.text.is_empty() && status != "in_progress" {
                    "{}"
                } else {
                    &self.text
                },
            },
            Kind::Reasoning => wire::OutputItem::Reasoning {
                id: &self.id,
                summary: if self.text.is_empty() || status == "in_progress" {
                    Vec::new()
                } else {
                    vec![wire::OutputPart::SummaryText { text: &self.text }]
                },
                encrypted_content: if include_encrypted && status != "in_progress" {
                    self.encrypted().map(Cow::Owned)
                } else {
                    None
                },
            },
        }
    }
}

/// Bedrock `stopReason` → the response's status and `incomplete_details`.
pub(crate) fn status(stop_reason: &str) -> (&'static str, Option<wire::IncompleteDetails>) {
    let incomplete = |reason| ("incomplete", Some(wire::IncompleteDetails { reason }));
    match stop_reason {
        "max_tokens" | "model_context_window_exceeded" => incomplete("max_output_tokens"),
        "guardrail_intervened" | "content_filtered" => incomplete("content_filter"),
        _ => ("completed", None),
    }
}

/// Bedrock usage → Responses usage: `input_tokens` includes cache reads and writes (Bedrock's
/// `inputTokens` excludes them); Bedrock does not count reasoning tokens apart (0).
pub(crate) fn usage(u: &cv::TokenUsage) -> wire::Usage {
    let input = u.prompt_tokens();
    wire::Usage {
        input_tokens: input,
        input_tokens_details: wire::InputDetails {
            cached_tokens: u.cache_read(),
            cache_write_tokens: u.cache_write(),
        },
        output_tokens: u.output_tokens,
        output_tokens_details: wire::OutputDetails {
            reasoning_tokens: 0,
        },
        total_tokens: input.saturating_add(u.output_tokens),
    }
}
