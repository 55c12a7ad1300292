//! Request parameters every OpenAI-style front-end maps the same way onto Converse: sampling
//! (`temperature`, `top_p`), `metadata` → `requestMetadata`, `service_tier`, and a JSON Schema → native
//! structured output (`outputConfig.textFormat`).

use super::blocks::OBJECT_SCHEMA;
use crate::bedrock::types as cv;
use crate::error::GatewayError;
use serde_json::value::RawValue;
use std::collections::BTreeMap;

/// `temperature`: OpenAI allows 0..2, Bedrock 0..1; values above 1 are clamped to 1.
pub(crate) fn temperature(t: Option<f64>) -> Result<Option<f64>, GatewayError> {
    match t {
        Some(t) if !(0.0..=2.0).contains(&t) => Err(GatewayError::invalid(
            format!("`temperature` must be between 0 and 2, got {t}"),
            Some("temperature"),
        )),
        other => Ok(other.map(|t| t.min(1.0))),
    }
}

/// `top_p`: 0..1 on both sides.
pub(crate) fn top_p(p: Option<f64>) -> Result<Option<f64>, GatewayError> {
    match p {
        Some(p) if !(0.0..=1.0).contains(&p) => Err(GatewayError::invalid(
            format!("`top_p` must be between 0 and 1, got {p}"),
            Some("top_p"),
        )),
        other => Ok(other),
    }
}

/// `metadata` → Bedrock `requestMetadata` (at most 16 entries; keys and values as Bedrock
/// accepts them); empty → none.
pub(crate) fn request_metadata(
    md: Option<&BTreeMap<String, String>>,
) -> Result<Option<&BTreeMap<String, String>>, GatewayError> {
    let Some(md) = md else {
        return Ok(None);
    };
    if md.is_empty() {
        return Ok(None);
    }
    if md.len() > 16 {
        return Err(GatewayError::invalid(
            "`metadata` may hold at most 16 entries (Bedrock requestMetadata)",
            Some("metadata"),
        ));
    }
    for (k, v) in md {
        let key_ok = !k.is_empty()
            && k.len() <= 256
            && k.chars().all(|c| {
                c.is_ascii_alphanumeric() || c.is_whitespace() || ":_@$#=/+,-.".contains(c)
            });
        if !key_ok {
            return Err(GatewayError::invalid(
                format!("`metadata` key `{k}` is not accepted by Bedrock (1-256 chars of letters, digits, spaces and :_@$#=/+,-.)"),
                Some("metadata"),
            ));
        }
        if v.len() > 256 {
            return Err(GatewayError::invalid(
                format!("`metadata` value of `{k}` is longer than Bedrock's 256 characters"),
                Some("metadata"),
            ));
        }
    }
    Ok(Some(md))
}

/// A JSON Schema (any object when absent) → Converse's native structured output format.
pub(crate) fn json_schema_format<'a>(
    schema: Option<&RawValue>,
    name: Option<&'a str>,
    description: Option<&'a str>,
) -> cv::TextFormat<'a> {
    cv::TextFormat {
        kind: "json_schema",
        structure: cv::TextStructure {
            json_schema: cv::JsonSchema {
                schema: schema
                    .map(|s| s.get().to_owned())
                    .unwrap_or_else(|| OBJECT_SCHEMA.to_owned()),
                name,
                description,
            },
        },
    }
}

/// `service_tier` → Bedrock's (auto and default are Bedrock's default: none sent).
pub(crate) fn service_tier(tier: Option<&str>) -> Result<Option<cv::ServiceTier>, GatewayError> {
    Ok(match tier {
        None | Some("auto") | Some("default") => None,
        Some("priority") => Some(cv::ServiceTier { kind: "priority" }),
        Some("flex") => Some(cv::ServiceTier { kind: "flex" }),
        Some(other) => {
            return Err(GatewayError::unsupported(
                "service_tier",
                format!("service_tier `{other}` is not available on Bedrock (auto, default, priority, flex)"),
            ))
        }
    })
}
