//! Anthropic `thinking` and `output_config.effort` → each model family's reasoning fields.
//! Claude takes them natively (with Anthropic's own rules checked here, as Anthropic's API
//! would: a budget of at least 1,024 below `max_tokens`, no sampling changes and no forced tool
//! while thinking); a Claude without adaptive thinking gets a budget instead, one with only
//! adaptive thinking gets adaptive; Nova 2 and gpt-oss get the shared reasoning policy's fields;
//! other models drop it (named in `x-basalt-adjusted`).

use super::input::Input;
use crate::anthropic as am;
use crate::bedrock::types as cv;
use crate::error::GatewayError;
use crate::translate::family::ModelFamily;
use crate::translate::reasoning;

/// Anthropic's smallest thinking budget.
const MIN_BUDGET: u64 = 1_024;

/// What thinking adds to the Converse request.
#[derive(Debug, Default)]
pub(super) struct Thought {
    /// Claude's `thinking`.
    pub(super) thinking: Option<cv::Thinking>,
    /// `outputConfig.effort`.
    pub(super) effort: Option<&'static str>,
    /// Another family's reasoning fields (Nova 2 `reasoningConfig`, gpt-oss `reasoning_effort`).
    pub(super) other: Option<cv::AdditionalFields>,
}

enum Asked {
    Off,
    Budget(u64),
    Adaptive,
}

fn effort(req: &am::MessagesRequest<'_>) -> Result<Option<&'static str>, GatewayError> {
    let Some(e) = req.output_config.as_ref().and_then(|o| o.effort.as_deref()) else {
        return Ok(None);
    };
    Ok(Some(match e {
        "low" => "low",
        "medium" => "medium",
        "high" => "high",
        "xhigh" => "xhigh",
        "max" => "max",
        other => {
            return Err(GatewayError::invalid(
                format!("`output_config.effort` must be low, medium, high or max; got `{other}`"),
                Some("output_config.effort"),
            ))
        }
    }))
}

fn asked(req: &am::MessagesRequest<'_>, max_tokens: u64) -> Result<Asked, GatewayError> {
    let Some(t) = &req.thinking else {
        return Ok(Asked::Off);
    };
    match t.kind.as_ref() {
        "disabled" => Ok(Asked::Off),
        "adaptive" => Ok(Asked::Adaptive),
        "enabled" => {
            let b = t.budget_tokens.ok_or_else(|| {
                GatewayError::invalid(
                    "`thinking.budget_tokens`: Field required",
                    Some("thinking.budget_tokens"),
                )
            })?;
            if b < MIN_BUDGET as i64 {
                return Err(GatewayError::invalid(
                    format!("`thinking.budget_tokens` must be at least {MIN_BUDGET}, got {b}"),
                    Some("thinking.budget_tokens"),
                ));
            }
            if b as u64 >= max_tokens {
                return Err(GatewayError::invalid(
                    "`max_tokens` must be greater than `thinking.budget_tokens`",
                    Some("max_tokens"),
                ));
            }
            Ok(Asked::Budget(b as u64))
        }
        other => Err(GatewayError::invalid(
            format!("`thinking.type` must be enabled, adaptive or disabled; got `{other}`"),
            Some("thinking.type"),
        )),
    }
}

/// Anthropic's rules while Claude thinks: temperature 1 only, top_p ≥ 0.95, no forced tool.
fn check_claude_rules(
    inference: &cv::InferenceConfig<'_>,
    input: &Input<'_>,
) -> Result<(), GatewayError> {
    if inference.temperature.is_some_and(|t| t != 1.0) {
        return Err(GatewayError::invalid(
            "`temperature` may only be set to 1 when thinking is enabled",
            Some("temperature"),
        ));
    }
    if inference.top_p.is_some_and(|p| p < 0.95) {
        return Err(GatewayError::invalid(
            "`top_p` must be greater than or equal to 0.95 or unset when thinking is enabled",
            Some("top_p"),
        ));
    }
    let forced = input.tool_config.as_ref().is_some_and(|tc| {
        matches!(
            tc.tool_choice,
            Some(cv::ToolChoice::Any(_) | cv::ToolChoice::Tool { .. })
        )
    });
    if forced {
        return Err(GatewayError::invalid(
            "thinking may not be enabled when `tool_choice` forces tool use",
            Some("tool_choice"),
        ));
    }
    Ok(())
}

/// Map thinking and effort for the family.
pub(super) fn apply(
    req: &am::MessagesRequest<'_>,
    family: ModelFamily,
    inference: &mut cv::InferenceConfig<'_>,
    input: &Input<'_>,
    adjusted: &mut Vec<&'static str>,
) -> Result<Thought, GatewayError> {
    let max_tokens = inference.max_tokens.unwrap_or(0);
    let asked = asked(req, max_tokens)?;
    let effort = effort(req)?;
    let thinks = !matches!(asked, Asked::Off);
    match family {
        ModelFamily::ClaudeThinking | ModelFamily::ClaudeAdaptive if thinks => {
            check_claude_rules(inference, input)?;
        }
        _ => {}
    }
    let mut out = Thought::default();
    match (family, asked) {
        (_, Asked::Off) => {}
        (ModelFamily::ClaudeThinking, Asked::Budget(b)) => {
            out.thinking = Some(cv::Thinking::Enabled { budget_tokens: b });
        }
        (ModelFamily::ClaudeThinking, Asked::Adaptive) => {
            // No adaptive thinking before Claude 4.6: the largest budget that leaves room.
            let budget = (max_tokens / 2).min(16_384);
            adjusted.push("thinking");
            if budget >= MIN_BUDGET {
                out.thinking = Some(cv::Thinking::Enabled {
                    budget_tokens: budget,
                });
            }
        }
        (ModelFamily::ClaudeAdaptive, asked) => {
            if matches!(asked, Asked::Budget(_)) {
                adjusted.push("thinking.budget_tokens");
            }
            out.thinking = Some(cv::Thinking::Adaptive);
        }
        (ModelFamily::Nova2 | ModelFamily::GptOss, asked) => {
            let level = match (asked, effort) {
                (_, Some(e)) => e,
                (Asked::Budget(b), None) if b <= 2_048 => "low",
                (Asked::Budget(b), None) if b <= 8_192 => "medium",
                _ => "high",
            };
            let mut tmp = Vec::new();
            let r = reasoning::apply(Some(level), family, inference, None, &mut tmp)?;
            out.other = r.fields;
        }
        (ModelFamily::Claude | ModelFamily::Nova | ModelFamily::Other, _) => {
            adjusted.push("thinking");
        }
    }
    if let Some(e) = effort {
        if family == ModelFamily::ClaudeAdaptive {
            out.effort = Some(e);
        } else if !matches!(family, ModelFamily::Nova2 | ModelFamily::GptOss) || !thinks {
            adjusted.push("output_config.effort");
        }
    }
    Ok(out)
}
