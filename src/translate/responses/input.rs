//! Responses `instructions` + `input` (a string or items) → Converse system blocks and
//! alternating turns: messages by role, `function_call` → `toolUse`, `function_call_output` →
//! `toolResult`, `reasoning` with basalt's `encrypted_content` → signed reasoning (see
//! `replay`). Items that need server-side state (`item_reference`) or built-in tools
//! are refused by name.

use super::replay;
use crate::bedrock::types as cv;
use crate::error::GatewayError;
use crate::openai::responses::request as rq;
use crate::translate::blocks::{
    conversation_shape, document, image_block, is_blank, parse_arguments, Turns,
};
use crate::translate::names::{tool_id, ToolNames};
use std::borrow::Cow;

type Converted<'a> = (Vec<cv::SystemBlock<'a>>, Vec<cv::Message<'a>>);

/// `instructions` and `input` → system blocks and turns.
pub(crate) fn convert<'a>(
    req: &'a rq::ResponsesRequest<'a>,
    tools_enabled: bool,
    names: &mut ToolNames,
) -> Result<Converted<'a>, GatewayError> {
    let mut system = Vec::new();
    if let Some(i) = req.instructions.as_deref().filter(|i| !is_blank(i)) {
        system.push(cv::SystemBlock::Text(Cow::Borrowed(i)));
    }
    let mut turns = Turns {
        messages: Vec::new(),
    };
    match &req.input {
        None => return Err(GatewayError::invalid("`input` is required", Some("input"))),
        Some(rq::Input::Text(t)) => {
            if !is_blank(t) {
                turns.push(
                    cv::Role::User,
                    vec![cv::ContentBlock::Text(Cow::Borrowed(t))],
                );
            }
        }
        Some(rq::Input::Items(items)) => {
            turns.messages.reserve(items.len());
            for (i, item) in items.iter().enumerate() {
                push_item(item, i, tools_enabled, names, &mut system, &mut turns)?;
            }
        }
    }
    if turns.messages.is_empty() {
        return Err(GatewayError::invalid(
            "`input` must contain at least one message with content",
            Some("input"),
        ));
    }
    Ok((system, conversation_shape(turns.messages)?))
}

/// One input item into the system blocks or the turns.
fn push_item<'a>(
    item: &'a rq::Item<'a>,
    i: usize,
    tools_enabled: bool,
    names: &mut ToolNames,
    system: &mut Vec<cv::SystemBlock<'a>>,
    turns: &mut Turns<'a>,
) -> Result<(), GatewayError> {
    let at = |field: &str| format!("input[{i}].{field}");
    match item.kind.as_deref().unwrap_or("message") {
        "message" => push_message(item, i, system, turns),
        "function_call" => {
            let call_id = required(&item.call_id, &at("call_id"))?;
            let name = required(&item.name, &at("name"))?;
            let args = item.arguments.as_deref().unwrap_or("");
            let input = parse_arguments(args, &at("arguments"))?;
            let block = if tools_enabled {
                cv::ContentBlock::ToolUse(cv::ToolUse {
                    tool_use_id: tool_id(call_id),
                    name: names.register(name),
                    input,
                })
            } else {
                cv::ContentBlock::Text(Cow::Owned(format!(
                    "[tool call {name} (id {call_id}) with arguments {}]",
                    input.get()
                )))
            };
            turns.push(cv::Role::Assistant, vec![block]);
            Ok(())
        }
        "function_call_output" => {
            let call_id = required(&item.call_id, &at("call_id"))?;
            let texts = output_texts(item.output.as_ref(), &at("output"))?;
            let block = if tools_enabled {
                cv::ContentBlock::ToolResult(cv::ToolResult {
                    tool_use_id: tool_id(call_id),
                    content: texts.into_iter().map(cv::ToolResultContent::Text).collect(),
                    status: None,
                })
            } else {
                let joined: Vec<&str> = texts.iter().map(|t| t.as_ref()).collect();
                cv::ContentBlock::Text(Cow::Owned(format!(
                    "[tool result for call {call_id}: {}]",
                    joined.join("\n")
                )))
            };
            turns.push(cv::Role::User, vec![block]);
            Ok(())
        }
        "reasoning" => {
            // Reasoning without basalt's encrypted content cannot be replayed (Bedrock needs
            // the signature): it is dropped, as OpenAI drops unsigned reasoning.
            if let Some(content) = item.encrypted_content.as_deref() {
                let r = replay::decode(content, &at("encrypted_content"))?;
                turns.push(cv::Role::Assistant, vec![cv::ContentBlock::ReasoningContent(r)]);
            }
            Ok(())
        }
        "item_reference" => Err(GatewayError::invalid(
            "`item_reference` items are not supported: basalt is stateless and stores no responses; send the items themselves (with store: false)",
            Some(&at("type")),
        )),
        other => Err(GatewayError::unsupported(
            at("type"),
            format!("input item type `{other}` is not supported: basalt serves messages, function calls and their outputs, and reasoning items"),
        )),
    }
}

fn required<'a>(v: &'a Option<Cow<'a, str>>, param: &str) -> Result<&'a str, GatewayError> {
    v.as_deref()
        .ok_or_else(|| GatewayError::invalid(format!("`{param}` is required"), Some(param)))
}

