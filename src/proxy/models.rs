//! `GET /v1/models` and `GET /v1/models/{id}`: the model ids a client may send, in OpenAI's
//! list and model shapes.

use super::routes::RouteTable;
use crate::bedrock::catalog;
use crate::error::GatewayError;

fn model(id: &str) -> serde_json::Value {
    let owned_by = catalog::provider(id);
    serde_json::json!({"id": id, "object": "model", "created": 0, "owned_by": owned_by})
}

/// One model, when a route accepts it (`model_not_found` otherwise).
pub(crate) fn get(routes: &RouteTable, id: &str) -> Result<Vec<u8>, GatewayError> {
    let id = percent_encoding::percent_decode_str(id).decode_utf8_lossy();
    if id.is_empty() || !routes.accepts_model(&id) {
        return Err(GatewayError::ModelNotFound {
            model: id.chars().take(256).collect(),
        });
    }
    Ok(serde_json::to_vec(&model(&id)).unwrap_or_default())
}

/// The list body.
pub(crate) fn list(routes: &RouteTable) -> Vec<u8> {
    let data: Vec<serde_json::Value> = routes.model_ids().into_iter().map(model).collect();
    serde_json::to_vec(&serde_json::json!({"object": "list", "data": data})).unwrap_or_default()
}
