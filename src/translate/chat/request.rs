//! OpenAI chat-completions request → Bedrock Converse request. Pure: no I/O, no clock, no env.
//! Every OpenAI field is translated here or rejected with a 400 that names it.

use super::ChatAnswer;
use crate::bedrock::types as cv;
use crate::error::GatewayError;
use crate::openai as oa;
use crate::translate::blocks::{
    check_base64, conversation_shape, document, image_block, is_blank, parse_arguments, static_raw,
    Turns, EMPTY_OBJECT_SCHEMA,
};
use crate::translate::caching;
use crate::translate::frontend::{RequestContext, Translated};
use crate::translate::names::{tool_id, ToolNames};
use crate::translate::params;
use crate::translate::reasoning;
use std::borrow::Cow;

/// Translate a parsed OpenAI request.
pub fn translate<'a>(
    req: &'a oa::ChatRequest<'a>,
    ctx: &RequestContext<'_>,
) -> Result<Translated<'a, ChatAnswer>, GatewayError> {
    reject_unsupported(req)?;

    let mut tool_names = ToolNames::default();
    let tool_config = tool_config(req, &mut tool_names)?;
    let tools_enabled = tool_config.is_some();

    let messages = req
        .messages
        .as_deref()
        .ok_or_else(|| GatewayError::invalid("`messages` is required", Some("messages")))?;
    if messages.is_empty() {
        return Err(GatewayError::invalid(
            "`messages` must contain at least one message",
            Some("messages"),
        ));
    }
    let (system, messages) = convert_messages(messages, tools_enabled, &mut tool_names)?;

    let mut adjusted = Vec::new();
    let mut inference = inference_config(req)?;
    let reasoning = reasoning::apply(
        req.reasoning_effort.as_deref(),
        ctx.family,
        &mut inference,
        tool_config.as_ref(),
        &mut adjusted,
    )?;
    let mut output_config = output_config(req)?;
    if let Some(effort) = reasoning.effort {
        output_config
            .get_or_insert(cv::OutputConfig {
                text_format: None,
                effort: None,
            })
            .effort = Some(effort);
    }
    let mut converse = cv::ConverseRequest {
        messages,
        system,
        inference_config: inference,
        tool_config,
        additional_model_request_fields: reasoning.fields,
        output_config,
        request_metadata: request_metadata(req)?.map(Cow::Borrowed),
        service_tier: service_tier(req)?,
        additional_model_response_field_paths: Vec::new(),
    };
    caching::apply(&mut converse, ctx.family, ctx.caching);
    reasoning::drop_unreplayable_thinking(&mut converse, "reasoning_effort", &mut adjusted);
    Ok(Translated {
        converse,
        stream: req.stream.unwrap_or(false),
        adjusted,
        answer: ChatAnswer {
            include_usage: req
                .stream_options
                .and_then(|o| o.include_usage)
                .unwrap_or(false),
            tool_names,
        },
    })
}

