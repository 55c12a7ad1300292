//! Bedrock Converse wire types (upstream side). Requests serialize each union as exactly one
//! member; responses deserialize tolerantly (unknown blocks and fields are skipped, never fatal).

// Serde mirrors of a wire format: every field is named as on the wire, and the mapping of
// each one is documented in docs/mapping.md (or, for config, ../shared/contract.md).
#![allow(missing_docs)]

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use std::borrow::Cow;

// ---------------------------------------------------------------------------------------------
// Request
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct ConverseRequest<'a> {
    pub(crate) messages: Vec<Message<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) system: Vec<SystemBlock<'a>>,
    #[serde(skip_serializing_if = "InferenceConfig::is_empty")]
    pub(crate) inference_config: InferenceConfig<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) tool_config: Option<ToolConfig<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) additional_model_request_fields: Option<AdditionalFields>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) output_config: Option<OutputConfig<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) request_metadata: Option<Cow<'a, std::collections::BTreeMap<String, String>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) service_tier: Option<ServiceTier>,
    /// Model-native answer fields to return (`/stop_sequence` for Claude).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) additional_model_response_field_paths: Vec<&'static str>,
}

/// The CountTokens body: `{"input":{"converse":{messages, system, toolConfig, ...}}}`.
#[derive(Debug, Serialize)]
pub(crate) struct CountTokensRequest<'r, 'a> {
    pub(crate) input: CountTokensInput<'r, 'a>,
}

#[derive(Debug, Serialize)]
pub(crate) struct CountTokensInput<'r, 'a> {
    pub(crate) converse: ConverseTokens<'r, 'a>,
}

/// The parts of a Converse request that CountTokens counts.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ConverseTokens<'r, 'a> {
    pub(crate) messages: &'r [Message<'a>],
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pub(crate) system: &'r [SystemBlock<'a>],
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) tool_config: Option<&'r ToolConfig<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) additional_model_request_fields: Option<&'r AdditionalFields>,
}

/// The CountTokens answer `{"inputTokens": N}`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CountTokensResponse {
    pub(crate) input_tokens: u64,
}

#[derive(Debug, Serialize, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    #[serde(rename = "user")]
    User,
    #[serde(rename = "assistant")]
    Assistant,
}

#[derive(Debug, Serialize)]
pub(crate) struct Message<'a> {
    pub(crate) role: Role,
    pub(crate) content: Vec<ContentBlock<'a>>,
}

