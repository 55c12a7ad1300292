//! Anthropic `tools` and `tool_choice` → Converse `toolConfig`. Custom tools only: server tools
//! (web search, code execution, ...) and Anthropic-defined client tools are refused by name.
//! A conversation that carries tool blocks but no tools gets a `toolConfig` derived from the
//! tool names in its history (Bedrock requires one).

use super::blocks::hint_point;
use crate::anthropic as am;
use crate::bedrock::types as cv;
use crate::error::GatewayError;
use crate::translate::names::{tool_name, ToolNames};
use serde_json::value::RawValue;
use std::borrow::Cow;

/// The schema given to tools known only from the history.
const OBJECT_SCHEMA: &str = r#"{"type":"object"}"#;

fn object_schema() -> &'static RawValue {
    // A valid JSON constant; the fallback exists only so that this cannot panic.
    serde_json::from_str(OBJECT_SCHEMA).unwrap_or(RawValue::NULL)
}

/// Whether the request lets the model call tools (`tool_choice` is not `none`).
pub(super) fn enabled(req: &am::MessagesRequest<'_>) -> bool {
    req.tool_choice.as_ref().is_none_or(|c| c.kind != "none")
}

/// `tools` → tool specs (and the cache points their hints ask for).
pub(super) fn specs<'a>(
    defs: &'a [am::ToolDef<'a>],
    names: &mut ToolNames,
) -> Result<Vec<cv::Tool<'a>>, GatewayError> {
    let mut tools = Vec::with_capacity(defs.len());
    for (i, d) in defs.iter().enumerate() {
        let at = format!("tools[{i}]");
        match d.kind.as_deref() {
            None | Some("custom") => {}
            Some(kind) => {
                return Err(GatewayError::unsupported(
                    format!("{at}.type"),
                    format!("tool type `{kind}` is not supported: Bedrock runs custom tools only (no web search, code execution, web fetch, MCP or Anthropic-defined tools); declare a custom tool with `input_schema`"),
                ))
            }
        }
        let name = d.name.as_deref().filter(|n| !n.is_empty()).ok_or_else(|| {
            GatewayError::invalid("tools need a `name`", Some(&format!("{at}.name")))
        })?;
        let schema = d.input_schema.ok_or_else(|| {
            GatewayError::invalid(
                "custom tools need an `input_schema`",
                Some(&format!("{at}.input_schema")),
            )
        })?;
        if !schema.get().trim_start().starts_with('{') {
            return Err(GatewayError::invalid(
                "`input_schema` must be a JSON Schema object",
                Some(&format!("{at}.input_schema")),
            ));
        }
        tools.push(cv::Tool::ToolSpec(cv::ToolSpec {
            name: names.register(name),
            description: d.description.as_deref().filter(|s| !s.trim().is_empty()),
            input_schema: cv::InputSchema { json: schema },
            strict: None,
        }));
        if let Some(hint) = &d.cache_control {
            tools.push(cv::Tool::CachePoint(hint_point(hint)));
        }
    }
    Ok(tools)
}

/// `tool_choice` → Converse's `toolChoice` (`none` is handled by [`enabled`]).
pub(super) fn choice<'a>(
    req: &'a am::MessagesRequest<'a>,
    adjusted: &mut Vec<&'static str>,
) -> Result<Option<cv::ToolChoice<'a>>, GatewayError> {
    let Some(c) = &req.tool_choice else {
        return Ok(None);
    };
    if c.disable_parallel_tool_use == Some(true) {
        // Converse has no switch for parallel tool use.
        adjusted.push("tool_choice.disable_parallel_tool_use");
    }
    Ok(match c.kind.as_ref() {
        "auto" | "none" => None,
        "any" => Some(cv::ToolChoice::Any(cv::Empty {})),
        "tool" => {
            let name = c.name.as_deref().ok_or_else(|| {
                GatewayError::invalid(
                    "`tool_choice.name` is required when type is `tool`",
                    Some("tool_choice.name"),
                )
            })?;
            let declared = req
                .tools
                .iter()
                .flatten()
                .any(|t| t.name.as_deref() == Some(name));
            if !declared {
                return Err(GatewayError::invalid(
                    format!("`tool_choice.name` `{name}` is not one of the declared tools"),
                    Some("tool_choice.name"),
                ));
            }
            Some(cv::ToolChoice::Tool {
                name: tool_name(name),
            })
        }
        other => {
            return Err(GatewayError::invalid(
                format!("unknown `tool_choice.type` `{other}` (auto, any, tool, none)"),
                Some("tool_choice.type"),
            ))
        }
    })
}

/// Tool specs for tools known only from the history (`tool_use` blocks without `tools`).
pub(super) fn from_history<'a>(messages: &[cv::Message<'a>]) -> Vec<cv::Tool<'a>> {
    let mut seen: Vec<Cow<'a, str>> = Vec::new();
    for m in messages {
        for b in &m.content {
            if let cv::ContentBlock::ToolUse(t) = b {
                if !seen.contains(&t.name) {
                    seen.push(t.name.clone());
                }
            }
        }
    }
    seen.into_iter()
        .map(|name| {
            cv::Tool::ToolSpec(cv::ToolSpec {
                name,
                description: None,
                input_schema: cv::InputSchema {
                    json: object_schema(),
                },
                strict: None,
            })
        })
        .collect()
}