/// Fields Bedrock cannot honour: a 400 that names the field rather than silence.
fn reject_unsupported(req: &oa::ChatRequest<'_>) -> Result<(), GatewayError> {
    if let Some(n) = req.n {
        if n != 1 {
            return Err(GatewayError::unsupported(
                "n",
                format!("`n` = {n} is not supported: Bedrock returns exactly one choice"),
            ));
        }
    }
    if req.logprobs == Some(true) {
        return Err(GatewayError::unsupported(
            "logprobs",
            "`logprobs` is not supported: Bedrock Converse returns no log probabilities",
        ));
    }
    if req.top_logprobs.is_some_and(|n| n > 0) {
        return Err(GatewayError::unsupported(
            "top_logprobs",
            "`top_logprobs` is not supported: Bedrock Converse returns no log probabilities",
        ));
    }
    if let Some(bias) = req.logit_bias {
        if bias.get().trim() != "{}" {
            return Err(GatewayError::unsupported(
                "logit_bias",
                "`logit_bias` is not supported by Bedrock Converse",
            ));
        }
    }
    for (param, value) in [
        ("frequency_penalty", req.frequency_penalty),
        ("presence_penalty", req.presence_penalty),
    ] {
        if value.is_some_and(|v| v != 0.0) {
            return Err(GatewayError::unsupported(
                param,
                format!("`{param}` is not supported by Bedrock Converse (only 0 is accepted)"),
            ));
        }
    }
    if req.audio.is_some() {
        return Err(GatewayError::unsupported(
            "audio",
            "`audio` output is not supported by Bedrock Converse",
        ));
    }
    if let Some(m) = &req.modalities {
        if let Some(other) = m.iter().find(|m| m.as_ref() != "text") {
            return Err(GatewayError::unsupported(
                "modalities",
                format!(
                    "output modality `{other}` is not supported: Bedrock Converse returns text"
                ),
            ));
        }
    }
    if req.prediction.is_some() {
        return Err(GatewayError::unsupported(
            "prediction",
            "`prediction` (predicted outputs) is not supported by Bedrock Converse",
        ));
    }
    if req.web_search_options.is_some() {
        return Err(GatewayError::unsupported(
            "web_search_options",
            "`web_search_options` is not supported by Bedrock Converse",
        ));
    }
    if req.verbosity.is_some() {
        return Err(GatewayError::unsupported(
            "verbosity",
            "`verbosity` is not supported by Bedrock Converse",
        ));
    }
    Ok(())
}

fn inference_config<'a>(
    req: &'a oa::ChatRequest<'a>,
) -> Result<cv::InferenceConfig<'a>, GatewayError> {
    let (param, max) = match (req.max_completion_tokens, req.max_tokens) {
        (Some(m), _) => ("max_completion_tokens", Some(m)),
        (None, Some(m)) => ("max_tokens", Some(m)),
        (None, None) => ("max_tokens", None),
    };
    let max_tokens = match max {
        Some(m) if m < 1 => {
            return Err(GatewayError::invalid(
                format!("`{param}` must be at least 1, got {m}"),
                Some(param),
            ))
        }
        Some(m) => Some(m as u64),
        None => None,
    };
    let temperature = params::temperature(req.temperature)?;
    let top_p = params::top_p(req.top_p)?;
    let stop_sequences = match &req.stop {
        None => Vec::new(),
        Some(oa::Stop::One(s)) => non_empty(s).into_iter().collect(),
        Some(oa::Stop::Many(list)) => list.iter().filter_map(non_empty).collect(),
    };
    Ok(cv::InferenceConfig {
        max_tokens,
        temperature,
        top_p,
        stop_sequences,
    })
}

fn non_empty<'a>(s: &'a Cow<'a, str>) -> Option<Cow<'a, str>> {
    (!s.is_empty()).then(|| Cow::Borrowed(s.as_ref()))
}

/// Each declared function with the parameter path of its name (for errors).
type ToolDefs<'a> = Vec<(&'a oa::FunctionDef<'a>, String)>;

/// The tools a request declares and the parameter that chooses among them.
struct ToolSource<'a> {
    defs: ToolDefs<'a>,
    /// `tool_choice`, or `function_call` with legacy `functions`.
    choice: Option<&'a oa::ToolChoice<'a>>,
    /// `tools` or `functions`.
    list_param: &'static str,
    /// `tool_choice` or `function_call`.
    choice_param: &'static str,
}

/// A resolved tool choice: Bedrock's `toolChoice` and the `allowed_tools` subset, if any.
struct ResolvedChoice<'a> {
    choice: Option<cv::ToolChoice<'a>>,
    allowed: Option<Vec<&'a str>>,
}

