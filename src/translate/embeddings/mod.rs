//! OpenAI embeddings ⇄ Bedrock InvokeModel, pure: [`plan`] turns a request into the InvokeModel
//! bodies to send (one per text for Titan and Nova, batches of 96 for Cohere) and [`assemble`]
//! turns their answers, in call order, into the OpenAI list. One file per model family
//! ([`titan`], [`cohere`], [`nova`]); no I/O — the proxy runs the plan.

pub mod cohere;
mod input;
pub mod nova;
pub mod titan;

use crate::error::GatewayError;
use crate::openai::embeddings::{
    Embedding, EmbeddingList, EmbeddingUsage, EmbeddingsRequest, Vector,
};
use base64::Engine;
use input::{options, texts};
use std::ops::Range;

/// The most inputs one request may carry (OpenAI's own limit).
pub const MAX_INPUTS: usize = 2048;

/// An embeddings model family: its request body and answer shapes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// `amazon.titan-embed-text-v2:0`: one text per call.
    TitanV2,
    /// `cohere.embed-english-v3`, `cohere.embed-multilingual-v3`: 96 texts per call, 1024
    /// dimensions (384 for the `light` variants).
    CohereV3,
    /// `cohere.embed-v4:0`: 96 texts per call, `output_dimension`.
    CohereV4,
    /// `amazon.nova-2-multimodal-embeddings-v1:0`: one text per call.
    Nova,
}

impl Family {
    /// The family of a model id, an inference-profile id (`us.`, `global.` ...) or a
    /// foundation-model / inference-profile ARN; `None` for anything else (chat models,
    /// application inference profiles, unknown embedders).
    pub fn detect(model_id: &str) -> Option<Family> {
        let id = model_id.rsplit('/').next().unwrap_or(model_id);
        if model_id.contains(":application-inference-profile/") {
            None
        } else if id.contains("amazon.titan-embed-text-v2") {
            Some(Family::TitanV2)
        } else if id.contains("cohere.embed-v4") {
            Some(Family::CohereV4)
        } else if id.contains("cohere.embed-english-v3")
            || id.contains("cohere.embed-multilingual-v3")
            || id.contains("cohere.embed-english-light-v3")
            || id.contains("cohere.embed-multilingual-light-v3")
        {
            Some(Family::CohereV3)
        } else if id.contains("amazon.nova-2-multimodal-embeddings") {
            Some(Family::Nova)
        } else {
            None
        }
    }

    /// Texts per InvokeModel call.
    pub fn batch(self) -> usize {
        match self {
            Family::TitanV2 | Family::Nova => 1,
            Family::CohereV3 | Family::CohereV4 => cohere::MAX_TEXTS,
        }
    }
}

/// `encoding_format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// A JSON array of numbers (the API's default).
    Float,
    /// Base64 of the little-endian `f32` bytes.
    Base64,
}

/// `input_type`, as Cohere names it (Nova maps it to an `embeddingPurpose`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// `search_document`: texts to store (the default).
    Document,
    /// `search_query`: queries against stored texts.
    Query,
    /// `classification`.
    Classification,
    /// `clustering`.
    Clustering,
}

/// What every call of a request asks, validated for its family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// The vector length asked for (`None`: the model's default).
    pub dimensions: Option<u32>,
    /// Cohere and Nova: what the vectors are for.
    pub purpose: Purpose,
    /// Titan: whether Bedrock normalizes the vector.
    pub normalize: bool,
}

/// One InvokeModel call: which inputs it embeds and its body.
#[derive(Debug, Clone, PartialEq)]
pub struct InvokeCall {
    /// The positions of its inputs in the request.
    pub inputs: Range<usize>,
    /// The JSON body.
    pub body: Vec<u8>,
}

/// The calls that answer one request, for one model.
#[derive(Debug)]
pub struct Plan<'r> {
    /// The model family the bodies are written for.
    pub family: Family,
    /// How the vectors are returned.
    pub encoding: Encoding,
    /// The calls, in input order.
    pub calls: Vec<InvokeCall>,
    texts: Vec<&'r str>,
    options: Options,
}

/// The answer of one call, as Bedrock sent it.
#[derive(Debug, Clone, Copy)]
pub struct CallAnswer<'a> {
    /// The JSON body.
    pub body: &'a [u8],
    /// `X-Amzn-Bedrock-Input-Token-Count`, when present and numeric.
    pub input_tokens: Option<u64>,
}

/// The client's answer and the input tokens it reports.
#[derive(Debug)]
pub struct Answered {
    /// The OpenAI list, serialized.
    pub body: Vec<u8>,
    /// The summed input tokens.
    pub input_tokens: u64,
}