/// A Converse `ContentBlock` union: serializes as `{"<member>": ...}` with exactly one member.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) enum ContentBlock<'a> {
    Text(Cow<'a, str>),
    Image(Image<'a>),
    Document(Document<'a>),
    Audio(Audio<'a>),
    ToolUse(ToolUse<'a>),
    ToolResult(ToolResult<'a>),
    ReasoningContent(ReasoningContent<'a>),
    CachePoint(CachePoint),
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) enum SystemBlock<'a> {
    Text(Cow<'a, str>),
    CachePoint(CachePoint),
}

#[derive(Debug, Serialize, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CachePoint {
    #[serde(rename = "type")]
    pub(crate) kind: &'static str,
    /// `5m` (Bedrock's default when absent) or `1h`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) ttl: Option<&'static str>,
}

impl CachePoint {
    pub(crate) const DEFAULT: CachePoint = CachePoint {
        kind: "default",
        ttl: None,
    };
    pub(crate) const ONE_HOUR: CachePoint = CachePoint {
        kind: "default",
        ttl: Some("1h"),
    };
}

/// The model-native fields this gateway sets in `additionalModelRequestFields`.
#[derive(Debug, Serialize, Default, PartialEq, Eq)]
pub(crate) struct AdditionalFields {
    /// Claude extended thinking.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) thinking: Option<Thinking>,
    /// Amazon Nova 2 reasoning.
    #[serde(rename = "reasoningConfig", skip_serializing_if = "Option::is_none")]
    pub(crate) reasoning_config: Option<ReasoningConfig>,
    /// OpenAI gpt-oss reasoning effort (`low`, `medium`, `high`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) reasoning_effort: Option<&'static str>,
    /// Claude top-k sampling (Anthropic Messages `top_k`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) top_k: Option<u64>,
    /// Claude beta features (the `anthropic-beta` header of Anthropic Messages clients).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) anthropic_beta: Vec<String>,
}

/// `{"type":"enabled","budget_tokens":N}` or `{"type":"adaptive"}`.
#[derive(Debug, Serialize, PartialEq, Eq, Clone, Copy)]
#[serde(tag = "type", rename_all = "lowercase")]
pub(crate) enum Thinking {
    Enabled { budget_tokens: u64 },
    Adaptive,
}

#[derive(Debug, Serialize, PartialEq, Eq, Clone, Copy)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ReasoningConfig {
    #[serde(rename = "type")]
    pub(crate) kind: &'static str,
    pub(crate) max_reasoning_effort: &'static str,
}

/// Bytes as base64 text, borrowed from the client's data URL (already base64 on the wire).
#[derive(Debug, Serialize)]
pub(crate) struct BytesSource<'a> {
    pub(crate) bytes: &'a str,
}

#[derive(Debug, Serialize)]
pub(crate) struct Image<'a> {
    pub(crate) format: &'static str,
    pub(crate) source: BytesSource<'a>,
}

#[derive(Debug, Serialize)]
pub(crate) struct Document<'a> {
    pub(crate) format: &'static str,
    pub(crate) name: String,
    pub(crate) source: DocumentSource<'a>,
}

/// A document's content: base64 bytes, or plain text.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) enum DocumentSource<'a> {
    Bytes(&'a str),
    Text(Cow<'a, str>),
}

impl DocumentSource<'_> {
    /// The size of the content in bytes (decoded, for base64).
    pub(crate) fn content_len(&self) -> usize {
        match self {
            DocumentSource::Bytes(b) => b.len() * 3 / 4,
            DocumentSource::Text(t) => t.len(),
        }
    }
}

#[derive(Debug, Serialize)]
pub(crate) struct Audio<'a> {
    pub(crate) format: &'static str,
    pub(crate) source: BytesSource<'a>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ToolUse<'a> {
    pub(crate) tool_use_id: Cow<'a, str>,
    pub(crate) name: Cow<'a, str>,
    pub(crate) input: &'a RawValue,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ToolResult<'a> {
    pub(crate) tool_use_id: Cow<'a, str>,
    pub(crate) content: Vec<ToolResultContent<'a>>,
    /// `error` for a failed tool (Anthropic `is_error`); absent means success.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) status: Option<&'static str>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) enum ToolResultContent<'a> {
    Text(Cow<'a, str>),
    Image(Image<'a>),
    Document(Document<'a>),
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) enum ReasoningContent<'a> {
    ReasoningText(ReasoningText<'a>),
    RedactedContent(Cow<'a, str>),
}

#[derive(Debug, Serialize)]
pub(crate) struct ReasoningText<'a> {
    pub(crate) text: Cow<'a, str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) signature: Option<Cow<'a, str>>,
}

#[derive(Debug, Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub(crate) struct InferenceConfig<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) max_tokens: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) temperature: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) top_p: Option<f64>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) stop_sequences: Vec<Cow<'a, str>>,
}

impl InferenceConfig<'_> {
    pub(crate) fn is_empty(&self) -> bool {
        self.max_tokens.is_none()
            && self.temperature.is_none()
            && self.top_p.is_none()
            && self.stop_sequences.is_empty()
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ToolConfig<'a> {
    pub(crate) tools: Vec<Tool<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) tool_choice: Option<ToolChoice<'a>>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) enum Tool<'a> {
    ToolSpec(ToolSpec<'a>),
    CachePoint(CachePoint),
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ToolSpec<'a> {
    pub(crate) name: Cow<'a, str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) description: Option<&'a str>,
    pub(crate) input_schema: InputSchema<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) strict: Option<bool>,
}

#[derive(Debug, Serialize)]
pub(crate) struct InputSchema<'a> {
    pub(crate) json: &'a RawValue,
}

/// Serializes as `{"auto":{}}`, `{"any":{}}` or `{"tool":{"name":..}}`.
#[derive(Debug, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub(crate) enum ToolChoice<'a> {
    Auto(Empty),
    Any(Empty),
    Tool { name: Cow<'a, str> },
}

#[derive(Debug, Serialize, PartialEq, Eq, Clone, Copy)]
pub(crate) struct Empty {}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct OutputConfig<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) text_format: Option<TextFormat<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) effort: Option<&'static str>,
}

