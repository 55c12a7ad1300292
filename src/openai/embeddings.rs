//! The OpenAI embeddings API's wire types: the request as clients send it (strings borrowed from
//! the request buffer) and the list answer. No translation logic lives here.

use crate::error::GatewayError;
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::fmt;

/// `POST /v1/embeddings`. Unknown members are ignored, as OpenAI-compatible servers do.
#[derive(Debug, Deserialize)]
pub struct EmbeddingsRequest<'a> {
    /// The model (a Bedrock model id, or a name a route maps).
    #[serde(borrow, default)]
    pub model: Option<Cow<'a, str>>,
    /// The text(s) to embed.
    #[serde(borrow)]
    pub input: Input<'a>,
    /// `float` (default) or `base64`.
    #[serde(borrow, default)]
    pub encoding_format: Option<Cow<'a, str>>,
    /// The vector length wanted (each family accepts its own set).
    #[serde(default)]
    pub dimensions: Option<u64>,
    /// The end user; InvokeModel has no request metadata, so it is accepted and ignored.
    #[serde(borrow, default)]
    pub user: Option<Cow<'a, str>>,
    /// Extension (Cohere, Nova): `search_document` (default), `search_query`, `classification`,
    /// `clustering`.
    #[serde(borrow, default)]
    pub input_type: Option<Cow<'a, str>>,
    /// Extension (Titan): whether Bedrock normalizes the vector (default `true`).
    #[serde(default)]
    pub normalize: Option<bool>,
}

/// `input`: one string, or an array whose items are strings. Token ids (an integer, or an
/// array of integers) are recorded as such so that the translator can refuse them by name.
#[derive(Debug, PartialEq)]
pub enum Input<'a> {
    /// `"input": "text"`.
    One(Cow<'a, str>),
    /// `"input": [...]`, in order.
    Many(Vec<Item<'a>>),
}

/// One item of an `input` array.
#[derive(Debug, Clone, PartialEq)]
pub enum Item<'a> {
    /// A string.
    Text(Cow<'a, str>),
    /// A token id or an array of token ids (OpenAI's pre-tokenized input).
    Tokens,
}

impl<'de: 'a, 'a> Deserialize<'de> for Input<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(InputVisitor(std::marker::PhantomData))
    }
}

struct InputVisitor<'a>(std::marker::PhantomData<&'a ()>);

const INPUT_SHAPE: &str = "a string or an array of strings";

impl<'de: 'a, 'a> Visitor<'de> for InputVisitor<'a> {
    type Value = Input<'a>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(INPUT_SHAPE)
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Input::One(Cow::Borrowed(v)))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Input::One(Cow::Owned(v.to_owned())))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Input::One(Cow::Owned(v)))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        while let Some(item) = seq.next_element::<Item<'a>>()? {
            items.push(item);
        }
        Ok(Input::Many(items))
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Item<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ItemVisitor(std::marker::PhantomData))
    }
}

struct ItemVisitor<'a>(std::marker::PhantomData<&'a ()>);

impl<'de: 'a, 'a> Visitor<'de> for ItemVisitor<'a> {
    type Value = Item<'a>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string")
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Item::Text(Cow::Borrowed(v)))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Item::Text(Cow::Owned(v.to_owned())))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Item::Text(Cow::Owned(v)))
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Ok(Item::Tokens)
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Ok(Item::Tokens)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<de::IgnoredAny>()?.is_some() {}
        Ok(Item::Tokens)
    }
}

/// The answer: `{"object":"list","data":[...],"model":...,"usage":{...}}`.
#[derive(Debug, Serialize)]
pub struct EmbeddingList<'a> {
    /// Always `list`.
    pub object: &'static str,
    /// One entry per input, in input order.
    pub data: Vec<Embedding>,
    /// The Bedrock model id that answered.
    pub model: &'a str,
    /// Input tokens as Bedrock counted them (embeddings have no output tokens).
    pub usage: EmbeddingUsage,
}