/// `tools`/`functions` + `tool_choice`/`function_call` → `toolConfig` (None when no tool may be
/// called: no tools, or `tool_choice: "none"`).
fn tool_config<'a>(
    req: &'a oa::ChatRequest<'a>,
    names: &mut ToolNames,
) -> Result<Option<cv::ToolConfig<'a>>, GatewayError> {
    let Some(source) = tool_source(req)? else {
        return Ok(None);
    };
    if source.defs.is_empty() {
        return Ok(None);
    }
    check_tool_names(&source.defs)?;
    // Resolve the choice first: it may restrict the tool list (allowed_tools) or disable tools.
    let Some(resolved) = resolve_choice(&source, names)? else {
        return Ok(None);
    };
    let tools = tool_specs(source.defs, resolved.allowed.as_deref(), names);
    if tools.is_empty() {
        return Ok(None);
    }
    Ok(Some(cv::ToolConfig {
        tools,
        tool_choice: resolved.choice,
    }))
}

/// Where the tools come from: `tools` (+ `tool_choice`), else legacy `functions`
/// (+ `function_call`); None when neither is given and `tool_choice` does not need tools.
fn tool_source<'a>(req: &'a oa::ChatRequest<'a>) -> Result<Option<ToolSource<'a>>, GatewayError> {
    match (&req.tools, &req.functions) {
        (Some(tools), _) => Ok(Some(ToolSource {
            defs: function_tools(tools)?,
            choice: req.tool_choice.as_ref(),
            list_param: "tools",
            choice_param: "tool_choice",
        })),
        (None, Some(functions)) => Ok(Some(ToolSource {
            defs: functions
                .iter()
                .enumerate()
                .map(|(i, f)| (f, format!("functions[{i}].name")))
                .collect(),
            choice: req.function_call.as_ref(),
            list_param: "functions",
            choice_param: "function_call",
        })),
        (None, None) => match &req.tool_choice {
            Some(oa::ToolChoice::Mode(m)) if m == "none" || m == "auto" => Ok(None),
            None => Ok(None),
            Some(_) => Err(GatewayError::invalid(
                "`tool_choice` requires `tools`",
                Some("tool_choice"),
            )),
        },
    }
}

/// The function definitions of `tools`; other tool types and tools without `function` are
/// rejected.
fn function_tools<'a>(tools: &'a [oa::Tool<'a>]) -> Result<ToolDefs<'a>, GatewayError> {
    let mut defs = Vec::with_capacity(tools.len());
    for (i, t) in tools.iter().enumerate() {
        if t.kind != "function" {
            return Err(GatewayError::unsupported(
                format!("tools[{i}].type"),
                format!(
                    "tool type `{}` is not supported: Bedrock accepts function tools only",
                    t.kind
                ),
            ));
        }
        let f = t.function.as_ref().ok_or_else(|| {
            GatewayError::invalid(
                format!("`tools[{i}].function` is required"),
                Some(&format!("tools[{i}].function")),
            )
        })?;
        defs.push((f, format!("tools[{i}].function.name")));
    }
    Ok(defs)
}

/// Every declared tool needs a non-empty name.
fn check_tool_names(defs: &ToolDefs<'_>) -> Result<(), GatewayError> {
    for (f, param) in defs {
        if f.name.is_empty() {
            return Err(GatewayError::invalid(
                "tool name must not be empty",
                Some(param),
            ));
        }
    }
    Ok(())
}

/// The client's tool choice → Bedrock's; None when it disables tools (`none`).
fn resolve_choice<'a>(
    source: &ToolSource<'a>,
    names: &mut ToolNames,
) -> Result<Option<ResolvedChoice<'a>>, GatewayError> {
    match source.choice {
        None => Ok(Some(ResolvedChoice {
            choice: None,
            allowed: None,
        })),
        Some(oa::ToolChoice::Mode(m)) if m == "none" => Ok(None),
        Some(oa::ToolChoice::Mode(m)) => Ok(Some(ResolvedChoice {
            choice: Some(mode_choice(m, source.choice_param)?),
            allowed: None,
        })),
        Some(oa::ToolChoice::Object(o)) => object_choice(o, source, names).map(Some),
    }
}

