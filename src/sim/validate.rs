//! Converse request-shape rules as Bedrock enforces them (unions hold exactly one member, user
//! first, alternation, no blank text, toolConfig when tool blocks exist, ranges, ≤ 4 cache
//! points, thinking rules). Returns the ValidationException message Bedrock would send.

use serde_json::{Map, Value};

const TOP_LEVEL: &[&str] = &[
    "messages",
    "system",
    "inferenceConfig",
    "toolConfig",
    "guardrailConfig",
    "additionalModelRequestFields",
    "additionalModelResponseFieldPaths",
    "promptVariables",
    "requestMetadata",
    "performanceConfig",
    "serviceTier",
    "outputConfig",
];
const CONTENT_MEMBERS: &[&str] = &[
    "text",
    "image",
    "document",
    "video",
    "audio",
    "toolUse",
    "toolResult",
    "guardContent",
    "cachePoint",
    "reasoningContent",
    "citationsContent",
    "searchResult",
];

fn one_member<'v>(
    v: &'v Value,
    at: &str,
    allowed: &[&str],
) -> Result<(&'v str, &'v Value), String> {
    let obj = v
        .as_object()
        .ok_or_else(|| format!("{at} must be an object"))?;
    if obj.len() != 1 {
        return Err(format!(
            "{at} must have exactly one member set, found {}",
            obj.len()
        ));
    }
    let (k, v) = obj.iter().next().ok_or_else(|| format!("{at} is empty"))?;
    if !allowed.contains(&k.as_str()) {
        return Err(format!("{at} has unknown member `{k}`"));
    }
    Ok((k.as_str(), v))
}

fn name_ok(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

fn id_ok(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-.:".contains(&b))
}

fn base64_ok(v: Option<&Value>) -> bool {
    v.and_then(Value::as_str).is_some_and(|s| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"+/=".contains(&b))
    })
}

fn text_ok(v: &Value, at: &str) -> Result<(), String> {
    match v.as_str() {
        Some(s) if !s.trim().is_empty() => Ok(()),
        Some(_) => Err(format!("The text field in the ContentBlock object at {at} is blank. Add text to the text field, and try again.")),
        None => Err(format!("{at}.text must be a string")),
    }
}

/// Validate a Converse request body. `Ok` carries the number of cache points found.
/// `validate`, plus the rules that depend on the model: which accept cache points (and in
/// tools), which accept which reasoning fields, adaptive-only Claude models, and Claude's
/// sampling limits with thinking. Written from Bedrock's documented behaviour, independently of
/// the gateway's own family detection.
pub fn validate_for_model(model: &str, body: &Value) -> Result<(), String> {
    validate(body)?;
    if model.contains(":application-inference-profile/") {
        return Ok(()); // opaque: the underlying model is not known here
    }
    let traits = ModelTraits::of(model);
    check_model_cache_points(model, body, &traits)?;
    let extra = body
        .get("additionalModelRequestFields")
        .and_then(Value::as_object);
    check_model_fields(model, extra, traits.claude)?;
    if let Some(thinking) = extra.and_then(|e| e.get("thinking")) {
        check_model_thinking(body, thinking, traits.adaptive_only)?;
    }
    if let Some(effort) = body.pointer("/outputConfig/effort") {
        let ok = ["low", "medium", "high", "xhigh", "max"].contains(&effort.as_str().unwrap_or(""));
        if !ok {
            return Err(format!("outputConfig.effort: invalid value {effort}"));
        }
    }
    Ok(())
}

/// What the model rules need to know about a model id.
struct ModelTraits {
    claude: bool,
    nova: bool,
    /// Whether the model accepts cache points.
    caches: bool,
    /// Claude models that accept only `thinking.type: adaptive`.
    adaptive_only: bool,
}

