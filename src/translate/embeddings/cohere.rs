//! Cohere Embed v3 (`cohere.embed-english-v3`, `cohere.embed-multilingual-v3`) and v4
//! (`cohere.embed-v4:0`), up to 96 texts per call: `{"texts","input_type","embedding_types":
//! ["float"],"output_dimension"? (v4)}` → `{"id","embeddings":{"float":[[..],..]},
//! "response_type":"embeddings_by_type","texts"}` (or, without `embedding_types`, `embeddings`
//! as a bare array: `embeddings_floats`). Token counts come in the
//! `X-Amzn-Bedrock-Input-Token-Count` response header, or Cohere's `meta.billed_units` when the
//! body carries it (AWS: "Cohere Embed v3", "Cohere Embed v4").

use super::{unreadable, Options, Purpose};
use crate::error::GatewayError;
use serde::{Deserialize, Serialize};

/// Texts per call (Bedrock's limit for both versions).
pub const MAX_TEXTS: usize = 96;

/// The `output_dimension` values v4 accepts (1536 is its default).
pub const V4_DIMENSIONS: &[u32] = &[256, 512, 1024, 1536];

/// The InvokeModel body.
#[derive(Debug, Serialize)]
pub struct Body<'a> {
    /// The batch, in input order.
    pub texts: &'a [&'a str],
    /// What the vectors are for.
    pub input_type: &'static str,
    /// Always `["float"]`: base64 is encoded by the gateway from the floats.
    pub embedding_types: [&'static str; 1],
    /// v4 only: the vector length.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output_dimension: Option<u32>,
}

/// The body for a batch of `texts`.
pub fn body<'a>(texts: &'a [&'a str], o: &Options, v4: bool) -> Body<'a> {
    Body {
        texts,
        input_type: match o.purpose {
            Purpose::Document => "search_document",
            Purpose::Query => "search_query",
            Purpose::Classification => "classification",
            Purpose::Clustering => "clustering",
        },
        embedding_types: ["float"],
        output_dimension: if v4 { o.dimensions } else { None },
    }
}

#[derive(Deserialize)]
struct Answer {
    embeddings: Embeddings,
    /// Cohere's own `meta.billed_units.input_tokens`, when Bedrock passes it through.
    #[serde(default)]
    meta: Option<Meta>,
}

#[derive(Deserialize)]
struct Meta {
    #[serde(default)]
    billed_units: Option<Billed>,
}

#[derive(Deserialize)]
struct Billed {
    #[serde(default)]
    input_tokens: Option<u64>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Embeddings {
    /// `embeddings_floats`.
    Floats(Vec<Vec<f32>>),
    /// `embeddings_by_type`.
    ByType {
        #[serde(default)]
        float: Option<Vec<Vec<f32>>>,
    },
}

/// The vectors of an answer, in text order, and `meta.billed_units.input_tokens` if the body
/// has it (Bedrock's token header is the usual source).
pub fn vectors(body: &[u8]) -> Result<(Vec<Vec<f32>>, Option<u64>), GatewayError> {
    let a: Answer = serde_json::from_slice(body).map_err(|e| unreadable("Cohere", &e))?;
    let tokens = a
        .meta
        .and_then(|m| m.billed_units)
        .and_then(|b| b.input_tokens);
    match a.embeddings {
        Embeddings::Floats(v) | Embeddings::ByType { float: Some(v) } => Ok((v, tokens)),
        Embeddings::ByType { float: None } => Err(GatewayError::UpstreamBadResponse {
            message: "Cohere embeddings answer without float embeddings".into(),
        }),
    }
}