/// Validate the request for `model_id` and write its InvokeModel calls.
pub fn plan<'r>(req: &'r EmbeddingsRequest<'_>, model_id: &str) -> Result<Plan<'r>, GatewayError> {
    let family = Family::detect(model_id).ok_or_else(|| {
        GatewayError::invalid(
            format!(
                "model {model_id} is not a supported embeddings model (Titan Text Embeddings v2, \
                 Cohere Embed v3/v4, Nova multimodal embeddings)"
            ),
            Some("model"),
        )
    })?;
    let texts = texts(&req.input)?;
    let encoding = match req.encoding_format.as_deref() {
        None | Some("float") => Encoding::Float,
        Some("base64") => Encoding::Base64,
        Some(other) => {
            return Err(GatewayError::invalid(
                format!("encoding_format must be `float` or `base64`, not `{other}`"),
                Some("encoding_format"),
            ))
        }
    };
    let options = options(family, model_id, req)?;
    let mut plan = Plan {
        family,
        encoding,
        calls: Vec::new(),
        texts,
        options,
    };
    let n = plan.texts.len();
    let mut start = 0;
    while start < n {
        let inputs = start..(start + family.batch()).min(n);
        start = inputs.end;
        let body = plan.body(family, model_id, inputs.clone())?;
        plan.calls.push(InvokeCall { inputs, body });
    }
    Ok(plan)
}

impl Plan<'_> {
    /// The body of call `k` for another model id (an attempt at a backend whose fixed model
    /// differs): only within a family that batches alike, since the calls are already cut.
    pub fn body_for(&self, k: usize, model_id: &str) -> Result<Vec<u8>, GatewayError> {
        let call = self.calls.get(k).ok_or_else(|| GatewayError::Internal {
            message: format!("embeddings call {k} is not in the plan"),
        })?;
        match Family::detect(model_id) {
            Some(f) if f == self.family => self.body(f, model_id, call.inputs.clone()),
            _ => Err(GatewayError::invalid(
                format!(
                    "model {model_id} is not of the embeddings family of the route's first \
                     backend; a route's embeddings backends must serve one family"
                ),
                Some("model"),
            )),
        }
    }

    fn body(
        &self,
        family: Family,
        model: &str,
        inputs: Range<usize>,
    ) -> Result<Vec<u8>, GatewayError> {
        let texts = self.texts.get(inputs).unwrap_or_default();
        let o = &self.options;
        let body = match family {
            Family::TitanV2 => serde_json::to_vec(&titan::body(texts, o)),
            Family::CohereV3 | Family::CohereV4 => {
                serde_json::to_vec(&cohere::body(texts, o, family == Family::CohereV4))
            }
            Family::Nova => serde_json::to_vec(&nova::body(texts, o)),
        };
        body.map_err(|e| GatewayError::Internal {
            message: format!("serializing the InvokeModel body for {model}: {e}"),
        })
    }
}

/// The OpenAI list from the answers of `plan`'s calls, in call order.
pub fn assemble(
    plan: &Plan<'_>,
    model_id: &str,
    answers: &[CallAnswer<'_>],
) -> Result<Answered, GatewayError> {
    if answers.len() != plan.calls.len() {
        return Err(GatewayError::Internal {
            message: format!("{} answers for {} calls", answers.len(), plan.calls.len()),
        });
    }
    let mut data = Vec::with_capacity(plan.texts.len());
    let mut tokens = 0u64;
    for (call, answer) in plan.calls.iter().zip(answers) {
        let expected = call.inputs.len();
        let (vectors, body_tokens) = match plan.family {
            Family::TitanV2 => titan::vectors(answer.body)?,
            Family::CohereV3 | Family::CohereV4 => cohere::vectors(answer.body)?,
            Family::Nova => nova::vectors(answer.body)?,
        };
        if vectors.len() != expected {
            return Err(GatewayError::UpstreamBadResponse {
                message: format!("{} vectors for {expected} texts", vectors.len()),
            });
        }
        tokens += body_tokens.or(answer.input_tokens).unwrap_or(0);
        for (index, v) in call.inputs.clone().zip(vectors) {
            data.push(Embedding {
                object: "embedding",
                index,
                embedding: encode(v, plan.encoding),
            });
        }
    }
    let list = EmbeddingList {
        object: "list",
        data,
        model: model_id,
        usage: EmbeddingUsage {
            prompt_tokens: tokens,
            total_tokens: tokens,
        },
    };
    let body = serde_json::to_vec(&list).map_err(|e| GatewayError::Internal {
        message: format!("serializing the embeddings answer: {e}"),
    })?;
    Ok(Answered {
        body,
        input_tokens: tokens,
    })
}

/// A vector in the requested encoding; base64 is of the little-endian `f32` bytes, as OpenAI's.
pub fn encode(v: Vec<f32>, encoding: Encoding) -> Vector {
    match encoding {
        Encoding::Float => Vector::Float(v),
        Encoding::Base64 => {
            let bytes: Vec<u8> = v.iter().flat_map(|f| f.to_le_bytes()).collect();
            Vector::Base64(base64::engine::general_purpose::STANDARD.encode(bytes))
        }
    }
}

/// An answer Bedrock sent that cannot be read as `what`.
pub(crate) fn unreadable(what: &str, e: &serde_json::Error) -> GatewayError {
    GatewayError::UpstreamBadResponse {
        message: format!("{what} embeddings answer: {e}"),
    }
}
