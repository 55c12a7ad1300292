//! Bedrock Converse response → OpenAI `chat.completion`. Pure. Unknown content blocks and unknown
//! stop reasons never fail the response.

use crate::bedrock::types as cv;
use crate::error::GatewayError;
use crate::openai as oa;
use crate::translate::frontend::Answered;
use crate::translate::names::ToolNames;
use std::borrow::Cow;

/// What the response leg needs from the request leg.
#[derive(Debug, Clone, Copy)]
pub struct ResponseContext<'c> {
    /// The completion id the client sees (`chatcmpl-...`).
    pub id: &'c str,
    /// The `created` timestamp, in Unix seconds.
    pub created: u64,
    /// The Bedrock model id that answered (reported as `model`).
    pub model: &'c str,
    /// Tool names renamed in the request, to restore the client's names in tool calls.
    pub tool_names: &'c ToolNames,
}

/// Bedrock `stopReason` → OpenAI `finish_reason`.
///
/// `malformed_model_output` → `stop` and `malformed_tool_use` → `stop` (the answer holds no
/// usable tool call); the verbatim reason is kept in `native_finish_reason`. Unknown values →
/// `stop`.
pub(crate) fn finish_reason(stop_reason: &str, has_tool_calls: bool) -> &'static str {
    match stop_reason {
        "end_turn" | "stop_sequence" => "stop",
        "max_tokens" | "model_context_window_exceeded" => "length",
        "tool_use" => "tool_calls",
        "guardrail_intervened" | "content_filtered" => "content_filter",
        "malformed_model_output" | "malformed_tool_use" => "stop",
        _ if has_tool_calls => "tool_calls",
        _ => "stop",
    }
}

/// Bedrock usage → OpenAI usage: `prompt_tokens` includes cache reads and writes (Bedrock's
/// `inputTokens` excludes them); `total = prompt + completion`.
pub(crate) fn usage(u: &cv::TokenUsage) -> oa::Usage {
    let read = u.cache_read_input_tokens.unwrap_or(0);
    let write = u.cache_write_input_tokens.unwrap_or(0);
    let prompt = u.input_tokens.saturating_add(read).saturating_add(write);
    oa::Usage {
        prompt_tokens: prompt,
        completion_tokens: u.output_tokens,
        total_tokens: prompt.saturating_add(u.output_tokens),
        prompt_tokens_details: oa::PromptTokensDetails {
            cached_tokens: read,
            cache_write_tokens: write,
        },
    }
}

/// Translate a Converse response body; a body that is not a Converse answer is an
/// `GatewayError::UpstreamBadResponse`.
pub fn translate(body: &[u8], ctx: &ResponseContext<'_>) -> Result<Answered, GatewayError> {
    let (resp, message) = parse_answer(body)?;
    let parts = AnswerParts::collect(&message.content, ctx.tool_names);
    let stop_reason = resp.stop_reason.as_deref().unwrap_or("end_turn");
    let finish = finish_reason(stop_reason, !parts.tool_calls.is_empty());
    let tokens = resp.usage.unwrap_or_default();
    let usage = usage(&tokens);
    let completion = oa::ChatCompletion {
        id: ctx.id,
        object: "chat.completion",
        created: ctx.created,
        model: ctx.model,
        choices: [oa::Choice {
            index: 0,
            message: parts.into_message(),
            logprobs: None,
            finish_reason: finish,
            native_finish_reason: stop_reason,
        }],
        usage,
        service_tier: resp.service_tier.as_ref().map(|t| t.kind.as_ref()),
        system_fingerprint: None,
    };
    let mut out = Vec::with_capacity(body.len() + 256);
    crate::json::to_writer(&mut out, &completion).map_err(|e| GatewayError::Internal {
        message: format!("serializing chat.completion: {e}"),
    })?;
    Ok(Answered { body: out, tokens })
}

/// Parse a Converse answer into its message and the rest (stop reason, usage, service tier).
fn parse_answer(
    body: &[u8],
) -> Result<(cv::ConverseResponse<'_>, cv::ResponseMessage<'_>), GatewayError> {
    let mut resp: cv::ConverseResponse =
        serde_json::from_slice(body).map_err(|e| GatewayError::UpstreamBadResponse {
            message: format!("Converse response is not valid JSON: {e}"),
        })?;
    // A Converse answer always has `output.message` and `stopReason`: without them this is not
    // one, and inventing an empty `end_turn` completion would report a failure as a success.
    let (Some(message), Some(_)) = (
        resp.output.take().and_then(|o| o.message),
        &resp.stop_reason,
    ) else {
        return Err(GatewayError::UpstreamBadResponse {
            message: "the answer is not a Converse response (no output.message or stopReason)"
                .into(),
        });
    };
    Ok((resp, message))
}