/// A choice mode other than `none`: `auto`, or `required`/`any`.
fn mode_choice(mode: &str, choice_param: &str) -> Result<cv::ToolChoice<'static>, GatewayError> {
    match mode {
        "auto" => Ok(cv::ToolChoice::Auto(cv::Empty {})),
        "required" | "any" => Ok(cv::ToolChoice::Any(cv::Empty {})),
        other => Err(GatewayError::invalid(
            format!("unknown `{choice_param}` value `{other}` (expected none, auto or required)"),
            Some(choice_param),
        )),
    }
}

/// A choice object: `allowed_tools`, or one named function that must be among the tools.
fn object_choice<'a>(
    o: &'a oa::ToolChoiceObject<'a>,
    source: &ToolSource<'a>,
    names: &mut ToolNames,
) -> Result<ResolvedChoice<'a>, GatewayError> {
    let (choice_param, list_param) = (source.choice_param, source.list_param);
    if let Some(at) = &o.allowed_tools {
        return allowed_tools_choice(at, choice_param);
    }
    let named = o
        .function
        .as_ref()
        .map(|f| f.name.as_ref())
        .or(o.name.as_deref());
    let Some(name) = named else {
        return Err(GatewayError::invalid(
            format!("`{choice_param}` object must name a function"),
            Some(choice_param),
        ));
    };
    if !source.defs.iter().any(|(f, _)| f.name == name) {
        return Err(GatewayError::invalid(
            format!("`{choice_param}` names `{name}`, which is not among `{list_param}`"),
            Some(choice_param),
        ));
    }
    Ok(ResolvedChoice {
        choice: Some(cv::ToolChoice::Tool {
            name: names.register(name),
        }),
        allowed: None,
    })
}

/// `allowed_tools`: a mode (`auto` or `required`) over a subset of the tools.
fn allowed_tools_choice<'a>(
    at: &'a oa::AllowedTools<'a>,
    choice_param: &str,
) -> Result<ResolvedChoice<'a>, GatewayError> {
    let allowed = at
        .tools
        .iter()
        .filter_map(|t| t.function.as_ref().map(|f| f.name.as_ref()))
        .collect();
    let choice = match at.mode.as_ref() {
        "auto" => cv::ToolChoice::Auto(cv::Empty {}),
        "required" => cv::ToolChoice::Any(cv::Empty {}),
        other => {
            return Err(GatewayError::invalid(
                format!("unknown allowed_tools mode `{other}` (expected auto or required)"),
                Some(choice_param),
            ))
        }
    };
    Ok(ResolvedChoice {
        choice: Some(choice),
        allowed: Some(allowed),
    })
}

/// The Bedrock tool specs, in declaration order, of the tools `allowed` lets through (all when
/// None).
fn tool_specs<'a>(
    defs: ToolDefs<'a>,
    allowed: Option<&[&str]>,
    names: &mut ToolNames,
) -> Vec<cv::Tool<'a>> {
    let mut tools = Vec::with_capacity(defs.len());
    for (f, _) in defs {
        if let Some(allowed) = allowed {
            if !allowed.contains(&f.name.as_ref()) {
                continue;
            }
        }
        tools.push(cv::Tool::ToolSpec(cv::ToolSpec {
            name: names.register(&f.name),
            description: f.description.as_deref().filter(|d| !d.is_empty()),
            input_schema: cv::InputSchema {
                json: f
                    .parameters
                    .unwrap_or_else(|| static_raw(EMPTY_OBJECT_SCHEMA)),
            },
            strict: None,
        }));
    }
    tools
}

type Converted<'a> = (Vec<cv::SystemBlock<'a>>, Vec<cv::Message<'a>>);

