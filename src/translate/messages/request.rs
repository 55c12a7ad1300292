//! Anthropic Messages request → Bedrock Converse request. Pure. Every Messages field is
//! translated here (content in `blocks`, tools in `tools`, thinking in `thinking`) or refused
//! with a 400 that names it.

use super::input::Input;
use super::{blocks, thinking, tools, MessagesAnswer};
use crate::anthropic as am;
use crate::bedrock::types as cv;
use crate::error::GatewayError;
use crate::translate::frontend::{RequestContext, Translated};
use crate::translate::names::ToolNames;
use crate::translate::{caching, reasoning};
use std::borrow::Cow;
use std::collections::BTreeMap;

/// The `anthropic-beta` values Bedrock documents for Claude: the default of
/// `backends[].ai.provider.bedrock.anthropicBetas`.
pub const DEFAULT_BETAS: &[&str] = &[
    "computer-use-2024-10-22",
    "computer-use-2025-01-24",
    "token-efficient-tools-2025-02-19",
    "interleaved-thinking-2025-05-14",
    "output-128k-2025-02-19",
    "dev-full-thinking-2025-05-14",
    "context-1m-2025-08-07",
    "context-management-2025-06-27",
    "effort-2025-11-24",
    "tool-search-tool-2025-10-19",
    "tool-examples-2025-10-29",
    "fine-grained-tool-streaming-2025-05-14",
];

/// System, messages and tools of a request (shared by Messages and count_tokens).
pub(super) fn input<'a>(
    req: &'a am::MessagesRequest<'a>,
    adjusted: &mut Vec<&'static str>,
) -> Result<Input<'a>, GatewayError> {
    reject_unsupported(req)?;
    let list = req
        .messages
        .as_deref()
        .ok_or_else(|| GatewayError::invalid("`messages`: Field required", Some("messages")))?;
    if list.is_empty() {
        return Err(GatewayError::invalid(
            "`messages` must contain at least one message",
            Some("messages"),
        ));
    }
    let mut tool_names = ToolNames::default();
    let enabled = tools::enabled(req);
    let specs = match (&req.tools, enabled) {
        (Some(defs), true) => tools::specs(defs, &mut tool_names)?,
        _ => Vec::new(),
    };
    let mut conv = blocks::Conv {
        tools_enabled: enabled,
        names: &mut tool_names,
    };
    let messages = blocks::messages(list, &mut conv)?;
    let choice = tools::choice(req, adjusted)?;
    let specs = if specs.is_empty() && enabled {
        tools::from_history(&messages)
    } else {
        specs
    };
    let tool_config = (!specs.is_empty()).then_some(cv::ToolConfig {
        tools: specs,
        tool_choice: choice,
    });
    Ok(Input {
        system: blocks::system(req.system.as_ref())?,
        messages,
        tool_config,
        tool_names,
    })
}

/// Translate a parsed Messages request for one model.
pub fn translate<'a>(
    req: &'a am::MessagesRequest<'a>,
    ctx: &RequestContext<'_>,
) -> Result<Translated<'a, MessagesAnswer>, GatewayError> {
    let mut adjusted = Vec::new();
    let input = input(req, &mut adjusted)?;
    let mut inference = inference_config(req)?;
    let mut fields = cv::AdditionalFields::default();
    if let Some(k) = req.top_k {
        if k < 0 {
            return Err(GatewayError::invalid(
                format!("`top_k` must be at least 0, got {k}"),
                Some("top_k"),
            ));
        }
        if ctx.family.is_claude() {
            fields.top_k = Some(k as u64);
        } else {
            adjusted.push("top_k"); // only Claude takes top_k through Converse
        }
    }
    let thought = thinking::apply(req, ctx.family, &mut inference, &input, &mut adjusted)?;
    fields.thinking = thought.thinking;
    fields.reasoning_config = thought.other.as_ref().and_then(|f| f.reasoning_config);
    fields.reasoning_effort = thought.other.as_ref().and_then(|f| f.reasoning_effort);
    fields.anthropic_beta = betas(ctx, &mut adjusted);
    let mut converse = cv::ConverseRequest {
        messages: input.messages,
        system: input.system,
        inference_config: inference,
        tool_config: input.tool_config,
        additional_model_request_fields: (fields != cv::AdditionalFields::default())
            .then_some(fields),
        output_config: thought.effort.map(|effort| cv::OutputConfig {
            text_format: None,
            effort: Some(effort),
        }),
        request_metadata: request_metadata(req, &mut adjusted),
        service_tier: None,
        additional_model_response_field_paths: if ctx.family.is_claude() && inference_has_stops(req)
        {
            vec!["/stop_sequence"]
        } else {
            Vec::new()
        },
    };
    reasoning::drop_unreplayable_thinking(&mut converse, "thinking", &mut adjusted);
    caching::apply(&mut converse, ctx.family, ctx.caching);
    Ok(Translated {
        converse,
        stream: req.stream.unwrap_or(false),
        adjusted,
        answer: MessagesAnswer {
            tool_names: input.tool_names,
            stop_sequences: req
                .stop_sequences
                .iter()
                .flatten()
                .map(|s| s.as_ref().to_owned())
                .collect(),
        },
    })
}

