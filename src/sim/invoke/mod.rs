//! `POST /model/{id}/invoke` for the embeddings models: Titan Text Embeddings v2, Cohere Embed
//! v3/v4 and Nova multimodal embeddings (text). Each body is checked against the model's
//! documented request shape (a bad one is Bedrock's `ValidationException`), and answered with
//! deterministic unit vectors of the requested dimension, seeded by FNV-1a of the text, with
//! the token count where Bedrock puts it (Titan: `inputTextTokenCount` and the header; Cohere,
//! Nova: the `X-Amzn-Bedrock-Input-Token-Count` header). `[sim:fail=N:Kind]` and
//! `[sim:retry-after=S]` in the first text schedule faults, as for converse.

mod cohere;
mod nova;
mod titan;

use super::{directive, error_answer, Answer, Simulator};
use crate::bedrock::exceptions::status_of;
use crate::translate::names::{fnv1a_from, FNV_BASIS};
use serde_json::{Map, Value};

const TOKENS_HEADER: &str = "x-amzn-bedrock-input-token-count";

impl Simulator {
    /// Answer an InvokeModel request for `model_enc` (as it appears in the path).
    pub(super) fn invoke(
        &self,
        path: &str,
        model_enc: &str,
        headers: &[(String, String)],
        body: &[u8],
    ) -> Answer {
        let model = percent_encoding::percent_decode_str(model_enc)
            .decode_utf8_lossy()
            .into_owned();
        if self.options.verify {
            if let Err((kind, msg)) = self.verify_auth(path, headers, body) {
                return error_answer(403, kind, &msg);
            }
        }
        let request: Value = match serde_json::from_slice(body) {
            Ok(Value::Object(o)) => Value::Object(o),
            Ok(_) => return invalid("Malformed input request: #: expected type: JSONObject"),
            Err(e) => return invalid(&format!("Malformed input request: {e}")),
        };
        let answered = match family(&model) {
            Some(Family::Titan) => titan::answer(&request),
            Some(Family::Cohere { v4 }) => cohere::answer(&request, v4, model.contains("light")),
            Some(Family::Nova) => nova::answer(&request),
            None => Err(format!(
                "The provided model identifier is invalid for InvokeModel in the simulator: {model}"
            )),
        };
        let (texts, answer) = match answered {
            Ok(a) => a,
            Err(msg) => return invalid(&msg),
        };
        if let Some(fault) = texts.first().and_then(|t| self.invoke_fault(t)) {
            return fault;
        }
        answer
    }

    /// The `[sim:fail=N:Kind]` schedule keyed by the first text (HTTP errors only).
    fn invoke_fault(&self, text: &str) -> Option<Answer> {
        let (n, kind) = directive(text, "fail")?.split_once(':')?;
        let n: u32 = n.parse().ok()?;
        let seen = {
            let mut faults = self.faults.lock().ok()?;
            if faults.len() > 10_000 {
                faults.clear();
            }
            let seen = faults.entry(text.to_owned()).or_insert(0);
            *seen += 1;
            *seen
        };
        if seen > n {
            return None;
        }
        let message = format!("simulated {kind} ({seen} of {n})");
        let mut answer = error_answer(status_of(kind), kind, &message);
        if let Some(secs) = directive(text, "retry-after") {
            answer.headers.push(("retry-after", secs.to_owned()));
        }
        Some(answer)
    }
}

enum Family {
    Titan,
    Cohere { v4: bool },
    Nova,
}

/// The embeddings family of a model id (inference-profile prefixes and ARNs included).
fn family(model: &str) -> Option<Family> {
    if model.contains("amazon.titan-embed-text-v2") {
        Some(Family::Titan)
    } else if model.contains("cohere.embed-v4") {
        Some(Family::Cohere { v4: true })
    } else if model.contains("cohere.embed-") && model.contains("-v3") {
        Some(Family::Cohere { v4: false })
    } else if model.contains("amazon.nova-2-multimodal-embeddings") {
        Some(Family::Nova)
    } else {
        None
    }
}

fn invalid(msg: &str) -> Answer {
    error_answer(400, "ValidationException", msg)
}

pub(super) type Answered = Result<(Vec<String>, Answer), String>;

/// Refuse keys the model's schema does not have, as Bedrock's schema validation does.
pub(super) fn only_keys(o: &Map<String, Value>, at: &str, allowed: &[&str]) -> Result<(), String> {
    match o.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(k) => Err(format!(
            "Malformed input request: {at}: extraneous key [{k}] is not permitted, please \
             reformat your input and try again."
        )),
        None => Ok(()),
    }
}

pub(super) fn one_of(
    v: Option<&Value>,
    at: &str,
    allowed: &[u64],
    default: u64,
) -> Result<u64, String> {
    match v {
        None => Ok(default),
        Some(v) => match v.as_u64() {
            Some(d) if allowed.contains(&d) => Ok(d),
            _ => Err(format!(
                "Malformed input request: {at}: {v} is not a valid enum value"
            )),
        },
    }
}

/// A 200 with Bedrock's input-token header.
pub(super) fn ok(body: Value, tokens: u64) -> Answer {
    let mut a = Answer::json(200, body.to_string().into_bytes());
    a.headers.push((TOKENS_HEADER, tokens.to_string()));
    a
}

/// The simulator's token count of a text: one per four characters, at least one.
pub(crate) fn tokens(text: &str) -> u64 {
    (text.chars().count() as u64).div_ceil(4).max(1)
}

