//! Rate limits and token budgets (`policies[].rateLimit`): per key (a client key's name or a
//! client IP), request and token counts per window, kept in this process or shared by every
//! replica through Redis.
//!
//! # Windows
//! Fixed windows that start with the first count for a key: the first request (or token
//! charge) opens a window of length `window`; everything in it is counted against the limit;
//! when it ends the count starts again from zero. In Redis this is a counter whose expiry is
//! set when it is created (`INCR` + `PEXPIRE`), so keys expire with their window and no clock
//! is shared between replicas. Fixed windows allow a burst of up to twice the limit across a
//! window boundary; they are exact (no approximation) and cost one counter per limit and key.
//!
//! # Admission and charging
//! A request is admitted when every request limit has room for one more and no token limit is
//! exhausted (used < limit); admitting counts the request in every request limit, atomically
//! with the check (one lock in process; one Lua script, one round trip, in Redis). A refused
//! request is not counted. Tokens are charged when Bedrock's usage is known — the end of the
//! answer, of the stream, or of a stream the client abandoned (what was produced) — as
//! input + cache read + cache write + output tokens. **Overshoot**: a request admitted while a
//! token window still had room may pass the limit by its own tokens (and so may each request
//! in flight at that moment); the next request then waits for the window to end.
//!
//! # Store failures
//! Every Redis call is bounded by `timeout`. When Redis cannot be reached, `failMode: open`
//! admits (no `x-ratelimit-*` headers, one log line per [`LOG_EVERY`], the error counted) and
//! `closed` refuses with 503 `rate_limit_store_unavailable`. The connection manager reconnects
//! by itself when Redis returns.

mod headers;
mod memory;
mod redis_store;
mod usage;

pub(crate) use headers::{go_duration, Headers};

use crate::config::model::{FailMode, Limit, LimitKind, RateLimit, RateLimitKey};
use memory::MemoryStore;
use prometheus::IntCounter;
use redis_store::RedisStore;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

/// How often a failing Redis store is logged (every failure is counted).
pub(crate) const LOG_EVERY: Duration = Duration::from_secs(10);

/// One limit's state for one key after a check: used so far, and when its window ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Count {
    /// Counted in the current window (requests admitted, or tokens charged).
    pub(crate) used: u64,
    /// Time left in the window (the full window when none is open).
    pub(crate) reset: Duration,
}

/// What the store answers for one key's limits (same order as the limits).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Checked {
    /// Whether the request was admitted (and counted).
    pub(crate) admitted: bool,
    /// Each limit's count, after counting this request when admitted.
    pub(crate) counts: Vec<Count>,
}

/// One key's counters as `/usage` reads them: (key, [(kind, window, count)]).
pub(crate) type KeyCounts = (String, Vec<(LimitKind, Duration, Count)>);

/// A limit's numbers as the `x-ratelimit-*` headers and `/usage` show them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Standing {
    /// The limit.
    pub(crate) limit: u64,
    /// What is left in the window.
    pub(crate) remaining: u64,
    /// Time until the window ends.
    pub(crate) reset: Duration,
}

/// An admitted request: the tightest limit of each kind (`None` for a kind the key has no
/// limit of, or when the store failed open).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Admission {
    /// The request limit with the least remaining.
    pub(crate) requests: Option<Standing>,
    /// The token limit with the least remaining.
    pub(crate) tokens: Option<Standing>,
    /// The store failed and `failMode: open` admitted the request uncounted.
    pub(crate) failed_open: bool,
}

/// Why a request is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// A limit is reached: retry after `retry_after`; `limit` is the one that refused
    /// (the one whose window ends last).
    Limited {
        /// Time until every refusing limit has room again.
        retry_after: Duration,
        /// The refusing limit.
        limit: Limit,
        /// The standing of each kind, for the headers of the 429.
        admission: Admission,
    },
    /// The store could not be reached and `failMode` is `closed`.
    StoreUnavailable,
}

/// Where counts live.
enum Store {
    Memory(MemoryStore),
    Redis(RedisStore),
}

/// One policy's limiter, shared by every route the policy targets.
pub(crate) struct Limiter {
    config: Arc<RateLimit>,
    store: Store,
    store_errors: OnceLock<IntCounter>,
    /// Milliseconds since `epoch` of the last store-failure log line (0: never).
    last_log: AtomicU64,
    epoch: Instant,
}

impl Limiter {
    /// The limiter of a validated `rateLimit`; a Redis store connects lazily (so the gateway
    /// starts while Redis is down).
    pub(crate) fn new(config: Arc<RateLimit>) -> Result<Self, String> {
        let store = match &config.redis {
            None => Store::Memory(MemoryStore::default()),
            Some(r) => Store::Redis(RedisStore::new(r, &config.policy)?),
        };
        Ok(Limiter {
            config,
            store,
            store_errors: OnceLock::new(),
            last_log: AtomicU64::new(0),
            epoch: Instant::now(),
        })
    }

    /// Whether this is the limiter of `config` (the same policy's `rateLimit`).
    pub(crate) fn limits(&self, config: &Arc<RateLimit>) -> bool {
        Arc::ptr_eq(&self.config, config)
    }

    /// Whether `config` (from a reloaded configuration) says exactly what this limiter's does:
    /// the same policy, key, limits, overrides and store (the Redis URL compared whole). Then a
    /// reload keeps this limiter, and so its counts (and its Redis connection).
    pub(crate) fn same_as(&self, config: &RateLimit) -> bool {
        let shape = |c: &RateLimit| serde_json::to_value(c).ok();
        let url = |c: &RateLimit| c.redis.as_ref().map(|r| r.url.expose().to_owned());
        self.config.policy == config.policy
            && shape(&self.config) == shape(config)
            && shape(&self.config).is_some()
            && url(&self.config) == url(config)
    }

