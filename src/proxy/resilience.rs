//! Resilience of the upstream exchange (`routes[].retry`, `routes[].failover`): which failures
//! are tried again and how long to wait, the per-backend retry budget, backend health with
//! ejection, and the order in which one request tries a route's backends.

use crate::config::model::{Failover, Retry};
use crate::error::{BedrockErrorKind, GatewayError};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The `reason` label when a failed attempt may be tried again: Bedrock throttling,
/// not-ready, unavailable and internal errors, and failures to connect or to deliver the
/// request (`sent` is false). Validation, auth and not-found errors are never retried, nor is
/// anything after the request was delivered whole without an answer (it may have run).
pub(crate) fn retry_reason(e: &GatewayError, sent: bool) -> Option<&'static str> {
    match e {
        GatewayError::Bedrock { kind, .. } => match kind {
            BedrockErrorKind::Throttling => Some("throttling"),
            BedrockErrorKind::ModelNotReady => Some("model_not_ready"),
            BedrockErrorKind::ServiceUnavailable => Some("unavailable"),
            BedrockErrorKind::InternalServer => Some("internal"),
            _ => None,
        },
        GatewayError::UpstreamUnreachable { .. } | GatewayError::UpstreamTimeout { .. } => {
            (!sent).then_some("connect")
        }
        _ => None,
    }
}

/// Whether a failure counts against the backend's health: a 5xx or 429 from Bedrock, a
/// connect error, a timeout, an unreadable answer.
pub(crate) fn is_backend_failure(e: &GatewayError) -> bool {
    match e {
        GatewayError::Bedrock { .. } => matches!(e.status(), 429 | 500..=599),
        GatewayError::UpstreamUnreachable { .. }
        | GatewayError::UpstreamTimeout { .. }
        | GatewayError::UpstreamBadResponse { .. } => true,
        _ => false,
    }
}

/// The wait before attempt `n` (2 for the first retry): full jitter, uniform in
/// `[0, min(maxBackoff, backoff · 2^(n-2))]`; `unit` is a random number in `[0, 1)`.
pub(crate) fn backoff(retry: &Retry, n: u32, unit: f64) -> Duration {
    let exp = n.saturating_sub(2).min(30);
    let cap = retry
        .backoff
        .saturating_mul(1u32 << exp)
        .min(retry.max_backoff);
    cap.mul_f64(unit.clamp(0.0, 1.0))
}

/// An upstream's `Retry-After` (whole seconds, as Bedrock and AWS services send it).
pub(crate) fn retry_after(value: Option<&str>) -> Option<Duration> {
    let secs: u64 = value?.trim().parse().ok()?;
    Some(Duration::from_secs(secs))
}

/// Seconds of history the retry budget looks at.
const BUDGET_WINDOW: usize = 10;
/// Retries allowed as a fraction of the requests in the window.
const BUDGET_RATIO: f64 = 0.2;
/// Retries always allowed in a window, however few the requests (one a second, as Finagle's
/// retry budget allows by default).
const BUDGET_FLOOR: u32 = 10;

/// A backend's retry budget: over the last 10 s, retries may be at most 20 % of the requests
/// it was sent (at least 10), so an outage is not multiplied by the retry count.
#[derive(Debug)]
pub(crate) struct RetryBudget {
    start: Instant,
    /// Per second slot: (second, requests, retries).
    slots: Mutex<[(u64, u32, u32); BUDGET_WINDOW]>,
}

impl RetryBudget {
    /// An empty budget.
    pub(crate) fn new(now: Instant) -> Self {
        RetryBudget {
            start: now,
            slots: Mutex::new([(u64::MAX, 0, 0); BUDGET_WINDOW]),
        }
    }

    fn with_slot<T>(&self, now: Instant, f: impl FnOnce(&mut [(u64, u32, u32)], usize) -> T) -> T {
        let sec = now.saturating_duration_since(self.start).as_secs();
        let mut slots = match self.slots.lock() {
            Ok(s) => s,
            Err(poisoned) => poisoned.into_inner(),
        };
        let i = (sec % BUDGET_WINDOW as u64) as usize;
        if slots[i].0 != sec {
            slots[i] = (sec, 0, 0);
        }
        for s in slots.iter_mut() {
            if s.0 != u64::MAX && sec.saturating_sub(s.0) >= BUDGET_WINDOW as u64 {
                *s = (u64::MAX, 0, 0);
            }
        }
        f(&mut slots[..], i)
    }

    /// Count a first attempt.
    pub(crate) fn request(&self, now: Instant) {
        self.with_slot(now, |s, i| s[i].1 += 1);
    }