/// OpenAI messages → Bedrock system blocks and alternating user/assistant turns.
fn convert_messages<'a>(
    messages: &'a [oa::Message<'a>],
    tools_enabled: bool,
    names: &mut ToolNames,
) -> Result<Converted<'a>, GatewayError> {
    let mut system = Vec::new();
    let mut turns = Turns {
        messages: Vec::with_capacity(messages.len()),
    };
    // Legacy `function_call`s have no ids: synthesize one per call, matched to the next
    // `function` message of the same name.
    let mut legacy_calls: Vec<(&'a str, String)> = Vec::new();

    for (i, m) in messages.iter().enumerate() {
        match m {
            oa::Message::System { content } | oa::Message::Developer { content } => {
                push_system(content, i, &mut system)?;
            }
            oa::Message::User { content } => {
                turns.push(cv::Role::User, user_blocks(content, i)?);
            }
            oa::Message::Assistant(a) => {
                let blocks = assistant_blocks(a, i, tools_enabled, names, &mut legacy_calls)?;
                turns.push(cv::Role::Assistant, blocks);
            }
            oa::Message::Tool {
                tool_call_id,
                content,
            } => {
                let block = tool_result(tool_id(tool_call_id), content, i, tools_enabled)?;
                turns.push(cv::Role::User, vec![block]);
            }
            oa::Message::Function { name, content } => {
                let id = legacy_call_id(&mut legacy_calls, name);
                let block = tool_result(id, content, i, tools_enabled)?;
                turns.push(cv::Role::User, vec![block]);
            }
        }
    }

    Ok((system, conversation_shape(turns.messages)?))
}

/// A system/developer message's text parts → system blocks, each followed by the cache point
/// its hint asks for.
fn push_system<'a>(
    content: &'a oa::Content<'a>,
    i: usize,
    system: &mut Vec<cv::SystemBlock<'a>>,
) -> Result<(), GatewayError> {
    for (text, hint) in texts_with_hints(content, i)? {
        system.push(cv::SystemBlock::Text(text));
        if let Some(point) = hint {
            system.push(cv::SystemBlock::CachePoint(point));
        }
    }
    Ok(())
}

/// The id of a legacy `function` result: that of the earliest unanswered `function_call` of the
/// same name (consumed), else one derived from the name.
fn legacy_call_id<'a>(legacy_calls: &mut Vec<(&'a str, String)>, name: &str) -> Cow<'a, str> {
    let pos = legacy_calls.iter().position(|(n, _)| *n == name);
    match pos {
        Some(p) => Cow::Owned(legacy_calls.remove(p).1),
        None => Cow::Owned(format!("call_fn_{}", tool_id(name))),
    }
}

/// Text of a system/developer/tool message: a string or text parts; blank parts dropped.
fn text_only<'a>(
    content: &'a oa::Content<'a>,
    i: usize,
) -> Result<Vec<Cow<'a, str>>, GatewayError> {
    Ok(texts_with_hints(content, i)?
        .into_iter()
        .map(|(t, _)| t)
        .collect())
}

/// A client cache hint → a cache point (`1h` for hour-or-longer TTLs, else Bedrock's 5m).
fn hint_point(hint: &oa::CacheControl<'_>) -> cv::CachePoint {
    match hint.ttl.as_deref() {
        Some("1h" | "12h" | "24h") => cv::CachePoint::ONE_HOUR,
        _ => cv::CachePoint::DEFAULT,
    }
}

/// A text part and the cache point its hint asks for.
type HintedText<'a> = (Cow<'a, str>, Option<cv::CachePoint>);

