//! Bedrock Converse response → Anthropic `message`. Pure. Unknown content blocks and unknown
//! stop reasons never fail the response.

use super::MessagesAnswer;
use crate::anthropic as am;
use crate::bedrock::types as cv;
use crate::error::GatewayError;
use crate::translate::frontend::{AnswerMeta, Answered};
use serde_json::value::RawValue;

/// Bedrock `stopReason` → Anthropic `stop_reason`: guardrail and content-filter stops are a
/// `refusal`; malformed model output and unknown values end the turn.
pub(crate) fn stop_reason(stop_reason: &str) -> &'static str {
    match stop_reason {
        "tool_use" => "tool_use",
        "max_tokens" => "max_tokens",
        "stop_sequence" => "stop_sequence",
        "guardrail_intervened" | "content_filtered" => "refusal",
        "model_context_window_exceeded" => "model_context_window_exceeded",
        _ => "end_turn",
    }
}

/// Bedrock usage → Anthropic usage: both count cache reads and writes apart from
/// `input_tokens`.
pub(crate) fn usage(u: &cv::TokenUsage) -> am::Usage {
    am::Usage {
        input_tokens: u.input_tokens,
        cache_creation_input_tokens: u.cache_write(),
        cache_read_input_tokens: u.cache_read(),
        output_tokens: u.output_tokens,
    }
}

fn empty_input() -> &'static RawValue {
    // A valid JSON constant; the fallback exists only so that this cannot panic.
    serde_json::from_str("{}").unwrap_or(RawValue::NULL)
}

/// Translate a Converse response body; a body that is not a Converse answer is an
/// `UpstreamBadResponse`.
pub fn translate(
    body: &[u8],
    answer: &MessagesAnswer,
    meta: &AnswerMeta<'_>,
) -> Result<Answered, GatewayError> {
    let resp: cv::ConverseResponse =
        serde_json::from_slice(body).map_err(|e| GatewayError::UpstreamBadResponse {
            message: format!("Converse response is not valid JSON: {e}"),
        })?;
    let (Some(message), Some(native)) = (
        resp.output.as_ref().and_then(|o| o.message.as_ref()),
        resp.stop_reason.as_deref(),
    ) else {
        return Err(GatewayError::UpstreamBadResponse {
            message: "the answer is not a Converse response (no output.message or stopReason)"
                .into(),
        });
    };
    let reason = stop_reason(native);
    let reported = resp
        .additional_model_response_fields
        .as_ref()
        .and_then(|f| f.stop_sequence.as_deref());
    let tokens = resp.usage.unwrap_or_default();
    let out = am::Message {
        id: meta.id,
        kind: "message",
        role: "assistant",
        content: blocks(&message.content, answer),
        model: meta.model,
        stop_reason: Some(reason),
        stop_sequence: (reason == "stop_sequence")
            .then(|| answer.stop_sequence(reported))
            .flatten(),
        usage: usage(&tokens),
    };
    let mut body = Vec::with_capacity(body.len() + 128);
    crate::json::to_writer(&mut body, &out).map_err(|e| GatewayError::Internal {
        message: format!("serializing message: {e}"),
    })?;
    Ok(Answered { body, tokens })
}

/// The answer's blocks in order: text (cited text included), thinking, redacted thinking and
/// tool uses (with the client's tool names). Anything else is skipped.
fn blocks<'a>(
    blocks: &'a [cv::ResponseBlock<'a>],
    answer: &'a MessagesAnswer,
) -> Vec<am::OutBlock<'a>> {
    let mut out = Vec::with_capacity(blocks.len());
    for b in blocks {
        if let Some(t) = &b.text {
            out.push(am::OutBlock::Text { text: t });
        } else if let Some(c) = &b.citations_content {
            for t in c.content.iter().filter_map(|p| p.text.as_deref()) {
                out.push(am::OutBlock::Text { text: t });
            }
        } else if let Some(tu) = &b.tool_use {
            let input: &RawValue = match tu.input {
                Some(i) => i,
                None => empty_input(),
            };
            out.push(am::OutBlock::ToolUse {
                id: &tu.tool_use_id,
                name: answer.tool_names.restore(&tu.name),
                input,
            });
        } else if let Some(r) = &b.reasoning_content {
            if let Some(rt) = &r.reasoning_text {
                out.push(am::OutBlock::Thinking {
                    thinking: &rt.text,
                    signature: rt.signature.as_deref().unwrap_or(""),
                });
            } else if let Some(data) = &r.redacted_content {
                out.push(am::OutBlock::RedactedThinking { data });
            }
        }
    }
    out
}
