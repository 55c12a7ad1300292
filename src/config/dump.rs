//! `/config_dump`: the effective configuration as JSON, in the shape the guide's `jq` queries
//! read. Secret values are never part of it, only the names of the secrets that hold them.

use super::model::{BackendAuth, Config, Source};
use serde_json::{json, Value};

fn name(kind: &str, name: &str, namespace: &str) -> Value {
    json!({"kind": kind, "name": name, "namespace": namespace})
}

/// The effective configuration as JSON. Secret values are never part of it: only the names of
/// the secrets that hold them.
pub(crate) fn config_dump(c: &Config) -> Value {
    let manifests = matches!(c.source, Source::Manifests { .. });
    let (backend_kind, policy_kind) = if manifests {
        ("AgentgatewayBackend", "AgentgatewayPolicy")
    } else {
        ("Backend", "Policy")
    };
    let listeners: Vec<Value> = c
        .listeners
        .iter()
        .map(|l| {
            let mut v = serde_json::to_value(l).unwrap_or(Value::Null);
            v["auth"] = json!({"apiKeys": l.api_keys.as_ref().map(|k| k.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>())});
            v
        })
        .collect();
    let backends: Vec<Value> = c
        .backends
        .iter()
        .map(|b| {
            let auth = match &b.auth {
                BackendAuth::Static { secret, role, .. } => {
                    json!({"aws": {"secretRef": {"name": secret}, "assumeRole": role}})
                }
                BackendAuth::Implicit { role } => {
                    json!({"aws": {"implicit": true, "assumeRole": role}})
                }
                BackendAuth::ApiKey { secret, .. } => {
                    json!({"apiKey": {"secretRef": {"name": secret}}})
                }
            };
            json!({
                "key": format!("{}/{}", b.namespace, b.name),
                "name": name(backend_kind, &b.name, &b.namespace),
                "backend": {"ai": {"provider": {"bedrock": {
                    "model": b.model,
                    "modelFamily": b.model_family,
                    "anthropicBetas": b.anthropic_betas,
                    "region": b.region,
                    "endpoint": b.endpoint.base_url,
                }}}, "policies": {"auth": auth, "tls": {"caFile": b.ca_file}}},
            })
        })
        .collect();
    let routes: Vec<Value> = c
        .routes
        .iter()
        .map(|r| {
            json!({
                "key": format!("{}/{}", r.namespace, r.name),
                "name": name("HTTPRoute", &r.name, &r.namespace),
                "matches": r.matches,
                "backendRefs": r.backends.iter().map(|(p, b)| json!({"name": b.name, "namespace": b.namespace, "priority": p})).collect::<Vec<_>>(),
                "retry": r.retry,
                "failover": r.failover,
                "timeouts": r.timeouts,
            })
        })
        .collect();
    let mut policies = Vec::new();
    for p in &c.policies {
        for t in &p.targets {
            // The guide's key form with manifests; the native one otherwise.
            let key = if manifests {
                format!(
                    "backend/{}/{}:ai:{}/{}",
                    p.namespace, p.name, t.namespace, t.name
                )
            } else {
                format!(
                    "{}/{}:backend.ai:{}/{}",
                    p.namespace, p.name, t.namespace, t.name
                )
            };
            let mut policy = json!({"backend": {"aI": {
                "defaults": {}, "overrides": {}, "promptCaching": p.prompt_caching,
            }}});
            // Only when set: the guide's queries compare the policy object whole.
            if let Some(rl) = p.rate_limit.as_deref() {
                policy["rateLimit"] = serde_json::to_value(rl).unwrap_or(Value::Null);
            }
            policies.push(json!({
                "key": key,
                "name": name(policy_kind, &p.name, &p.namespace),
                "target": {"route": {"name": t.name, "namespace": t.namespace, "kind": t.kind}},
                "policy": policy,
            }));
        }
    }
    json!({
        "listeners": listeners,
        "admin": {"address": c.admin},
        "metrics": {"address": c.metrics},
        "backends": backends,
        "routes": routes,
        "policies": policies,
        "server": c.server,
    })
}
