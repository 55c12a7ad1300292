//! Bedrock Converse response → OpenAI `response` object. Pure. Unknown content blocks and
//! unknown stop reasons never fail the response.

use super::items::{self, Item, Kind};
use super::ResponsesAnswer;
use crate::bedrock::types as cv;
use crate::error::GatewayError;
use crate::openai::responses::response as wire;
use crate::translate::frontend::{AnswerMeta, Answered};

/// Translate a Converse response body; a body that is not a Converse answer is a
/// `GatewayError::UpstreamBadResponse`.
pub fn translate(
    body: &[u8],
    answer: &ResponsesAnswer,
    meta: &AnswerMeta<'_>,
) -> Result<Answered, GatewayError> {
    let resp: cv::ConverseResponse =
        serde_json::from_slice(body).map_err(|e| GatewayError::UpstreamBadResponse {
            message: format!("Converse response is not valid JSON: {e}"),
        })?;
    let (Some(message), Some(stop_reason)) = (
        resp.output.as_ref().and_then(|o| o.message.as_ref()),
        resp.stop_reason.as_deref(),
    ) else {
        return Err(GatewayError::UpstreamBadResponse {
            message: "the answer is not a Converse response (no output.message or stopReason)"
                .into(),
        });
    };
    let output = collect(&message.content, answer, meta.id);
    let tokens = resp.usage.unwrap_or_default();
    let mut obj = wire::ResponseObject::new(meta.id, meta.created, meta.model, &answer.echo);
    let (status, incomplete) = items::status(stop_reason);
    obj.status = status;
    obj.incomplete_details = incomplete;
    obj.output = output
        .iter()
        .map(|i| i.wire(answer.include_encrypted, "completed"))
        .collect();
    obj.usage = Some(items::usage(&tokens));
    if let Some(tier) = resp.service_tier.as_ref() {
        obj.service_tier = Some(tier.kind.as_ref());
    }
    let mut out = Vec::with_capacity(body.len() + 1024);
    crate::json::to_writer(&mut out, &obj).map_err(|e| GatewayError::Internal {
        message: format!("serializing response: {e}"),
    })?;
    Ok(Answered { body: out, tokens })
}

/// One item per content block, in order; blocks with nothing for the client are skipped.
fn collect(blocks: &[cv::ResponseBlock<'_>], answer: &ResponsesAnswer, id: &str) -> Vec<Item> {
    let mut out: Vec<Item> = Vec::with_capacity(blocks.len());
    for b in blocks {
        let index = out.len();
        if let Some(t) = &b.text {
            let mut item = Item::new(Kind::Message, id, index);
            item.text.push_str(t);
            out.push(item);
        } else if let Some(c) = &b.citations_content {
            let mut item = Item::new(Kind::Message, id, index);
            for part in &c.content {
                item.text.push_str(part.text.as_deref().unwrap_or(""));
            }
            out.push(item);
        } else if let Some(tu) = &b.tool_use {
            let mut item = Item::new(Kind::FunctionCall, id, index);
            item.call_id.push_str(&tu.tool_use_id);
            item.name.push_str(answer.tool_names.restore(&tu.name));
            item.text
                .push_str(tu.input.map(|r| r.get()).unwrap_or("{}"));
            out.push(item);
        } else if let Some(r) = &b.reasoning_content {
            let mut item = Item::new(Kind::Reasoning, id, index);
            if let Some(rt) = &r.reasoning_text {
                item.text.push_str(&rt.text);
                item.signature = rt.signature.as_deref().map(str::to_owned);
            } else if let Some(data) = &r.redacted_content {
                item.redacted = Some(data.to_string());
            } else {
                continue;
            }
            out.push(item);
        }
    }
    out
}
