//! The Messages request as Anthropic clients send it, borrowed from the request buffer. Content
//! blocks are one flat struct tagged by `type` (serde's tagged enums buffer their content, which
//! would lose the borrowed tool `input`): the translator checks which fields a type needs.

// Serde mirrors of a wire format: every field is named as on the wire, and the mapping of
// each one is documented in docs/mapping.md.
#![allow(missing_docs)]

use crate::wire::{text_or_seq, TextOrSeq};
use serde::de::{self, Deserializer};
use serde::Deserialize;
use serde_json::value::RawValue;
use std::borrow::Cow;

#[derive(Debug, Deserialize)]
pub struct MessagesRequest<'a> {
    #[serde(borrow, default)]
    pub(crate) model: Option<Cow<'a, str>>,
    #[serde(default)]
    pub(crate) max_tokens: Option<i64>,
    #[serde(borrow, default)]
    pub(crate) messages: Option<Vec<InputMessage<'a>>>,
    #[serde(borrow, default)]
    pub(crate) system: Option<Content<'a>>,
    #[serde(default)]
    pub(crate) temperature: Option<f64>,
    #[serde(default)]
    pub(crate) top_p: Option<f64>,
    #[serde(default)]
    pub(crate) top_k: Option<i64>,
    #[serde(borrow, default)]
    pub(crate) stop_sequences: Option<Vec<Cow<'a, str>>>,
    #[serde(default)]
    pub(crate) stream: Option<bool>,
    #[serde(borrow, default)]
    pub(crate) tools: Option<Vec<ToolDef<'a>>>,
    #[serde(borrow, default)]
    pub(crate) tool_choice: Option<ToolChoice<'a>>,
    #[serde(borrow, default)]
    pub(crate) thinking: Option<ThinkingParam<'a>>,
    #[serde(borrow, default)]
    pub(crate) output_config: Option<OutputConfig<'a>>,
    #[serde(borrow, default)]
    pub(crate) metadata: Option<Metadata<'a>>,
    #[serde(borrow, default)]
    pub(crate) service_tier: Option<Cow<'a, str>>,
    /// Anthropic-hosted features Bedrock lacks: a 400 naming them.
    #[serde(borrow, default)]
    pub(crate) mcp_servers: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub(crate) container: Option<&'a RawValue>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct InputMessage<'a> {
    #[serde(borrow)]
    pub(crate) role: Cow<'a, str>,
    #[serde(borrow)]
    pub(crate) content: Content<'a>,
}

/// A string, or an array of content blocks.
#[derive(Debug)]
pub(crate) enum Content<'a> {
    Text(Cow<'a, str>),
    Blocks(Vec<Block<'a>>),
}

impl<'de: 'a, 'a> Deserialize<'de> for Content<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(
            match text_or_seq(d, "a string or an array of content blocks")? {
                TextOrSeq::Null => {
                    return Err(de::Error::invalid_type(
                        de::Unexpected::Unit,
                        &"a string or an array of content blocks",
                    ))
                }
                TextOrSeq::Text(t) => Content::Text(t),
                TextOrSeq::Seq(blocks) => Content::Blocks(blocks),
            },
        )
    }
}

/// One content block (`text`, `image`, `document`, `tool_use`, `tool_result`, `thinking`,
/// `redacted_thinking`, or a type Bedrock lacks).
#[derive(Debug, Deserialize)]
pub(crate) struct Block<'a> {
    #[serde(borrow, rename = "type")]
    pub(crate) kind: Cow<'a, str>,
    #[serde(borrow, default)]
    pub(crate) text: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(crate) source: Option<Source<'a>>,
    #[serde(borrow, default)]
    pub(crate) title: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(crate) id: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(crate) name: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(crate) input: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub(crate) tool_use_id: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(crate) content: Option<Content<'a>>,
    #[serde(default)]
    pub(crate) is_error: Option<bool>,
    #[serde(borrow, default)]
    pub(crate) thinking: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(crate) signature: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(crate) data: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(crate) cache_control: Option<CacheControl<'a>>,
}

/// An image or document source: `base64`, `text`, `url`, `file` or `content`.
#[derive(Debug, Deserialize)]
pub(crate) struct Source<'a> {
    #[serde(borrow, rename = "type")]
    pub(crate) kind: Cow<'a, str>,
    #[serde(borrow, default)]
    pub(crate) media_type: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(crate) data: Option<Cow<'a, str>>,
}

/// `{"type": "ephemeral", "ttl": "5m" | "1h"}` (the type has one value; it is not checked).
#[derive(Debug, Deserialize)]
pub(crate) struct CacheControl<'a> {
    #[serde(borrow, default)]
    pub(crate) ttl: Option<Cow<'a, str>>,
}

/// A tool: custom (`type` absent or `custom`, with `input_schema`) or a server tool.
#[derive(Debug, Deserialize)]
pub(crate) struct ToolDef<'a> {
    #[serde(borrow, rename = "type", default)]
    pub(crate) kind: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(crate) name: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(crate) description: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(crate) input_schema: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub(crate) cache_control: Option<CacheControl<'a>>,
}

/// `{"type": "auto" | "any" | "tool" | "none", "name"?, "disable_parallel_tool_use"?}`.
#[derive(Debug, Deserialize)]
pub(crate) struct ToolChoice<'a> {
    #[serde(borrow, rename = "type")]
    pub(crate) kind: Cow<'a, str>,
    #[serde(borrow, default)]
    pub(crate) name: Option<Cow<'a, str>>,
    #[serde(default)]
    pub(crate) disable_parallel_tool_use: Option<bool>,
}

/// `{"type": "enabled", "budget_tokens": N}`, `{"type": "adaptive"}` or `{"type": "disabled"}`.
#[derive(Debug, Deserialize)]
pub(crate) struct ThinkingParam<'a> {
    #[serde(borrow, rename = "type")]
    pub(crate) kind: Cow<'a, str>,
    #[serde(default)]
    pub(crate) budget_tokens: Option<i64>,
}

/// `{"effort": "low" | "medium" | "high" | "max"}`.
#[derive(Debug, Deserialize)]
pub(crate) struct OutputConfig<'a> {
    #[serde(borrow, default)]
    pub(crate) effort: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(crate) format: Option<&'a RawValue>,
}

/// `{"user_id": "..."}`.
#[derive(Debug, Deserialize)]
pub(crate) struct Metadata<'a> {
    #[serde(borrow, default)]
    pub(crate) user_id: Option<Cow<'a, str>>,
}

/// The count_tokens request: the Messages request's input fields.
pub type CountTokensRequest<'a> = MessagesRequest<'a>;
