//! The request path, over Pingora's HTTP sessions (the server layer's app reads each request
//! head and calls [`Edge::serve`]), one room per job, in the order a request meets them:
//! [`dispatch`] (auth, method/path → handler, capacity) → [`body`] (capped read) →
//! [`converse`] (parse → translate → answer, for every API served over Converse; [`embeddings`]
//! over InvokeModel) → [`attempts`] (which backend, whether to try again:
//! [`resilience`] is the retry policy, [`health`] ejection and order) → [`exchange`] (sign,
//! pooled connection, deadlines; [`h1`] the HTTP/1.1 client; [`upstream`] holds a backend's
//! address and pool) → [`relay`] (event-stream → SSE) → [`respond`] → [`observe`] (access
//! log, metrics). [`routes`] and [`context`] are the state.
//!
//! Pingora's proxy app is not used: SigV4 needs the whole translated body before the upstream
//! headers (Pingora 0.9.1 cannot forward a body read whole past 64 KiB: cloudflare/pingora
//! #688, #349), and its per-request state (~33 KiB of futures per open stream) serves phases
//! basalt never reaches. [`Edge::serve`] reads and answers the request itself, driving the
//! upstream through its own HTTP/1.1 client ([`h1`]) over Pingora's `TransportConnector`.

pub(crate) mod activity;
pub(crate) mod api;
pub(crate) mod attempts;
pub(crate) mod body;
pub(crate) mod client_auth;
pub(crate) mod conn;
pub(crate) mod context;
pub(crate) mod converse;
pub(crate) mod count_tokens;
pub(crate) mod dispatch;
pub(crate) mod embeddings;
pub(crate) mod exchange;
pub(crate) mod h1;
pub(crate) mod head;
pub(crate) mod health;
pub(crate) mod limits;
pub(crate) mod models;
pub(crate) mod observe;
pub(crate) mod relay;
pub(crate) mod resilience;
pub(crate) mod respond;
pub(crate) mod routes;
pub(crate) mod upstream;

use crate::config::model::Listener;
use crate::metrics::Metrics;
use crate::openai::RequestCaps;
use activity::Activity;
use arc_swap::ArcSwap;
use body::BodyBudget;
use context::{Capacity, RequestCtx};
use pingora::connectors::TransportConnector;
use pingora::prelude::*;
/// A client's HTTP session (HTTP/1.1 or HTTP/2), as Pingora reads and writes it.
pub(crate) use pingora::protocols::http::ServerSession as Session;
use routes::RouteTable;
use std::sync::Arc;

/// State shared by all requests of one listener.
pub(crate) struct Gateway {
    /// The listener's validated config.
    pub(crate) listener: Listener,
    /// Routes with their upstreams (shared by every listener).
    pub(crate) routes: Arc<RouteTable>,
    /// Pingora's connector for new upstream connections.
    pub(crate) connector: Arc<TransportConnector>,
    /// This listener's concurrency limit.
    pub(crate) capacity: Arc<Capacity>,
    /// The process-wide request-body budget.
    pub(crate) body_budget: BodyBudget,
    /// Caps on messages, content parts and tools per request.
    pub(crate) caps: RequestCaps,
    /// The metrics registry.
    pub(crate) metrics: Arc<Metrics>,
}

/// What a listener's service is built from, besides its own config.
#[derive(Clone)]
pub(crate) struct Shared {
    /// Routes with their upstreams.
    pub(crate) routes: Arc<RouteTable>,
    /// Pingora's connector.
    pub(crate) connector: Arc<TransportConnector>,
    /// The process-wide request-body budget.
    pub(crate) body_budget: BodyBudget,
    /// The metrics registry.
    pub(crate) metrics: Arc<Metrics>,
    /// Requests being served, process-wide.
    pub(crate) activity: Arc<Activity>,
}

