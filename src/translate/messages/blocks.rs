//! Anthropic `system` and `messages` content → Converse system blocks and alternating turns.
//! Each `cache_control` hint becomes a `cachePoint` right after its block.

use crate::anthropic as am;
use crate::bedrock::types as cv;
use crate::error::GatewayError;
use crate::translate::blocks::{check_base64, is_blank, Turns};
use crate::translate::media::image_format;
use crate::translate::names::{tool_id, ToolNames};
use std::borrow::Cow;

/// Text placed before a conversation that starts with an assistant turn (Bedrock requires the
/// first message to be a user message).
const LEADING_USER_TEXT: &str = ".";
/// Text placed in a user turn that carries a document but no text (Bedrock requires one).
const DOCUMENT_ONLY_TEXT: &str = "(see the attached document)";

/// `system`: a string or text blocks.
pub(super) fn system<'a>(
    content: Option<&'a am::Content<'a>>,
) -> Result<Vec<cv::SystemBlock<'a>>, GatewayError> {
    let mut out = Vec::new();
    match content {
        None => {}
        Some(am::Content::Text(t)) if !is_blank(t) => {
            out.push(cv::SystemBlock::Text(Cow::Borrowed(t.as_ref())));
        }
        Some(am::Content::Text(_)) => {}
        Some(am::Content::Blocks(blocks)) => {
            for (i, b) in blocks.iter().enumerate() {
                let text = match (b.kind.as_ref(), &b.text) {
                    ("text", Some(t)) => t,
                    _ => {
                        return Err(GatewayError::invalid(
                            "`system` blocks must be text blocks with `text`",
                            Some(&format!("system[{i}]")),
                        ))
                    }
                };
                if is_blank(text) {
                    continue;
                }
                out.push(cv::SystemBlock::Text(Cow::Borrowed(text.as_ref())));
                if let Some(hint) = &b.cache_control {
                    out.push(cv::SystemBlock::CachePoint(hint_point(hint)));
                }
            }
        }
    }
    Ok(out)
}

/// What converting one message needs besides the message.
pub(super) struct Conv<'n> {
    /// Whether tool blocks stay tool blocks (false with `tool_choice: none`: they become text).
    pub(super) tools_enabled: bool,
    /// Client tool names renamed for Bedrock.
    pub(super) names: &'n mut ToolNames,
}

/// `messages` → alternating Converse turns (a user turn first, text beside every document).
pub(super) fn messages<'a>(
    messages: &'a [am::InputMessage<'a>],
    conv: &mut Conv<'_>,
) -> Result<Vec<cv::Message<'a>>, GatewayError> {
    let mut turns = Turns {
        messages: Vec::with_capacity(messages.len()),
    };
    for (i, m) in messages.iter().enumerate() {
        let role = match m.role.as_ref() {
            "user" => cv::Role::User,
            "assistant" => cv::Role::Assistant,
            other => {
                return Err(GatewayError::invalid(
                    format!("`role` must be `user` or `assistant`, got `{other}`"),
                    Some(&format!("messages[{i}].role")),
                ))
            }
        };
        turns.push(role, content(&m.content, role, i, conv)?);
    }
    let mut messages = turns.messages;
    if messages.is_empty() {
        return Err(GatewayError::invalid(
            "`messages` must contain at least one message with content",
            Some("messages"),
        ));
    }
    if messages[0].role == cv::Role::Assistant {
        messages.insert(
            0,
            cv::Message {
                role: cv::Role::User,
                content: vec![cv::ContentBlock::Text(Cow::Borrowed(LEADING_USER_TEXT))],
            },
        );
    }
    for m in messages.iter_mut().filter(|m| m.role == cv::Role::User) {
        let doc = m
            .content
            .iter()
            .any(|b| matches!(b, cv::ContentBlock::Document(_)));
        let text = m
            .content
            .iter()
            .any(|b| matches!(b, cv::ContentBlock::Text(_)));
        if doc && !text {
            m.content
                .push(cv::ContentBlock::Text(Cow::Borrowed(DOCUMENT_ONLY_TEXT)));
        }
    }
    Ok(messages)
}

fn content<'a>(
    content: &'a am::Content<'a>,
    role: cv::Role,
    i: usize,
    conv: &mut Conv<'_>,
) -> Result<Vec<cv::ContentBlock<'a>>, GatewayError> {
    let blocks = match content {
        am::Content::Text(t) => {
            return Ok((!is_blank(t))
                .then(|| cv::ContentBlock::Text(Cow::Borrowed(t.as_ref())))
                .into_iter()
                .collect())
        }
        am::Content::Blocks(b) => b,
    };
    let mut out = Vec::with_capacity(blocks.len());
    for (j, b) in blocks.iter().enumerate() {
        let at = || format!("messages[{i}].content[{j}]");
        let before = out.len();
        if let Some(block) = block(b, role, &at, conv)? {
            out.push(block);
        }
        if let Some(hint) = &b.cache_control {
            if out.len() > before {
                out.push(cv::ContentBlock::CachePoint(hint_point(hint)));
            }
        }
    }
    Ok(out)
}

