//! The Responses request as clients send it, borrowed from the request buffer. Items, content
//! parts and tools are flat structs (every member optional, `type` read in translation) so that
//! an unknown item type is refused by name with its JSON path, and `RawValue` members work.

// Serde mirrors of a wire format: every field is named as on the wire, and the mapping of
// each one is documented in docs/mapping.md.
#![allow(missing_docs)]

use crate::wire::{text_or_seq, TextOrSeq};
use serde::de::{self, Deserializer};
use serde::Deserialize;
use serde_json::value::RawValue;
use std::borrow::Cow;

/// `POST /v1/responses` body. Every field a client can send is listed, so that each one is
/// translated, echoed, ignored on purpose or rejected by name; others are ignored.
#[derive(Debug, Deserialize, Default)]
pub struct ResponsesRequest<'a> {
    #[serde(borrow, default)]
    pub(crate) model: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(crate) input: Option<Input<'a>>,
    #[serde(borrow, default)]
    pub(crate) instructions: Option<Cow<'a, str>>,
    /// `tools`, `tool_choice` and `text` are parsed and kept raw too, to be echoed in the
    /// response object as sent.
    #[serde(borrow, default)]
    pub(crate) tools: Option<WithRaw<'a, Vec<Tool<'a>>>>,
    #[serde(borrow, default)]
    pub(crate) tool_choice: Option<WithRaw<'a, ToolChoice<'a>>>,
    #[serde(default)]
    pub(crate) max_output_tokens: Option<i64>,
    #[serde(default)]
    pub(crate) temperature: Option<f64>,
    #[serde(default)]
    pub(crate) top_p: Option<f64>,
    #[serde(borrow, default)]
    pub(crate) reasoning: Option<ReasoningParam<'a>>,
    #[serde(borrow, default)]
    pub(crate) text: Option<WithRaw<'a, TextConfig<'a>>>,
    #[serde(borrow, default)]
    pub(crate) include: Option<Vec<Cow<'a, str>>>,
    #[serde(default)]
    pub(crate) parallel_tool_calls: Option<bool>,
    #[serde(default)]
    pub(crate) metadata: Option<std::collections::BTreeMap<String, String>>,
    #[serde(borrow, default)]
    pub(crate) user: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(crate) service_tier: Option<Cow<'a, str>>,
    #[serde(default)]
    pub(crate) stream: Option<bool>,
    #[serde(default)]
    pub(crate) store: Option<bool>,
    // State basalt does not keep: refused with a 400 that says so.
    #[serde(borrow, default)]
    pub(crate) previous_response_id: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(crate) conversation: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub(crate) prompt: Option<&'a RawValue>,
    #[serde(default)]
    pub(crate) background: Option<bool>,
    // Fields Bedrock cannot honour: parsed only to be rejected by name when set.
    #[serde(default)]
    pub(crate) top_logprobs: Option<i64>,
    #[serde(default)]
    pub(crate) max_tool_calls: Option<i64>,
    #[serde(borrow, default)]
    pub(crate) truncation: Option<Cow<'a, str>>,
    // Accepted and ignored (documented in README): stream_options, safety_identifier,
    // prompt_cache_key, prompt_cache_retention.
}

/// `input`: a string (one user message) or a list of items.
#[derive(Debug)]
pub(crate) enum Input<'a> {
    Text(Cow<'a, str>),
    Items(Vec<Item<'a>>),
}

/// A member parsed as `T` and also kept as the client's JSON text.
#[derive(Debug)]
pub(crate) struct WithRaw<'a, T> {
    pub(crate) raw: &'a RawValue,
    pub(crate) value: T,
}

impl<'de: 'a, 'a, T: Deserialize<'de>> Deserialize<'de> for WithRaw<'a, T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw: &'de RawValue = Deserialize::deserialize(d)?;
        let mut de = serde_json::Deserializer::from_str(raw.get());
        let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
            let path = e.path().to_string();
            if path.is_empty() || path == "." {
                de::Error::custom(e.into_inner())
            } else {
                de::Error::custom(format!("{path}: {}", e.into_inner()))
            }
        })?;
        Ok(WithRaw { raw, value })
    }
}

/// `tool_choice`: a mode (`none`, `auto`, `required`) or an object.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(crate) enum ToolChoice<'a> {
    Mode(#[serde(borrow)] Cow<'a, str>),
    Object(#[serde(borrow)] ToolChoiceObject<'a>),
}

/// Deserialize a string or an array (never null) through the two constructors.
macro_rules! string_or_seq {
    ($ty:ident, $text:path, $seq:path) => {
        impl<'de: 'a, 'a> Deserialize<'de> for $ty<'a> {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                match text_or_seq(d, "a string or an array")? {
                    TextOrSeq::Text(t) => Ok($text(t)),
                    TextOrSeq::Seq(items) => Ok($seq(items)),
                    TextOrSeq::Null => Err(de::Error::invalid_type(
                        de::Unexpected::Unit,
                        &"a string or an array",
                    )),
                }
            }
        }
    };
}

