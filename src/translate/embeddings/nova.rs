//! Amazon Nova multimodal embeddings (`amazon.nova-2-multimodal-embeddings-v1:0`), text only,
//! one text per call: `{"taskType":"SINGLE_EMBEDDING","singleEmbeddingParams":{
//! "embeddingPurpose","embeddingDimension","text":{"truncationMode":"NONE","value"}}}` →
//! `{"embeddings":[{"embeddingType":"TEXT","embedding":[..]}]}`; the token count is in the
//! `X-Amzn-Bedrock-Input-Token-Count` header (AWS Nova user guide: "Complete embeddings
//! request and response schema").

use super::{unreadable, Options, Purpose};
use crate::error::GatewayError;
use serde::{Deserialize, Serialize};

/// The `embeddingDimension` values Nova accepts.
pub const DIMENSIONS: &[u32] = &[256, 384, 1024, 3072];

/// Nova's default vector length, sent when the client names none.
pub const DEFAULT_DIMENSION: u32 = 3072;

/// The InvokeModel body.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Body<'a> {
    /// Always `SINGLE_EMBEDDING` (the synchronous task).
    pub task_type: &'static str,
    /// The one text and its options.
    pub single_embedding_params: Params<'a>,
}

/// `singleEmbeddingParams`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Params<'a> {
    /// `GENERIC_INDEX` for documents, `GENERIC_RETRIEVAL` for queries, `CLASSIFICATION`,
    /// `CLUSTERING`.
    pub embedding_purpose: &'static str,
    /// The vector length.
    pub embedding_dimension: u32,
    /// The text.
    pub text: Text<'a>,
}

/// `singleEmbeddingParams.text`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Text<'a> {
    /// `NONE`: a text past the model's limit is an error, as with OpenAI, not cut silently.
    pub truncation_mode: &'static str,
    /// The text.
    pub value: &'a str,
}

/// The body for `texts` (one, the family's batch).
pub fn body<'a>(texts: &[&'a str], o: &Options) -> Body<'a> {
    Body {
        task_type: "SINGLE_EMBEDDING",
        single_embedding_params: Params {
            embedding_purpose: match o.purpose {
                Purpose::Document => "GENERIC_INDEX",
                Purpose::Query => "GENERIC_RETRIEVAL",
                Purpose::Classification => "CLASSIFICATION",
                Purpose::Clustering => "CLUSTERING",
            },
            embedding_dimension: o.dimensions.unwrap_or(DEFAULT_DIMENSION),
            text: Text {
                truncation_mode: "NONE",
                value: texts.first().copied().unwrap_or_default(),
            },
        },
    }
}

#[derive(Deserialize)]
struct Answer {
    embeddings: Vec<Item>,
}

#[derive(Deserialize)]
struct Item {
    embedding: Vec<f32>,
}

/// The vector of an answer (no token count in the body).
pub fn vectors(body: &[u8]) -> Result<(Vec<Vec<f32>>, Option<u64>), GatewayError> {
    let a: Answer = serde_json::from_slice(body).map_err(|e| unreadable("Nova", &e))?;
    Ok((
        a.embeddings.into_iter().map(|i| i.embedding).collect(),
        None,
    ))
}
