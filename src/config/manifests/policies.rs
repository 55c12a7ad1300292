//! AgentgatewayPolicies → native `policies`: each `targetRefs` entry resolved to the routes it
//! stands for (an HTTPRoute's rules, the routes that send to an AgentgatewayBackend, or every
//! route of a Gateway's namespace).

use super::convert::{Builder, RuleRoute};
use super::kinds::{self, Resource};
use super::parse::Parsed;
use serde_json::{json, Map, Value};

impl Builder {
    pub(super) fn policy(&mut self, p: &Parsed, r: &Resource<kinds::PolicySpec>) {
        let mut targets: Vec<String> = Vec::new();
        for (j, t) in r.spec.target_refs.iter().enumerate() {
            for name in self.policy_target(p, t, j) {
                if !targets.contains(&name) {
                    targets.push(name);
                }
            }
        }
        let target_refs: Vec<Value> = targets
            .iter()
            .map(|n| json!({"kind": "HTTPRoute", "name": n, "namespace": p.namespace}))
            .collect();
        let mut ai = Map::new();
        if let Some(c) = &r.spec.backend.ai.prompt_caching {
            // `promptCaching: {}` is every default, as in agentgateway.
            let c = if c.is_null() { json!({}) } else { json!(c) };
            ai.insert("promptCaching".into(), c);
        }
        let i = self.policies.len();
        self.origins.add(
            format!("policies[{i}]"),
            &p.label,
            &[
                (".name", "metadata.name".into()),
                (".backend", "spec.backend".into()),
                (".targetRefs", "spec.targetRefs".into()),
            ],
        );
        self.policies.push(json!({
            "name": p.name, "namespace": p.namespace,
            "targetRefs": target_refs, "backend": {"ai": ai},
        }));
    }

    /// The native routes one `targetRefs` entry stands for (in the policy's namespace).
    fn policy_target(&mut self, p: &Parsed, t: &kinds::TargetRef, j: usize) -> Vec<String> {
        let at = format!("{}: spec.targetRefs[{j}]", p.label);
        let k = (p.namespace.clone(), t.name.clone());
        let missing = |kind: &str| {
            format!(
                "{at}.name: no {kind} named `{}` in namespace `{}`",
                t.name, p.namespace
            )
        };
        match t.kind.as_str() {
            "HTTPRoute" => {
                let Some(rules) = self.http_routes.get(&k) else {
                    self.errors.push(missing("HTTPRoute"));
                    return Vec::new();
                };
                let chosen: Vec<String> = rules
                    .iter()
                    .filter(|r| {
                        t.section_name.is_none() || r.rule_name.as_ref() == t.section_name.as_ref()
                    })
                    .map(|r| r.native_name.clone())
                    .collect();
                if chosen.is_empty() {
                    self.errors.push(format!(
                        "{at}.sectionName: HTTPRoute `{}` has no rule named `{}`",
                        t.name,
                        t.section_name.as_deref().unwrap_or("")
                    ));
                }
                chosen
            }
            "AgentgatewayBackend" => {
                if !self.backend_names.contains(&k) {
                    self.errors.push(missing("AgentgatewayBackend"));
                    return Vec::new();
                }
                let chosen = self.routes_where(|r| r.backends.contains(&k));
                if chosen.is_empty() {
                    self.warnings.push(format!(
                        "{at}: no HTTPRoute sends to AgentgatewayBackend `{}`; the policy has no effect",
                        t.name
                    ));
                }
                chosen
            }
            "Gateway" => {
                if !self.gateway_names.contains(&k) {
                    self.errors.push(missing("Gateway"));
                    return Vec::new();
                }
                let ns = p.namespace.clone();
                self.routes_in(&ns)
            }
            other => {
                self.errors.push(format!(
                    "{at}.kind: `{other}` is not supported (HTTPRoute, AgentgatewayBackend, Gateway)"
                ));
                Vec::new()
            }
        }
    }

    fn routes_where(&self, pred: impl Fn(&RuleRoute) -> bool) -> Vec<String> {
        self.http_routes
            .values()
            .flatten()
            .filter(|r| pred(r))
            .map(|r| r.native_name.clone())
            .collect()
    }

    fn routes_in(&self, ns: &str) -> Vec<String> {
        self.http_routes
            .iter()
            .filter(|((n, _), _)| n == ns)
            .flat_map(|(_, rules)| rules.iter().map(|r| r.native_name.clone()))
            .collect()
    }
}
