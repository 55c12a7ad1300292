//! The request's inputs and options, checked against what the model family accepts: every bad
//! input is a 400 that names the field.

use super::{cohere, nova, titan, Family, Options, Purpose, MAX_INPUTS};
use crate::error::GatewayError;
use crate::openai::embeddings::{EmbeddingsRequest, Input, Item};

/// The input texts, in order; every bad input is refused by name.
pub(super) fn texts<'r>(input: &'r Input<'_>) -> Result<Vec<&'r str>, GatewayError> {
    let bad = |m: String| GatewayError::invalid(m, Some("input"));
    let texts: Vec<&str> = match input {
        Input::One(s) => vec![s.as_ref()],
        Input::Many(items) => {
            if items.is_empty() {
                return Err(bad("input must not be an empty array".into()));
            }
            if items.len() > MAX_INPUTS {
                return Err(bad(format!(
                    "input has {} items; at most {MAX_INPUTS} are accepted per request",
                    items.len()
                )));
            }
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                match item {
                    Item::Text(s) => out.push(s.as_ref()),
                    Item::Tokens => {
                        return Err(bad(format!(
                            "input[{i}] is token ids; Bedrock embeds text only: send strings"
                        )))
                    }
                }
            }
            out
        }
    };
    if let Some(i) = texts.iter().position(|t| t.is_empty()) {
        let at = match input {
            Input::One(_) => "input".to_owned(),
            Input::Many(_) => format!("input[{i}]"),
        };
        return Err(bad(format!(
            "{at} is an empty string; there is nothing to embed"
        )));
    }
    Ok(texts)
}

/// The request's options, checked against what `family` accepts.
pub(super) fn options(
    family: Family,
    model: &str,
    req: &EmbeddingsRequest<'_>,
) -> Result<Options, GatewayError> {
    let allowed: &[u32] = match family {
        Family::TitanV2 => titan::DIMENSIONS,
        Family::CohereV3 if model.contains("light") => &[384],
        Family::CohereV3 => &[1024],
        Family::CohereV4 => cohere::V4_DIMENSIONS,
        Family::Nova => nova::DIMENSIONS,
    };
    let dimensions = match req.dimensions {
        None => None,
        Some(d) => match allowed.iter().find(|&&a| u64::from(a) == d) {
            Some(&a) => Some(a),
            None => {
                let list: Vec<String> = allowed.iter().map(u32::to_string).collect();
                return Err(GatewayError::invalid(
                    format!(
                        "dimensions {d} is not supported by {model}: use one of {}",
                        list.join(", ")
                    ),
                    Some("dimensions"),
                ));
            }
        },
    };
    let purpose = match req.input_type.as_deref() {
        None => Purpose::Document,
        Some(_) if family == Family::TitanV2 => {
            return Err(GatewayError::unsupported(
                "input_type",
                format!("{model} takes no input_type"),
            ))
        }
        Some("search_document") => Purpose::Document,
        Some("search_query") => Purpose::Query,
        Some("classification") => Purpose::Classification,
        Some("clustering") => Purpose::Clustering,
        Some(other) => {
            return Err(GatewayError::invalid(
                format!(
                    "input_type `{other}` is not one of search_document, search_query, \
                     classification, clustering"
                ),
                Some("input_type"),
            ))
        }
    };
    if req.normalize.is_some() && family != Family::TitanV2 {
        return Err(GatewayError::unsupported(
            "normalize",
            format!("{model} takes no normalize flag (Titan only)"),
        ));
    }
    Ok(Options {
        dimensions,
        purpose,
        normalize: req.normalize.unwrap_or(true),
    })
}
