//! The parsed resources → the native config: Secrets → `secrets`, AgentgatewayBackends →
//! `backends`, each HTTPRoute rule → one of `routes`, AgentgatewayPolicies → `policies` (their
//! targets resolved to routes), Gateway listeners → `listeners` (none → `0.0.0.0:8080`).

use super::kinds::{self, Resource};
use super::parse::{parse_all, Kind, Parsed};
use super::{Doc, Options, Translated};
use crate::config::ConfigError;
use base64::Engine;
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, BTreeSet};

use super::origins::Origins;

pub(super) type Key = (String, String);

/// One native route made from an HTTPRoute rule.
pub(super) struct RuleRoute {
    pub(super) rule_name: Option<String>,
    pub(super) native_name: String,
    pub(super) backends: Vec<Key>,
}

#[derive(Default)]
pub(super) struct Builder {
    pub(super) secrets: Vec<Value>,
    pub(super) backends: Vec<Value>,
    pub(super) routes: Vec<Value>,
    pub(super) policies: Vec<Value>,
    pub(super) listeners: Vec<Value>,
    pub(super) origins: Origins,
    pub(super) errors: Vec<String>,
    pub(super) warnings: Vec<String>,
    /// Secrets among the documents: entries by (namespace, name).
    pub(super) secret_entries: BTreeMap<Key, BTreeMap<String, String>>,
    /// Secrets the backends reference.
    pub(super) referenced: BTreeSet<Key>,
    pub(super) backend_names: BTreeSet<Key>,
    pub(super) gateway_names: BTreeSet<Key>,
    /// HTTPRoute (namespace, name) → its rules' native routes.
    pub(super) http_routes: BTreeMap<Key, Vec<RuleRoute>>,
}

pub(super) fn translate(docs: Vec<Doc>, options: &Options) -> Result<Translated, ConfigError> {
    let mut b = Builder::default();
    let parsed = parse_all(docs, &mut b.errors, &mut b.warnings);
    for p in &parsed {
        match &p.kind {
            Kind::Secret(s) => b.secret(p, s),
            Kind::Backend(r) => b.backend(p, r),
            Kind::Gateway(_) => {
                b.gateway_names.insert(key_of(p));
            }
            _ => {}
        }
    }
    b.mounted_secrets(options);
    for p in &parsed {
        if let Kind::Route(r) = &p.kind {
            b.route(p, r);
        }
    }
    for p in &parsed {
        match &p.kind {
            Kind::Policy(r) => b.policy(p, r),
            Kind::Gateway(r) => b.gateway(p, r, options),
            _ => {}
        }
    }
    if b.gateway_names.is_empty() {
        let label = "no Gateway among the manifests (the default listener)";
        b.origins.add("listeners[0]".into(), label, &[]);
        b.listeners
            .push(json!({"name": "default", "address": "0.0.0.0:8080"}));
    }
    if !b.errors.is_empty() {
        return Err(ConfigError(b.errors));
    }
    let native = json!({
        "listeners": b.listeners,
        "secrets": b.secrets,
        "backends": b.backends,
        "routes": b.routes,
        "policies": b.policies,
    });
    let native =
        serde_yaml::to_value(&native).map_err(|e| ConfigError(vec![format!("manifests: {e}")]))?;
    Ok(Translated {
        native,
        origins: b.origins,
        warnings: b.warnings,
    })
}

pub(super) fn key_of(p: &Parsed) -> Key {
    (p.namespace.clone(), p.name.clone())
}

impl Builder {
    fn secret(&mut self, p: &Parsed, s: &kinds::Secret) {
        let mut entries = BTreeMap::new();
        for (k, v) in s.data.iter().flatten() {
            let decoded = base64::engine::general_purpose::STANDARD.decode(v.trim());
            match decoded.map(String::from_utf8) {
                Ok(Ok(text)) => {
                    entries.insert(k.clone(), text);
                }
                Ok(Err(_)) => self
                    .errors
                    .push(format!("{}: data.{k}: value is not UTF-8 text", p.label)),
                Err(_) => self
                    .errors
                    .push(format!("{}: data.{k}: value is not valid base64", p.label)),
            }
        }
        for (k, v) in s.string_data.iter().flatten() {
            entries.insert(k.clone(), v.clone()); // stringData wins, as in Kubernetes
        }
        // The guide's API-key Secret holds `Authorization`; the native key is `apiKey`.
        if let (None, Some(auth)) = (entries.get("apiKey"), entries.get("Authorization")) {
            let key = auth.strip_prefix("Bearer ").unwrap_or(auth).to_owned();
            entries.insert("apiKey".into(), key);
        }
        let i = self.secrets.len();
        self.origins.add(
            format!("secrets[{i}]"),
            &p.label,
            &[
                (".name", "metadata.name".into()),
                (".stringData", "data".into()),
            ],
        );
        self.secrets.push(json!({
            "name": p.name, "namespace": p.namespace, "stringData": entries,
        }));
        self.secret_entries.insert(key_of(p), entries);
    }