impl ModelTraits {
    /// The traits of `model`, from its id.
    fn of(model: &str) -> Self {
        let claude = model.contains("anthropic.claude");
        let legacy_claude = [
            "claude-v2",
            "claude-instant",
            "claude-3-haiku",
            "claude-3-sonnet",
            "claude-3-opus",
        ]
        .iter()
        .any(|m| model.contains(m));
        let nova = model.contains("amazon.nova");
        let caches = (claude && !legacy_claude) || nova;
        let adaptive_only = [
            "claude-opus-4-7",
            "claude-opus-5",
            "claude-sonnet-5",
            "claude-haiku-5",
        ]
        .iter()
        .any(|m| model.contains(m));
        ModelTraits {
            claude,
            nova,
            caches,
            adaptive_only,
        }
    }
}

/// Cache points only on models that cache, and never in Nova's tool list.
fn check_model_cache_points(model: &str, body: &Value, traits: &ModelTraits) -> Result<(), String> {
    let text = body.to_string();
    if !traits.caches && text.contains("\"cachePoint\"") {
        return Err(format!(
            "The model {model} does not support prompt caching (cachePoint)."
        ));
    }
    if traits.nova {
        let tool_points = body
            .pointer("/toolConfig/tools")
            .and_then(Value::as_array)
            .is_some_and(|t| t.iter().any(|t| t.get("cachePoint").is_some()));
        if tool_points {
            return Err("Amazon Nova models do not support cachePoint in toolConfig.tools.".into());
        }
    }
    Ok(())
}

/// Each `additionalModelRequestFields` key must be one the model accepts.
fn check_model_fields(
    model: &str,
    extra: Option<&Map<String, Value>>,
    claude: bool,
) -> Result<(), String> {
    for key in extra
        .map(|e| e.keys().collect::<Vec<_>>())
        .unwrap_or_default()
    {
        let allowed = match key.as_str() {
            "thinking" | "anthropic_beta" | "top_k" => claude,
            "reasoningConfig" => model.contains("amazon.nova-2"),
            "reasoning_effort" => model.contains("openai.gpt-oss"),
            _ => false,
        };
        if !allowed {
            return Err(format!(
                "The model returned the following errors: extraneous key [{key}] is not permitted"
            ));
        }
    }
    Ok(())
}

