//! Cohere Embed v3/v4: `{texts ≤ 96, input_type, embedding_types?, truncate?, output_dimension?
//! (v4)}` → `embeddings_floats` or `embeddings_by_type`, the token count in the header.

use super::{ok, one_of, only_keys, quantized, tokens, vector, Answered};
use crate::translate::names::{fnv1a_from, FNV_BASIS};
use serde_json::{json, Map, Value};

/// Check the body and answer it.
pub(super) fn answer(req: &Value, v4: bool, light: bool) -> Answered {
    let o = req.as_object().ok_or("expected an object")?;
    let v3_keys: &[&str] = &[
        "texts",
        "images",
        "input_type",
        "truncate",
        "embedding_types",
    ];
    let v4_keys: &[&str] = &[
        "texts",
        "images",
        "inputs",
        "input_type",
        "truncate",
        "embedding_types",
        "output_dimension",
        "max_tokens",
    ];
    only_keys(o, "#", if v4 { v4_keys } else { v3_keys })?;
    let kinds: &[&str] = if v4 {
        &[
            "search_document",
            "search_query",
            "classification",
            "clustering",
        ]
    } else {
        &[
            "search_document",
            "search_query",
            "classification",
            "clustering",
            "image",
        ]
    };
    match o.get("input_type").and_then(Value::as_str) {
        Some(k) if kinds.contains(&k) => {}
        Some(k) => {
            return Err(format!(
                "Malformed input request: #/input_type: {k} is not a valid enum value"
            ))
        }
        None => {
            return Err("Malformed input request: #: required key [input_type] not found".into())
        }
    }
    let texts: Vec<String> = match o.get("texts") {
        Some(Value::Array(a)) => a
            .iter()
            .map(|t| t.as_str().map(str::to_owned))
            .collect::<Option<_>>()
            .ok_or("Malformed input request: #/texts: expected type: String")?,
        Some(_) => return Err("Malformed input request: #/texts: expected type: JSONArray".into()),
        None => return Err("Malformed input request: the simulator embeds texts only: #: required key [texts] not found".into()),
    };
    if texts.len() > 96 {
        return Err(format!(
            "Malformed input request: #/texts: expected maximum item count: 96, found: {}",
            texts.len()
        ));
    }
    if let Some(t) = texts.iter().find(|t| !v4 && t.chars().count() > 2048) {
        return Err(format!(
            "Malformed input request: #/texts: expected maxLength: 2048, actual: {}",
            t.chars().count()
        ));
    }
    let types = match o.get("embedding_types") {
        None => None,
        Some(Value::Array(a)) => {
            let all = ["float", "int8", "uint8", "binary", "ubinary"];
            let names: Option<Vec<&str>> = a.iter().map(Value::as_str).collect();
            match names {
                Some(n) if !n.is_empty() && n.iter().all(|t| all.contains(t)) => Some(n),
                _ => return Err("Malformed input request: #/embedding_types: expected a list of float, int8, uint8, binary, ubinary".into()),
            }
        }
        Some(_) => {
            return Err(
                "Malformed input request: #/embedding_types: expected type: JSONArray".into(),
            )
        }
    };
    let native = if light { 384 } else { 1024 };
    let dims = if v4 {
        one_of(
            o.get("output_dimension"),
            "#/output_dimension",
            &[256, 512, 1024, 1536],
            1536,
        )?
    } else {
        native
    };
    let vectors: Vec<Vec<f32>> = texts
        .iter()
        .map(|t| vector(t, dims as usize, true))
        .collect();
    let embeddings = match &types {
        None => json!(vectors),
        Some(types) => {
            let mut by = Map::new();
            for t in types {
                let v = if *t == "float" {
                    json!(vectors)
                } else {
                    json!(quantized(&vectors))
                };
                by.insert((*t).to_owned(), v);
            }
            Value::Object(by)
        }
    };
    let kind = if types.is_some() {
        "embeddings_by_type"
    } else {
        "embeddings_floats"
    };
    let id = format!(
        "sim-{:016x}",
        fnv1a_from(FNV_BASIS, texts.concat().as_bytes())
    );
    let body = json!({"id": id, "embeddings": embeddings, "response_type": kind, "texts": texts});
    let tokens = texts.iter().map(|t| tokens(t)).sum();
    Ok((texts, ok(body, tokens)))
}
