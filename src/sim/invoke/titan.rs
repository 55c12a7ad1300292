//! Titan Text Embeddings v2: `{inputText, dimensions?, normalize?, embeddingTypes?}` →
//! `{embedding, inputTextTokenCount, embeddingsByType}` and the token header.

use super::{ok, one_of, only_keys, tokens, vector, Answered};
use serde_json::{json, Value};

/// Check the body and answer it.
pub(super) fn answer(req: &Value) -> Answered {
    let o = req.as_object().ok_or("expected an object")?;
    only_keys(
        o,
        "#",
        &["inputText", "dimensions", "normalize", "embeddingTypes"],
    )?;
    let text = match o.get("inputText") {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        Some(Value::String(_)) => {
            return Err(
                "Malformed input request: #/inputText: expected minLength: 1, actual: 0".into(),
            )
        }
        _ => return Err("Malformed input request: #: required key [inputText] not found".into()),
    };
    let dims = one_of(o.get("dimensions"), "#/dimensions", &[256, 512, 1024], 1024)?;
    let normalize = match o.get("normalize") {
        None => true,
        Some(Value::Bool(b)) => *b,
        Some(v) => {
            return Err(format!(
                "Malformed input request: #/normalize: expected type: Boolean, found: {v}"
            ))
        }
    };
    if let Some(t) = o.get("embeddingTypes") {
        let ok = t.as_array().is_some_and(|a| {
            a.iter()
                .all(|x| matches!(x.as_str(), Some("float" | "binary")))
        });
        if !ok {
            return Err(
                "Malformed input request: #/embeddingTypes: expected [float, binary]".into(),
            );
        }
    }
    let v = vector(&text, dims as usize, normalize);
    let tokens = tokens(&text);
    let body =
        json!({"embedding": v, "inputTextTokenCount": tokens, "embeddingsByType": {"float": v}});
    Ok((vec![text], ok(body, tokens)))
}