/// As [`text_only`], with each part's cache hint.
fn texts_with_hints<'a>(
    content: &'a oa::Content<'a>,
    i: usize,
) -> Result<Vec<HintedText<'a>>, GatewayError> {
    match content {
        oa::Content::None => Ok(Vec::new()),
        oa::Content::Text(t) => Ok((!is_blank(t))
            .then(|| (Cow::Borrowed(t.as_ref()), None))
            .into_iter()
            .collect()),
        oa::Content::Parts(parts) => {
            let mut out = Vec::with_capacity(parts.len());
            for (j, p) in parts.iter().enumerate() {
                match p {
                    oa::Part::Text { text, .. } => {
                        if !is_blank(text) {
                            out.push((
                                Cow::Borrowed(text.as_ref()),
                                p.cache_hint().map(hint_point),
                            ));
                        }
                    }
                    _ => {
                        return Err(GatewayError::invalid(
                            "only text parts are allowed in this message",
                            Some(&format!("messages[{i}].content[{j}]")),
                        ))
                    }
                }
            }
            Ok(out)
        }
    }
}

fn user_blocks<'a>(
    content: &'a oa::Content<'a>,
    i: usize,
) -> Result<Vec<cv::ContentBlock<'a>>, GatewayError> {
    let parts = match content {
        oa::Content::None => return Ok(Vec::new()),
        oa::Content::Text(t) => {
            return Ok((!is_blank(t))
                .then(|| cv::ContentBlock::Text(Cow::Borrowed(t.as_ref())))
                .into_iter()
                .collect())
        }
        oa::Content::Parts(parts) => parts,
    };
    let mut out = Vec::with_capacity(parts.len());
    for (j, p) in parts.iter().enumerate() {
        let at = || format!("messages[{i}].content[{j}]");
        let before = out.len();
        match p {
            oa::Part::Text { text, .. } => {
                if !is_blank(text) {
                    out.push(cv::ContentBlock::Text(Cow::Borrowed(text.as_ref())));
                }
            }
            oa::Part::ImageUrl { image_url, .. } => out.push(image_block(&image_url.url, &at)?),
            oa::Part::InputAudio { input_audio } => {
                let format = match input_audio.format.as_ref() {
                    "wav" => "wav",
                    "mp3" => "mp3",
                    other => {
                        return Err(GatewayError::invalid(
                            format!("audio format `{other}` is not supported (wav or mp3)"),
                            Some(&at()),
                        ))
                    }
                };
                let data = input_audio.data.as_ref();
                check_base64(data, &at)?;
                out.push(cv::ContentBlock::Audio(cv::Audio {
                    format,
                    source: cv::BytesSource { bytes: data },
                }));
            }
            oa::Part::File { file, .. } => {
                let mut block = document_block(file, &at)?;
                if let cv::ContentBlock::Document(doc) = &mut block {
                    let taken = |n: &str| {
                        out.iter()
                            .any(|b| matches!(b, cv::ContentBlock::Document(d) if d.name == n))
                    };
                    let base = doc.name.clone();
                    let mut k = 2;
                    while taken(&doc.name) {
                        doc.name = format!("{base} [{k}]");
                        k += 1;
                    }
                }
                out.push(block);
            }
            oa::Part::Refusal { .. } => {
                return Err(GatewayError::invalid(
                    "`refusal` parts are only valid in assistant messages",
                    Some(&at()),
                ))
            }
        }
        if let Some(hint) = p.cache_hint() {
            if out.len() > before {
                out.push(cv::ContentBlock::CachePoint(hint_point(hint)));
            }
        }
    }
    Ok(out)
}

fn document_block<'a>(
    file: &'a oa::FilePart<'a>,
    at: &dyn Fn() -> String,
) -> Result<cv::ContentBlock<'a>, GatewayError> {
    let Some(file_data) = file.file_data.as_deref() else {
        let msg = if file.file_id.is_some() {
            "`file_id` is not supported: Bedrock cannot read OpenAI-hosted files; send `file_data`"
        } else {
            "a file part needs `file_data`"
        };
        return Err(GatewayError::unsupported(at(), msg));
    };
    document(file_data, file.filename.as_deref(), at)
}

