//! OpenAI Responses request → Bedrock Converse request. Pure. Every field is translated,
//! echoed, ignored on purpose (documented in README) or refused with a 400 that names it;
//! state kept on a server (`store: true`, `previous_response_id`, `conversation`, stored
//! `prompt`s, `background`) is refused because basalt is stateless.

use super::{input, tools, ResponsesAnswer};
use crate::bedrock::types as cv;
use crate::error::GatewayError;
use crate::openai::responses::{request as rq, Echo};
use crate::translate::caching;
use crate::translate::frontend::{RequestContext, Translated};
use crate::translate::names::ToolNames;
use crate::translate::{params, reasoning};
use serde_json::value::RawValue;

/// The `include` value that asks for reasoning items' `encrypted_content`.
pub(crate) const INCLUDE_ENCRYPTED: &str = "reasoning.encrypted_content";

/// Translate a parsed Responses request.
pub fn translate<'a>(
    req: &'a rq::ResponsesRequest<'a>,
    ctx: &RequestContext<'_>,
) -> Result<Translated<'a, ResponsesAnswer>, GatewayError> {
    reject_stateful(req)?;
    reject_unsupported(req)?;
    let mut names = ToolNames::default();
    let function_tools = tools::function_tools(req.tools.as_ref().map(|t| t.value.as_slice()))?;
    let choice = req.tool_choice.as_ref().map(|c| &c.value);
    let tool_config = tools::tool_config(function_tools, choice, &mut names)?;
    let (system, messages) = input::convert(req, tool_config.is_some(), &mut names)?;

    let mut adjusted = Vec::new();
    let mut inference = cv::InferenceConfig {
        max_tokens: max_output_tokens(req.max_output_tokens)?,
        temperature: params::temperature(req.temperature)?,
        top_p: params::top_p(req.top_p)?,
        stop_sequences: Vec::new(),
    };
    let effort = req.reasoning.as_ref().and_then(|r| r.effort.as_deref());
    let reasoning = reasoning::apply(
        effort,
        ctx.family,
        &mut inference,
        tool_config.as_ref(),
        &mut adjusted,
    )
    .map_err(rename_effort_error)?;
    for a in adjusted.iter_mut() {
        *a = match *a {
            "reasoning_effort" => "reasoning.effort",
            "max_tokens" => "max_output_tokens",
            other => other,
        };
    }
    let mut output_config =
        text_format(req.text.as_ref().map(|t| &t.value))?.map(|tf| cv::OutputConfig {
            text_format: Some(tf),
            effort: None,
        });
    if let Some(e) = reasoning.effort {
        output_config
            .get_or_insert(cv::OutputConfig {
                text_format: None,
                effort: None,
            })
            .effort = Some(e);
    }
    let mut converse = cv::ConverseRequest {
        messages,
        system,
        inference_config: inference,
        tool_config,
        additional_model_request_fields: reasoning.fields,
        output_config,
        request_metadata: params::request_metadata(req.metadata.as_ref())?
            .map(std::borrow::Cow::Borrowed),
        service_tier: params::service_tier(req.service_tier.as_deref())?,
        additional_model_response_field_paths: Vec::new(),
    };
    caching::apply(&mut converse, ctx.family, ctx.caching);
    Ok(Translated {
        converse,
        stream: req.stream.unwrap_or(false),
        adjusted,
        answer: ResponsesAnswer {
            tool_names: names,
            include_encrypted: req.include.iter().flatten().any(|i| i == INCLUDE_ENCRYPTED),
            echo: echo(req)?,
        },
    })
}

/// Server-side state basalt does not keep: a 400 that says so, never silence.
fn reject_stateful(req: &rq::ResponsesRequest<'_>) -> Result<(), GatewayError> {
    let stateless = |param: &str, what: &str| {
        Err(GatewayError::invalid(
            format!("{what} is not supported: basalt is stateless and stores no responses; send the whole conversation as `input` items (with store: false)"),
            Some(param),
        ))
    };
    if req.store == Some(true) {
        return stateless("store", "`store: true`");
    }
    if req.previous_response_id.is_some() {
        return stateless("previous_response_id", "`previous_response_id`");
    }
    if req.conversation.is_some_and(|c| c.get() != "null") {
        return stateless("conversation", "`conversation`");
    }
    if req.prompt.is_some_and(|c| c.get() != "null") {
        return stateless("prompt", "a stored `prompt` template");
    }
    if req.background == Some(true) {
        return stateless("background", "`background: true`");
    }
    Ok(())
}