impl Gateway {
    /// The service state of one listener.
    pub(crate) fn new(listener: Listener, shared: &Shared) -> Self {
        let capacity = Capacity::new(
            listener.max_concurrent_requests,
            shared.metrics.in_flight.clone(),
        );
        for limiter in shared.routes.limiters() {
            let policy = limiter.policy().to_owned();
            let errors = shared
                .metrics
                .limits
                .store_errors
                .with_label_values(&[&policy]);
            limiter.count_store_errors_in(errors);
        }
        let l = &listener.limits;
        Gateway {
            caps: RequestCaps {
                max_messages: l.max_messages,
                max_content_parts: l.max_content_parts,
                max_tools: l.max_tools,
            },
            listener,
            routes: shared.routes.clone(),
            connector: shared.connector.clone(),
            capacity,
            body_budget: shared.body_budget.clone(),
            metrics: shared.metrics.clone(),
        }
    }

    /// This listener's state under a reloaded config: the concurrency slots are kept when the
    /// limit did not change (requests in flight keep counting against it).
    pub(crate) fn reloaded(listener: Listener, shared: &Shared, old: &Gateway) -> Self {
        let same_limit = listener.max_concurrent_requests == old.listener.max_concurrent_requests;
        let mut gw = Gateway::new(listener, shared);
        if same_limit {
            gw.capacity = old.capacity.clone();
        }
        gw
    }

    /// After an answer: a connection whose request body was not read whole is not reused;
    /// otherwise Pingora's own keep-alive timer is set past the listener's idle and head limits
    /// (the connection guard enforces those; a drain has already turned keep-alive off), and
    /// the guard is told the next bytes are a new head.
    pub(crate) fn end_request(&self, session: &mut Session) {
        if !session.is_body_done() {
            session.set_keepalive(None);
        } else if session.get_keepalive().is_some() {
            let c = &self.listener.conn;
            let secs = (c.idle_timeout + c.header_timeout).as_secs() + 1;
            session.set_keepalive(Some(secs));
        }
        conn::request_done(session);
    }
}

/// One listener's Pingora service: the listener's current [`Gateway`], replaced whole when the
/// configuration is reloaded. Each request loads it once and keeps it to its end, so requests
/// and streams in flight finish on the configuration they started with.
pub(crate) struct Edge {
    /// The listener's current state.
    pub(crate) live: Arc<ArcSwap<Gateway>>,
    /// The metrics registry (kept across reloads).
    pub(crate) metrics: Arc<Metrics>,
    /// Requests being served, process-wide.
    pub(crate) activity: Arc<Activity>,
}

impl Edge {
    /// Serve one request whose head has been read, on the listener's state as it is now
    /// (loaded once: a reload mid-request does not change it).
    pub(crate) async fn serve(&self, session: &mut Session, ctx: &mut RequestCtx) -> Result<()> {
        let _active = self.activity.enter();
        conn::head_parsed(session);
        let gw = self.live.load_full();
        ctx.request_id = observe::request_id(session);
        // HTTP/1.1 pipelining: answer each request in order (Pingora drops them otherwise).
        session.set_pipelining_enabled(true);
        let served = dispatch::serve(&gw, session, ctx).await;
        gw.end_request(session);
        served
    }

    /// What a finished request leaves behind: its rate-limit charge, metrics and access-log
    /// line. Capacity is released by the guards in `ctx` when it is dropped, panics included.
    pub(crate) fn finished(&self, session: &Session, ctx: &mut RequestCtx) {
        limits::charge(&self.metrics, ctx);
        observe::record_metrics(&self.metrics, ctx);
        observe::log_access(session, ctx);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The size of the future an async fn returns, for `'static` arguments (no call is made).
    fn future_size<F, R>(_: F) -> usize
    where
        F: FnOnce(&'static Edge, &'static mut Session, &'static mut RequestCtx) -> R,
    {
        std::mem::size_of::<R>()
    }

    /// A request's future lives as long as the request, streams included, so everything held
    /// inline in it is memory per open stream. It was 18,864 bytes while the credential refresh
    /// and the upstream connect were inline (both are boxed now: they run rarely); this guards
    /// against such a future coming back inline.
    #[test]
    fn a_request_future_stays_small() {
        let n = future_size(Edge::serve);
        assert!(n <= 8 * 1024, "Edge::serve's future is {n} bytes");
    }
}
