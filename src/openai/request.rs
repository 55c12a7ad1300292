//! The chat-completions request as clients send it, borrowed from the request buffer. Every
//! field a client can send is listed so that each one is translated or rejected by name.

// Serde mirrors of a wire format: every field is named as on the wire, and the mapping of
// each one is documented in docs/mapping.md (or, for config, ../shared/contract.md).
#![allow(missing_docs)]

use crate::wire::{text_or_seq, TextOrSeq};
use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use std::borrow::Cow;

/// `POST /v1/chat/completions` body. Every field a client can send is listed, so that each one is
/// either translated or rejected by name; fields not listed here are ignored.
#[derive(Debug, Deserialize, Default)]
pub struct ChatRequest<'a> {
    #[serde(borrow, default)]
    pub(crate) model: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(crate) messages: Option<Vec<Message<'a>>>,
    #[serde(default)]
    pub(crate) max_tokens: Option<i64>,
    #[serde(default)]
    pub(crate) max_completion_tokens: Option<i64>,
    #[serde(default)]
    pub(crate) temperature: Option<f64>,
    #[serde(default)]
    pub(crate) top_p: Option<f64>,
    #[serde(borrow, default)]
    pub(crate) stop: Option<Stop<'a>>,
    #[serde(default)]
    pub(crate) n: Option<i64>,
    #[serde(default)]
    pub(crate) stream: Option<bool>,
    #[serde(default)]
    pub(crate) stream_options: Option<StreamOptions>,
    #[serde(borrow, default)]
    pub(crate) tools: Option<Vec<Tool<'a>>>,
    #[serde(borrow, default)]
    pub(crate) tool_choice: Option<ToolChoice<'a>>,
    #[serde(default)]
    #[expect(
        dead_code,
        reason = "parsed so that a mistyped value is rejected as before; never read"
    )]
    pub(crate) parallel_tool_calls: Option<bool>,
    #[serde(borrow, default)]
    pub(crate) functions: Option<Vec<FunctionDef<'a>>>,
    #[serde(borrow, default)]
    pub(crate) function_call: Option<ToolChoice<'a>>,
    #[serde(borrow, default)]
    pub(crate) response_format: Option<ResponseFormat<'a>>,
    #[serde(borrow, default)]
    pub(crate) reasoning_effort: Option<Cow<'a, str>>,
    #[serde(default)]
    pub(crate) metadata: Option<std::collections::BTreeMap<String, String>>,
    #[serde(borrow, default)]
    pub(crate) service_tier: Option<Cow<'a, str>>,
    // Fields Bedrock cannot honour: parsed only to be rejected by name when set.
    #[serde(default)]
    pub(crate) logprobs: Option<bool>,
    #[serde(default)]
    pub(crate) top_logprobs: Option<i64>,
    #[serde(borrow, default)]
    pub(crate) logit_bias: Option<&'a RawValue>,
    #[serde(default)]
    pub(crate) frequency_penalty: Option<f64>,
    #[serde(default)]
    pub(crate) presence_penalty: Option<f64>,
    #[serde(borrow, default)]
    pub(crate) audio: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub(crate) modalities: Option<Vec<Cow<'a, str>>>,
    #[serde(borrow, default)]
    pub(crate) prediction: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub(crate) web_search_options: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub(crate) verbosity: Option<Cow<'a, str>>,
    // Accepted and ignored (documented in README): seed, user, safety_identifier, store,
    // prompt_cache_key, prompt_cache_retention.
}

#[derive(Debug, Deserialize, Default, Clone, Copy)]
pub(crate) struct StreamOptions {
    #[serde(default)]
    pub(crate) include_usage: Option<bool>,
}

/// `stop`: a string or a list of strings.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(crate) enum Stop<'a> {
    One(#[serde(borrow)] Cow<'a, str>),
    Many(#[serde(borrow)] Vec<Cow<'a, str>>),
}

/// One message, tagged by `role`.
#[derive(Debug)]
pub(crate) enum Message<'a> {
    System {
        content: Content<'a>,
    },
    Developer {
        content: Content<'a>,
    },
    User {
        content: Content<'a>,
    },
    Assistant(AssistantMessage<'a>),
    Tool {
        tool_call_id: Cow<'a, str>,
        content: Content<'a>,
    },
    /// Legacy `function` role (a function result).
    Function {
        name: Cow<'a, str>,
        content: Content<'a>,
    },
}

/// A message's `role`.
#[derive(Debug, Deserialize, Clone, Copy)]
#[serde(rename_all = "lowercase")]
enum Role {
    System,
    Developer,
    User,
    Assistant,
    Tool,
    Function,
}

/// Every field any role reads, in one struct: serde's derive for an internally tagged enum
/// would buffer each message whole (every string copied into its `Content` tree) before
/// visiting it again; this reads the fields once, in place. A role's foreign fields are
/// ignored, as OpenAI does.
#[derive(Deserialize)]
struct FlatMessage<'a> {
    role: Role,
    #[serde(borrow, default)]
    content: Content<'a>,
    #[serde(borrow, default)]
    tool_call_id: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    name: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    refusal: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    tool_calls: Option<Vec<ToolCall<'a>>>,
    #[serde(borrow, default)]
    function_call: Option<FunctionCall<'a>>,
    #[serde(borrow, default)]
    reasoning_content: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    reasoning_signature: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    reasoning_details: Option<Vec<ReasoningDetail<'a>>>,
}

