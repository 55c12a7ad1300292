//! The simulator's `POST /model/{id}/count-tokens`: Bedrock's request shape
//! (`{"input":{"converse":{messages, system, toolConfig, additionalModelRequestFields}}}`, the
//! inner request validated as Converse would be), `{"inputTokens": N}` for Claude models, and
//! Bedrock's ValidationException for models without token counting.

use super::{error_answer, estimate_tokens, validate, Answer};
use serde_json::{json, Value};

const CONVERSE_MEMBERS: &[&str] = &[
    "messages",
    "system",
    "toolConfig",
    "additionalModelRequestFields",
];

/// Answer one CountTokens request for `model`.
pub(crate) fn answer(model: &str, request: &Value) -> Answer {
    match count(model, request) {
        Ok(n) => Answer::json(200, json!({ "inputTokens": n }).to_string().into_bytes()),
        Err(msg) => error_answer(400, "ValidationException", &msg),
    }
}

fn count(model: &str, request: &Value) -> Result<u64, String> {
    let only = |v: &Value, at: &str, allowed: &[&str]| -> Result<(), String> {
        let obj = v.as_object().ok_or(format!("{at} must be an object"))?;
        match obj.keys().find(|k| !allowed.contains(&k.as_str())) {
            Some(k) => Err(format!("Unrecognized field \"{at}.{k}\"")),
            None => Ok(()),
        }
    };
    only(request, "body", &["input"])?;
    let input = request.get("input").ok_or("input is required")?;
    only(input, "input", &["converse", "invokeModel"])?;
    let converse = input
        .get("converse")
        .ok_or("input.converse is required (this simulator counts Converse input only)")?;
    only(converse, "input.converse", CONVERSE_MEMBERS)?;
    validate::validate_for_model(model, converse)?;
    if !model.contains("anthropic.claude") {
        return Err(format!(
            "The provided model {model} doesn't support counting tokens."
        ));
    }
    Ok(estimate_tokens(&converse["messages"])
        + estimate_tokens(&converse["system"])
        + estimate_tokens(&converse["toolConfig"]))
}
