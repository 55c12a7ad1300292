//! The attempts of one request at a route's backends: which backend each attempt goes to
//! (priority, cache affinity, health), and after a failure whether and when to try again
//! (retryable kind, `retry.attempts`, the backend's retry budget, backoff or the upstream's
//! `Retry-After`, all inside `timeouts.total`). Outcomes feed backend health and the metrics.

use super::health::{self, Health};
use super::resilience;
use super::routes::RouteEntry;
use super::upstream::Upstream;
use crate::error::GatewayError;
use crate::metrics::Metrics;
use tokio::time::Instant;

/// The attempts of one request.
pub(crate) struct Attempts<'r> {
    entry: &'r RouteEntry,
    metrics: &'r Metrics,
    order: Vec<usize>,
    /// Attempts started so far.
    made: u32,
    max: u32,
    deadline: Instant,
    /// The backend of the current attempt.
    current: usize,
}

impl<'r> Attempts<'r> {
    /// Plan the attempts of a request whose cache-affinity key is `affinity`.
    pub(crate) fn new(
        entry: &'r RouteEntry,
        metrics: &'r Metrics,
        affinity: u64,
        deadline: Instant,
    ) -> Self {
        let order = if entry.upstreams.len() == 1 {
            vec![0]
        } else {
            let now = Instant::now().into_std();
            let health: Vec<&Health> = entry.health.iter().collect();
            let priorities: Vec<u32> = entry.route.backends.iter().map(|(p, _)| *p).collect();
            health::order(&priorities, &health, affinity, now)
        };
        Attempts {
            entry,
            metrics,
            order,
            made: 0,
            max: entry.route.retry.map_or(1, |r| r.attempts.max(1)),
            deadline,
            current: 0,
        }
    }

    /// The route the attempts are made on.
    pub fn route(&self) -> &'r crate::config::model::Route {
        &self.entry.route
    }

    /// `timeouts.total` from the start of the exchange.
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// The attempts made so far (for the access log).
    pub(crate) fn made(&self) -> u32 {
        self.made
    }

    /// Start the next attempt: the next backend in the order that admits traffic (a healthy
    /// one, or an ejected one whose probe is due); when none does, the next in the order.
    pub(crate) fn start(&mut self) -> Option<&'r Upstream> {
        let now = Instant::now().into_std();
        let n = self.order.len();
        let start = self.made as usize;
        let in_order = |k: usize| self.order.get((start + k) % n.max(1)).copied();
        let admitted = (0..n).filter_map(in_order).find(|&i| {
            // Without `failover` nothing ejects a backend: no health lock to take.
            self.entry.route.failover.is_none()
                || self.entry.health.get(i).is_some_and(|h| h.admit(now))
        });
        let pick = admitted.or_else(|| in_order(0))?;
        let upstream = self.entry.upstreams.get(pick)?;
        self.made += 1;
        self.current = pick;
        if self.made == 1 && self.entry.route.retry.is_some() {
            upstream.budget.request(now);
        }
        Some(upstream)
    }

    /// The current attempt got an answer that says the backend works.
    pub(crate) fn succeeded(&self) {
        let (Some(up), Some(health)) = self.current() else {
            return;
        };
        if health.success() {
            self.metrics.backend_ejected(&up.backend.name, false);
        }
        up.ok_attempts
            .get_or_init(|| self.metrics.attempt_counter(&up.backend.name, "ok"))
            .inc();
    }

    /// The current attempt ended without a verdict on the backend (see [`Health::abandon`]).
    pub fn abandon(&self) {
        if let Some(h) = self.entry.health.get(self.current) {
            h.abandon();
        }
    }

    fn current(&self) -> (Option<&'r Upstream>, Option<&'r Health>) {
        let entry = self.entry;
        (
            entry.upstreams.get(self.current).map(|u| &**u),
            entry.health.get(self.current),
        )
    }

    /// The current attempt failed with `e`. Records it, and returns `true` after waiting the
    /// backoff when another attempt should be made.
    pub(crate) async fn failed(
        &mut self,
        e: &GatewayError,
        sent: bool,
        hint: Option<std::time::Duration>,
    ) -> bool {
        let now = Instant::now();
        let (Some(up), Some(health)) = self.current() else {
            return false;
        };
        let name = &up.backend.name;
        self.metrics.upstream_attempt(name, outcome(e));
        if resilience::is_backend_failure(e) {
            if health.failure(now.into_std(), self.entry.route.failover.as_ref()) {
                self.metrics.backend_ejected(name, true);
            }
        } else if health.success() {
            self.metrics.backend_ejected(name, false);
        }
        let (Some(reason), Some(retry)) =
            (resilience::retry_reason(e, sent), self.entry.route.retry)
        else {
            return false;
        };
        if self.made >= self.max {
            return false;
        }
        let wait = resilience::backoff(&retry, self.made + 1, fastrand::f64())
            .max(hint.unwrap_or_default());
        if now + wait >= self.deadline {
            return false;
        }
        if !up.budget.try_retry(now.into_std()) {
            self.metrics.retry_budget_exhausted(name);
            return false;
        }
        self.metrics.retry(&self.entry.route.name, reason);
        tokio::time::sleep(wait).await;
        true
    }
}

/// The bounded `outcome` label of a failed attempt.
fn outcome(e: &GatewayError) -> &'static str {
    match e {
        GatewayError::Bedrock { .. } if e.status() == 429 => "throttled",
        GatewayError::Bedrock { .. } if e.status() >= 500 => "server_error",
        GatewayError::Bedrock { .. } => "client_error",
        GatewayError::UpstreamUnreachable { .. } => "unreachable",
        GatewayError::UpstreamTimeout { .. } => "timeout",
        GatewayError::UpstreamBadResponse { .. } => "bad_response",
        _ => "other",
    }
}
