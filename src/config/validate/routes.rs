//! `policies` and `routes`: references between them and to backends, retry, failover and
//! timeouts.

use super::{check_unique, duration_field, ns, Zero};
use crate::config::model::*;
use crate::config::raw;
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

pub(super) fn policies(
    list: &[raw::Policy],
    routes: &[raw::Route],
    errors: &mut Vec<String>,
) -> Vec<Policy> {
    check_unique(
        "policy",
        "policies",
        list.iter().map(|p| (p.name.as_str(), &p.namespace)),
        errors,
    );
    let mut policies = Vec::new();
    for (i, p) in list.iter().enumerate() {
        let path = format!("policies[{i}]");
        let caching = p
            .backend
            .as_ref()
            .and_then(|b| b.ai.prompt_caching.as_ref());
        let prompt_caching = caching.map(|c| PromptCaching {
            cache_system: c.cache_system.unwrap_or(true),
            cache_messages: c.cache_messages.unwrap_or(true),
            cache_tools: c.cache_tools.unwrap_or(false),
            min_tokens: c.min_tokens.unwrap_or(1024),
        });
        let mut targets = Vec::new();
        for (j, t) in p.target_refs.iter().enumerate() {
            if t.kind != "HTTPRoute" {
                errors.push(format!(
                    "{path}.targetRefs[{j}].kind: `{}` is not supported (HTTPRoute)",
                    t.kind
                ));
            }
            let tns = t.namespace.clone().unwrap_or_else(|| ns(&p.namespace));
            if !routes
                .iter()
                .any(|r| r.name == t.name && ns(&r.namespace) == tns)
            {
                errors.push(format!(
                    "{path}.targetRefs[{j}].name: no route named `{}`",
                    t.name
                ));
            }
            targets.push(PolicyTarget {
                kind: t.kind.clone(),
                name: t.name.clone(),
                namespace: tns,
            });
        }
        policies.push(Policy {
            name: p.name.clone(),
            namespace: ns(&p.namespace),
            targets,
            prompt_caching,
            rate_limit: None,
        });
    }
    policies
}

// ---- routes ----

pub(super) fn routes(
    file: &raw::File,
    backends: &[Arc<Backend>],
    policies: &[Policy],
    errors: &mut Vec<String>,
) -> Vec<Route> {
    check_unique(
        "route",
        "routes",
        file.routes.iter().map(|r| (r.name.as_str(), &r.namespace)),
        errors,
    );
    // Backends named in the file, valid or not: a reference to an invalid one is not reported
    // again as dangling.
    let declared: BTreeSet<(String, &str)> = file
        .backends
        .iter()
        .map(|b| (ns(&b.namespace), b.name.as_str()))
        .collect();
    let mut routes = Vec::new();
    for (i, r) in file.routes.iter().enumerate() {
        let path = format!("routes[{i}]");
        let rns = ns(&r.namespace);
        let matches = route_matches(r, &path, errors);
        if r.backend_refs.is_empty() {
            errors.push(format!(
                "{path}.backendRefs: at least one backend is required"
            ));
        }
        let mut refs = Vec::new();
        for (j, br) in r.backend_refs.iter().enumerate() {
            let bns = br.namespace.clone().unwrap_or_else(|| rns.clone());
            match backends
                .iter()
                .find(|b| b.name == br.name && b.namespace == bns)
            {
                Some(b) => refs.push((br.priority.unwrap_or(0), b.clone())),
                None if declared.contains(&(bns, br.name.as_str())) => {}
                None => errors.push(format!(
                    "{path}.backendRefs[{j}].name: no backend named `{}`",
                    br.name
                )),
            }
        }
        refs.sort_by_key(|(p, _)| *p);
        let prompt_caching = policies
            .iter()
            .filter(|p| {
                p.targets
                    .iter()
                    .any(|t| t.name == r.name && t.namespace == rns)
            })
            .find_map(|p| p.prompt_caching);
        let rate_limit = policies
            .iter()
            .filter(|p| {
                p.targets
                    .iter()
                    .any(|t| t.name == r.name && t.namespace == rns)
            })
            .find_map(|p| p.rate_limit.clone());
        routes.push(Route {
            name: r.name.clone(),
            namespace: rns,
            matches,
            backends: refs,
            retry: retry(r.retry.as_ref(), &path, errors),
            failover: failover(r.failover.as_ref(), &path, errors),
            timeouts: timeouts(r.timeouts.as_ref(), &path, errors),
            prompt_caching,
            rate_limit,
        });
    }
    routes
}

fn route_matches(r: &raw::Route, path: &str, errors: &mut Vec<String>) -> Vec<RouteMatch> {
    if r.matches.is_empty() {
        errors.push(format!("{path}.matches: at least one match is required"));
    }
    let mut matches = Vec::new();
    for (j, m) in r.matches.iter().enumerate() {
        if m.path.kind != "PathPrefix" && m.path.kind != "Exact" {
            errors.push(format!(
                "{path}.matches[{j}].path.type: `{}` is not supported (PathPrefix, Exact)",
                m.path.kind
            ));
        }
        if !m.path.value.starts_with('/') {
            errors.push(format!("{path}.matches[{j}].path.value: must start with /"));
        }
        matches.push(RouteMatch {
            path_prefix: m.path.value.clone(),
            exact: m.path.kind == "Exact",
            model: m.model.clone(),
        });
    }
    matches
}

fn retry(rt: Option<&raw::Retry>, path: &str, errors: &mut Vec<String>) -> Option<Retry> {
    let rt = rt?;
    if rt.attempts == 0 {
        errors.push(format!("{path}.retry.attempts: must be at least 1"));
    }
    Some(Retry {
        attempts: rt.attempts.max(1),
        backoff: duration_field(
            rt.backoff.as_deref(),
            Duration::from_millis(100),
            Zero::Allowed,
            &format!("{path}.retry.backoff"),
            errors,
        ),
        max_backoff: duration_field(
            rt.max_backoff.as_deref(),
            Duration::from_secs(2),
            Zero::Allowed,
            &format!("{path}.retry.maxBackoff"),
            errors,
        ),
    })
}

fn failover(f: Option<&raw::Failover>, path: &str, errors: &mut Vec<String>) -> Option<Failover> {
    let f = f?;
    if f.consecutive_failures == 0 {
        errors.push(format!(
            "{path}.failover.consecutiveFailures: must be at least 1"
        ));
    }
    Some(Failover {
        consecutive_failures: f.consecutive_failures.max(1),
        eject_for: duration_field(
            Some(&f.eject_for),
            Duration::from_secs(30),
            Zero::Refused,
            &format!("{path}.failover.ejectFor"),
            errors,
        ),
    })
}

/// Every timeout must be above 0: a zero timeout fails every request.
fn timeouts(t: Option<&raw::Timeouts>, path: &str, errors: &mut Vec<String>) -> Timeouts {
    let d = Timeouts::default();
    let Some(t) = t else {
        return d;
    };
    let mut get = |v: &Option<String>, default: Duration, key: &str| {
        let p = format!("{path}.timeouts.{key}");
        duration_field(v.as_deref(), default, Zero::Refused, &p, errors)
    };
    Timeouts {
        connect: get(&t.connect, d.connect, "connect"),
        first_byte: get(&t.first_byte, d.first_byte, "firstByte"),
        stream_idle: get(&t.stream_idle, d.stream_idle, "streamIdle"),
        total: get(&t.total, d.total, "total"),
    }
}