/// The deterministic vector of `text`: `dims` values in [-1, 1) from a xorshift generator
/// seeded by FNV-1a of the text, scaled to unit length when `normalize`.
pub(crate) fn vector(text: &str, dims: usize, normalize: bool) -> Vec<f32> {
    let mut s = fnv1a_from(FNV_BASIS, text.as_bytes()) | 1;
    let mut v: Vec<f64> = (0..dims)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s >> 11) as f64 / (1u64 << 52) as f64 - 1.0
        })
        .collect();
    if normalize {
        let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt();
        if norm > 0.0 {
            v.iter_mut().for_each(|x| *x /= norm);
        }
    }
    v.into_iter().map(|x| x as f32).collect()
}

pub(super) fn quantized(vectors: &[Vec<f32>]) -> Vec<Vec<i32>> {
    vectors
        .iter()
        .map(|v| v.iter().map(|x| (x * 127.0).round() as i32).collect())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn call(model: &str, body: Value) -> Answer {
        let sim = Simulator::new(super::super::SimOptions {
            verify: false,
            ..Default::default()
        });
        let path = format!("/model/{model}/invoke");
        sim.answer("POST", &path, &[], body.to_string().as_bytes(), "p")
    }

    fn json_of(a: &Answer) -> Value {
        match &a.body {
            super::super::Body::Json(b) => serde_json::from_slice(b).unwrap(),
            super::super::Body::EventStream { .. } => panic!("not JSON"),
        }
    }

    #[test]
    fn vectors_are_deterministic_unit_and_sized() {
        let a = vector("hello", 256, true);
        assert_eq!(a, vector("hello", 256, true));
        assert_ne!(a, vector("hellp", 256, true));
        assert_eq!(a.len(), 256);
        let norm: f64 = a.iter().map(|x| f64::from(*x).powi(2)).sum::<f64>().sqrt();
        assert!((norm - 1.0).abs() < 1e-5, "{norm}");
        assert!(vector("x", 8, false)
            .iter()
            .all(|x| (-1.0..1.0).contains(x)));
    }

    #[test]
    fn each_family_answers_in_its_shape() {
        let a = call(
            "amazon.titan-embed-text-v2%3A0",
            json!({"inputText": "abcdefgh", "dimensions": 512}),
        );
        assert_eq!(a.status, 200);
        let v = json_of(&a);
        assert_eq!(v["embedding"].as_array().unwrap().len(), 512);
        assert_eq!(v["inputTextTokenCount"], 2);
        assert!(a.headers.contains(&(TOKENS_HEADER, "2".to_owned())));

        let a = call(
            "cohere.embed-v4%3A0",
            json!({"texts": ["a", "b"], "input_type": "search_query", "embedding_types": ["float"], "output_dimension": 256}),
        );
        assert_eq!(a.status, 200);
        let v = json_of(&a);
        assert_eq!(v["response_type"], "embeddings_by_type");
        assert_eq!(v["embeddings"]["float"].as_array().unwrap().len(), 2);
        assert_eq!(v["embeddings"]["float"][1].as_array().unwrap().len(), 256);

        let a = call(
            "cohere.embed-english-v3",
            json!({"texts": ["a"], "input_type": "search_document"}),
        );
        let v = json_of(&a);
        assert_eq!(v["response_type"], "embeddings_floats");
        assert_eq!(v["embeddings"][0].as_array().unwrap().len(), 1024);

        let a = call(
            "amazon.nova-2-multimodal-embeddings-v1%3A0",
            json!({"taskType": "SINGLE_EMBEDDING", "singleEmbeddingParams": {"embeddingPurpose": "GENERIC_INDEX", "embeddingDimension": 384, "text": {"truncationMode": "NONE", "value": "hi"}}}),
        );
        assert_eq!(a.status, 200, "{:?}", json_of(&a));
        let v = json_of(&a);
        assert_eq!(v["embeddings"][0]["embeddingType"], "TEXT");
        assert_eq!(
            v["embeddings"][0]["embedding"].as_array().unwrap().len(),
            384
        );
    }

    #[test]
    fn bad_shapes_are_validation_exceptions() {
        for (model, body) in [
            ("amazon.titan-embed-text-v2:0", json!({"texts": ["a"]})),
            (
                "amazon.titan-embed-text-v2:0",
                json!({"inputText": "a", "dimensions": 300}),
            ),
            ("amazon.titan-embed-text-v2:0", json!({"inputText": ""})),
            (
                "amazon.titan-embed-text-v2:0",
                json!({"inputText": "a", "extra": 1}),
            ),
            ("cohere.embed-english-v3", json!({"texts": ["a"]})),
            (
                "cohere.embed-english-v3",
                json!({"texts": ["a"], "input_type": "search_document", "output_dimension": 256}),
            ),
            (
                "cohere.embed-v4:0",
                json!({"texts": vec!["a"; 97], "input_type": "search_document"}),
            ),
            (
                "cohere.embed-v4:0",
                json!({"texts": ["a"], "input_type": "search_document", "output_dimension": 100}),
            ),
            (
                "amazon.nova-2-multimodal-embeddings-v1:0",
                json!({"taskType": "SINGLE_EMBEDDING", "singleEmbeddingParams": {"embeddingPurpose": "GENERIC_INDEX", "text": {"value": "a"}, "extra": 1}}),
            ),
            (
                "amazon.nova-2-multimodal-embeddings-v1:0",
                json!({"taskType": "SEGMENTED_EMBEDDING"}),
            ),
            ("amazon.nova-micro-v1:0", json!({"inputText": "a"})),
        ] {
            let a = call(&model.replace(':', "%3A"), body.clone());
            assert_eq!(a.status, 400, "{model} {body}");
            assert!(a
                .headers
                .iter()
                .any(|(k, v)| *k == "x-amzn-errortype" && v.starts_with("ValidationException")));
        }
    }
}
