//! The in-process store: one mutex over every key's counters, so a check and its count are
//! one step (exact under any concurrency). Expired keys are swept at most once a second.

use super::{Checked, Count, KeyCounts};
use crate::config::model::{Limit, LimitKind};
use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// How often expired keys are dropped (keys are unbounded with `key: ip`).
const SWEEP_EVERY: Duration = Duration::from_secs(1);

/// One counter: its kind and window, what it counted, and when its window ends.
#[derive(Debug, Clone, Copy)]
struct Counter {
    kind: LimitKind,
    window: Duration,
    used: u64,
    ends: Instant,
}

#[derive(Debug, Default)]
struct Inner {
    keys: HashMap<String, Vec<Counter>>,
    next_sweep: Option<Instant>,
}

/// Counts of one policy in this process.
#[derive(Debug, Default)]
pub(super) struct MemoryStore {
    inner: Mutex<Inner>,
}

impl MemoryStore {
    fn lock(&self, now: Instant) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves consistent counters: keep using them.
        let mut g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if g.next_sweep.is_none_or(|t| now >= t) {
            g.keys.retain(|_, cs| {
                cs.retain(|c| c.ends > now);
                !cs.is_empty()
            });
            g.next_sweep = Some(now + SWEEP_EVERY);
        }
        g
    }

    /// Admit when every limit has room (used < limit), counting the request in each request
    /// limit; report each limit's count.
    pub(super) fn check(&self, key: &str, limits: &[Limit], now: Instant) -> Checked {
        let mut g = self.lock(now);
        let counters = g.keys.get(key);
        let counts: Vec<Count> = limits.iter().map(|l| current(counters, l, now)).collect();
        let admitted = limits.iter().zip(&counts).all(|(l, c)| c.used < l.amount);
        if !admitted {
            return Checked { admitted, counts };
        }
        let requests: Vec<Limit> = limits
            .iter()
            .filter(|l| l.kind == LimitKind::Requests)
            .copied()
            .collect();
        if !requests.is_empty() {
            add(g.keys.entry(key.to_owned()).or_default(), &requests, 1, now);
        }
        let counters = g.keys.get(key);
        let counts = limits.iter().map(|l| current(counters, l, now)).collect();
        Checked { admitted, counts }
    }

    /// Add `tokens` to each of `limits` (token limits) for `key`.
    pub(super) fn charge(&self, key: &str, limits: &[Limit], tokens: u64, now: Instant) {
        let mut g = self.lock(now);
        add(
            g.keys.entry(key.to_owned()).or_default(),
            limits,
            tokens,
            now,
        );
    }

    /// Every key with an open window: (kind, window, count) of each of its counters.
    pub(super) fn snapshot(&self, now: Instant) -> Vec<KeyCounts> {
        let g = self.lock(now);
        let mut out: Vec<_> = g
            .keys
            .iter()
            .map(|(k, cs)| {
                let counts = cs
                    .iter()
                    .filter(|c| c.ends > now)
                    .map(|c| {
                        (
                            c.kind,
                            c.window,
                            Count {
                                used: c.used,
                                reset: c.ends - now,
                            },
                        )
                    })
                    .collect::<Vec<_>>();
                (k.clone(), counts)
            })
            .filter(|(_, cs)| !cs.is_empty())
            .collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }
}

/// A limit's count now: its open window's, else zero with a whole window ahead.
fn current(counters: Option<&Vec<Counter>>, l: &Limit, now: Instant) -> Count {
    counters
        .and_then(|cs| cs.iter().find(|c| c.kind == l.kind && c.window == l.window))
        .filter(|c| c.ends > now)
        .map_or(
            Count {
                used: 0,
                reset: l.window,
            },
            |c| Count {
                used: c.used,
                reset: c.ends - now,
            },
        )
}

/// Add `n` to the counter of each limit, opening a window where none is open.
fn add(counters: &mut Vec<Counter>, limits: &[Limit], n: u64, now: Instant) {
    for l in limits {
        match counters
            .iter_mut()
            .find(|c| c.kind == l.kind && c.window == l.window)
        {
            Some(c) if c.ends > now => c.used = c.used.saturating_add(n),
            Some(c) => {
                c.used = n;
                c.ends = now + l.window;
            }
            None => counters.push(Counter {
                kind: l.kind,
                window: l.window,
                used: n,
                ends: now + l.window,
            }),
        }
    }
}
