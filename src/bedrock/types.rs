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
    pub messages: Vec<Message<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub system: Vec<SystemBlock<'a>>,
    #[serde(skip_serializing_if = "InferenceConfig::is_empty")]
    pub inference_config: InferenceConfig<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_config: Option<ToolConfig<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub additional_model_request_fields: Option<AdditionalFields>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output_config: Option<OutputConfig<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_metadata: Option<&'a std::collections::BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_tier: Option<ServiceTier>,
}

#[derive(Debug, Serialize, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    #[serde(rename = "user")]
    User,
    #[serde(rename = "assistant")]
    Assistant,
}

#[derive(Debug, Serialize)]
pub struct Message<'a> {
    pub role: Role,
    pub content: Vec<ContentBlock<'a>>,
}

/// A Converse `ContentBlock` union: serializes as `{"<member>": ...}` with exactly one member.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum ContentBlock<'a> {
    Text(Cow<'a, str>),
    Image(Image<'a>),
    Document(Document<'a>),
    Audio(Audio<'a>),
    ToolUse(ToolUse<'a>),
    ToolResult(ToolResult<'a>),
    ReasoningContent(ReasoningContent<'a>),
    CachePoint(CachePoint),
}

impl ContentBlock<'_> {
    pub fn is_tool_block(&self) -> bool {
        matches!(self, Self::ToolUse(_) | Self::ToolResult(_))
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum SystemBlock<'a> {
    Text(Cow<'a, str>),
    CachePoint(CachePoint),
}

#[derive(Debug, Serialize, Clone, Copy, PartialEq, Eq)]
pub struct CachePoint {
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// `5m` (Bedrock's default when absent) or `1h`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ttl: Option<&'static str>,
}

impl CachePoint {
    pub const DEFAULT: CachePoint = CachePoint {
        kind: "default",
        ttl: None,
    };
    pub const ONE_HOUR: CachePoint = CachePoint {
        kind: "default",
        ttl: Some("1h"),
    };
}

/// The model-native fields this gateway sets in `additionalModelRequestFields`.
#[derive(Debug, Serialize, Default, PartialEq, Eq)]
pub struct AdditionalFields {
    /// Claude extended thinking.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thinking: Option<Thinking>,
    /// Amazon Nova 2 reasoning.
    #[serde(rename = "reasoningConfig", skip_serializing_if = "Option::is_none")]
    pub reasoning_config: Option<ReasoningConfig>,
    /// OpenAI gpt-oss reasoning effort (`low`, `medium`, `high`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reasoning_effort: Option<&'static str>,
}

/// `{"type":"enabled","budget_tokens":N}` or `{"type":"adaptive"}`.
#[derive(Debug, Serialize, PartialEq, Eq, Clone, Copy)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Thinking {
    Enabled { budget_tokens: u64 },
    Adaptive,
}

#[derive(Debug, Serialize, PartialEq, Eq, Clone, Copy)]
#[serde(rename_all = "camelCase")]
pub struct ReasoningConfig {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub max_reasoning_effort: &'static str,
}

/// Bytes as base64 text, borrowed from the client's data URL (already base64 on the wire).
#[derive(Debug, Serialize)]
pub struct BytesSource<'a> {
    pub bytes: &'a str,
}

#[derive(Debug, Serialize)]
pub struct Image<'a> {
    pub format: &'static str,
    pub source: BytesSource<'a>,
}

#[derive(Debug, Serialize)]
pub struct Document<'a> {
    pub format: &'static str,
    pub name: String,
    pub source: BytesSource<'a>,
}

#[derive(Debug, Serialize)]
pub struct Audio<'a> {
    pub format: &'static str,
    pub source: BytesSource<'a>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ToolUse<'a> {
    pub tool_use_id: Cow<'a, str>,
    pub name: Cow<'a, str>,
    pub input: &'a RawValue,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ToolResult<'a> {
    pub tool_use_id: Cow<'a, str>,
    pub content: Vec<ToolResultContent<'a>>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum ToolResultContent<'a> {
    Text(Cow<'a, str>),
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum ReasoningContent<'a> {
    ReasoningText(ReasoningText<'a>),
    RedactedContent(Cow<'a, str>),
}

#[derive(Debug, Serialize)]
pub struct ReasoningText<'a> {
    pub text: Cow<'a, str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signature: Option<Cow<'a, str>>,
}

#[derive(Debug, Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct InferenceConfig<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f64>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub stop_sequences: Vec<Cow<'a, str>>,
}

impl InferenceConfig<'_> {
    pub fn is_empty(&self) -> bool {
        self.max_tokens.is_none()
            && self.temperature.is_none()
            && self.top_p.is_none()
            && self.stop_sequences.is_empty()
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ToolConfig<'a> {
    pub tools: Vec<Tool<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_choice: Option<ToolChoice<'a>>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Tool<'a> {
    ToolSpec(ToolSpec<'a>),
    CachePoint(CachePoint),
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ToolSpec<'a> {
    pub name: Cow<'a, str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<&'a str>,
    pub input_schema: InputSchema<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub strict: Option<bool>,
}

#[derive(Debug, Serialize)]
pub struct InputSchema<'a> {
    pub json: &'a RawValue,
}

/// Serializes as `{"auto":{}}`, `{"any":{}}` or `{"tool":{"name":..}}`.
#[derive(Debug, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub enum ToolChoice<'a> {
    Auto(Empty),
    Any(Empty),
    Tool { name: Cow<'a, str> },
}

#[derive(Debug, Serialize, PartialEq, Eq, Clone, Copy)]
pub struct Empty {}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OutputConfig<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text_format: Option<TextFormat<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub effort: Option<&'static str>,
}

#[derive(Debug, Serialize)]
pub struct TextFormat<'a> {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub structure: TextStructure<'a>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TextStructure<'a> {
    pub json_schema: JsonSchema<'a>,
}

#[derive(Debug, Serialize)]
pub struct JsonSchema<'a> {
    /// The JSON Schema as a JSON *string*, as Converse requires.
    pub schema: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<&'a str>,
}

#[derive(Debug, Serialize)]
pub struct ServiceTier {
    #[serde(rename = "type")]
    pub kind: &'static str,
}

// ---------------------------------------------------------------------------------------------
// Response
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConverseResponse<'a> {
    #[serde(borrow)]
    pub output: Option<Output<'a>>,
    #[serde(borrow, default)]
    pub stop_reason: Option<Cow<'a, str>>,
    #[serde(default)]
    pub usage: Option<TokenUsage>,
    #[serde(borrow, default)]
    pub service_tier: Option<ResponseServiceTier<'a>>,
}

#[derive(Debug, Deserialize)]
pub struct ResponseServiceTier<'a> {
    #[serde(borrow, rename = "type")]
    pub kind: Cow<'a, str>,
}

#[derive(Debug, Deserialize)]
pub struct Output<'a> {
    #[serde(borrow)]
    pub message: Option<ResponseMessage<'a>>,
}

#[derive(Debug, Deserialize)]
pub struct ResponseMessage<'a> {
    #[serde(borrow, default)]
    pub content: Vec<ResponseBlock<'a>>,
}

