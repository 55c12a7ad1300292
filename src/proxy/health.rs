//! Backend health on a route (`routes[].failover`): consecutive failures, ejection for
//! `ejectFor`, one probe after it; and the order in which one request tries a route's
//! backends (priority, cache affinity, health).

use crate::config::model::Failover;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A backend's health on one route: consecutive failures, and the ejection they cause.
#[derive(Debug, Default)]
pub(crate) struct Health {
    failures: AtomicU32,
    /// Set whenever `state` holds an ejection or a probe, so that `success` on a healthy
    /// backend (every request) takes no lock.
    marked: AtomicBool,
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
                self.marked.store(true, Ordering::Release);
                true
            }
            Some(_) => false,
        }
    }

    /// An attempt succeeded (or failed in a way that says nothing of the backend).
    pub(crate) fn success(&self) -> bool {
        // The common case, nothing to reset, takes no lock.
        let failed = self.failures.swap(0, Ordering::Relaxed) > 0;
        if !failed && !self.marked.load(Ordering::Acquire) {
            return false;
        }
        self.marked.store(false, Ordering::Release);
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
            self.marked.store(true, Ordering::Release);
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
    use crate::config::model::Failover;

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