/// An assistant turn → Bedrock blocks: replayed reasoning, text, then tool calls.
fn assistant_blocks<'a>(
    a: &'a oa::AssistantMessage<'a>,
    i: usize,
    tools_enabled: bool,
    names: &mut ToolNames,
    legacy_calls: &mut Vec<(&'a str, String)>,
) -> Result<Vec<cv::ContentBlock<'a>>, GatewayError> {
    let mut out = Vec::new();
    // Replayed reasoning goes first: Bedrock requires it before the turn's toolUse.
    push_replayed_reasoning(a, &mut out);
    push_assistant_text(a, i, &mut out)?;
    for (j, call) in a.tool_calls.iter().flatten().enumerate() {
        let at = format!("messages[{i}].tool_calls[{j}]");
        if call.kind.as_deref().is_some_and(|k| k != "function") {
            return Err(GatewayError::unsupported(
                format!("{at}.type"),
                "only function tool calls are supported",
            ));
        }
        let f = call.function.as_ref().ok_or_else(|| {
            GatewayError::invalid(
                "tool call needs `function`",
                Some(&format!("{at}.function")),
            )
        })?;
        out.push(tool_call_block(
            tool_id(&call.id),
            &f.name,
            &f.arguments,
            &format!("{at}.function.arguments"),
            tools_enabled,
            names,
        )?);
    }
    if let Some(fc) = &a.function_call {
        let id = format!("call_fn_{}_{}", tool_id(&fc.name), legacy_calls.len());
        legacy_calls.push((fc.name.as_ref(), id.clone()));
        out.push(tool_call_block(
            Cow::Owned(id),
            &fc.name,
            &fc.arguments,
            &format!("messages[{i}].function_call.arguments"),
            tools_enabled,
            names,
        )?);
    }
    Ok(out)
}

/// The turn's reasoning, for replay: `reasoning_details` (signed text and encrypted data), else
/// a signed `reasoning_content`; unsigned reasoning text is dropped.
fn push_replayed_reasoning<'a>(
    a: &'a oa::AssistantMessage<'a>,
    out: &mut Vec<cv::ContentBlock<'a>>,
) {
    if let Some(details) = &a.reasoning_details {
        for d in details {
            match d {
                oa::ReasoningDetail::Text { text, signature } => {
                    if signature.is_some() {
                        out.push(cv::ContentBlock::ReasoningContent(
                            cv::ReasoningContent::ReasoningText(cv::ReasoningText {
                                text: Cow::Borrowed(text.as_ref()),
                                signature: signature.as_deref().map(Cow::Borrowed),
                            }),
                        ));
                    }
                }
                oa::ReasoningDetail::Encrypted { data } => {
                    out.push(cv::ContentBlock::ReasoningContent(
                        cv::ReasoningContent::RedactedContent(Cow::Borrowed(data.as_ref())),
                    ));
                }
            }
        }
    } else if let (Some(text), Some(sig)) = (&a.reasoning_content, &a.reasoning_signature) {
        out.push(cv::ContentBlock::ReasoningContent(
            cv::ReasoningContent::ReasoningText(cv::ReasoningText {
                text: Cow::Borrowed(text.as_ref()),
                signature: Some(Cow::Borrowed(sig.as_ref())),
            }),
        ));
    }
}