/// With thinking on, the last assistant turn must start with its reasoning when it calls
/// tools: Claude rejects a replayed tool turn without it.
fn check_thinking_history(body: &Value) -> Result<(), String> {
    let messages = body["messages"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    let last = messages
        .iter()
        .enumerate()
        .rev()
        .find(|(_, m)| m["role"] == "assistant");
    if let Some((i, m)) = last {
        if m.pointer("/content/0/toolUse").is_some() {
            return Err(format!("messages.{i}.content.0.type: Expected `thinking` or `redacted_thinking`, but found `tool_use`. When `thinking` is enabled, a final `assistant` message must start with a thinking block (preceeding the lastmost set of `tool_use` and `tool_result` blocks)."));
        }
    }
    Ok(())
}

/// Claude thinking: adaptive-only models, and the sampling and tool-choice limits that apply
/// while thinking.
fn check_model_thinking(body: &Value, thinking: &Value, adaptive_only: bool) -> Result<(), String> {
    let kind = thinking.get("type").and_then(Value::as_str).unwrap_or("");
    if adaptive_only && kind != "adaptive" {
        return Err(format!(
            "thinking.type: `{kind}` is not supported for this model; use `adaptive`"
        ));
    }
    if kind == "enabled" || kind == "adaptive" {
        let ic = body.get("inferenceConfig");
        let temperature = ic
            .and_then(|c| c.get("temperature"))
            .and_then(Value::as_f64);
        if temperature.is_some_and(|t| t != 1.0) {
            return Err("`temperature` may only be set to 1 when thinking is enabled.".into());
        }
        let top_p = ic.and_then(|c| c.get("topP")).and_then(Value::as_f64);
        if top_p.is_some_and(|p| p < 0.95) {
            return Err(
                "`top_p` must be greater than or equal to 0.95 or unset when thinking is enabled."
                    .into(),
            );
        }
        let forced = body
            .pointer("/toolConfig/toolChoice")
            .is_some_and(|c| c.get("any").is_some() || c.get("tool").is_some());
        if forced {
            return Err("Thinking may not be enabled when tool_choice forces tool use.".into());
        }
    }
    if kind == "enabled" || kind == "adaptive" {
        check_thinking_history(body)?;
    }
    if kind == "enabled" && body.pointer("/inferenceConfig/maxTokens").is_none() {
        return Err("`max_tokens` is required when thinking is enabled.".into());
    }
    Ok(())
}

/// Check a Converse request body (JSON) as Bedrock would; `Err` is the ValidationException
/// message Bedrock would send.
pub(crate) fn validate(body: &Value) -> Result<(), String> {
    let obj = body
        .as_object()
        .ok_or("request body must be a JSON object")?;
    for k in obj.keys() {
        if !TOP_LEVEL.contains(&k.as_str()) {
            return Err(format!("Unrecognized field \"{k}\""));
        }
    }
    let mut cache_points = 0usize;
    if let Some(system) = obj.get("system") {
        cache_points += validate_system(system)?;
    }
    let messages = obj
        .get("messages")
        .and_then(Value::as_array)
        .ok_or("messages must be a non-empty list")?;
    let seen = validate_messages(messages)?;
    cache_points += seen.cache_points;

    let tool_config = obj.get("toolConfig");
    if seen.has_tool_blocks && tool_config.is_none() {
        return Err("The toolConfig field must be defined when using toolUse and toolResult content blocks.".into());
    }
    let mut forced_tool = false;
    if let Some(tc) = tool_config {
        let (points, forced) = validate_tool_config(tc)?;
        cache_points += points;
        forced_tool = forced;
    }
    let mut max_tokens = None;
    if let Some(ic) = obj.get("inferenceConfig") {
        max_tokens = validate_inference_config(ic)?;
    }
    if let Some(thinking) = obj
        .get("additionalModelRequestFields")
        .and_then(|a| a.get("thinking"))
    {
        validate_thinking(thinking, max_tokens, forced_tool)?;
    }
    if let Some(oc) = obj.get("outputConfig") {
        validate_output_config(oc)?;
    }

    if cache_points > 4 {
        return Err(format!(
            "A maximum of 4 blocks with cache_control may be provided. Found {cache_points}."
        ));
    }
    Ok(())
}

/// `system`: a list of text, guardContent and cachePoint blocks; returns the cache points.
fn validate_system(system: &Value) -> Result<usize, String> {
    let mut cache_points = 0;
    let list = system.as_array().ok_or("system must be a list")?;
    for (i, b) in list.iter().enumerate() {
        let at = format!("system.{i}");
        let (k, v) = one_member(b, &at, &["text", "guardContent", "cachePoint"])?;
        match k {
            "text" => text_ok(v, &at)?,
            "cachePoint" => cache_points += 1,
            _ => {}
        }
    }
    Ok(cache_points)
}

/// What the content blocks seen so far hold, for the rules that look beyond one block.
#[derive(Default)]
struct BlocksSeen {
    /// The toolUse ids of the current message.
    tool_ids: Vec<String>,
    has_doc: bool,
    has_text: bool,
    has_tool_blocks: bool,
    cache_points: usize,
}

/// `messages`: user first, alternating roles, non-empty content of valid blocks, toolResults
/// answering the previous turn's toolUses. Returns what the later rules need.
fn validate_messages(messages: &[Value]) -> Result<BlocksSeen, String> {
    if messages.is_empty() {
        return Err("A conversation must start with a user message. Try again with a conversation that starts with a user message.".into());
    }
    let mut all = BlocksSeen::default();
    let mut prev_role = "";
    let mut prev_tool_ids: Vec<String> = Vec::new();
    for (i, m) in messages.iter().enumerate() {
        let role = m.get("role").and_then(Value::as_str).unwrap_or("");
        if role != "user" && role != "assistant" {
            return Err(format!("messages.{i}.role must be user or assistant"));
        }
        if i == 0 && role != "user" {
            return Err("A conversation must start with a user message. Try again with a conversation that starts with a user message.".into());
        }
        if role == prev_role {
            return Err("A conversation must alternate between user and assistant roles. Make sure the conversation alternates between user and assistant roles and try again.".into());
        }
        let content = m
            .get("content")
            .and_then(Value::as_array)
            .ok_or_else(|| format!("messages.{i}.content must be a list"))?;
        if content.is_empty() {
            return Err(format!("messages.{i}.content must not be empty"));
        }
        let mut seen = BlocksSeen::default();
        for (j, b) in content.iter().enumerate() {
            let at = format!("messages.{i}.content.{j}");
            validate_block(b, &at, role, &prev_tool_ids, &mut seen)?;
        }
        if seen.has_doc && !seen.has_text {
            return Err(format!(
                "messages.{i}: a document block requires a text block in the same message"
            ));
        }
        all.has_tool_blocks |= seen.has_tool_blocks;
        all.cache_points += seen.cache_points;
        prev_tool_ids = seen.tool_ids;
        prev_role = role;
    }
    Ok(all)
}

/// One content block of a `role` message, recorded in `seen`.
fn validate_block(
    b: &Value,
    at: &str,
    role: &str,
    prev_tool_ids: &[String],
    seen: &mut BlocksSeen,
) -> Result<(), String> {
    let (k, v) = one_member(b, at, CONTENT_MEMBERS)?;
    match k {
        "text" => {
            text_ok(v, at)?;
            seen.has_text = true;
        }
        "image" | "document" | "audio" => {
            validate_media(k, v, at, role)?;
            if k == "document" {
                seen.has_doc = true;
            }
        }
        "toolUse" => {
            seen.has_tool_blocks = true;
            let id = validate_tool_use(v, at, role)?;
            seen.tool_ids.push(id.to_owned());
        }
        "toolResult" => {
            seen.has_tool_blocks = true;
            validate_tool_result(v, at, role, prev_tool_ids)?;
        }
        "reasoningContent" => {
            if role != "assistant" {
                return Err(format!(
                    "{at}: reasoningContent is only allowed in assistant messages"
                ));
            }
            one_member(
                v,
                &format!("{at}.reasoningContent"),
                &["reasoningText", "redactedContent"],
            )?;
        }
        "cachePoint" => seen.cache_points += 1,
        _ => {}
    }
    Ok(())
}

/// An image, document or audio block (`k`): user messages only, a known format, one source
/// with valid base64 bytes, and for a document a valid name.
fn validate_media(k: &str, v: &Value, at: &str, role: &str) -> Result<(), String> {
    if role != "user" {
        return Err(format!(
            "{at}: {k} blocks are only allowed in user messages"
        ));
    }
    let format = v.get("format").and_then(Value::as_str).unwrap_or("");
    let formats: &[&str] = match k {
        "image" => &["png", "jpeg", "gif", "webp"],
        "document" => &[
            "pdf", "csv", "doc", "docx", "xls", "xlsx", "html", "txt", "md",
        ],
        _ => &[
            "mp3", "opus", "wav", "aac", "flac", "mp4", "ogg", "mkv", "mka", "x-aac", "m4a",
            "mpeg", "mpga", "pcm", "webm",
        ],
    };
    if !formats.contains(&format) {
        return Err(format!("{at}.{k}.format `{format}` is not valid"));
    }
    let source = v
        .get("source")
        .ok_or_else(|| format!("{at}.{k}.source is required"))?;
    let (sk, sv) = one_member(
        source,
        &format!("{at}.{k}.source"),
        &["bytes", "s3Location", "text", "content"],
    )?;
    if sk == "bytes" && !base64_ok(Some(sv)) {
        return Err(format!("{at}.{k}.source.bytes is not valid base64"));
    }
    if k == "document" {
        let name = v.get("name").and_then(Value::as_str).unwrap_or("");
        let name_valid = !name.is_empty()
            && name.len() <= 200
            && !name.contains("  ")
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || " -()[]".contains(c));
        if !name_valid {
            return Err(format!("{at}.document.name `{name}` is not valid"));
        }
    }
    Ok(())
}