fn inference_has_stops(req: &am::MessagesRequest<'_>) -> bool {
    req.stop_sequences.iter().flatten().any(|s| !s.is_empty())
}

/// Anthropic-hosted features Bedrock lacks: a 400 that names them.
fn reject_unsupported(req: &am::MessagesRequest<'_>) -> Result<(), GatewayError> {
    if req.mcp_servers.is_some() {
        return Err(GatewayError::unsupported(
            "mcp_servers",
            "`mcp_servers` (the MCP connector) is not supported on Bedrock",
        ));
    }
    if req.container.is_some() {
        return Err(GatewayError::unsupported(
            "container",
            "`container` (code execution containers) is not supported on Bedrock",
        ));
    }
    if let Some(tier) = req.service_tier.as_deref() {
        if tier != "auto" && tier != "standard_only" {
            return Err(GatewayError::invalid(
                format!("`service_tier` must be auto or standard_only, got `{tier}`"),
                Some("service_tier"),
            ));
        }
    }
    if req
        .output_config
        .as_ref()
        .is_some_and(|o| o.format.is_some())
    {
        return Err(GatewayError::unsupported(
            "output_config.format",
            "`output_config.format` (structured outputs) is not supported on this API yet; use a tool with an `input_schema`",
        ));
    }
    Ok(())
}

fn inference_config<'a>(
    req: &'a am::MessagesRequest<'a>,
) -> Result<cv::InferenceConfig<'a>, GatewayError> {
    let max_tokens = match req.max_tokens {
        None => {
            return Err(GatewayError::invalid(
                "`max_tokens`: Field required",
                Some("max_tokens"),
            ))
        }
        Some(m) if m < 1 => {
            return Err(GatewayError::invalid(
                format!("`max_tokens` must be at least 1, got {m}"),
                Some("max_tokens"),
            ))
        }
        Some(m) => m as u64,
    };
    for (param, value) in [("temperature", req.temperature), ("top_p", req.top_p)] {
        if let Some(v) = value {
            if !(0.0..=1.0).contains(&v) {
                return Err(GatewayError::invalid(
                    format!("`{param}` must be between 0 and 1, got {v}"),
                    Some(param),
                ));
            }
        }
    }
    Ok(cv::InferenceConfig {
        max_tokens: Some(max_tokens),
        temperature: req.temperature,
        top_p: req.top_p,
        stop_sequences: req
            .stop_sequences
            .iter()
            .flatten()
            .filter(|s| !s.is_empty())
            .map(|s| Cow::Borrowed(s.as_ref()))
            .collect(),
    })
}

/// The client's `anthropic-beta` values that Bedrock accepts; the others are dropped (and the
/// header is named in `adjusted`) rather than failing the request at Bedrock.
fn betas(ctx: &RequestContext<'_>, adjusted: &mut Vec<&'static str>) -> Vec<String> {
    let allowed = |b: &str| ctx.betas.iter().any(|a| a == b);
    let mut out: Vec<String> = Vec::new();
    let mut dropped = false;
    for b in ctx
        .client_betas
        .iter()
        .map(|b| b.trim())
        .filter(|b| !b.is_empty())
    {
        if !ctx.family.is_claude() || !allowed(b) {
            dropped = true;
        } else if !out.iter().any(|o| o == b) {
            out.push(b.to_owned());
        }
    }
    if dropped {
        adjusted.push("anthropic-beta");
    }
    out
}

/// `metadata.user_id` → `requestMetadata.user_id` (dropped when Bedrock would refuse it).
fn request_metadata<'a>(
    req: &am::MessagesRequest<'_>,
    adjusted: &mut Vec<&'static str>,
) -> Option<Cow<'a, BTreeMap<String, String>>> {
    let user = req.metadata.as_ref()?.user_id.as_deref()?;
    if user.is_empty() {
        return None;
    }
    if user.len() > 256 {
        adjusted.push("metadata.user_id");
        return None;
    }
    let mut md = BTreeMap::new();
    md.insert("user_id".to_owned(), user.to_owned());
    Some(Cow::Owned(md))
}
