//! OpenAI's rate-limit headers: `x-ratelimit-{limit,remaining,reset}-{requests,tokens}`, the
//! reset as Go's duration format (`1s`, `6m0s`, `250ms`, `1h0m0s`), as OpenAI sends it.

use super::Admission;
use std::time::Duration;

/// The header pairs of an admission, requests first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Headers(pub(crate) Vec<(&'static str, String)>);

impl Headers {
    /// The six headers (three per kind the key has a limit of); none when the store failed
    /// open.
    pub(crate) fn of(a: &Admission) -> Self {
        let mut out = Vec::with_capacity(6);
        if let Some(s) = a.requests {
            out.push(("x-ratelimit-limit-requests", s.limit.to_string()));
            out.push(("x-ratelimit-remaining-requests", s.remaining.to_string()));
            out.push(("x-ratelimit-reset-requests", go_duration(s.reset)));
        }
        if let Some(s) = a.tokens {
            out.push(("x-ratelimit-limit-tokens", s.limit.to_string()));
            out.push(("x-ratelimit-remaining-tokens", s.remaining.to_string()));
            out.push(("x-ratelimit-reset-tokens", go_duration(s.reset)));
        }
        Headers(out)
    }
}

/// A duration in Go's `time.Duration` format at millisecond precision (rounded up):
/// `0s`, `250ms`, `1s`, `1.5s`, `6m0s`, `1h0m0s`, `720h0m0s`.
pub(crate) fn go_duration(d: Duration) -> String {
    let ms = d.as_nanos().div_ceil(1_000_000);
    if ms == 0 {
        return "0s".into();
    }
    if ms < 1000 {
        return format!("{ms}ms");
    }
    let (h, rest) = (ms / 3_600_000, ms % 3_600_000);
    let (m, rest) = (rest / 60_000, rest % 60_000);
    let (s, frac) = (rest / 1000, rest % 1000);
    let mut secs = s.to_string();
    if frac > 0 {
        let f = format!("{frac:03}");
        secs.push('.');
        secs.push_str(f.trim_end_matches('0'));
    }
    match (h, m) {
        (0, 0) => format!("{secs}s"),
        (0, m) => format!("{m}m{secs}s"),
        (h, m) => format!("{h}h{m}m{secs}s"),
    }
}