/// A toolUse block: assistant messages only, a valid id and name, an input; returns the id.
fn validate_tool_use<'v>(v: &'v Value, at: &str, role: &str) -> Result<&'v str, String> {
    if role != "assistant" {
        return Err(format!(
            "{at}: toolUse blocks are only allowed in assistant messages"
        ));
    }
    let id = v.get("toolUseId").and_then(Value::as_str).unwrap_or("");
    let name = v.get("name").and_then(Value::as_str).unwrap_or("");
    if !id_ok(id) {
        return Err(format!(
            "{at}.toolUse.toolUseId `{id}` does not match [a-zA-Z0-9_.:-]{{1,64}}"
        ));
    }
    if !name_ok(name) {
        return Err(format!(
            "{at}.toolUse.name `{name}` does not match [a-zA-Z0-9_-]{{1,64}}"
        ));
    }
    if v.get("input").is_none() {
        return Err(format!("{at}.toolUse.input is required"));
    }
    Ok(id)
}

/// A toolResult block: user messages only, answering a toolUse of the previous turn, with a
/// list of valid content items.
fn validate_tool_result(
    v: &Value,
    at: &str,
    role: &str,
    prev_tool_ids: &[String],
) -> Result<(), String> {
    if role != "user" {
        return Err(format!(
            "{at}: toolResult blocks are only allowed in user messages"
        ));
    }
    let id = v.get("toolUseId").and_then(Value::as_str).unwrap_or("");
    if !prev_tool_ids.iter().any(|p| p == id) {
        return Err(format!("{at}.toolResult.toolUseId `{id}` does not match a toolUse in the previous assistant message"));
    }
    let items = v
        .get("content")
        .and_then(Value::as_array)
        .ok_or_else(|| format!("{at}.toolResult.content must be a list"))?;
    for (n, item) in items.iter().enumerate() {
        let iat = format!("{at}.toolResult.content.{n}");
        let (ik, iv) = one_member(
            item,
            &iat,
            &["json", "text", "image", "document", "video", "searchResult"],
        )?;
        if ik == "text" {
            text_ok(iv, &iat)?;
        }
    }
    Ok(())
}

