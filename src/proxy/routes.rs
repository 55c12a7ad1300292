//! The route table, built once at start-up: each route with its backends' upstreams resolved,
//! so a request selects a route by path and model without scanning backends.

use super::health::Health;
use super::upstream::Upstream;
use crate::bedrock::catalog;
use crate::config::model::{Backend, Route};
use crate::error::GatewayError;
use crate::ratelimit::Limiter;
use std::sync::Arc;

/// A route and the upstreams of its backends, in preference order.
pub(crate) struct RouteEntry {
    /// The validated route.
    pub(crate) route: Route,
    /// `route.backends` mapped to their upstream state, same order.
    pub(crate) upstreams: Vec<Arc<Upstream>>,
    /// Each backend's health on this route, same order.
    pub(crate) health: Vec<Health>,
    /// The rate limiter of the policy that limits this route, shared with the policy's other
    /// routes.
    pub(crate) limiter: Option<Arc<Limiter>>,
}

/// Every route, in file order.
pub(crate) struct RouteTable {
    entries: Vec<RouteEntry>,
    /// One limiter per `rateLimit` policy that targets a route.
    limiters: Vec<Arc<Limiter>>,
}

impl RouteTable {
    /// Map each route's backends to their upstreams (by identity of the shared `Backend`).
    /// `previous` are the limiters of the table this one replaces (a reload): a policy whose
    /// `rateLimit` did not change keeps its limiter, and so its counts.
    pub(crate) fn new(
        routes: &[Route],
        upstreams: &[Arc<Upstream>],
        previous: &[Arc<Limiter>],
    ) -> Result<Self, String> {
        let find = |b: &Arc<Backend>| {
            upstreams
                .iter()
                .find(|u| Arc::ptr_eq(&u.backend, b))
                .cloned()
                .ok_or_else(|| format!("backend {} has no upstream", b.name))
        };
        let mut limiters: Vec<Arc<Limiter>> = Vec::new();
        let entries = routes
            .iter()
            .map(|r| {
                let ups: Result<Vec<_>, String> = r.backends.iter().map(|(_, b)| find(b)).collect();
                let limiter = match &r.rate_limit {
                    None => None,
                    Some(rl) => match limiters.iter().find(|l| l.limits(rl) || l.same_as(rl)) {
                        Some(l) => Some(l.clone()),
                        None => {
                            let l = match previous.iter().find(|l| l.same_as(rl)) {
                                Some(kept) => kept.clone(),
                                None => Arc::new(Limiter::new(rl.clone())?),
                            };
                            limiters.push(l.clone());
                            Some(l)
                        }
                    },
                };
                ups.map(|upstreams| RouteEntry {
                    route: r.clone(),
                    health: upstreams.iter().map(|_| Health::default()).collect(),
                    upstreams,
                    limiter,
                })
            })
            .collect::<Result<Vec<_>, String>>()?;
        Ok(RouteTable { entries, limiters })
    }

    /// Every rate limiter (one per policy), for `/usage` and metrics.
    pub(crate) fn limiters(&self) -> &[Arc<Limiter>] {
        &self.limiters
    }

    /// Whether any route serves this path (whatever the model).
    pub(crate) fn serves_path(&self, path: &str) -> bool {
        self.entries.iter().any(|e| e.route.serves_path(path))
    }

    /// The first route (file order) whose match accepts both path and model.
    pub(crate) fn select(&self, path: &str, model: &str) -> Result<&RouteEntry, GatewayError> {
        self.entries
            .iter()
            .find(|e| {
                e.route
                    .matches
                    .iter()
                    .any(|m| m.matches_path(path) && m.matches_model(model))
            })
            .ok_or_else(|| GatewayError::ModelNotFound {
                model: model.to_owned(),
            })
    }

    /// Whether some route accepts `model` (exactly, by glob, or as a backend's fixed model).
    pub(crate) fn accepts_model(&self, model: &str) -> bool {
        self.model_ids().contains(&model)
            || self
                .entries
                .iter()
                .any(|e| e.route.matches.iter().any(|m| m.matches_model(model)))
    }

    /// Each route's backends with their live health, for `/config_dump`:
    /// `[{route, backend, state: healthy|ejected, ejectedUntil}]`.
    pub(crate) fn health_json(&self) -> serde_json::Value {
        let now = std::time::Instant::now();
        let wall = std::time::SystemTime::now();
        let mut out = Vec::new();
        for e in &self.entries {
            for (up, h) in e.upstreams.iter().zip(&e.health) {
                let until = h
                    .ejected_until(now)
                    .map(|u| humantime::format_rfc3339_seconds(wall + (u - now)).to_string());
                out.push(serde_json::json!({
                    "route": e.route.name,
                    "backend": up.backend.name,
                    "state": if until.is_some() { "ejected" } else { "healthy" },
                    "ejectedUntil": until,
                }));
            }
        }
        serde_json::Value::Array(out)
    }

    /// Every model id a client may send: exact `matches[].model` values, the backends' fixed
    /// models, then — for routes that pass the client's model through (a backend without a
    /// fixed model) under a match with no model or a glob — the well-known Bedrock ids that
    /// match ([`catalog::KNOWN_MODELS`]); first appearance first.
    pub(crate) fn model_ids(&self) -> Vec<&str> {
        let mut ids: Vec<&str> = Vec::new();
        let mut add = |id| {
            if !ids.contains(&id) {
                ids.push(id);
            }
        };
        for r in self.entries.iter().map(|e| &e.route) {
            let exact = r.matches.iter().filter_map(|m| m.model.as_deref());
            let fixed = r.backends.iter().filter_map(|(_, b)| b.model.as_deref());
            exact
                .filter(|m| !m.contains('*'))
                .chain(fixed)
                .for_each(&mut add);
        }
        for r in self.entries.iter().map(|e| &e.route) {
            if r.backends.iter().all(|(_, b)| b.model.is_some()) {
                continue;
            }
            let open = r
                .matches
                .iter()
                .filter(|m| m.model.as_ref().is_none_or(|p| p.contains('*')));
            for m in open {
                catalog::KNOWN_MODELS
                    .iter()
                    .filter(|id| m.matches_model(id))
                    .for_each(|id| add(id));
            }
        }
        ids
    }
}