    fn backend(&mut self, p: &Parsed, r: &Resource<kinds::BackendSpec>) {
        let br = &r.spec.ai.provider.bedrock;
        let mut bedrock = Map::new();
        if let Some(m) = &br.model {
            bedrock.insert("model".into(), json!(m));
        }
        bedrock.insert("region".into(), json!(br.region));
        let mut native = json!({
            "name": p.name, "namespace": p.namespace,
            "ai": {"provider": {"bedrock": bedrock}},
        });
        let auth = r.spec.policies.as_ref().and_then(|x| x.auth.as_ref());
        let mut reference = |name: &str| {
            self.referenced
                .insert((p.namespace.clone(), name.to_owned()));
            json!({"secretRef": {"name": name}})
        };
        let auth = match auth {
            None => None,
            Some(kinds::BackendAuth {
                aws: Some(_),
                secret_ref: Some(_),
            }) => {
                self.errors.push(format!(
                    "{}: spec.policies.auth: set either aws or secretRef, not both",
                    p.label
                ));
                None
            }
            Some(kinds::BackendAuth { aws: Some(aws), .. }) => match &aws.secret_ref {
                Some(s) => Some(json!({"aws": reference(&s.name)})),
                None => Some(json!({"aws": {}})),
            },
            Some(kinds::BackendAuth {
                secret_ref: Some(s),
                ..
            }) => Some(json!({"apiKey": reference(&s.name)})),
            Some(_) => None,
        };
        if let Some(auth) = auth {
            native["policies"] = json!({"auth": auth});
        }
        let i = self.backends.len();
        self.origins.add(
            format!("backends[{i}]"),
            &p.label,
            &[
                (".name", "metadata.name".into()),
                (".ai", "spec.ai".into()),
                (".policies.auth.apiKey", "spec.policies.auth".into()),
                (".policies", "spec.policies".into()),
            ],
        );
        self.backends.push(native);
        self.backend_names.insert(key_of(p));
    }

    /// A Secret a backend names that is not among the documents: the mounted directory
    /// `secrets_dir/<namespace>/<name>`, re-read when kubelet rotates it.
    fn mounted_secrets(&mut self, options: &Options) {
        let Some(root) = &options.secrets_dir else {
            return;
        };
        for (ns, name) in self.referenced.clone() {
            let dir = root.join(&ns).join(&name);
            if self
                .secret_entries
                .contains_key(&(ns.clone(), name.clone()))
                || !dir.is_dir()
            {
                continue;
            }
            let i = self.secrets.len();
            let label = format!("Secret {ns}/{name} mounted at {}", dir.display());
            self.origins.add(format!("secrets[{i}]"), &label, &[]);
            self.secrets.push(json!({
                "name": name, "namespace": ns, "path": dir.display().to_string(),
            }));
        }
    }

    fn route(&mut self, p: &Parsed, r: &Resource<kinds::RouteSpec>) {
        if !r.spec.hostnames.is_empty() {
            self.warnings.push(format!(
                "{}: spec.hostnames is not applied: basalt serves the route for every host",
                p.label
            ));
        }
        let rules = &r.spec.rules;
        if rules.is_empty() {
            self.errors.push(format!(
                "{}: spec.rules: at least one rule is required",
                p.label
            ));
        }
        let mut made = Vec::new();
        for (ri, rule) in rules.iter().enumerate() {
            let native_name = if rules.len() == 1 {
                p.name.clone()
            } else {
                let part = rule.name.clone().unwrap_or_else(|| ri.to_string());
                format!("{}.{part}", p.name)
            };
            let rp = format!("spec.rules[{ri}]");
            let (refs, backends) = self.backend_refs(p, rule, &rp);
            let mut native = json!({
                "name": native_name, "namespace": p.namespace,
                "matches": rule_matches(rule), "backendRefs": refs,
            });
            if let Some(t) = rule.timeouts.as_ref().and_then(|t| t.request.as_ref()) {
                native["timeouts"] = json!({"total": t});
            }
            let i = self.routes.len();
            self.origins.add(
                format!("routes[{i}]"),
                &p.label,
                &[
                    ("", rp.clone()),
                    (".name", "metadata.name".into()),
                    (".matches", format!("{rp}.matches")),
                    (".backendRefs", format!("{rp}.backendRefs")),
                    (".timeouts.total", format!("{rp}.timeouts.request")),
                ],
            );
            self.routes.push(native);
            made.push(RuleRoute {
                rule_name: rule.name.clone(),
                native_name,
                backends,
            });
        }
        self.http_routes.insert(key_of(p), made);
    }

    /// A rule's `backendRefs`, each an AgentgatewayBackend (in the route's namespace unless it
    /// names one).
    fn backend_refs(&mut self, p: &Parsed, rule: &kinds::Rule, rp: &str) -> (Vec<Value>, Vec<Key>) {
        let mut refs = Vec::new();
        let mut keys = Vec::new();
        for (j, br) in rule.backend_refs.iter().enumerate() {
            let kind = br.kind.as_deref().unwrap_or("Service");
            let group_ok = br.group.as_deref().is_none_or(|g| g == "agentgateway.dev");
            if kind != "AgentgatewayBackend" || !group_ok {
                let group = br.group.as_deref().unwrap_or("");
                self.errors.push(format!(
                    "{}: {rp}.backendRefs[{j}].kind: `{group}/{kind}` is not served \
                     (agentgateway.dev/AgentgatewayBackend)",
                    p.label
                ));
            }
            let ns = br.namespace.clone().unwrap_or_else(|| p.namespace.clone());
            refs.push(json!({"name": br.name, "namespace": ns}));
            keys.push((ns, br.name.clone()));
        }
        (refs, keys)
    }
}

/// A rule's matches; no match, or a match without `path`, is `PathPrefix /` (Gateway API's
/// default).
fn rule_matches(rule: &kinds::Rule) -> Vec<Value> {
    let one = |m: Option<&kinds::PathMatch>| {
        let kind = m.and_then(|m| m.kind.as_deref()).unwrap_or("PathPrefix");
        let value = m.and_then(|m| m.value.as_deref()).unwrap_or("/");
        json!({"path": {"type": kind, "value": value}})
    };
    if rule.matches.is_empty() {
        return vec![one(None)];
    }
    rule.matches.iter().map(|m| one(m.path.as_ref())).collect()
}
