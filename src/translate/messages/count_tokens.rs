//! Anthropic `count_tokens` → Bedrock CountTokens (`POST /model/{id}/count-tokens`, body
//! `{"input":{"converse":{messages, system, toolConfig}}}`) and `{"inputTokens": N}` →
//! `{"input_tokens": N}`. A model without CountTokens gets Bedrock's own 400, never an estimate.

use super::request::input;
use crate::anthropic as am;
use crate::bedrock::types as cv;
use crate::error::GatewayError;
use crate::translate::caching;
use crate::translate::frontend::RequestContext;

/// The CountTokens body for a parsed count_tokens request (`max_tokens` is not needed).
pub fn request(
    req: &am::MessagesRequest<'_>,
    ctx: &RequestContext<'_>,
) -> Result<Vec<u8>, GatewayError> {
    let mut adjusted = Vec::new();
    let input = input(req, &mut adjusted)?;
    let mut converse = cv::ConverseRequest {
        messages: input.messages,
        system: input.system,
        tool_config: input.tool_config,
        ..Default::default()
    };
    // Cache points do not change the count; keep only what the model accepts.
    caching::apply(&mut converse, ctx.family, None);
    let body = cv::CountTokensRequest {
        input: cv::CountTokensInput {
            converse: cv::ConverseTokens {
                messages: &converse.messages,
                system: &converse.system,
                tool_config: converse.tool_config.as_ref(),
                additional_model_request_fields: None,
            },
        },
    };
    serde_json::to_vec(&body).map_err(|e| GatewayError::Internal {
        message: format!("serializing CountTokens request: {e}"),
    })
}

/// Bedrock's answer → `{"input_tokens": N}` (and N, for metrics).
pub fn answer(body: &[u8]) -> Result<(Vec<u8>, u64), GatewayError> {
    let r: cv::CountTokensResponse =
        serde_json::from_slice(body).map_err(|e| GatewayError::UpstreamBadResponse {
            message: format!("CountTokens response is not `{{\"inputTokens\": N}}`: {e}"),
        })?;
    let out = am::TokenCount {
        input_tokens: r.input_tokens,
    };
    let body = serde_json::to_vec(&out).map_err(|e| GatewayError::Internal {
        message: format!("serializing count_tokens answer: {e}"),
    })?;
    Ok((body, r.input_tokens))
}
