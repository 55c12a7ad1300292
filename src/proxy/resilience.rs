//! The retry policy of the upstream exchange (`routes[].retry`): which failures are tried
//! again, how long to wait (backoff or the upstream's hint), and the per-backend retry budget.
//! Backend health and the order of backends are in [`super::health`].

use crate::config::model::Retry;
use crate::error::{BedrockErrorKind, GatewayError};
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
}