/// The answer's content blocks gathered into the parts of the OpenAI message.
#[derive(Default)]
struct AnswerParts<'a> {
    text: Option<String>,
    reasoning: Option<String>,
    details: Vec<oa::ReasoningDetail<'a>>,
    tool_calls: Vec<oa::ResponseToolCall<'a>>,
}

/// Append `s` to the text in `dst`, starting it if there is none yet.
fn append(dst: &mut Option<String>, s: &str) {
    dst.get_or_insert_with(String::new).push_str(s);
}

impl<'a> AnswerParts<'a> {
    /// Gather the blocks in order, restoring the client's tool names.
    fn collect(blocks: &'a [cv::ResponseBlock<'a>], names: &'a ToolNames) -> Self {
        let mut parts = AnswerParts::default();
        for b in blocks {
            parts.push_block(b, names);
        }
        parts
    }

    /// One block: text, cited text, a tool call or reasoning. Anything else (image, document,
    /// toolResult, cachePoint, future blocks) is skipped.
    fn push_block(&mut self, b: &'a cv::ResponseBlock<'a>, names: &'a ToolNames) {
        if let Some(t) = &b.text {
            append(&mut self.text, t);
        } else if let Some(c) = &b.citations_content {
            for part in &c.content {
                if let Some(t) = &part.text {
                    append(&mut self.text, t);
                }
            }
        } else if let Some(tu) = &b.tool_use {
            self.tool_calls.push(oa::ResponseToolCall {
                id: &tu.tool_use_id,
                kind: "function",
                function: oa::ResponseFunction {
                    name: Cow::Borrowed(names.restore(&tu.name)),
                    arguments: Cow::Borrowed(tu.input.map(|r| r.get()).unwrap_or("{}")),
                },
            });
        } else if let Some(r) = &b.reasoning_content {
            self.push_reasoning(r);
        }
    }

    /// A reasoning block: its text (also kept, signed, for replay) or its redacted data.
    fn push_reasoning(&mut self, r: &'a cv::ResponseReasoning<'a>) {
        if let Some(rt) = &r.reasoning_text {
            append(&mut self.reasoning, &rt.text);
            self.details.push(oa::ReasoningDetail::Text {
                text: Cow::Borrowed(&rt.text),
                signature: rt.signature.as_deref().map(Cow::Borrowed),
            });
        } else if let Some(data) = &r.redacted_content {
            self.details.push(oa::ReasoningDetail::Encrypted {
                data: Cow::Borrowed(data),
            });
        }
    }

    /// The assistant message of the single choice.
    fn into_message(self) -> oa::ResponseMessage<'a> {
        oa::ResponseMessage {
            role: "assistant",
            content: self.text,
            refusal: None,
            tool_calls: self.tool_calls,
            reasoning_content: self.reasoning,
            reasoning_details: self.details,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_nine_stop_reasons() {
        let table = [
            ("end_turn", "stop"),
            ("stop_sequence", "stop"),
            ("max_tokens", "length"),
            ("model_context_window_exceeded", "length"),
            ("tool_use", "tool_calls"),
            ("guardrail_intervened", "content_filter"),
            ("content_filtered", "content_filter"),
            ("malformed_model_output", "stop"),
            ("malformed_tool_use", "stop"),
            ("something_new", "stop"),
        ];
        for (bedrock, openai) in table {
            assert_eq!(finish_reason(bedrock, false), openai, "{bedrock}");
        }
        assert_eq!(finish_reason("something_new", true), "tool_calls");
    }

    #[test]
    fn unreadable_answer_is_502() {
        let names = ToolNames::default();
        let ctx = ResponseContext {
            id: "x",
            created: 0,
            model: "m",
            tool_names: &names,
        };
        for body in [&b"<html>gateway timeout</html>"[..], b"{\"output\":", b""] {
            let e = translate(body, &ctx).unwrap_err();
            assert_eq!((e.status(), e.code()), (502, Some("upstream_bad_response")));
        }
    }

    #[test]
    fn usage_includes_cache_tokens() {
        let u = usage(&cv::TokenUsage {
            input_tokens: 16,
            output_tokens: 9,
            total_tokens: 2412,
            cache_read_input_tokens: Some(100),
            cache_write_input_tokens: Some(2387),
        });
        assert_eq!(u.prompt_tokens, 2503);
        assert_eq!(u.total_tokens, 2512);
        assert_eq!(u.prompt_tokens_details.cached_tokens, 100);
        assert_eq!(u.prompt_tokens_details.cache_write_tokens, 2387);
    }
}