fn needs<'b, T: ?Sized>(
    v: Option<&'b T>,
    field: &str,
    at: &dyn Fn() -> String,
) -> Result<&'b T, GatewayError> {
    v.ok_or_else(|| {
        GatewayError::invalid(
            format!("this block needs `{field}`"),
            Some(&format!("{}.{field}", at())),
        )
    })
}

fn only_in(
    role: cv::Role,
    want: cv::Role,
    kind: &str,
    at: &dyn Fn() -> String,
) -> Result<(), GatewayError> {
    if role == want {
        return Ok(());
    }
    let want = match want {
        cv::Role::User => "user",
        cv::Role::Assistant => "assistant",
    };
    Err(GatewayError::invalid(
        format!("`{kind}` blocks are only allowed in {want} messages"),
        Some(&at()),
    ))
}

/// One content block; `None` for a block that carries nothing (blank text).
fn block<'a>(
    b: &'a am::Block<'a>,
    role: cv::Role,
    at: &dyn Fn() -> String,
    conv: &mut Conv<'_>,
) -> Result<Option<cv::ContentBlock<'a>>, GatewayError> {
    Ok(Some(match b.kind.as_ref() {
        "text" => {
            let t = needs(b.text.as_deref(), "text", at)?;
            if is_blank(t) {
                return Ok(None);
            }
            cv::ContentBlock::Text(Cow::Borrowed(t))
        }
        "image" => cv::ContentBlock::Image(image(b, at)?),
        "document" => cv::ContentBlock::Document(document(b, at)?),
        "thinking" => {
            only_in(role, cv::Role::Assistant, "thinking", at)?;
            cv::ContentBlock::ReasoningContent(cv::ReasoningContent::ReasoningText(
                cv::ReasoningText {
                    text: Cow::Borrowed(needs(b.thinking.as_deref(), "thinking", at)?),
                    signature: b.signature.as_deref().map(Cow::Borrowed),
                },
            ))
        }
        "redacted_thinking" => {
            only_in(role, cv::Role::Assistant, "redacted_thinking", at)?;
            cv::ContentBlock::ReasoningContent(cv::ReasoningContent::RedactedContent(
                Cow::Borrowed(needs(b.data.as_deref(), "data", at)?),
            ))
        }
        "tool_use" => {
            only_in(role, cv::Role::Assistant, "tool_use", at)?;
            tool_use(b, at, conv)?
        }
        "tool_result" => {
            only_in(role, cv::Role::User, "tool_result", at)?;
            tool_result(b, at, conv)?
        }
        other => {
            return Err(GatewayError::unsupported(
                format!("{}.type", at()),
                format!("content block type `{other}` is not supported on Bedrock (text, image, document, tool_use, tool_result, thinking, redacted_thinking)"),
            ))
        }
    }))
}

fn image<'a>(b: &'a am::Block<'a>, at: &dyn Fn() -> String) -> Result<cv::Image<'a>, GatewayError> {
    let source = needs(b.source.as_ref(), "source", at)?;
    if source.kind != "base64" {
        return Err(GatewayError::unsupported(
            format!("{}.source.type", at()),
            format!("image source `{}` is not supported: Bedrock accepts inline images only; send `{{\"type\": \"base64\", \"media_type\", \"data\"}}`", source.kind),
        ));
    }
    let mime = needs(source.media_type.as_deref(), "source.media_type", at)?;
    let format = image_format(mime).ok_or_else(|| {
        GatewayError::invalid(
            format!("image media type `{mime}` is not supported (image/png, image/jpeg, image/gif, image/webp)"),
            Some(&format!("{}.source.media_type", at())),
        )
    })?;
    let data = needs(source.data.as_deref(), "source.data", at)?;
    check_base64(data, &|| format!("{}.source.data", at()))?;
    Ok(cv::Image {
        format,
        source: cv::BytesSource { bytes: data },
    })
}

