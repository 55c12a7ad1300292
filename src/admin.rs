//! The admin listener (default 127.0.0.1:15000): `GET /config_dump` (the effective configuration,
//! secrets never included) and `GET /healthz/ready` (200 once every listener accepts).

use crate::config::model::{BackendAuth, Config};
use async_trait::async_trait;
use pingora::apps::http_app::ServeHttp;
use pingora::protocols::http::ServerSession;
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::time::Duration;

pub struct Admin {
    dump: Vec<u8>,
    listeners: Vec<SocketAddr>,
}

impl Admin {
    pub fn new(config: &Config) -> Self {
        Admin {
            dump: serde_json::to_vec_pretty(&config_dump(config)).unwrap_or_default(),
            listeners: config.listeners.iter().map(|l| l.address).collect(),
        }
    }
}

fn name(kind: &str, name: &str, namespace: &str) -> Value {
    json!({"kind": kind, "name": name, "namespace": namespace})
}

/// The effective configuration as JSON. Secret values are never part of it: only the names of
/// the secrets that hold them.
pub fn config_dump(c: &Config) -> Value {
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
                "name": name("Backend", &b.name, &b.namespace),
                "backend": {"ai": {"provider": {"bedrock": {
                    "model": b.model,
                    "modelFamily": b.model_family,
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
            policies.push(json!({
                "key": format!("{}/{}:backend.ai:{}/{}", p.namespace, p.name, t.namespace, t.name),
                "name": name("Policy", &p.name, &p.namespace),
                "target": {"route": {"name": t.name, "namespace": t.namespace, "kind": t.kind}},
                "policy": {"backend": {"aI": {"promptCaching": p.prompt_caching}}},
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

async fn all_listening(addrs: &[SocketAddr]) -> bool {
    for a in addrs {
        let mut target = *a;
        if target.ip().is_unspecified() {
            target.set_ip(if a.is_ipv4() {
                [127, 0, 0, 1].into()
            } else {
                std::net::Ipv6Addr::LOCALHOST.into()
            });
        }
        match tokio::time::timeout(
            Duration::from_millis(500),
            tokio::net::TcpStream::connect(target),
        )
        .await
        {
            Ok(Ok(_)) => {}
            _ => return false,
        }
    }
    true
}

#[async_trait]
impl ServeHttp for Admin {
    async fn response(&self, session: &mut ServerSession) -> http::Response<Vec<u8>> {
        let path = session.req_header().uri.path().to_owned();
        let (status, body) = match path.as_str() {
            "/config_dump" => (200, self.dump.clone()),
            "/healthz/ready" => {
                if all_listening(&self.listeners).await {
                    (200, b"ready\n".to_vec())
                } else {
                    (503, b"not ready\n".to_vec())
                }
            }
            _ => (404, b"not found\n".to_vec()),
        };
        let ctype = if path == "/config_dump" {
            "application/json"
        } else {
            "text/plain"
        };
        response(status, ctype, body)
    }
}

/// A complete response for the admin and metrics listeners.
pub fn response(status: u16, content_type: &str, body: Vec<u8>) -> http::Response<Vec<u8>> {
    http::Response::builder()
        .status(status)
        .header("content-type", content_type)
        .header("content-length", body.len())
        .body(body)
        .unwrap_or_default()
}