#[derive(Debug, Serialize)]
pub(crate) struct TextFormat<'a> {
    #[serde(rename = "type")]
    pub(crate) kind: &'static str,
    pub(crate) structure: TextStructure<'a>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TextStructure<'a> {
    pub(crate) json_schema: JsonSchema<'a>,
}

#[derive(Debug, Serialize)]
pub(crate) struct JsonSchema<'a> {
    /// The JSON Schema as a JSON *string*, as Converse requires.
    pub(crate) schema: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) description: Option<&'a str>,
}

#[derive(Debug, Serialize)]
pub(crate) struct ServiceTier {
    #[serde(rename = "type")]
    pub(crate) kind: &'static str,
}

// ---------------------------------------------------------------------------------------------
// Response
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ConverseResponse<'a> {
    #[serde(borrow)]
    pub(crate) output: Option<Output<'a>>,
    #[serde(borrow, default)]
    pub(crate) stop_reason: Option<Cow<'a, str>>,
    #[serde(default)]
    pub(crate) usage: Option<TokenUsage>,
    #[serde(borrow, default)]
    pub(crate) service_tier: Option<ResponseServiceTier<'a>>,
    #[serde(borrow, default)]
    pub(crate) additional_model_response_fields: Option<ResponseFields<'a>>,
}