/// `toolConfig`: known members, a non-empty list of valid tools, a choice among them. Returns
/// the cache points in the list and whether the choice forces tool use.
fn validate_tool_config(tc: &Value) -> Result<(usize, bool), String> {
    let tc = tc.as_object().ok_or("toolConfig must be an object")?;
    for k in tc.keys() {
        if k != "tools" && k != "toolChoice" {
            return Err(format!("Unrecognized field \"toolConfig.{k}\""));
        }
    }
    let tools = tc
        .get("tools")
        .and_then(Value::as_array)
        .filter(|t| !t.is_empty())
        .ok_or("toolConfig.tools must be a non-empty list")?;
    let mut cache_points = 0;
    let mut names = Vec::new();
    for (i, t) in tools.iter().enumerate() {
        let at = format!("toolConfig.tools.{i}");
        let (k, v) = one_member(t, &at, &["toolSpec", "systemTool", "cachePoint"])?;
        if k == "cachePoint" {
            cache_points += 1;
            continue;
        }
        if k == "toolSpec" {
            names.push(validate_tool_spec(v, &at)?.to_owned());
        }
    }
    let mut forced_tool = false;
    if let Some(choice) = tc.get("toolChoice") {
        forced_tool = validate_tool_choice(choice, &names)?;
    }
    Ok((cache_points, forced_tool))
}

/// A toolSpec: a valid name, a non-empty description if any, an object input schema; returns
/// the name.
fn validate_tool_spec<'v>(v: &'v Value, at: &str) -> Result<&'v str, String> {
    let name = v.get("name").and_then(Value::as_str).unwrap_or("");
    if !name_ok(name) {
        return Err(format!(
            "{at}.toolSpec.name `{name}` does not match [a-zA-Z0-9_-]{{1,64}}"
        ));
    }
    if let Some(d) = v.get("description") {
        if d.as_str().is_none_or(str::is_empty) {
            return Err(format!(
                "{at}.toolSpec.description must be a non-empty string"
            ));
        }
    }
    let schema = v
        .get("inputSchema")
        .ok_or_else(|| format!("{at}.toolSpec.inputSchema is required"))?;
    let (_, json) = one_member(schema, &format!("{at}.toolSpec.inputSchema"), &["json"])?;
    if json.get("type").and_then(Value::as_str) != Some("object") {
        return Err(format!(
            "{at}.toolSpec.inputSchema.json: the top-level schema type must be object"
        ));
    }
    Ok(name)
}

