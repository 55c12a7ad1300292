//! `GET /usage` for one policy: every key with an open window, and each of its limits'
//! `limit`, `used`, `remaining` and `resetSeconds` (key names only, never a client's API key).

use super::{go_duration, Count, Limiter, Store};
use crate::config::model::Limit;
use serde_json::{json, Value};
use std::time::Instant;

impl Limiter {
    /// `/usage` for this policy: every key with an open window, each limit's numbers.
    pub(crate) async fn usage(&self) -> Value {
        let counted = match &self.store {
            Store::Memory(m) => Ok(m.snapshot(Instant::now())),
            Store::Redis(r) => r.snapshot().await,
        };
        let (keys, error) = match counted {
            Ok(k) => (k, None),
            Err(e) => (Vec::new(), Some(e)),
        };
        let keys: Vec<Value> = keys
            .into_iter()
            .map(|(key, counts)| {
                let limits = self.limits_for(&key);
                let rows: Vec<Value> = limits
                    .iter()
                    .map(|l| {
                        let c = counts
                            .iter()
                            .find(|(k, w, _)| *k == l.kind && *w == l.window);
                        usage_row(l, c.map(|(_, _, c)| *c))
                    })
                    .collect();
                json!({"key": key, "limits": rows})
            })
            .collect();
        let store = if matches!(self.store, Store::Redis(_)) {
            "redis"
        } else {
            "memory"
        };
        json!({
            "policy": self.config.policy,
            "key": self.config.key,
            "store": store,
            "error": error,
            "keys": keys,
        })
    }
}

fn usage_row(l: &Limit, c: Option<Count>) -> Value {
    let c = c.unwrap_or(Count {
        used: 0,
        reset: l.window,
    });
    json!({
        "kind": l.kind,
        "window": go_duration(l.window),
        "limit": l.amount,
        "used": c.used,
        "remaining": l.amount.saturating_sub(c.used),
        "resetSeconds": c.reset.as_secs_f64().ceil() as u64,
    })
}