/// Fields Bedrock cannot honour.
fn reject_unsupported(req: &rq::ResponsesRequest<'_>) -> Result<(), GatewayError> {
    if req.top_logprobs.is_some_and(|n| n > 0) {
        return Err(GatewayError::unsupported(
            "top_logprobs",
            "`top_logprobs` is not supported: Bedrock Converse returns no log probabilities",
        ));
    }
    if req.max_tool_calls.is_some() {
        return Err(GatewayError::unsupported(
            "max_tool_calls",
            "`max_tool_calls` is not supported: Bedrock cannot bound the number of tool calls",
        ));
    }
    if let Some(bad) = req
        .include
        .iter()
        .flatten()
        .find(|i| *i == "message.output_text.logprobs")
    {
        return Err(GatewayError::unsupported(
            "include",
            format!(
                "include `{bad}` is not supported: Bedrock Converse returns no log probabilities"
            ),
        ));
    }
    if let Some(t) = req.truncation.as_deref() {
        if !matches!(t, "auto" | "disabled") {
            return Err(GatewayError::invalid(
                format!("`truncation` must be auto or disabled; got `{t}`"),
                Some("truncation"),
            ));
        }
    }
    if let Some(e) = req.reasoning.as_ref() {
        for (param, v) in [
            ("reasoning.summary", &e.summary),
            ("reasoning.generate_summary", &e.generate_summary),
        ] {
            if let Some(v) = v.as_deref() {
                if !matches!(v, "auto" | "concise" | "detailed" | "none") {
                    return Err(GatewayError::invalid(
                        format!("`{param}` must be auto, concise, detailed or none; got `{v}`"),
                        Some(param),
                    ));
                }
            }
        }
    }
    Ok(())
}

fn max_output_tokens(m: Option<i64>) -> Result<Option<u64>, GatewayError> {
    match m {
        Some(m) if m < 1 => Err(GatewayError::invalid(
            format!("`max_output_tokens` must be at least 1, got {m}"),
            Some("max_output_tokens"),
        )),
        other => Ok(other.map(|m| m as u64)),
    }
}

/// The shared reasoning policy names chat's `reasoning_effort`; here it is `reasoning.effort`.
fn rename_effort_error(e: GatewayError) -> GatewayError {
    match e {
        GatewayError::InvalidRequest { message, param }
            if param.as_deref() == Some("reasoning_effort") =>
        {
            GatewayError::InvalidRequest {
                message: message.replace("`reasoning_effort`", "`reasoning.effort`"),
                param: Some("reasoning.effort".into()),
            }
        }
        other => other,
    }
}

/// `text.format` → native structured output; `text.verbosity` other than medium is refused.
fn text_format<'a>(
    text: Option<&'a rq::TextConfig<'a>>,
) -> Result<Option<cv::TextFormat<'a>>, GatewayError> {
    let Some(text) = text else {
        return Ok(None);
    };
    if let Some(v) = text.verbosity.as_deref().filter(|v| *v != "medium") {
        return Err(GatewayError::unsupported(
            "text.verbosity",
            format!("`text.verbosity` `{v}` is not supported by Bedrock Converse (only medium)"),
        ));
    }
    let Some(f) = &text.format else {
        return Ok(None);
    };
    match f.kind.as_ref() {
        "text" => Ok(None),
        "json_object" => Ok(Some(params::json_schema_format(None, None, None))),
        "json_schema" => {
            let schema = f.schema.filter(|s| s.get() != "null").ok_or_else(|| {
                GatewayError::invalid(
                    "`text.format.schema` is required when type is json_schema",
                    Some("text.format.schema"),
                )
            })?;
            Ok(Some(params::json_schema_format(
                Some(schema),
                f.name.as_deref(),
                f.description.as_deref(),
            )))
        }
        other => Err(GatewayError::invalid(
            format!("unknown `text.format.type` `{other}` (text, json_object, json_schema)"),
            Some("text.format.type"),
        )),
    }
}

/// The request fields the response object echoes.
fn echo(req: &rq::ResponsesRequest<'_>) -> Result<Echo, GatewayError> {
    let raw = |r: Option<&RawValue>, default: &str| -> Result<Box<RawValue>, GatewayError> {
        let text = r
            .map(RawValue::get)
            .filter(|t| *t != "null")
            .unwrap_or(default);
        RawValue::from_string(text.to_owned()).map_err(|e| GatewayError::Internal {
            message: format!("echoing a request field: {e}"),
        })
    };
    let metadata =
        serde_json::to_string(&req.metadata.clone().unwrap_or_default()).map_err(|e| {
            GatewayError::Internal {
                message: format!("echoing metadata: {e}"),
            }
        })?;
    Ok(Echo {
        instructions: req.instructions.as_deref().map(str::to_owned),
        max_output_tokens: req.max_output_tokens.map(|m| m.max(0) as u64),
        parallel_tool_calls: req.parallel_tool_calls.unwrap_or(true),
        reasoning_effort: req
            .reasoning
            .as_ref()
            .and_then(|r| r.effort.as_deref().map(str::to_owned)),
        reasoning_summary: req.reasoning.as_ref().and_then(|r| {
            r.summary
                .as_deref()
                .or(r.generate_summary.as_deref())
                .map(str::to_owned)
        }),
        temperature: req.temperature,
        top_p: req.top_p,
        text: raw(
            req.text.as_ref().map(|t| t.raw),
            r#"{"format":{"type":"text"}}"#,
        )?,
        tool_choice: raw(req.tool_choice.as_ref().map(|t| t.raw), r#""auto""#)?,
        tools: raw(req.tools.as_ref().map(|t| t.raw), "[]")?,
        metadata: RawValue::from_string(metadata).map_err(|e| GatewayError::Internal {
            message: format!("echoing metadata: {e}"),
        })?,
        user: req.user.as_deref().map(str::to_owned),
        service_tier: req.service_tier.as_deref().map(str::to_owned),
    })
}