/// `toolChoice`: auto, any, or a defined tool; returns whether it forces tool use.
fn validate_tool_choice(choice: &Value, names: &[String]) -> Result<bool, String> {
    let (k, v) = one_member(choice, "toolConfig.toolChoice", &["auto", "any", "tool"])?;
    if k == "tool" {
        let name = v.get("name").and_then(Value::as_str).unwrap_or("");
        if !names.iter().any(|n| n == name) {
            return Err(format!(
                "toolConfig.toolChoice.tool.name `{name}` is not a defined tool"
            ));
        }
    }
    Ok(k != "auto")
}

/// `inferenceConfig`: known members within Bedrock's ranges; returns `maxTokens`.
fn validate_inference_config(ic: &Value) -> Result<Option<u64>, String> {
    let ic: &Map<String, Value> = ic.as_object().ok_or("inferenceConfig must be an object")?;
    let mut max_tokens = None;
    for (k, v) in ic {
        match k.as_str() {
            "maxTokens" => {
                let m = v
                    .as_u64()
                    .filter(|m| *m >= 1)
                    .ok_or("inferenceConfig.maxTokens must be an integer ≥ 1")?;
                max_tokens = Some(m);
            }
            "temperature" | "topP" => {
                let x = v
                    .as_f64()
                    .ok_or_else(|| format!("inferenceConfig.{k} must be a number"))?;
                if !(0.0..=1.0).contains(&x) {
                    return Err(format!(
                        "inferenceConfig.{k} must be between 0 and 1, got {x}"
                    ));
                }
            }
            "stopSequences" => {
                let list = v
                    .as_array()
                    .ok_or("inferenceConfig.stopSequences must be a list")?;
                if list.iter().any(|s| s.as_str().is_none_or(str::is_empty)) {
                    return Err("inferenceConfig.stopSequences must hold non-empty strings".into());
                }
            }
            other => return Err(format!("Unrecognized field \"inferenceConfig.{other}\"")),
        }
    }
    Ok(max_tokens)
}

/// Enabled thinking: a budget of at least 1,024 below `maxTokens`, and no forced tool use.
fn validate_thinking(
    thinking: &Value,
    max_tokens: Option<u64>,
    forced_tool: bool,
) -> Result<(), String> {
    if thinking.get("type").and_then(Value::as_str) == Some("enabled") {
        let budget = thinking
            .get("budget_tokens")
            .and_then(Value::as_u64)
            .unwrap_or(0);
        if budget < 1024 {
            return Err(
                "thinking.budget_tokens: Input should be greater than or equal to 1024".into(),
            );
        }
        if max_tokens.is_some_and(|m| budget >= m) {
            return Err("`max_tokens` must be greater than `thinking.budget_tokens`".into());
        }
        if forced_tool {
            return Err("Thinking may not be enabled when tool_choice forces tool use.".into());
        }
    }
    Ok(())
}