/// A response content block. Every member is optional so that unknown or future block types
/// deserialize to an all-`None` block, which translation skips.
#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct ResponseBlock<'a> {
    #[serde(borrow, default)]
    pub text: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub tool_use: Option<ResponseToolUse<'a>>,
    #[serde(borrow, default)]
    pub reasoning_content: Option<ResponseReasoning<'a>>,
    #[serde(borrow, default)]
    pub citations_content: Option<CitationsContent<'a>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResponseToolUse<'a> {
    #[serde(borrow)]
    pub tool_use_id: Cow<'a, str>,
    #[serde(borrow)]
    pub name: Cow<'a, str>,
    #[serde(borrow, default)]
    pub input: Option<&'a RawValue>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct ResponseReasoning<'a> {
    #[serde(borrow, default)]
    pub reasoning_text: Option<ResponseReasoningText<'a>>,
    #[serde(borrow, default)]
    pub redacted_content: Option<Cow<'a, str>>,
}

#[derive(Debug, Deserialize)]
pub struct ResponseReasoningText<'a> {
    #[serde(borrow, default)]
    pub text: Cow<'a, str>,
    #[serde(borrow, default)]
    pub signature: Option<Cow<'a, str>>,
}

#[derive(Debug, Deserialize)]
pub struct CitationsContent<'a> {
    #[serde(borrow, default)]
    pub content: Vec<CitationText<'a>>,
}

#[derive(Debug, Deserialize)]
pub struct CitationText<'a> {
    #[serde(borrow, default)]
    pub text: Option<Cow<'a, str>>,
}

#[derive(Debug, Deserialize, Default, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct TokenUsage {
    #[serde(default)]
    pub input_tokens: u64,
    #[serde(default)]
    pub output_tokens: u64,
    #[serde(default)]
    pub total_tokens: u64,
    #[serde(default)]
    pub cache_read_input_tokens: Option<u64>,
    #[serde(default)]
    pub cache_write_input_tokens: Option<u64>,
}

/// Bedrock error body: `{"message": ...}` (sometimes `Message`, sometimes with `__type`).
#[derive(Debug, Deserialize, Default)]
pub struct ErrorBody<'a> {
    #[serde(borrow, default, alias = "Message")]
    pub message: Option<Cow<'a, str>>,
    #[serde(borrow, default, rename = "__type")]
    pub kind: Option<Cow<'a, str>>,
}

// ---------------------------------------------------------------------------------------------
// ConverseStream event payloads (tolerant: unknown members ignored)
// ---------------------------------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
/// `contentBlockStart` (only tool-use blocks get one).
pub struct BlockStart<'a> {
    #[serde(default)]
    pub content_block_index: u64,
    #[serde(borrow, default)]
    pub start: Option<StartUnion<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StartUnion<'a> {
    #[serde(borrow, default)]
    pub tool_use: Option<StartToolUse<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StartToolUse<'a> {
    #[serde(borrow)]
    pub tool_use_id: Cow<'a, str>,
    #[serde(borrow)]
    pub name: Cow<'a, str>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
/// `contentBlockDelta`.
pub struct BlockDelta<'a> {
    #[serde(default)]
    pub content_block_index: u64,
    #[serde(borrow, default)]
    pub delta: Option<DeltaUnion<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeltaUnion<'a> {
    #[serde(borrow, default)]
    pub text: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub tool_use: Option<DeltaToolUse<'a>>,
    #[serde(borrow, default)]
    pub reasoning_content: Option<DeltaReasoning<'a>>,
}

#[derive(Deserialize)]
pub struct DeltaToolUse<'a> {
    #[serde(borrow, default)]
    pub input: Cow<'a, str>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeltaReasoning<'a> {
    #[serde(borrow, default)]
    pub text: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub signature: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub redacted_content: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
/// `messageStop`.
pub struct MessageStop<'a> {
    #[serde(borrow, default)]
    pub stop_reason: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
/// `metadata` (usage).
pub struct Metadata {
    #[serde(default)]
    pub usage: Option<TokenUsage>,
}
