//! Nova multimodal embeddings, synchronous text: `{taskType: SINGLE_EMBEDDING,
//! singleEmbeddingParams: {embeddingPurpose, embeddingDimension?, text: {truncationMode?, value}}}`
//! → `{embeddings: [{embeddingType: TEXT, embedding}]}`, the token count in the header.

use super::{ok, one_of, only_keys, tokens, vector, Answered};
use serde_json::{json, Value};

/// Check the body and answer it.
pub(super) fn answer(req: &Value) -> Answered {
    let o = req.as_object().ok_or("expected an object")?;
    only_keys(
        o,
        "#",
        &["schemaVersion", "taskType", "singleEmbeddingParams"],
    )?;
    if let Some(v) = o.get("schemaVersion") {
        if v.as_str() != Some("nova-multimodal-embed-v1") {
            return Err(format!(
                "Malformed input request: #/schemaVersion: {v} is not a valid enum value"
            ));
        }
    }
    match o.get("taskType").and_then(Value::as_str) {
        Some("SINGLE_EMBEDDING") => {}
        Some(t) => return Err(format!("Malformed input request: #/taskType: {t} is not supported by InvokeModel (SINGLE_EMBEDDING only)")),
        None => return Err("Malformed input request: #: required key [taskType] not found".into()),
    }
    let p = o
        .get("singleEmbeddingParams")
        .and_then(Value::as_object)
        .ok_or("Malformed input request: #: required key [singleEmbeddingParams] not found")?;
    let at = "#/singleEmbeddingParams";
    only_keys(
        p,
        at,
        &[
            "embeddingPurpose",
            "embeddingDimension",
            "text",
            "image",
            "audio",
            "video",
        ],
    )?;
    let purposes = [
        "GENERIC_INDEX",
        "GENERIC_RETRIEVAL",
        "TEXT_RETRIEVAL",
        "IMAGE_RETRIEVAL",
        "VIDEO_RETRIEVAL",
        "DOCUMENT_RETRIEVAL",
        "AUDIO_RETRIEVAL",
        "CLASSIFICATION",
        "CLUSTERING",
    ];
    match p.get("embeddingPurpose").and_then(Value::as_str) {
        Some(x) if purposes.contains(&x) => {}
        Some(x) => {
            return Err(format!(
                "Malformed input request: {at}/embeddingPurpose: {x} is not a valid enum value"
            ))
        }
        None => {
            return Err(format!(
                "Malformed input request: {at}: required key [embeddingPurpose] not found"
            ))
        }
    }
    let dims = one_of(
        p.get("embeddingDimension"),
        &format!("{at}/embeddingDimension"),
        &[256, 384, 1024, 3072],
        3072,
    )?;
    if ["image", "audio", "video"]
        .iter()
        .any(|k| p.contains_key(*k))
    {
        return Err(format!(
            "Malformed input request: {at}: the simulator embeds text only"
        ));
    }
    let t = p.get("text").and_then(Value::as_object).ok_or(format!(
        "Malformed input request: {at}: exactly one of text, image, audio, video is required"
    ))?;
    only_keys(
        t,
        &format!("{at}/text"),
        &["truncationMode", "value", "source"],
    )?;
    if let Some(m) = t.get("truncationMode") {
        if !matches!(m.as_str(), Some("START" | "END" | "NONE")) {
            return Err(format!(
                "Malformed input request: {at}/text/truncationMode: {m} is not a valid enum value"
            ));
        }
    }
    let text = match t.get("value") {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        _ => {
            return Err(format!(
                "Malformed input request: {at}/text/value: a non-empty string is required"
            ))
        }
    };
    let v = vector(&text, dims as usize, true);
    let body = json!({"embeddings": [{"embeddingType": "TEXT", "embedding": v}]});
    let tokens = tokens(&text);
    Ok((vec![text], ok(body, tokens)))
}
