//! `GET /v1/models`: the model ids a client may send, in OpenAI's list shape.

use super::routes::RouteTable;

/// The list body.
pub fn list(routes: &RouteTable) -> Vec<u8> {
    let data: Vec<serde_json::Value> = routes
        .model_ids()
        .into_iter()
        .map(|id| serde_json::json!({"id": id, "object": "model", "created": 0, "owned_by": "aws-bedrock"}))
        .collect();
    serde_json::to_vec(&serde_json::json!({"object": "list", "data": data})).unwrap_or_default()
}
