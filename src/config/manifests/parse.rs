//! Each document → one typed resource of a kind basalt serves (unknown keys are errors naming
//! the document, kind/name and key path), or a warning naming a kind it does not serve.

use super::kinds::{self, Resource};
use super::Doc;
use crate::config::describe_serde_error;
use serde::de::DeserializeOwned;
use serde_yaml::Value;

/// A resource basalt serves.
pub(super) enum Kind {
    Secret(kinds::Secret),
    Backend(Resource<kinds::BackendSpec>),
    Route(Resource<kinds::RouteSpec>),
    Policy(Resource<kinds::PolicySpec>),
    Gateway(Resource<kinds::GatewaySpec>),
}

/// One parsed resource with its identity.
pub(super) struct Parsed {
    /// `file: document N (Kind namespace/name)`, the prefix of its errors.
    pub(super) label: String,
    pub(super) namespace: String,
    pub(super) name: String,
    pub(super) kind: Kind,
}

const GATEWAY_API: [&str; 2] = [
    "gateway.networking.k8s.io/v1",
    "gateway.networking.k8s.io/v1beta1",
];
const AGENTGATEWAY: &str = "agentgateway.dev/v1alpha1";

fn text<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

/// Parse every document (a `v1 List` contributes its `items`).
pub(super) fn parse_all(
    docs: Vec<Doc>,
    errors: &mut Vec<String>,
    warnings: &mut Vec<String>,
) -> Vec<Parsed> {
    let mut out = Vec::new();
    for doc in docs {
        parse_one(doc, &mut out, errors, warnings);
    }
    out
}

fn parse_one(
    doc: Doc,
    out: &mut Vec<Parsed>,
    errors: &mut Vec<String>,
    warnings: &mut Vec<String>,
) {
    let v = &doc.value;
    let (Some(api), Some(kind)) = (text(v, "apiVersion"), text(v, "kind")) else {
        errors.push(format!(
            "{}: not a Kubernetes resource (apiVersion and kind are required)",
            doc.label
        ));
        return;
    };
    let meta = v.get("metadata");
    let name = meta.and_then(|m| text(m, "name")).unwrap_or("").to_owned();
    let namespace = meta
        .and_then(|m| text(m, "namespace"))
        .unwrap_or(crate::config::model::DEFAULT_NAMESPACE)
        .to_owned();
    let label = format!("{} ({kind} {namespace}/{name})", doc.label);
    let gateway_api = GATEWAY_API.contains(&api);
    let parsed = match (api, kind) {
        ("v1", "List") => {
            let items = v.get("items").and_then(Value::as_sequence).cloned();
            for (i, item) in items.into_iter().flatten().enumerate() {
                let label = format!("{} item {}", doc.label, i + 1);
                parse_one(Doc { label, value: item }, out, errors, warnings);
            }
            return;
        }
        ("v1", "Secret") => typed(v, &label, errors).map(Kind::Secret),
        (AGENTGATEWAY, "AgentgatewayBackend") => typed(v, &label, errors).map(Kind::Backend),
        (AGENTGATEWAY, "AgentgatewayPolicy") => typed(v, &label, errors).map(Kind::Policy),
        (_, "HTTPRoute") if gateway_api => typed(v, &label, errors).map(Kind::Route),
        (_, "Gateway") if gateway_api => typed(v, &label, errors).map(Kind::Gateway),
        _ => {
            warnings.push(format!(
                "{label}: {api} {kind} is not served by basalt; the document is ignored"
            ));
            return;
        }
    };
    let Some(kind) = parsed else {
        return;
    };
    if name.is_empty() {
        errors.push(format!("{label}: metadata.name: required key is missing"));
        return;
    }
    out.push(Parsed {
        label,
        namespace,
        name,
        kind,
    });
}

fn typed<T: DeserializeOwned>(v: &Value, label: &str, errors: &mut Vec<String>) -> Option<T> {
    serde_path_to_error::deserialize(v.clone())
        .map_err(|e| {
            let path = e.path().to_string();
            let msg = describe_serde_error(&path, &e.into_inner().to_string());
            errors.push(format!("{label}: {msg}"));
        })
        .ok()
}