string_or_seq!(Input, Input::Text, Input::Items);
string_or_seq!(Content, Content::Text, Content::Parts);

/// One input item: a message (`type` `message` or absent), `function_call`,
/// `function_call_output`, `reasoning`, or another type (refused in translation).
#[derive(Debug, Deserialize, Default)]
pub(crate) struct Item<'a> {
    #[serde(borrow, default, rename = "type")]
    pub(crate) kind: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(crate) role: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(crate) content: Option<Content<'a>>,
    #[serde(borrow, default)]
    pub(crate) call_id: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(crate) name: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(crate) arguments: Option<Cow<'a, str>>,
    /// `function_call_output.output`: a string or content parts.
    #[serde(borrow, default)]
    pub(crate) output: Option<Content<'a>>,
    #[serde(borrow, default)]
    pub(crate) encrypted_content: Option<Cow<'a, str>>,
}

/// Message content or a tool output: a string or content parts.
#[derive(Debug)]
pub(crate) enum Content<'a> {
    Text(Cow<'a, str>),
    Parts(Vec<Part<'a>>),
}

/// A content part: `input_text`, `output_text`, `refusal`, `input_image`, `input_file`, ...
#[derive(Debug, Deserialize, Default)]
pub(crate) struct Part<'a> {
    #[serde(borrow, default, rename = "type")]
    pub(crate) kind: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(crate) text: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(crate) refusal: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(crate) image_url: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(crate) file_id: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(crate) file_data: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(crate) file_url: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(crate) filename: Option<Cow<'a, str>>,
}

/// A tool: `function` (flat: name, description, parameters, strict) or a built-in tool type.
#[derive(Debug, Deserialize)]
pub(crate) struct Tool<'a> {
    #[serde(borrow, rename = "type")]
    pub(crate) kind: Cow<'a, str>,
    #[serde(borrow, default)]
    pub(crate) name: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(crate) description: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(crate) parameters: Option<&'a RawValue>,
    #[serde(default)]
    #[expect(
        dead_code,
        reason = "parsed so that a mistyped value is rejected; Bedrock validates per model"
    )]
    pub(crate) strict: Option<bool>,
}

/// `tool_choice` as an object: `{"type":"function","name"}`, `{"type":"allowed_tools",...}`,
/// or a built-in tool type.
#[derive(Debug, Deserialize)]
pub(crate) struct ToolChoiceObject<'a> {
    #[serde(borrow, rename = "type")]
    pub(crate) kind: Cow<'a, str>,
    #[serde(borrow, default)]
    pub(crate) name: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(crate) mode: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(crate) tools: Option<Vec<AllowedTool<'a>>>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct AllowedTool<'a> {
    #[serde(borrow, default, rename = "type")]
    pub(crate) kind: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(crate) name: Option<Cow<'a, str>>,
}

/// `reasoning: {effort, summary}` (`generate_summary` is the deprecated spelling of `summary`).
#[derive(Debug, Deserialize, Default)]
pub(crate) struct ReasoningParam<'a> {
    #[serde(borrow, default)]
    pub(crate) effort: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(crate) summary: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(crate) generate_summary: Option<Cow<'a, str>>,
}

/// `text: {format, verbosity}`.
#[derive(Debug, Deserialize, Default)]
pub(crate) struct TextConfig<'a> {
    #[serde(borrow, default)]
    pub(crate) format: Option<TextFormat<'a>>,
    #[serde(borrow, default)]
    pub(crate) verbosity: Option<Cow<'a, str>>,
}

/// `text.format`: `{"type":"text"}`, `{"type":"json_object"}` or
/// `{"type":"json_schema","name","schema","description","strict"}` (flat, unlike chat).
#[derive(Debug, Deserialize)]
pub(crate) struct TextFormat<'a> {
    #[serde(borrow, rename = "type")]
    pub(crate) kind: Cow<'a, str>,
    #[serde(borrow, default)]
    pub(crate) name: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(crate) description: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(crate) schema: Option<&'a RawValue>,
    #[serde(default)]
    #[expect(
        dead_code,
        reason = "parsed so that a mistyped value is rejected; Bedrock validates per model"
    )]
    pub(crate) strict: Option<bool>,
}
