//! Per-request state — written along the request path, read once when the request is logged —
//! and the RAII guards that hold process capacity (a concurrency slot, request-body bytes) for
//! exactly as long as the request lives, panics included.

use super::api::Api;
use crate::bedrock::types::TokenUsage;
use crate::error::GatewayError;
use prometheus::IntGauge;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::OwnedSemaphorePermit;

/// Per-request state.
#[derive(Debug)]
pub(crate) struct RequestCtx {
    /// When the request headers were read.
    pub(crate) start: Instant,
    /// `x-request-id`: the client's, or generated; returned on every answer.
    pub(crate) request_id: String,
    /// The client API the request speaks (by its path), which decides the error shape.
    pub(crate) api: Api,
    /// The name of the client API key that authenticated the request.
    pub(crate) client: Option<String>,
    /// The client's `model`.
    pub(crate) client_model: Option<String>,
    /// Whether the answer is streamed.
    pub(crate) stream: bool,
    /// Time to the first output token (streams), or to the whole answer.
    pub(crate) ttft: Option<Duration>,
    /// Time spent on the Bedrock exchange after its response header.
    pub(crate) upstream: Option<Duration>,
    /// Bedrock's `x-amzn-requestid`.
    pub(crate) upstream_request_id: Option<String>,
    /// Matched route name (bounded: from the config).
    pub(crate) route: Option<String>,
    /// Bedrock model id called.
    pub(crate) model: Option<String>,
    /// Backend name called (the last attempt's).
    pub(crate) backend: Option<String>,
    /// Upstream attempts made (retries and failover included).
    pub(crate) attempts: u32,
    /// Status sent to the client.
    pub(crate) status: u16,
    /// The error sent to the client, if any.
    pub(crate) error: Option<GatewayError>,
    /// Token usage as Bedrock reported it (`inputTokens` excludes cache reads and writes).
    pub(crate) usage: Option<TokenUsage>,
    /// Size of the Converse request last sent (the input estimate of an abandoned stream).
    pub(crate) prompt_bytes: usize,
    /// Output characters relayed before the client hung up, when Bedrock's usage never came.
    pub(crate) abandoned_chars: Option<u64>,
    /// The rate limit the request was admitted by (charged when it is logged).
    pub(crate) rate_limit: Option<crate::ratelimit::Limited>,
    /// The concurrency slot this request holds (released when the context is dropped).
    pub(crate) slot: Option<InFlight>,
    /// The request-body bytes this request holds in the process budget.
    pub(crate) body_bytes: Option<OwnedSemaphorePermit>,
}

impl RequestCtx {
    /// A fresh context, its clock started now.
    pub(crate) fn new() -> Self {
        RequestCtx {
            start: Instant::now(),
            request_id: String::new(),
            api: Api::Chat,
            client: None,
            client_model: None,
            stream: false,
            ttft: None,
            upstream: None,
            upstream_request_id: None,
            route: None,
            model: None,
            backend: None,
            attempts: 0,
            status: 0,
            error: None,
            usage: None,
            prompt_bytes: 0,
            abandoned_chars: None,
            rate_limit: None,
            slot: None,
            body_bytes: None,
        }
    }
}

impl Default for RequestCtx {
    fn default() -> Self {
        Self::new()
    }
}

/// A listener's concurrency limit (`limits.maxConcurrentRequests`).
#[derive(Debug)]
pub(crate) struct Capacity {
    in_flight: AtomicUsize,
    limit: usize,
    gauge: IntGauge,
}

impl Capacity {
    /// A limit of `limit` requests at once, mirrored in `gauge`.
    pub(crate) fn new(limit: usize, gauge: IntGauge) -> Arc<Self> {
        Arc::new(Capacity {
            in_flight: AtomicUsize::new(0),
            limit,
            gauge,
        })
    }

    /// Take a slot, or `Overloaded` when all are taken.
    pub(crate) fn acquire(self: &Arc<Self>) -> Result<InFlight, GatewayError> {
        if self.in_flight.fetch_add(1, Ordering::AcqRel) >= self.limit {
            self.in_flight.fetch_sub(1, Ordering::AcqRel);
            return Err(GatewayError::Overloaded { limit: self.limit });
        }
        self.gauge.inc();
        Ok(InFlight(self.clone()))
    }

    /// Requests holding a slot now.
    #[cfg(test)]
    pub(crate) fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::Acquire)
    }
}

/// One held concurrency slot; dropping it (normally, on error, or while a panic unwinds the
/// request task) gives the slot back.
#[derive(Debug)]
pub(crate) struct InFlight(Arc<Capacity>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
        self.0.gauge.dec();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slot_is_released_on_drop_even_when_a_panic_unwinds() {
        let cap = Capacity::new(1, IntGauge::new("g", "g").unwrap());
        let slot = cap.acquire().unwrap();
        assert!(matches!(
            cap.acquire(),
            Err(GatewayError::Overloaded { limit: 1 })
        ));
        drop(slot);
        let held = cap.clone();
        let r = std::panic::catch_unwind(move || {
            let mut ctx = RequestCtx::new();
            ctx.slot = Some(held.acquire().unwrap());
            panic!("a bug on the request path");
        });
        assert!(r.is_err());
        assert_eq!(cap.in_flight(), 0);
        assert_eq!(cap.gauge.get(), 0);
        assert!(cap.acquire().is_ok());
    }
}