/// One vector.
#[derive(Debug, Serialize)]
pub struct Embedding {
    /// Always `embedding`.
    pub object: &'static str,
    /// The position of its input.
    pub index: usize,
    /// The vector, in the requested encoding.
    pub embedding: Vector,
}

/// A vector as floats, or as base64 of its little-endian `f32` bytes (OpenAI's `base64`).
#[derive(Debug, Serialize, PartialEq)]
#[serde(untagged)]
pub enum Vector {
    /// `encoding_format: float`.
    Float(Vec<f32>),
    /// `encoding_format: base64`.
    Base64(String),
}

/// `usage` of an embeddings answer.
#[derive(Debug, Serialize, Clone, Copy, Default, PartialEq, Eq)]
pub struct EmbeddingUsage {
    /// Input tokens.
    pub prompt_tokens: u64,
    /// Equal to `prompt_tokens`.
    pub total_tokens: u64,
}

/// Parse an embeddings request body. Errors name the JSON path at fault.
pub fn parse_embeddings_request(body: &[u8]) -> Result<EmbeddingsRequest<'_>, GatewayError> {
    match body.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'{') => {}
        None => {
            return Err(GatewayError::InvalidJson {
                message: "the request body is empty; send a JSON object".into(),
            })
        }
        Some(_) => {
            return Err(GatewayError::InvalidJson {
                message: "the request body must be a JSON object".into(),
            })
        }
    }
    let mut de = serde_json::Deserializer::from_slice(body);
    let req: EmbeddingsRequest = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let message = if path.is_empty() || path == "." || path == "?" {
            inner.to_string()
        } else {
            format!("{path}: {inner}")
        };
        GatewayError::InvalidJson { message }
    })?;
    de.end().map_err(|e| GatewayError::InvalidJson {
        message: e.to_string(),
    })?;
    Ok(req)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_shapes() {
        let r = parse_embeddings_request(br#"{"model":"m","input":"hi"}"#).unwrap();
        assert_eq!(r.input, Input::One("hi".into()));
        assert!(matches!(r.input, Input::One(Cow::Borrowed(_))));
        let r = parse_embeddings_request(br#"{"input":["a","b\n"],"user":"u"}"#).unwrap();
        assert_eq!(
            r.input,
            Input::Many(vec![Item::Text("a".into()), Item::Text("b\n".into())])
        );
        let r = parse_embeddings_request(br#"{"input":[1,2,3]}"#).unwrap();
        assert_eq!(r.input, Input::Many(vec![Item::Tokens; 3]));
        let r = parse_embeddings_request(br#"{"input":[[1,2],[3]]}"#).unwrap();
        assert_eq!(r.input, Input::Many(vec![Item::Tokens, Item::Tokens]));
    }

    #[test]
    fn bad_shapes_name_the_field() {
        for (body, needle) in [
            (&br#"{"input":5}"#[..], "input"),
            (br#"{"input":{"a":1}}"#, "input"),
            (br#"{"input":[true]}"#, "input"),
            (br#"{"model":"m"}"#, "missing field `input`"),
            (br#"{"input":"a","dimensions":-1}"#, "dimensions"),
            (br#"{"input":"a","normalize":"yes"}"#, "normalize"),
            (br#"[1]"#, "JSON object"),
            (b"  ", "empty"),
        ] {
            let e = parse_embeddings_request(body).unwrap_err();
            assert_eq!(e.status(), 400);
            assert!(e.message().contains(needle), "{}: {}", needle, e.message());
        }
    }

    #[test]
    fn vectors_serialize_as_openai_does() {
        let list = EmbeddingList {
            object: "list",
            data: vec![Embedding {
                object: "embedding",
                index: 0,
                embedding: Vector::Float(vec![0.5, -1.0]),
            }],
            model: "m",
            usage: EmbeddingUsage {
                prompt_tokens: 3,
                total_tokens: 3,
            },
        };
        assert_eq!(
            serde_json::to_string(&list).unwrap(),
            r#"{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.5,-1.0]}],"model":"m","usage":{"prompt_tokens":3,"total_tokens":3}}"#
        );
    }
}