    /// Take a retry from the budget; `false` when it is spent.
    pub(crate) fn try_retry(&self, now: Instant) -> bool {
        self.with_slot(now, |s, i| {
            let requests: u32 = s.iter().map(|x| x.1).sum();
            let retries: u32 = s.iter().map(|x| x.2).sum();
            let allowed = ((f64::from(requests) * BUDGET_RATIO) as u32).max(BUDGET_FLOOR);
            if retries < allowed {
                s[i].2 += 1;
                true
            } else {
                false
            }
        })
    }
}

/// A backend's health on one route: consecutive failures, and the ejection they cause.
#[derive(Debug, Default)]
pub(crate) struct Health {
    failures: AtomicU32,
    state: Mutex<Ejection>,
}

#[derive(Debug, Default, Clone, Copy)]
struct Ejection {
    /// Ejected until then (after it: one probe request may go).
    until: Option<Instant>,
    /// When it was ejected (the least recently ejected is tried when all are).
    since: Option<Instant>,
    /// A probe request is in flight (since then).
    probing: Option<Instant>,
}

/// A probe that has not reported for this long no longer blocks the next one (a safety net:
/// every attempt reports success, failure or abandonment).
const PROBE_STALE: Duration = Duration::from_secs(120);

impl Health {
    fn state(&self) -> std::sync::MutexGuard<'_, Ejection> {
        match self.state.lock() {
            Ok(s) => s,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// `None` when the backend takes traffic (healthy, or its probe is due); else when it was
    /// ejected.
    pub(crate) fn ejected_since(&self, now: Instant) -> Option<Instant> {
        let s = self.state();
        let probing = s.probing.is_some_and(|p| now < p + PROBE_STALE);
        match s.until {
            Some(until) if now < until || probing => s.since,
            _ => None,
        }
    }

    /// Claim the right to send a request now: always when healthy; after an ejection, only
    /// the one probe request. `false`: skip this backend.
    pub(crate) fn admit(&self, now: Instant) -> bool {
        let mut s = self.state();
        let probing = s.probing.is_some_and(|p| now < p + PROBE_STALE);
        match s.until {
            None => true,
            Some(until) if now >= until && !probing => {
                s.probing = Some(now);
                true
            }
            Some(_) => false,
        }
    }

    /// An attempt succeeded (or failed in a way that says nothing of the backend).
    pub(crate) fn success(&self) -> bool {
        self.failures.store(0, Ordering::Relaxed);
        let mut s = self.state();
        let was_ejected = s.until.is_some();
        *s = Ejection::default();
        was_ejected
    }

    /// An attempt failed; returns whether the backend is (now) ejected.
    pub(crate) fn failure(&self, now: Instant, failover: Option<&Failover>) -> bool {
        let n = self.failures.fetch_add(1, Ordering::Relaxed) + 1;
        let Some(f) = failover else {
            return false;
        };
        let mut s = self.state();
        if s.probing.is_some() || n >= f.consecutive_failures {
            s.until = Some(now + f.eject_for);
            s.since = Some(now);
            s.probing = None;
            true
        } else {
            false
        }
    }

    /// An attempt ended without saying anything of the backend (the client left, the request
    /// could not be prepared for it): a probe it held may go again.
    pub fn abandon(&self) {
        self.state().probing = None;
    }

    /// When the ejection ends, if the backend is ejected (for `/config_dump`).
    pub(crate) fn ejected_until(&self, now: Instant) -> Option<Instant> {
        self.state().until.filter(|u| *u > now)
    }
}

/// The order in which one request tries a route's backends: priority groups lowest first;
/// inside a group, rotated by the request's cache-affinity key so that a prefix keeps going to
/// the same backend; backends taking traffic before ejected ones, and of the ejected, the least
/// recently ejected first. `priorities[i]` and `health[i]` describe backend `i`.
pub(crate) fn order(
    priorities: &[u32],
    health: &[&Health],
    affinity: u64,
    now: Instant,
) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..priorities.len()).collect();
    idx.sort_by_key(|&i| (priorities[i], i));
    let mut ordered = Vec::with_capacity(idx.len());
    for group in idx.chunk_by(|a, b| priorities[*a] == priorities[*b]) {
        let start = (affinity % group.len() as u64) as usize;
        ordered.extend(group[start..].iter().chain(&group[..start]));
    }
    let (mut up, mut down): (Vec<usize>, Vec<usize>) = ordered
        .into_iter()
        .partition(|&i: &usize| health[i].ejected_since(now).is_none());
    down.sort_by_key(|&i| health[i].ejected_since(now));
    up.extend(down);
    up
}