impl<'de: 'a, 'a> Deserialize<'de> for Message<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let m = FlatMessage::deserialize(d)?;
        let content = m.content;
        Ok(match m.role {
            Role::System => Message::System { content },
            Role::Developer => Message::Developer { content },
            Role::User => Message::User { content },
            Role::Assistant => Message::Assistant(AssistantMessage {
                content,
                refusal: m.refusal,
                tool_calls: m.tool_calls,
                function_call: m.function_call,
                reasoning_content: m.reasoning_content,
                reasoning_signature: m.reasoning_signature,
                reasoning_details: m.reasoning_details,
            }),
            Role::Tool => Message::Tool {
                tool_call_id: m
                    .tool_call_id
                    .ok_or_else(|| <D::Error as de::Error>::missing_field("tool_call_id"))?,
                content,
            },
            Role::Function => Message::Function {
                name: m
                    .name
                    .ok_or_else(|| <D::Error as de::Error>::missing_field("name"))?,
                content,
            },
        })
    }
}

#[derive(Debug, Default)]
pub(crate) struct AssistantMessage<'a> {
    pub(crate) content: Content<'a>,
    pub(crate) refusal: Option<Cow<'a, str>>,
    pub(crate) tool_calls: Option<Vec<ToolCall<'a>>>,
    pub(crate) function_call: Option<FunctionCall<'a>>,
    /// Non-standard (DeepSeek / basalt): reasoning text of this turn, for replay.
    pub(crate) reasoning_content: Option<Cow<'a, str>>,
    /// Non-standard (basalt): the signature of `reasoning_content`, for replay.
    pub(crate) reasoning_signature: Option<Cow<'a, str>>,
    /// Non-standard (basalt, OpenRouter-style): the reasoning blocks exactly as returned.
    pub(crate) reasoning_details: Option<Vec<ReasoningDetail<'a>>>,
}

/// One reasoning block as basalt returns it in `message.reasoning_details`.
#[derive(Debug, Deserialize, Serialize, Clone, PartialEq)]
#[serde(tag = "type")]
pub(crate) enum ReasoningDetail<'a> {
    #[serde(rename = "reasoning.text")]
    Text {
        #[serde(borrow)]
        text: Cow<'a, str>,
        #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
        signature: Option<Cow<'a, str>>,
    },
    #[serde(rename = "reasoning.encrypted")]
    Encrypted {
        #[serde(borrow)]
        data: Cow<'a, str>,
    },
}

#[derive(Debug, Deserialize)]
pub(crate) struct ToolCall<'a> {
    #[serde(borrow)]
    pub(crate) id: Cow<'a, str>,
    #[serde(borrow, default, rename = "type")]
    pub(crate) kind: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(crate) function: Option<FunctionCall<'a>>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct FunctionCall<'a> {
    #[serde(borrow)]
    pub(crate) name: Cow<'a, str>,
    #[serde(borrow, default)]
    pub(crate) arguments: Cow<'a, str>,
}

/// Message content: a string, an array of parts, or null/absent.
#[derive(Debug, Default)]
pub(crate) enum Content<'a> {
    #[default]
    None,
    Text(Cow<'a, str>),
    Parts(Vec<Part<'a>>),
}

impl<'de: 'a, 'a> Deserialize<'de> for Content<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(
            match text_or_seq(d, "a string, an array of content parts, or null")? {
                TextOrSeq::Null => Content::None,
                TextOrSeq::Text(t) => Content::Text(t),
                TextOrSeq::Seq(parts) => Content::Parts(parts),
            },
        )
    }
}

/// A content part, tagged by `type`.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(crate) enum Part<'a> {
    Text {
        #[serde(borrow)]
        text: Cow<'a, str>,
        #[serde(borrow, default)]
        cache_control: Option<CacheControl<'a>>,
        #[serde(borrow, default)]
        prompt_cache_breakpoint: Option<CacheControl<'a>>,
    },
    ImageUrl {
        #[serde(borrow)]
        image_url: ImageUrl<'a>,
        #[serde(borrow, default)]
        cache_control: Option<CacheControl<'a>>,
        #[serde(borrow, default)]
        prompt_cache_breakpoint: Option<CacheControl<'a>>,
    },
    InputAudio {
        #[serde(borrow)]
        input_audio: InputAudio<'a>,
    },
    File {
        #[serde(borrow)]
        file: FilePart<'a>,
        #[serde(borrow, default)]
        cache_control: Option<CacheControl<'a>>,
        #[serde(borrow, default)]
        prompt_cache_breakpoint: Option<CacheControl<'a>>,
    },
    /// Assistant refusal part (replayed history).
    Refusal {
        #[serde(borrow)]
        refusal: Cow<'a, str>,
    },
}