    /// The policy (`namespace/name`).
    pub(crate) fn policy(&self) -> &str {
        &self.config.policy
    }

    /// What the counts belong to.
    pub(crate) fn key_kind(&self) -> RateLimitKey {
        self.config.key
    }

    /// Count store failures in this counter (set once; later calls are ignored).
    pub(crate) fn count_store_errors_in(&self, counter: IntCounter) {
        let _ = self.store_errors.set(counter);
    }

    /// The limits that apply to `key`: its override, else `limits`.
    pub(crate) fn limits_for(&self, key: &str) -> &[Limit] {
        self.config
            .overrides
            .get(key)
            .map_or(&self.config.limits, Vec::as_slice)
    }

    /// Check `key`'s limits and count the request when it is admitted.
    pub(crate) async fn admit(&self, key: &str) -> Result<Admission, Refusal> {
        let limits = self.limits_for(key);
        let checked = match &self.store {
            Store::Memory(m) => Ok(m.check(key, limits, Instant::now())),
            Store::Redis(r) => r.check(key, limits).await,
        };
        let checked = match checked {
            Ok(c) => c,
            Err(e) => return self.store_failed(&e),
        };
        let admission = tightest(limits, &checked.counts);
        if checked.admitted {
            return Ok(admission);
        }
        let refusing = limits
            .iter()
            .zip(&checked.counts)
            .filter(|(l, c)| c.used >= l.amount)
            .max_by_key(|(_, c)| c.reset);
        match refusing {
            Some((limit, c)) => Err(Refusal::Limited {
                retry_after: c.reset,
                limit: *limit,
                admission,
            }),
            // The store refused, yet no count is over: treat as admitted (never seen).
            None => Ok(admission),
        }
    }

    /// Charge `tokens` to `key`'s token limits, without waiting: in process at once, in Redis
    /// on a task of its own (bounded by `timeout`; a failure is counted and logged).
    pub(crate) fn charge(self: &Arc<Self>, key: &str, tokens: u64) {
        let limits: Vec<Limit> = self
            .limits_for(key)
            .iter()
            .filter(|l| l.kind == LimitKind::Tokens)
            .copied()
            .collect();
        if tokens == 0 || limits.is_empty() {
            return;
        }
        match &self.store {
            Store::Memory(m) => m.charge(key, &limits, tokens, Instant::now()),
            Store::Redis(r) => {
                let me = self.clone();
                r.charge(key, limits, tokens, move |e| me.log_failure(&e));
            }
        }
    }

    fn store_failed(&self, e: &str) -> Result<Admission, Refusal> {
        self.log_failure(e);
        let mode = self
            .config
            .redis
            .as_ref()
            .map_or(FailMode::Open, |r| r.fail_mode);
        match mode {
            FailMode::Open => Ok(Admission {
                failed_open: true,
                ..Admission::default()
            }),
            FailMode::Closed => Err(Refusal::StoreUnavailable),
        }
    }

    /// Count a store failure; log it unless one was logged in the last [`LOG_EVERY`].
    fn log_failure(&self, e: &str) {
        if let Some(c) = self.store_errors.get() {
            c.inc();
        }
        let now = u64::try_from(self.epoch.elapsed().as_millis())
            .unwrap_or(u64::MAX)
            .max(1);
        let last = self.last_log.load(Ordering::Relaxed);
        let due = last == 0 || now.saturating_sub(last) >= LOG_EVERY.as_millis() as u64;
        if due
            && self
                .last_log
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            log::warn!(
                "rate limit store of policy {} unavailable: {e} (logged at most every {}s; \
                 see basalt_ratelimit_store_errors_total)",
                self.config.policy,
                LOG_EVERY.as_secs()
            );
        }
    }
}

/// The tightest limit of each kind: least remaining, then the window that ends first.
pub(crate) fn tightest(limits: &[Limit], counts: &[Count]) -> Admission {
    let mut out = Admission::default();
    for (l, c) in limits.iter().zip(counts) {
        let s = Standing {
            limit: l.amount,
            remaining: l.amount.saturating_sub(c.used),
            reset: c.reset,
        };
        let slot = match l.kind {
            LimitKind::Requests => &mut out.requests,
            LimitKind::Tokens => &mut out.tokens,
        };
        if slot.is_none_or(|t| (s.remaining, s.reset) < (t.remaining, t.reset)) {
            *slot = Some(s);
        }
    }
    out
}

/// A bounded label naming a limit: `requests_per_60s`, `tokens_per_2592000s`.
pub(crate) fn limit_label(l: &Limit) -> String {
    let kind = match l.kind {
        LimitKind::Requests => "requests",
        LimitKind::Tokens => "tokens",
    };
    format!("{kind}_per_{}s", l.window.as_secs())
}

/// `Retry-After`: whole seconds, rounded up, at least 1.
pub(crate) fn retry_after_secs(d: Duration) -> u64 {
    d.as_secs_f64().ceil().max(1.0) as u64
}

#[cfg(test)]
mod tests;

/// The limiter a request was admitted by, its key, and the headers of its answer (kept in the
/// request's context until the tokens are charged).
pub(crate) struct Limited {
    /// The policy's limiter.
    pub(crate) limiter: Arc<Limiter>,
    /// The key counted (a client key's entry name, or an IP address).
    pub(crate) key: String,
    /// The `x-ratelimit-*` values of the answer.
    pub(crate) headers: Headers,
}

impl std::fmt::Debug for Limited {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Limited({}, {})", self.limiter.policy(), self.key)
    }
}