/// A message item by role: user content, system/developer text, or assistant text.
fn push_message<'a>(
    item: &'a rq::Item<'a>,
    i: usize,
    system: &mut Vec<cv::SystemBlock<'a>>,
    turns: &mut Turns<'a>,
) -> Result<(), GatewayError> {
    let role = item.role.as_deref().ok_or_else(|| {
        GatewayError::invalid(
            "a message item needs `role`",
            Some(&format!("input[{i}].role")),
        )
    })?;
    let content = item.content.as_ref();
    let at = format!("input[{i}].content");
    match role {
        "user" => turns.push(cv::Role::User, user_blocks(content, &at)?),
        "assistant" => {
            let blocks = texts(content, &at, true)?
                .into_iter()
                .map(cv::ContentBlock::Text)
                .collect();
            turns.push(cv::Role::Assistant, blocks);
        }
        "system" | "developer" => {
            for t in texts(content, &at, false)? {
                system.push(cv::SystemBlock::Text(t));
            }
        }
        other => {
            return Err(GatewayError::invalid(
                format!("unknown role `{other}` (user, assistant, system, developer)"),
                Some(&format!("input[{i}].role")),
            ))
        }
    }
    Ok(())
}

/// The non-blank text of text-only content (`input_text`, `output_text`; `refusal` too in an
/// assistant message).
fn texts<'a>(
    content: Option<&'a rq::Content<'a>>,
    at: &str,
    assistant: bool,
) -> Result<Vec<Cow<'a, str>>, GatewayError> {
    let parts = match content {
        None => return Ok(Vec::new()),
        Some(rq::Content::Text(t)) => {
            return Ok((!is_blank(t))
                .then(|| Cow::Borrowed(t.as_ref()))
                .into_iter()
                .collect())
        }
        Some(rq::Content::Parts(parts)) => parts,
    };
    let mut out = Vec::with_capacity(parts.len());
    for (j, p) in parts.iter().enumerate() {
        let text = match p.kind.as_deref() {
            Some("input_text" | "output_text" | "text") => p.text.as_deref(),
            Some("refusal") if assistant => p.refusal.as_deref(),
            _ => {
                return Err(GatewayError::invalid(
                    format!(
                        "only text parts are allowed here, not `{}`",
                        p.kind.as_deref().unwrap_or("(no type)")
                    ),
                    Some(&format!("{at}[{j}]")),
                ))
            }
        };
        if let Some(t) = text.filter(|t| !is_blank(t)) {
            out.push(Cow::Borrowed(t));
        }
    }
    Ok(out)
}

/// A `function_call_output`'s output: a string or text parts.
fn output_texts<'a>(
    output: Option<&'a rq::Content<'a>>,
    at: &str,
) -> Result<Vec<Cow<'a, str>>, GatewayError> {
    match output {
        None => Err(GatewayError::invalid(
            format!("`{at}` is required"),
            Some(at),
        )),
        // An empty result is still a result: Bedrock needs the toolResult to pair the call.
        Some(rq::Content::Text(t)) => Ok(vec![Cow::Borrowed(t.as_ref())]),
        Some(parts) => texts(Some(parts), at, false),
    }
}

/// A user message's content: text, images and files (inline data only).
fn user_blocks<'a>(
    content: Option<&'a rq::Content<'a>>,
    at: &str,
) -> Result<Vec<cv::ContentBlock<'a>>, GatewayError> {
    let parts = match content {
        None => return Ok(Vec::new()),
        Some(rq::Content::Text(t)) => {
            return Ok((!is_blank(t))
                .then(|| cv::ContentBlock::Text(Cow::Borrowed(t.as_ref())))
                .into_iter()
                .collect())
        }
        Some(rq::Content::Parts(parts)) => parts,
    };
    let mut out = Vec::with_capacity(parts.len());
    for (j, p) in parts.iter().enumerate() {
        let here = || format!("{at}[{j}]");
        match p.kind.as_deref() {
            Some("input_text" | "output_text" | "text") => {
                if let Some(t) = p.text.as_deref().filter(|t| !is_blank(t)) {
                    out.push(cv::ContentBlock::Text(Cow::Borrowed(t)));
                }
            }
            Some("input_image") => match (p.image_url.as_deref(), &p.file_id) {
                (Some(url), _) => out.push(image_block(url, &here)?),
                (None, Some(_)) => return Err(hosted_file(here())),
                (None, None) => {
                    return Err(GatewayError::invalid(
                        "an input_image part needs `image_url`",
                        Some(&here()),
                    ))
                }
            },
            Some("input_file") => match (p.file_data.as_deref(), &p.file_id, &p.file_url) {
                (Some(data), _, _) => {
                    let mut block = document(data, p.filename.as_deref(), &here)?;
                    dedupe_document_name(&mut block, &out);
                    out.push(block);
                }
                (None, None, None) => {
                    return Err(GatewayError::invalid(
                        "an input_file part needs `file_data`",
                        Some(&here()),
                    ))
                }
                _ => return Err(hosted_file(here())),
            },
            other => {
                return Err(GatewayError::invalid(
                    format!(
                        "content part type `{}` is not supported in a user message (input_text, input_image, input_file)",
                        other.unwrap_or("(no type)")
                    ),
                    Some(&here()),
                ))
            }
        }
    }
    Ok(out)
}

fn hosted_file(param: String) -> GatewayError {
    GatewayError::unsupported(
        param,
        "`file_id` and `file_url` are not supported: Bedrock cannot read OpenAI-hosted or remote files; send the data inline (`file_data`, or a base64 `data:` URL as `image_url`)",
    )
}

/// Bedrock requires distinct document names within a message: `name [2]`, `name [3]`...
fn dedupe_document_name(block: &mut cv::ContentBlock<'_>, before: &[cv::ContentBlock<'_>]) {
    let cv::ContentBlock::Document(doc) = block else {
        return;
    };
    let taken = |n: &str| {
        before
            .iter()
            .any(|b| matches!(b, cv::ContentBlock::Document(d) if d.name == n))
    };
    let base = doc.name.clone();
    let mut k = 2;
    while taken(&doc.name) {
        doc.name = format!("{base} [{k}]");
        k += 1;
    }
}