/// A client cache hint on a part: Anthropic-style `cache_control: {"type":"ephemeral","ttl":"1h"}`
/// or OpenAI's `prompt_cache_breakpoint: {"mode":"explicit","ttl":"30m"}`.
#[derive(Debug, Deserialize, Clone, Default)]
pub(crate) struct CacheControl<'a> {
    #[serde(borrow, default)]
    pub(crate) ttl: Option<Cow<'a, str>>,
}

impl<'a> Part<'a> {
    /// The part's cache hint, if it carries one.
    pub(crate) fn cache_hint(&self) -> Option<&CacheControl<'a>> {
        match self {
            Part::Text {
                cache_control,
                prompt_cache_breakpoint,
                ..
            }
            | Part::ImageUrl {
                cache_control,
                prompt_cache_breakpoint,
                ..
            }
            | Part::File {
                cache_control,
                prompt_cache_breakpoint,
                ..
            } => cache_control.as_ref().or(prompt_cache_breakpoint.as_ref()),
            Part::InputAudio { .. } | Part::Refusal { .. } => None,
        }
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct ImageUrl<'a> {
    #[serde(borrow)]
    pub(crate) url: Cow<'a, str>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct InputAudio<'a> {
    #[serde(borrow)]
    pub(crate) data: Cow<'a, str>,
    #[serde(borrow)]
    pub(crate) format: Cow<'a, str>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct FilePart<'a> {
    #[serde(borrow, default)]
    pub(crate) file_data: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(crate) file_id: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(crate) filename: Option<Cow<'a, str>>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Tool<'a> {
    #[serde(borrow, rename = "type")]
    pub(crate) kind: Cow<'a, str>,
    #[serde(borrow, default)]
    pub(crate) function: Option<FunctionDef<'a>>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct FunctionDef<'a> {
    #[serde(borrow)]
    pub(crate) name: Cow<'a, str>,
    #[serde(borrow, default)]
    pub(crate) description: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(crate) parameters: Option<&'a RawValue>,
    #[serde(default)]
    #[expect(
        dead_code,
        reason = "parsed so that a mistyped value is rejected as before; never read"
    )]
    pub(crate) strict: Option<bool>,
}

/// `tool_choice` (and legacy `function_call`): a mode string or an object.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(crate) enum ToolChoice<'a> {
    Mode(#[serde(borrow)] Cow<'a, str>),
    Object(#[serde(borrow)] ToolChoiceObject<'a>),
}

#[derive(Debug, Deserialize)]
pub(crate) struct ToolChoiceObject<'a> {
    #[serde(borrow, default, rename = "type")]
    #[expect(
        dead_code,
        reason = "parsed so that a mistyped value is rejected as before; never read"
    )]
    pub(crate) kind: Option<Cow<'a, str>>,
    /// `{"type":"function","function":{"name":..}}`
    #[serde(borrow, default)]
    pub(crate) function: Option<NamedRef<'a>>,
    /// legacy `function_call: {"name": ..}`
    #[serde(borrow, default)]
    pub(crate) name: Option<Cow<'a, str>>,
    /// `{"type":"allowed_tools","allowed_tools":{"mode":..,"tools":[..]}}`
    #[serde(borrow, default)]
    pub(crate) allowed_tools: Option<AllowedTools<'a>>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct NamedRef<'a> {
    #[serde(borrow)]
    pub(crate) name: Cow<'a, str>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct AllowedTools<'a> {
    #[serde(borrow)]
    pub(crate) mode: Cow<'a, str>,
    #[serde(borrow, default)]
    pub(crate) tools: Vec<AllowedTool<'a>>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct AllowedTool<'a> {
    #[serde(borrow, default)]
    pub(crate) function: Option<NamedRef<'a>>,
}

/// `response_format` (a plain struct: `RawValue` cannot sit inside a serde-tagged enum).
#[derive(Debug, Deserialize)]
pub(crate) struct ResponseFormat<'a> {
    /// `text`, `json_object` or `json_schema`.
    #[serde(borrow, rename = "type")]
    pub(crate) kind: Cow<'a, str>,
    #[serde(borrow, default)]
    pub(crate) json_schema: Option<JsonSchemaFormat<'a>>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct JsonSchemaFormat<'a> {
    #[serde(borrow)]
    pub(crate) name: Cow<'a, str>,
    #[serde(borrow, default)]
    pub(crate) description: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(crate) schema: Option<&'a RawValue>,
    #[serde(default)]
    #[expect(
        dead_code,
        reason = "parsed so that a mistyped value is rejected as before; never read"
    )]
    pub(crate) strict: Option<bool>,
}
