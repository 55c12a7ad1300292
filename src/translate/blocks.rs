//! Converse content built from client data, shared by the front-ends: inline images and
//! documents from base64 data, tool-call arguments, and a conversation in Bedrock's shape
//! (alternating turns, a user turn first, text beside every document).

use crate::bedrock::types as cv;
use crate::error::GatewayError;
use serde_json::value::RawValue;
use std::borrow::Cow;

/// Text placed before a conversation that starts with an assistant turn (Bedrock requires the
/// first message to be a user message).
pub(crate) const LEADING_USER_TEXT: &str = ".";

/// Text placed in a user turn that carries a document but no text (Bedrock requires one).
pub(crate) const DOCUMENT_ONLY_TEXT: &str = "(see the attached document)";

pub(crate) const EMPTY_OBJECT_SCHEMA: &str = r#"{"type":"object","properties":{}}"#;

pub(crate) const OBJECT_SCHEMA: &str = r#"{"type":"object"}"#;

pub(crate) const EMPTY_INPUT: &str = "{}";

pub(crate) fn static_raw(s: &'static str) -> &'static RawValue {
    // The constants above are valid JSON; the fallback exists only so that this cannot panic.
    serde_json::from_str(s).unwrap_or(RawValue::NULL)
}

/// Builds alternating messages: merges consecutive same-role turns.
pub(crate) struct Turns<'a> {
    pub(crate) messages: Vec<cv::Message<'a>>,
}

impl<'a> Turns<'a> {
    pub(crate) fn push(&mut self, role: cv::Role, blocks: Vec<cv::ContentBlock<'a>>) {
        if blocks.is_empty() {
            return;
        }
        match self.messages.last_mut() {
            Some(last) if last.role == role => last.content.extend(blocks),
            _ => self.messages.push(cv::Message {
                role,
                content: blocks,
            }),
        }
    }
}

/// Bedrock's rules on the whole conversation: at least one turn, a user turn first, and text
/// beside every document.
pub(crate) fn conversation_shape(
    mut messages: Vec<cv::Message<'_>>,
) -> Result<Vec<cv::Message<'_>>, GatewayError> {
    if messages.is_empty() {
        return Err(GatewayError::invalid(
            "`messages` must contain at least one user or assistant message with content",
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
    add_document_text(&mut messages);
    Ok(messages)
}

/// A user turn holding a document needs a text block too: add a placeholder where missing.
pub(crate) fn add_document_text(messages: &mut [cv::Message<'_>]) {
    for m in messages.iter_mut().filter(|m| m.role == cv::Role::User) {
        let has_doc = m
            .content
            .iter()
            .any(|b| matches!(b, cv::ContentBlock::Document(_)));
        let has_text = m
            .content
            .iter()
            .any(|b| matches!(b, cv::ContentBlock::Text(_)));
        if has_doc && !has_text {
            m.content
                .push(cv::ContentBlock::Text(Cow::Borrowed(DOCUMENT_ONLY_TEXT)));
        }
    }
}

pub(crate) fn is_blank(s: &str) -> bool {
    s.trim().is_empty()
}

pub(crate) fn check_base64(data: &str, at: &dyn Fn() -> String) -> Result<(), GatewayError> {
    let ok = !data.is_empty()
        && data
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/' || b == b'=');
    if ok {
        Ok(())
    } else {
        Err(GatewayError::invalid(
            "data is not valid base64",
            Some(&at()),
        ))
    }
}

/// Split `data:<mime>[;params];base64,<data>`.
pub(crate) fn parse_data_url(url: &str) -> Option<(&str, &str)> {
    let rest = url.strip_prefix("data:")?;
    let (meta, data) = rest.split_once(',')?;
    let mut fields = meta.split(';');
    let mime = fields.next()?;
    if !fields.any(|f| f.eq_ignore_ascii_case("base64")) {
        return None;
    }
    Some((mime, data))
}

pub(crate) fn image_block<'a>(
    url: &'a str,
    at: &dyn Fn() -> String,
) -> Result<cv::ContentBlock<'a>, GatewayError> {
    if url.starts_with("http://") || url.starts_with("https://") {
        return Err(GatewayError::unsupported(
            at(),
            "remote image URLs are not supported: Bedrock accepts inline images only; send the image as a base64 `data:` URL",
        ));
    }
    let (mime, data) = parse_data_url(url).ok_or_else(|| {
        GatewayError::invalid(
            "image_url must be a base64 `data:image/<format>;base64,...` URL",
            Some(&at()),
        )
    })?;
    let format = match mime.to_ascii_lowercase().as_str() {
        "image/png" => "png",
        "image/jpeg" | "image/jpg" => "jpeg",
        "image/gif" => "gif",
        "image/webp" => "webp",
        other => {
            return Err(GatewayError::invalid(
                format!("image type `{other}` is not supported (png, jpeg, gif, webp)"),
                Some(&at()),
            ))
        }
    };
    check_base64(data, at)?;
    Ok(cv::ContentBlock::Image(cv::Image {
        format,
        source: cv::BytesSource { bytes: data },
    }))
}

pub(crate) fn document_format(mime: Option<&str>, filename: Option<&str>) -> Option<&'static str> {
    let by_mime = mime.and_then(|m| {
        Some(match m.to_ascii_lowercase().as_str() {
            "application/pdf" => "pdf",
            "text/csv" => "csv",
            "application/msword" => "doc",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document" => "docx",
            "application/vnd.ms-excel" => "xls",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" => "xlsx",
            "text/html" => "html",
            "text/plain" => "txt",
            "text/markdown" => "md",
            _ => return None,
        })
    });
    by_mime.or_else(|| {
        let ext = filename?.rsplit_once('.')?.1.to_ascii_lowercase();
        Some(match ext.as_str() {
            "pdf" => "pdf",
            "csv" => "csv",
            "doc" => "doc",
            "docx" => "docx",
            "xls" => "xls",
            "xlsx" => "xlsx",
            "html" | "htm" => "html",
            "txt" => "txt",
            "md" | "markdown" => "md",
            _ => return None,
        })
    })
}