/// A document: a base64 PDF or plain text. Its Converse name is unique per request position.
fn document<'a>(
    b: &'a am::Block<'a>,
    at: &dyn Fn() -> String,
) -> Result<cv::Document<'a>, GatewayError> {
    let source = needs(b.source.as_ref(), "source", at)?;
    let data = || needs(source.data.as_deref(), "source.data", at);
    let mime = source.media_type.as_deref();
    let (format, source) = match (source.kind.as_ref(), mime) {
        ("base64", Some("application/pdf")) => {
            let d = data()?;
            check_base64(d, &|| format!("{}.source.data", at()))?;
            ("pdf", cv::DocumentSource::Bytes(d))
        }
        ("text", None | Some("text/plain")) => ("txt", cv::DocumentSource::Text(Cow::Borrowed(data()?))),
        (kind, _) => {
            return Err(GatewayError::unsupported(
                format!("{}.source", at()),
                format!("document source `{kind}` ({}) is not supported: send a base64 PDF (`application/pdf`) or `text` (`text/plain`)", mime.unwrap_or("no media_type")),
            ))
        }
    };
    Ok(cv::Document {
        format,
        name: document_name(b.title.as_deref(), &at()),
        source,
    })
}

/// Bedrock document names: alphanumerics, single spaces, hyphens, parentheses, square brackets;
/// the title when it has any, else the block's position (unique in the request).
fn document_name(title: Option<&str>, at: &str) -> String {
    let clean = |s: &str| {
        s.split(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '(' | ')' | '[' | ']')))
            .filter(|w| !w.is_empty())
            .collect::<Vec<_>>()
            .join(" ")
    };
    let mut name = clean(at);
    if let Some(t) = title.map(clean).filter(|t| !t.is_empty()) {
        name = format!("{} {name}", t.chars().take(120).collect::<String>());
    }
    name
}

fn tool_use<'a>(
    b: &'a am::Block<'a>,
    at: &dyn Fn() -> String,
    conv: &mut Conv<'_>,
) -> Result<cv::ContentBlock<'a>, GatewayError> {
    let id = needs(b.id.as_deref(), "id", at)?;
    let name = needs(b.name.as_deref(), "name", at)?;
    let input = needs(b.input, "input", at)?;
    if !input.get().trim_start().starts_with('{') {
        return Err(GatewayError::invalid(
            "`input` must be a JSON object",
            Some(&format!("{}.input", at())),
        ));
    }
    Ok(if conv.tools_enabled {
        cv::ContentBlock::ToolUse(cv::ToolUse {
            tool_use_id: tool_id(id),
            name: conv.names.register(name),
            input,
        })
    } else {
        cv::ContentBlock::Text(Cow::Owned(format!(
            "[tool call {name} (id {id}) with arguments {}]",
            input.get()
        )))
    })
}

fn tool_result<'a>(
    b: &'a am::Block<'a>,
    at: &dyn Fn() -> String,
    conv: &mut Conv<'_>,
) -> Result<cv::ContentBlock<'a>, GatewayError> {
    let id = needs(b.tool_use_id.as_deref(), "tool_use_id", at)?;
    let mut content = Vec::new();
    match &b.content {
        None => {}
        Some(am::Content::Text(t)) if !is_blank(t) => {
            content.push(cv::ToolResultContent::Text(Cow::Borrowed(t.as_ref())));
        }
        Some(am::Content::Text(_)) => {}
        Some(am::Content::Blocks(items)) => {
            for (k, item) in items.iter().enumerate() {
                let iat = || format!("{}.content[{k}]", at());
                match item.kind.as_ref() {
                    "text" => {
                        let t = needs(item.text.as_deref(), "text", &iat)?;
                        if !is_blank(t) {
                            content.push(cv::ToolResultContent::Text(Cow::Borrowed(t)));
                        }
                    }
                    "image" => content.push(cv::ToolResultContent::Image(image(item, &iat)?)),
                    "document" => {
                        content.push(cv::ToolResultContent::Document(document(item, &iat)?))
                    }
                    other => {
                        return Err(GatewayError::unsupported(
                            format!("{}.type", iat()),
                            format!(
                            "`{other}` is not supported in a tool result (text, image, document)"
                        ),
                        ))
                    }
                }
            }
        }
    }
    let status = (b.is_error == Some(true)).then_some("error");
    if !conv.tools_enabled {
        let texts: Vec<&str> = content
            .iter()
            .filter_map(|c| match c {
                cv::ToolResultContent::Text(t) => Some(t.as_ref()),
                cv::ToolResultContent::Image(_) | cv::ToolResultContent::Document(_) => None,
            })
            .collect();
        return Ok(cv::ContentBlock::Text(Cow::Owned(format!(
            "[tool result for call {id}{}: {}]",
            if status.is_some() { " (error)" } else { "" },
            texts.join("\n")
        ))));
    }
    Ok(cv::ContentBlock::ToolResult(cv::ToolResult {
        tool_use_id: tool_id(id),
        content,
        status,
    }))
}

/// A `cache_control` hint → a cache point (`1h` when asked, else Bedrock's 5 minutes).
pub(super) fn hint_point(hint: &am::CacheControl<'_>) -> cv::CachePoint {
    match hint.ttl.as_deref() {
        Some("1h") => cv::CachePoint::ONE_HOUR,
        _ => cv::CachePoint::DEFAULT,
    }
}