/// The turn's non-blank text and refusal parts; `refusal` counts as text when there is no
/// content.
fn push_assistant_text<'a>(
    a: &'a oa::AssistantMessage<'a>,
    i: usize,
    out: &mut Vec<cv::ContentBlock<'a>>,
) -> Result<(), GatewayError> {
    match &a.content {
        oa::Content::None => {}
        oa::Content::Text(t) => {
            if !is_blank(t) {
                out.push(cv::ContentBlock::Text(Cow::Borrowed(t.as_ref())));
            }
        }
        oa::Content::Parts(parts) => {
            for (j, p) in parts.iter().enumerate() {
                match p {
                    oa::Part::Text { text, .. } | oa::Part::Refusal { refusal: text } => {
                        if !is_blank(text) {
                            out.push(cv::ContentBlock::Text(Cow::Borrowed(text.as_ref())));
                        }
                    }
                    _ => {
                        return Err(GatewayError::invalid(
                            "assistant messages may only contain text and refusal parts",
                            Some(&format!("messages[{i}].content[{j}]")),
                        ))
                    }
                }
            }
        }
    }
    if let Some(r) = &a.refusal {
        if !is_blank(r) && matches!(a.content, oa::Content::None) {
            out.push(cv::ContentBlock::Text(Cow::Borrowed(r.as_ref())));
        }
    }
    Ok(())
}

/// One tool call → a `toolUse` block, or, with tools disabled, a text block describing it.
fn tool_call_block<'a>(
    id: Cow<'a, str>,
    name: &'a str,
    args: &'a str,
    at: &str,
    tools_enabled: bool,
    names: &mut ToolNames,
) -> Result<cv::ContentBlock<'a>, GatewayError> {
    let input = parse_arguments(args, at)?;
    if tools_enabled {
        Ok(cv::ContentBlock::ToolUse(cv::ToolUse {
            tool_use_id: id,
            name: names.register(name),
            input,
        }))
    } else {
        Ok(cv::ContentBlock::Text(Cow::Owned(format!(
            "[tool call {name} (id {id}) with arguments {}]",
            input.get()
        ))))
    }
}

fn tool_result<'a>(
    id: Cow<'a, str>,
    content: &'a oa::Content<'a>,
    i: usize,
    tools_enabled: bool,
) -> Result<cv::ContentBlock<'a>, GatewayError> {
    let texts = text_only(content, i)?;
    if tools_enabled {
        Ok(cv::ContentBlock::ToolResult(cv::ToolResult {
            tool_use_id: id,
            content: texts.into_iter().map(cv::ToolResultContent::Text).collect(),
            status: None,
        }))
    } else {
        let joined: Vec<&str> = texts.iter().map(|t| t.as_ref()).collect();
        Ok(cv::ContentBlock::Text(Cow::Owned(format!(
            "[tool result for call {id}: {}]",
            joined.join("\n")
        ))))
    }
}

fn output_config<'a>(
    req: &'a oa::ChatRequest<'a>,
) -> Result<Option<cv::OutputConfig<'a>>, GatewayError> {
    let object_schema = || params::json_schema_format(None, None, None);
    let text_format = match &req.response_format {
        None => None,
        Some(rf) => match (rf.kind.as_ref(), &rf.json_schema) {
            ("text", _) => None,
            ("json_object", _) => Some(object_schema()),
            ("json_schema", Some(js)) => Some(params::json_schema_format(
                js.schema,
                Some(js.name.as_ref()),
                js.description.as_deref(),
            )),
            ("json_schema", None) => {
                return Err(GatewayError::invalid(
                    "`response_format.json_schema` is required when type is json_schema",
                    Some("response_format.json_schema"),
                ))
            }
            (other, _) => {
                return Err(GatewayError::invalid(
                    format!(
                        "unknown `response_format.type` `{other}` (text, json_object, json_schema)"
                    ),
                    Some("response_format.type"),
                ))
            }
        },
    };
    Ok(text_format.map(|tf| cv::OutputConfig {
        text_format: Some(tf),
        effort: None,
    }))
}

fn request_metadata<'a>(
    req: &'a oa::ChatRequest<'a>,
) -> Result<Option<&'a std::collections::BTreeMap<String, String>>, GatewayError> {
    params::request_metadata(req.metadata.as_ref())
}

fn service_tier(req: &oa::ChatRequest<'_>) -> Result<Option<cv::ServiceTier>, GatewayError> {
    params::service_tier(req.service_tier.as_deref())
}
