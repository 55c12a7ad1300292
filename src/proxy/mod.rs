//! The Pingora `ProxyHttp` service for one listener. This is the only module that knows Pingora
//! phases; each phase is a few lines that call a named function.
//!
//! Pingora 0.9.1 cannot forward a request body that was read whole before the upstream headers
//! are sent once it exceeds 64 KiB (cloudflare/pingora #688, #349), and SigV4 needs the whole
//! translated body before the headers. So `request_filter` reads and answers the request itself
//! ([`chat::serve`]), driving the upstream through Pingora's pooled `Connector`, and returns
//! `Ok(true)`; `upstream_peer` is never reached.

pub mod chat;
pub mod respond;
pub mod upstream;

use crate::config::model::{Config, Listener, Route};
use crate::error::GatewayError;
use crate::metrics::Metrics;
use crate::openai::Usage;
use async_trait::async_trait;
use pingora::connectors::http::Connector;
use pingora::prelude::*;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use upstream::Upstream;

/// State shared by all requests of one listener.
pub struct Gateway {
    pub listener: Listener,
    pub routes: Arc<Vec<Route>>,
    /// One per backend, in `Config::backends` order.
    pub upstreams: Arc<Vec<Arc<Upstream>>>,
    pub connector: Arc<Connector>,
    pub in_flight: AtomicUsize,
    pub metrics: Arc<Metrics>,
}

/// Per-request state. Written by `request_filter` (via `chat::serve`), read by `logging`.
pub struct RequestCtx {
    /// When the request headers were read.
    pub start: Instant,
    /// `x-request-id`: the client's, or generated; returned on every answer.
    pub request_id: String,
    /// The name of the client API key that authenticated the request.
    pub client: Option<String>,
    /// The client's `model`.
    pub client_model: Option<String>,
    /// Whether the answer is streamed.
    pub stream: bool,
    /// Time to the first output token (streams), or to the whole answer.
    pub ttft: Option<Duration>,
    /// Time spent on the Bedrock exchange after its response header.
    pub upstream: Option<Duration>,
    /// Bedrock's `x-amzn-requestid`.
    pub upstream_request_id: Option<String>,
    /// Matched route name (bounded: from the config).
    pub route: Option<String>,
    /// Bedrock model id called.
    pub model: Option<String>,
    /// Backend name called.
    pub backend: Option<String>,
    /// Status sent to the client.
    pub status: u16,
    /// The error sent to the client, if any.
    pub error: Option<GatewayError>,
    /// Token usage reported by Bedrock.
    pub usage: Option<Usage>,
    /// Whether this request holds an in-flight slot to release.
    pub counted: bool,
}

impl RequestCtx {
    fn new() -> Self {
        RequestCtx {
            start: Instant::now(),
            request_id: String::new(),
            client: None,
            client_model: None,
            stream: false,
            ttft: None,
            upstream: None,
            upstream_request_id: None,
            route: None,
            model: None,
            backend: None,
            status: 0,
            error: None,
            usage: None,
            counted: false,
        }
    }
}

impl Gateway {
    pub fn new(
        config: &Config,
        listener: Listener,
        upstreams: Arc<Vec<Arc<Upstream>>>,
        connector: Arc<Connector>,
        metrics: Arc<Metrics>,
    ) -> Self {
        Gateway {
            listener,
            routes: Arc::new(config.routes.clone()),
            upstreams,
            connector,
            in_flight: AtomicUsize::new(0),
            metrics,
        }
    }

    /// The upstream state of a backend (routes and upstreams share the same `Arc<Backend>`).
    pub fn upstream_for(
        &self,
        backend: &Arc<crate::config::model::Backend>,
    ) -> Option<&Arc<Upstream>> {
        self.upstreams
            .iter()
            .find(|u| Arc::ptr_eq(&u.backend, backend))
    }
}

#[async_trait]
impl ProxyHttp for Gateway {
    type CTX = RequestCtx;

    fn new_ctx(&self) -> RequestCtx {
        RequestCtx::new()
    }

    async fn request_filter(&self, session: &mut Session, ctx: &mut RequestCtx) -> Result<bool> {
        ctx.request_id = chat::request_id(session);
        chat::serve(self, session, ctx).await?;
        Ok(true)
    }

    async fn upstream_peer(
        &self,
        _session: &mut Session,
        _ctx: &mut RequestCtx,
    ) -> Result<Box<HttpPeer>> {
        // Every request is answered in request_filter; reaching this is a bug.
        Error::e_explain(ErrorType::InternalError, "basalt answers in request_filter")
    }

    async fn logging(&self, session: &mut Session, _e: Option<&Error>, ctx: &mut RequestCtx) {
        if ctx.counted {
            self.in_flight.fetch_sub(1, Ordering::Relaxed);
            self.metrics.in_flight.dec();
        }
        chat::record_metrics(&self.metrics, ctx);
        chat::log_access(session, ctx);
    }
}