#[cfg(test)]
mod tests {
    use super::*;

    fn retry() -> Retry {
        Retry {
            attempts: 5,
            backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(250),
        }
    }

    #[test]
    fn backoff_is_capped_exponential_with_full_jitter() {
        let r = retry();
        assert_eq!(
            backoff(&r, 2, 0.999_999),
            Duration::from_millis(100) - Duration::from_nanos(100)
        );
        assert_eq!(backoff(&r, 3, 0.5), Duration::from_millis(100));
        assert_eq!(backoff(&r, 4, 0.5), Duration::from_millis(125));
        assert_eq!(backoff(&r, 40, 1.0), Duration::from_millis(250));
        assert_eq!(backoff(&r, 2, 0.0), Duration::ZERO);
    }

    #[test]
    fn what_is_retried() {
        let b = |kind| GatewayError::Bedrock {
            kind,
            status: 400,
            message: String::new(),
        };
        assert_eq!(
            retry_reason(&b(BedrockErrorKind::Throttling), true),
            Some("throttling")
        );
        assert_eq!(
            retry_reason(&b(BedrockErrorKind::InternalServer), true),
            Some("internal")
        );
        assert_eq!(retry_reason(&b(BedrockErrorKind::Validation), true), None);
        assert_eq!(retry_reason(&b(BedrockErrorKind::AccessDenied), true), None);
        assert_eq!(
            retry_reason(&b(BedrockErrorKind::ResourceNotFound), true),
            None
        );
        let down = GatewayError::UpstreamUnreachable {
            message: String::new(),
        };
        assert_eq!(retry_reason(&down, false), Some("connect"));
        assert_eq!(
            retry_reason(&down, true),
            None,
            "delivered: it may have run"
        );
        assert_eq!(retry_after(Some(" 2 ")), Some(Duration::from_secs(2)));
        assert_eq!(retry_after(Some("Wed, 21 Oct 2015 07:28:00 GMT")), None);
    }

    #[test]
    fn the_budget_allows_a_fifth_of_recent_requests_with_a_floor() {
        let t0 = Instant::now();
        let b = RetryBudget::new(t0);
        assert!((0..10).all(|_| b.try_retry(t0)));
        assert!(!b.try_retry(t0), "floor of 10 spent");
        for _ in 0..100 {
            b.request(t0);
        }
        assert!((0..10).all(|_| b.try_retry(t0)), "20 % of 100 = 20 in all");
        assert!(!b.try_retry(t0));
        assert!(
            b.try_retry(t0 + Duration::from_secs(11)),
            "the window moved on"
        );
    }

    #[test]
    fn ejection_after_consecutive_failures_then_one_probe() {
        let f = Failover {
            consecutive_failures: 2,
            eject_for: Duration::from_secs(30),
        };
        let t0 = Instant::now();
        let h = Health::default();
        assert!(!h.failure(t0, Some(&f)));
        assert!(h.failure(t0, Some(&f)), "second failure in a row ejects");
        assert!(!h.admit(t0 + Duration::from_secs(29)));
        let later = t0 + Duration::from_secs(30);
        assert!(h.admit(later), "the probe");
        assert!(!h.admit(later), "only one probe at a time");
        assert!(
            h.failure(later, Some(&f)),
            "a failed probe ejects again at once"
        );
        let again = later + Duration::from_secs(30);
        assert!(h.admit(again));
        h.abandon();
        assert!(
            h.admit(again),
            "an abandoned probe does not block the next one"
        );
        assert!(!h.admit(again));
        assert!(
            h.admit(again + PROBE_STALE),
            "nor does a probe that never reported"
        );
        assert!(h.success());
        assert!(h.admit(later + Duration::from_secs(30)) && h.ejected_since(later).is_none());
    }

    #[test]
    fn order_by_priority_then_affinity_then_health() {
        let t0 = Instant::now();
        let hs: Vec<Health> = (0..4).map(|_| Health::default()).collect();
        let h: Vec<&Health> = hs.iter().collect();
        let prio = [1, 0, 0, 2];
        assert_eq!(order(&prio, &h, 0, t0), [1, 2, 0, 3]);
        assert_eq!(order(&prio, &h, 1, t0), [2, 1, 0, 3]);
        let f = Failover {
            consecutive_failures: 1,
            eject_for: Duration::from_secs(60),
        };
        hs[1].failure(t0, Some(&f));
        hs[2].failure(t0 + Duration::from_secs(1), Some(&f));
        let now = t0 + Duration::from_secs(2);
        assert_eq!(
            order(&prio, &h, 0, now),
            [0, 3, 1, 2],
            "least recently ejected first"
        );
    }
}
