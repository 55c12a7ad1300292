//! Responses `tools` and `tool_choice` → Converse `toolConfig`. Function tools only: the
//! built-in tools Bedrock has no equivalent for (web search, file search, code interpreter,
//! computer use, image generation, MCP, shell ...) are refused with a 400 naming them.

use crate::bedrock::types as cv;
use crate::error::GatewayError;
use crate::openai::responses::request as rq;
use crate::translate::blocks::{static_raw, EMPTY_OBJECT_SCHEMA};
use crate::translate::names::ToolNames;

/// The function tools of the request (an empty list when there are none).
pub(crate) fn function_tools<'a>(
    tools: Option<&'a [rq::Tool<'a>]>,
) -> Result<&'a [rq::Tool<'a>], GatewayError> {
    let Some(tools) = tools else {
        return Ok(&[]);
    };
    let builtin: Vec<(usize, &str)> = tools
        .iter()
        .enumerate()
        .filter(|(_, t)| t.kind != "function")
        .map(|(i, t)| (i, t.kind.as_ref()))
        .collect();
    if let Some((first, _)) = builtin.first() {
        let list: Vec<String> = builtin.iter().map(|(_, k)| format!("`{k}`")).collect();
        return Err(GatewayError::unsupported(
            format!("tools[{first}].type"),
            format!(
                "tool type {} is not available on Bedrock: basalt serves function tools only (send `type: function`)",
                list.join(", ")
            ),
        ));
    }
    for (i, t) in tools.iter().enumerate() {
        if t.name.as_deref().is_none_or(str::is_empty) {
            return Err(GatewayError::invalid(
                "a function tool needs a non-empty `name`",
                Some(&format!("tools[{i}].name")),
            ));
        }
    }
    Ok(tools)
}

/// `tools` + `tool_choice` → `toolConfig`; None when no tool may be called.
pub(crate) fn tool_config<'a>(
    tools: &'a [rq::Tool<'a>],
    choice: Option<&'a rq::ToolChoice<'a>>,
    names: &mut ToolNames,
) -> Result<Option<cv::ToolConfig<'a>>, GatewayError> {
    if tools.is_empty() {
        return match choice {
            None => Ok(None),
            Some(rq::ToolChoice::Mode(m)) if m == "none" || m == "auto" => Ok(None),
            Some(_) => Err(GatewayError::invalid(
                "`tool_choice` requires `tools`",
                Some("tool_choice"),
            )),
        };
    }
    let (tool_choice, allowed) = match choice {
        None => (None, None),
        Some(rq::ToolChoice::Mode(m)) => match m.as_ref() {
            "none" => return Ok(None),
            "auto" => (Some(cv::ToolChoice::Auto(cv::Empty {})), None),
            "required" => (Some(cv::ToolChoice::Any(cv::Empty {})), None),
            other => {
                return Err(GatewayError::invalid(
                    format!(
                        "unknown `tool_choice` value `{other}` (expected none, auto or required)"
                    ),
                    Some("tool_choice"),
                ))
            }
        },
        Some(rq::ToolChoice::Object(o)) => object_choice(o, tools, names)?,
    };
    let specs: Vec<cv::Tool<'a>> = tools
        .iter()
        .filter(|t| {
            allowed
                .as_ref()
                .is_none_or(|a: &Vec<&str>| a.contains(&t.name.as_deref().unwrap_or("")))
        })
        .map(|t| {
            cv::Tool::ToolSpec(cv::ToolSpec {
                name: names.register(t.name.as_deref().unwrap_or("")),
                description: t.description.as_deref().filter(|d| !d.is_empty()),
                input_schema: cv::InputSchema {
                    json: t
                        .parameters
                        .unwrap_or_else(|| static_raw(EMPTY_OBJECT_SCHEMA)),
                },
                strict: None,
            })
        })
        .collect();
    if specs.is_empty() {
        return Ok(None);
    }
    Ok(Some(cv::ToolConfig {
        tools: specs,
        tool_choice,
    }))
}

type Resolved<'a> = (Option<cv::ToolChoice<'a>>, Option<Vec<&'a str>>);

/// `{"type":"function","name"}` or `{"type":"allowed_tools","mode","tools"}`; a built-in
/// tool's type is refused.
fn object_choice<'a>(
    o: &'a rq::ToolChoiceObject<'a>,
    tools: &'a [rq::Tool<'a>],
    names: &mut ToolNames,
) -> Result<Resolved<'a>, GatewayError> {
    match o.kind.as_ref() {
        "function" => {
            let name = o.name.as_deref().ok_or_else(|| {
                GatewayError::invalid("`tool_choice.name` is required", Some("tool_choice.name"))
            })?;
            if !tools.iter().any(|t| t.name.as_deref() == Some(name)) {
                return Err(GatewayError::invalid(
                    format!("`tool_choice` names `{name}`, which is not among `tools`"),
                    Some("tool_choice.name"),
                ));
            }
            Ok((Some(cv::ToolChoice::Tool { name: names.register(name) }), None))
        }
        "allowed_tools" => {
            let choice = match o.mode.as_deref().unwrap_or("auto") {
                "auto" => cv::ToolChoice::Auto(cv::Empty {}),
                "required" => cv::ToolChoice::Any(cv::Empty {}),
                other => {
                    return Err(GatewayError::invalid(
                        format!("unknown allowed_tools mode `{other}` (expected auto or required)"),
                        Some("tool_choice.mode"),
                    ))
                }
            };
            let allowed = o
                .tools
                .iter()
                .flatten()
                .filter(|t| t.kind.as_deref().is_none_or(|k| k == "function"))
                .filter_map(|t| t.name.as_deref())
                .collect();
            Ok((Some(choice), Some(allowed)))
        }
        other => Err(GatewayError::unsupported(
            "tool_choice.type",
            format!("tool_choice type `{other}` is not available on Bedrock: basalt serves function tools only"),
        )),
    }
}