/// Bedrock document names: alphanumerics, single spaces, hyphens, parentheses, square brackets.
pub(crate) fn document_name(filename: Option<&str>) -> String {
    let stem = filename
        .map(|f| f.rsplit_once('.').map(|(s, _)| s).unwrap_or(f))
        .unwrap_or("");
    let mut name = String::with_capacity(stem.len().min(200));
    for c in stem.chars() {
        let c = if c.is_ascii_alphanumeric() || matches!(c, '-' | '(' | ')' | '[' | ']') {
            c
        } else {
            ' '
        };
        if c == ' ' && (name.is_empty() || name.ends_with(' ')) {
            continue;
        }
        name.push(c);
        if name.len() >= 190 {
            break;
        }
    }
    let name = name.trim_end().to_owned();
    if name.is_empty() {
        "document".to_owned()
    } else {
        name
    }
}

pub(crate) fn parse_arguments<'a>(args: &'a str, at: &str) -> Result<&'a RawValue, GatewayError> {
    if is_blank(args) {
        return Ok(static_raw(EMPTY_INPUT));
    }
    let raw: &RawValue = serde_json::from_str(args).map_err(|e| {
        GatewayError::invalid(
            format!("tool call arguments must be a JSON object: {e}"),
            Some(at),
        )
    })?;
    if !raw.get().trim_start().starts_with('{') {
        return Err(GatewayError::invalid(
            "tool call arguments must be a JSON object",
            Some(at),
        ));
    }
    Ok(raw)
}

/// A base64 document (a `data:` URL or bare base64) → a document block, its format from the
/// MIME type or the file name.
pub(crate) fn document<'a>(
    file_data: &'a str,
    filename: Option<&str>,
    at: &dyn Fn() -> String,
) -> Result<cv::ContentBlock<'a>, GatewayError> {
    let (mime, data) = match parse_data_url(file_data) {
        Some((mime, data)) => (Some(mime), data),
        None => (None, file_data),
    };
    let format = document_format(mime, filename).ok_or_else(|| {
        GatewayError::invalid(
            "unsupported document type (pdf, csv, doc, docx, xls, xlsx, html, txt, md)",
            Some(&at()),
        )
    })?;
    check_base64(data, at)?;
    Ok(cv::ContentBlock::Document(cv::Document {
        format,
        name: document_name(filename),
        source: cv::DocumentSource::Bytes(data),
    }))
}
