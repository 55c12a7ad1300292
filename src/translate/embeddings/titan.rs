//! Amazon Titan Text Embeddings v2 (`amazon.titan-embed-text-v2:0`), one text per call:
//! `{"inputText","dimensions"?,"normalize"}` → `{"embedding":[..],"inputTextTokenCount":N,
//! "embeddingsByType":{"float":[..]}}` (AWS: "Amazon Titan Embeddings G1 - Text", V2 request
//! and response).

use super::{unreadable, Options};
use crate::error::GatewayError;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// The `dimensions` Titan v2 accepts (1024 is its default).
pub const DIMENSIONS: &[u32] = &[256, 512, 1024];

/// The InvokeModel body.
#[derive(Debug, Serialize)]
pub struct Body<'a> {
    /// The one text.
    #[serde(rename = "inputText")]
    pub input_text: &'a str,
    /// The vector length; Bedrock's default (1024) when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dimensions: Option<u32>,
    /// Unit-length vectors (OpenAI's are); Bedrock's default is also `true`.
    pub normalize: bool,
}

/// The body for `texts` (one, the family's batch).
pub fn body<'a>(texts: &[&'a str], o: &Options) -> Body<'a> {
    Body {
        input_text: texts.first().copied().unwrap_or_default(),
        dimensions: o.dimensions,
        normalize: o.normalize,
    }
}

#[derive(Deserialize)]
struct Answer {
    #[serde(default)]
    embedding: Option<Vec<f32>>,
    #[serde(default, rename = "embeddingsByType")]
    by_type: HashMap<String, serde_json::Value>,
    #[serde(default, rename = "inputTextTokenCount")]
    tokens: Option<u64>,
}

/// The one vector of an answer and its `inputTextTokenCount`.
pub fn vectors(body: &[u8]) -> Result<(Vec<Vec<f32>>, Option<u64>), GatewayError> {
    let mut a: Answer = serde_json::from_slice(body).map_err(|e| unreadable("Titan", &e))?;
    let v = match a.embedding.take() {
        Some(v) => v,
        None => {
            let float =
                a.by_type
                    .remove("float")
                    .ok_or_else(|| GatewayError::UpstreamBadResponse {
                        message: "Titan embeddings answer without `embedding`".into(),
                    })?;
            serde_json::from_value(float).map_err(|e| unreadable("Titan", &e))?
        }
    };
    Ok((vec![v], a.tokens))
}