/// `outputConfig.textFormat`: a json_schema format whose schema is a JSON string.
fn validate_output_config(oc: &Value) -> Result<(), String> {
    if let Some(tf) = oc.get("textFormat") {
        if tf.get("type").and_then(Value::as_str) != Some("json_schema") {
            return Err("outputConfig.textFormat.type must be json_schema".into());
        }
        let schema = tf
            .pointer("/structure/jsonSchema/schema")
            .and_then(Value::as_str)
            .ok_or("outputConfig.textFormat.structure.jsonSchema.schema must be a string")?;
        serde_json::from_str::<Value>(schema).map_err(|e| {
            format!("outputConfig.textFormat.structure.jsonSchema.schema is not JSON: {e}")
        })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn accepts_minimal() {
        validate(&json!({"messages":[{"role":"user","content":[{"text":"hi"}]}]})).unwrap();
    }

    #[test]
    fn rejects_each_rule() {
        let cases = [
            (
                json!({"messages":[{"role":"assistant","content":[{"text":"hi"}]}]}),
                "start with a user",
            ),
            (
                json!({"messages":[{"role":"user","content":[{"text":"a"}]},{"role":"user","content":[{"text":"b"}]}]}),
                "alternate",
            ),
            (
                json!({"messages":[{"role":"user","content":[{"text":"  "}]}]}),
                "blank",
            ),
            (
                json!({"messages":[{"role":"user","content":[{"text":"a","image":{}}]}]}),
                "exactly one member",
            ),
            (
                json!({"messages":[{"role":"user","content":[{"text":"a"}]}],"inferenceConfig":{"temperature":1.5}}),
                "between 0 and 1",
            ),
            (
                json!({"messages":[{"role":"user","content":[{"text":"a"}]},{"role":"assistant","content":[{"toolUse":{"toolUseId":"t1","name":"f","input":{}}}]}]}),
                "toolConfig field must be defined",
            ),
            (
                json!({"messages":[{"role":"user","content":[{"text":"a"}]}],"bogus":1}),
                "Unrecognized",
            ),
            (
                json!({"system":[{"cachePoint":{"type":"default"}},{"cachePoint":{"type":"default"}},{"cachePoint":{"type":"default"}},{"cachePoint":{"type":"default"}},{"cachePoint":{"type":"default"}}],"messages":[{"role":"user","content":[{"text":"a"}]}]}),
                "maximum of 4",
            ),
        ];
        for (body, want) in cases {
            let err = validate(&body).unwrap_err();
            assert!(err.contains(want), "{err} should contain {want}");
        }
    }

    #[test]
    fn model_rules() {
        let user =
            json!([{"role":"user","content":[{"text":"a"},{"cachePoint":{"type":"default"}}]}]);
        let cases = [
            (
                "meta.llama3-70b-instruct-v1:0",
                json!({"messages": user}),
                "does not support prompt caching",
            ),
            (
                "anthropic.claude-3-haiku-20240307-v1:0",
                json!({"messages": user}),
                "does not support prompt caching",
            ),
            (
                "amazon.nova-pro-v1:0",
                json!({"messages":[{"role":"user","content":[{"text":"a"}]}],"toolConfig":{"tools":[{"toolSpec":{"name":"f","inputSchema":{"json":{"type":"object"}}}},{"cachePoint":{"type":"default"}}]}}),
                "toolConfig.tools",
            ),
            (
                "amazon.nova-pro-v1:0",
                json!({"messages":[{"role":"user","content":[{"text":"a"}]}],"additionalModelRequestFields":{"thinking":{"type":"adaptive"}}}),
                "extraneous key [thinking]",
            ),
            (
                "anthropic.claude-opus-4-7",
                json!({"messages":[{"role":"user","content":[{"text":"a"}]}],"inferenceConfig":{"maxTokens":5000},"additionalModelRequestFields":{"thinking":{"type":"enabled","budget_tokens":1024}}}),
                "use `adaptive`",
            ),
            (
                "anthropic.claude-sonnet-4-20250514-v1:0",
                json!({"messages":[{"role":"user","content":[{"text":"a"}]}],"inferenceConfig":{"maxTokens":5000,"temperature":0.5},"additionalModelRequestFields":{"thinking":{"type":"enabled","budget_tokens":1024}}}),
                "temperature",
            ),
            (
                "anthropic.claude-sonnet-4-20250514-v1:0",
                json!({"messages":[{"role":"user","content":[{"text":"a"}]}],"additionalModelRequestFields":{"thinking":{"type":"enabled","budget_tokens":1024}}}),
                "max_tokens",
            ),
            (
                "openai.gpt-oss-20b-1:0",
                json!({"messages":[{"role":"user","content":[{"text":"a"}]}],"additionalModelRequestFields":{"reasoningConfig":{"type":"enabled","maxReasoningEffort":"low"}}}),
                "extraneous key [reasoningConfig]",
            ),
        ];
        for (model, body, want) in cases {
            let err = validate_for_model(model, &body).unwrap_err();
            assert!(err.contains(want), "{model}: {err} should contain {want}");
        }
        validate_for_model(
            "anthropic.claude-sonnet-4-20250514-v1:0",
            &json!({"messages": user}),
        )
        .unwrap();
        validate_for_model("amazon.nova-micro-v1:0", &json!({"messages": user})).unwrap();
    }
}
