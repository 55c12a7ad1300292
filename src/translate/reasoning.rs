//! OpenAI `reasoning_effort` → each model family's reasoning fields, with the adjustments Bedrock
//! needs so that the request is accepted (see docs/mapping.md, "Reasoning"):
//!
//! | family | fields |
//! |---|---|
//! | Claude with budget thinking | `thinking: {type: enabled, budget_tokens}`: minimal/low 1,024, medium 2,048, high/xhigh 4,096, max 8,192 |
//! | Claude with adaptive thinking | `thinking: {type: adaptive}` + `outputConfig.effort` (minimal → low) |
//! | Nova 2 | `reasoningConfig: {type: enabled, maxReasoningEffort}` (low/medium/high) |
//! | gpt-oss | `reasoning_effort` (low/medium/high) |
//! | others | nothing |
//!
//! With Claude thinking, `temperature`/`top_p` are dropped; `maxTokens` is raised when it leaves
//! no room above the budget; a forced tool choice wins over thinking (thinking is dropped).

use super::family::ModelFamily;
use crate::bedrock::types as cv;
use crate::error::GatewayError;

/// Answer room above the thinking budget when the client sets no maximum.
pub(crate) const DEFAULT_ANSWER_TOKENS: u64 = 8_192;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Effort {
    None,
    Minimal,
    Low,
    Medium,
    High,
    XHigh,
    Max,
}

fn parse(effort: &str) -> Result<Effort, GatewayError> {
    Ok(match effort {
        "none" => Effort::None,
        "minimal" => Effort::Minimal,
        "low" => Effort::Low,
        "medium" => Effort::Medium,
        "high" => Effort::High,
        "xhigh" => Effort::XHigh,
        "max" => Effort::Max,
        other => {
            return Err(GatewayError::invalid(
                format!(
                    "`reasoning_effort` must be one of none, minimal, low, medium, high, xhigh, max; got `{other}`"
                ),
                Some("reasoning_effort"),
            ))
        }
    })
}

/// The Claude thinking budget for an effort (the guide's table; `max` → 8,192).
fn budget(effort: Effort) -> u64 {
    match effort {
        Effort::None => 0,
        Effort::Minimal | Effort::Low => 1_024,
        Effort::Medium => 2_048,
        Effort::High | Effort::XHigh => 4_096,
        Effort::Max => 8_192,
    }
}

/// low / medium / high, for families with three levels.
fn three_levels(effort: Effort) -> &'static str {
    match effort {
        Effort::None | Effort::Minimal | Effort::Low => "low",
        Effort::Medium => "medium",
        Effort::High | Effort::XHigh | Effort::Max => "high",
    }
}

/// What reasoning adds to the Converse request.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Reasoning {
    /// `additionalModelRequestFields` in the family's own form (Claude `thinking`, Nova
    /// `reasoningConfig`, gpt-oss `reasoning_effort`).
    pub(crate) fields: Option<cv::AdditionalFields>,
    /// `outputConfig.effort`.
    pub(crate) effort: Option<&'static str>,
}

/// Claude thinking needs the last assistant turn to start with its signed reasoning when it
/// calls tools; histories from clients that dropped the reasoning (LangChain, the Vercel AI SDK,
/// LiteLLM) fail at Bedrock ("Expected `thinking` ... but found `tool_use`"). Such a request is
/// sent without thinking, and `param` (the client's name for it) is named in `adjusted`.
pub(crate) fn drop_unreplayable_thinking(
    req: &mut cv::ConverseRequest<'_>,
    param: &'static str,
    adjusted: &mut Vec<&'static str>,
) {
    let Some(fields) = &mut req.additional_model_request_fields else {
        return;
    };
    if fields.thinking.is_none() {
        return;
    }
    let last_assistant = req
        .messages
        .iter()
        .rev()
        .find(|m| m.role == cv::Role::Assistant);
    let unsigned_tool_turn = last_assistant
        .is_some_and(|m| matches!(m.content.first(), Some(cv::ContentBlock::ToolUse(_))));
    if unsigned_tool_turn {
        fields.thinking = None;
        if *fields == cv::AdditionalFields::default() {
            req.additional_model_request_fields = None;
        }
        adjusted.push(param);
    }
}

/// Map `reasoning_effort` for the family; may adjust `inference` and records in `adjusted` the
/// client parameters that were changed or dropped.
pub(crate) fn apply(
    effort: Option<&str>,
    family: ModelFamily,
    inference: &mut cv::InferenceConfig<'_>,
    tool_config: Option<&cv::ToolConfig<'_>>,
    adjusted: &mut Vec<&'static str>,
) -> Result<Reasoning, GatewayError> {
    let Some(effort) = effort else {
        return Ok(Reasoning::default());
    };
    let effort = parse(effort)?;
    if effort == Effort::None {
        return Ok(Reasoning::default());
    }
    let fields = |f: cv::AdditionalFields| Reasoning {
        fields: Some(f),
        effort: None,
    };
    match family {
        ModelFamily::ClaudeThinking | ModelFamily::ClaudeAdaptive => {
            let forced = tool_config.is_some_and(|tc| {
                matches!(
                    tc.tool_choice,
                    Some(cv::ToolChoice::Any(_) | cv::ToolChoice::Tool { .. })
                )
            });
            if forced {
                // Claude rejects thinking with a forced tool; the tool call is the contract.
                adjusted.push("reasoning_effort");
                return Ok(Reasoning::default());
            }
            if inference.temperature.take().is_some() {
                adjusted.push("temperature");
            }
            if inference.top_p.take().is_some() {
                adjusted.push("top_p");
            }
            if family == ModelFamily::ClaudeAdaptive {
                return Ok(Reasoning {
                    fields: Some(cv::AdditionalFields {
                        thinking: Some(cv::Thinking::Adaptive),
                        ..Default::default()
                    }),
                    effort: Some(match effort {
                        Effort::None | Effort::Minimal | Effort::Low => "low",
                        Effort::Medium => "medium",
                        Effort::High => "high",
                        Effort::XHigh => "xhigh",
                        Effort::Max => "max",
                    }),
                });
            }
            let budget_tokens = budget(effort);
            match inference.max_tokens {
                Some(m) if m > budget_tokens => {}
                Some(m) => {
                    inference.max_tokens = Some(budget_tokens + m);
                    adjusted.push("max_tokens");
                }
                None => inference.max_tokens = Some(budget_tokens + DEFAULT_ANSWER_TOKENS),
            }
            Ok(fields(cv::AdditionalFields {
                thinking: Some(cv::Thinking::Enabled { budget_tokens }),
                ..Default::default()
            }))
        }
        ModelFamily::Nova2 => Ok(fields(cv::AdditionalFields {
            reasoning_config: Some(cv::ReasoningConfig {
                kind: "enabled",
                max_reasoning_effort: three_levels(effort),
            }),
            ..Default::default()
        })),
        ModelFamily::GptOss => Ok(fields(cv::AdditionalFields {
            reasoning_effort: Some(three_levels(effort)),
            ..Default::default()
        })),
        ModelFamily::Claude | ModelFamily::Nova | ModelFamily::Other => Ok(Reasoning::default()),
    }
}