/// The model-native answer fields asked for with `additionalModelResponseFieldPaths`.
#[derive(Debug, Deserialize, Default)]
pub(crate) struct ResponseFields<'a> {
    /// Claude: the stop sequence that ended the answer.
    #[serde(borrow, default)]
    pub(crate) stop_sequence: Option<Cow<'a, str>>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct ResponseServiceTier<'a> {
    #[serde(borrow, rename = "type")]
    pub(crate) kind: Cow<'a, str>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Output<'a> {
    #[serde(borrow)]
    pub(crate) message: Option<ResponseMessage<'a>>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct ResponseMessage<'a> {
    #[serde(borrow, default)]
    pub(crate) content: Vec<ResponseBlock<'a>>,
}

/// A response content block. Every member is optional so that unknown or future block types
/// deserialize to an all-`None` block, which translation skips.
#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ResponseBlock<'a> {
    #[serde(borrow, default)]
    pub(crate) text: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(crate) tool_use: Option<ResponseToolUse<'a>>,
    #[serde(borrow, default)]
    pub(crate) reasoning_content: Option<ResponseReasoning<'a>>,
    #[serde(borrow, default)]
    pub(crate) citations_content: Option<CitationsContent<'a>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ResponseToolUse<'a> {
    #[serde(borrow)]
    pub(crate) tool_use_id: Cow<'a, str>,
    #[serde(borrow)]
    pub(crate) name: Cow<'a, str>,
    #[serde(borrow, default)]
    pub(crate) input: Option<&'a RawValue>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ResponseReasoning<'a> {
    #[serde(borrow, default)]
    pub(crate) reasoning_text: Option<ResponseReasoningText<'a>>,
    #[serde(borrow, default)]
    pub(crate) redacted_content: Option<Cow<'a, str>>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct ResponseReasoningText<'a> {
    #[serde(borrow, default)]
    pub(crate) text: Cow<'a, str>,
    #[serde(borrow, default)]
    pub(crate) signature: Option<Cow<'a, str>>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct CitationsContent<'a> {
    #[serde(borrow, default)]
    pub(crate) content: Vec<CitationText<'a>>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct CitationText<'a> {
    #[serde(borrow, default)]
    pub(crate) text: Option<Cow<'a, str>>,
}

/// Bedrock's token usage, the hub's own: every front-end maps it to its API's shape.
#[derive(Debug, Deserialize, Default, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct TokenUsage {
    /// Input tokens not read from or written to the prompt cache.
    #[serde(default)]
    pub input_tokens: u64,
    /// Output tokens (reasoning included).
    #[serde(default)]
    pub output_tokens: u64,
    /// Bedrock's total.
    #[serde(default)]
    pub total_tokens: u64,
    /// Input tokens read from the prompt cache.
    #[serde(default)]
    pub cache_read_input_tokens: Option<u64>,
    /// Input tokens written to the prompt cache.
    #[serde(default)]
    pub cache_write_input_tokens: Option<u64>,
}

impl TokenUsage {
    /// Cache-read input tokens (0 when Bedrock reported none).
    pub fn cache_read(&self) -> u64 {
        self.cache_read_input_tokens.unwrap_or(0)
    }

    /// Cache-write input tokens (0 when Bedrock reported none).
    pub fn cache_write(&self) -> u64 {
        self.cache_write_input_tokens.unwrap_or(0)
    }

    /// Every input token, cached or not: `inputTokens` + cache reads + cache writes (OpenAI's
    /// `prompt_tokens`).
    pub fn prompt_tokens(&self) -> u64 {
        self.input_tokens
            .saturating_add(self.cache_read())
            .saturating_add(self.cache_write())
    }
}

/// Bedrock error body: `{"message": ...}` (sometimes `Message`, sometimes with `__type`).
#[derive(Debug, Deserialize, Default)]
pub(crate) struct ErrorBody<'a> {
    #[serde(borrow, default, alias = "Message")]
    pub(crate) message: Option<Cow<'a, str>>,
    #[serde(borrow, default, rename = "__type")]
    pub(crate) kind: Option<Cow<'a, str>>,
}

// ---------------------------------------------------------------------------------------------
// ConverseStream event payloads (tolerant: unknown members ignored)
// ---------------------------------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
/// `contentBlockStart` (only tool-use blocks get one).
pub(crate) struct BlockStart<'a> {
    #[serde(default)]
    pub(crate) content_block_index: u64,
    #[serde(borrow, default)]
    pub(crate) start: Option<StartUnion<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct StartUnion<'a> {
    #[serde(borrow, default)]
    pub(crate) tool_use: Option<StartToolUse<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct StartToolUse<'a> {
    #[serde(borrow)]
    pub(crate) tool_use_id: Cow<'a, str>,
    #[serde(borrow)]
    pub(crate) name: Cow<'a, str>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
/// `contentBlockDelta`.
pub(crate) struct BlockDelta<'a> {
    #[serde(default)]
    pub(crate) content_block_index: u64,
    #[serde(borrow, default)]
    pub(crate) delta: Option<DeltaUnion<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DeltaUnion<'a> {
    #[serde(borrow, default)]
    pub(crate) text: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(crate) tool_use: Option<DeltaToolUse<'a>>,
    #[serde(borrow, default)]
    pub(crate) reasoning_content: Option<DeltaReasoning<'a>>,
}

impl DeltaUnion<'_> {
    /// Characters of output this delta carries (text, tool-call arguments, reasoning text):
    /// what an abandoned stream is charged by when Bedrock's usage never arrives.
    pub(crate) fn produced_chars(&self) -> u64 {
        let text = self.text.as_deref().map_or(0, str::len);
        let tool = self.tool_use.as_ref().map_or(0, |t| t.input.len());
        let reasoning = self
            .reasoning_content
            .as_ref()
            .and_then(|r| r.text.as_deref())
            .map_or(0, str::len);
        (text + tool + reasoning) as u64
    }
}

#[derive(Deserialize)]
pub(crate) struct DeltaToolUse<'a> {
    #[serde(borrow, default)]
    pub(crate) input: Cow<'a, str>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DeltaReasoning<'a> {
    #[serde(borrow, default)]
    pub(crate) text: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(crate) signature: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(crate) redacted_content: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
/// `messageStop`.
pub(crate) struct MessageStop<'a> {
    #[serde(borrow, default)]
    pub(crate) stop_reason: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(crate) additional_model_response_fields: Option<ResponseFields<'a>>,
}

#[derive(Deserialize)]
/// `metadata` (usage).
pub(crate) struct Metadata {
    #[serde(default)]
    pub(crate) usage: Option<TokenUsage>,
}
