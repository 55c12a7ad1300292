//! The metrics listener: `GET /metrics` in the Prometheus text format — the request path's
//! registry, then the process's own ([`EdgeMetrics`]: configuration reloads).

use crate::metrics::Metrics;
use async_trait::async_trait;
use pingora::apps::http_app::ServeHttp;
use pingora::protocols::http::ServerSession;
use prometheus::{IntCounterVec, Opts, Registry, TextEncoder};

/// Metrics of the process around the request path.
pub(crate) struct EdgeMetrics {
    registry: Registry,
    reloads: IntCounterVec,
}

impl EdgeMetrics {
    /// `basalt_config_reload_total{result}` (`ok`, `invalid`, `failed`), each at 0.
    pub(crate) fn new() -> Result<Self, prometheus::Error> {
        let registry = Registry::new();
        let reloads = IntCounterVec::new(
            Opts::new(
                "basalt_config_reload_total",
                "Configuration reloads, by result: ok (applied), invalid (refused by validation), \
                 failed (valid, but its backends or routes could not be built)",
            ),
            &["result"],
        )?;
        for r in ["ok", "invalid", "failed"] {
            reloads.with_label_values(&[r]);
        }
        registry.register(Box::new(reloads.clone()))?;
        Ok(EdgeMetrics { registry, reloads })
    }

    /// Count one reload.
    pub(crate) fn reload(&self, result: &str) {
        self.reloads.with_label_values(&[result]).inc();
    }

    fn render(&self) -> Vec<u8> {
        let mut out = String::new();
        if let Err(e) = TextEncoder::new().encode_utf8(&self.registry.gather(), &mut out) {
            log::warn!("metrics: {e}");
        }
        out.into_bytes()
    }
}

/// The `GET /metrics` listener.
pub(crate) struct MetricsService {
    /// The registry the proxy records into, rendered on each scrape.
    pub(crate) metrics: std::sync::Arc<Metrics>,
    /// The process's own metrics, rendered after it.
    pub(crate) edge: std::sync::Arc<EdgeMetrics>,
}

#[async_trait]
impl ServeHttp for MetricsService {
    async fn response(&self, session: &mut ServerSession) -> http::Response<Vec<u8>> {
        let (status, ctype, body) = if session.req_header().uri.path() == "/metrics" {
            let mut body = self.metrics.render();
            body.extend(self.edge.render());
            (200, "text/plain; version=0.0.4; charset=utf-8", body)
        } else {
            (404, "text/plain", b"not found\n".to_vec())
        };
        super::ops::response(status, ctype, body)
    }
}
