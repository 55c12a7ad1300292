//! The metrics listener: `GET /metrics` in the Prometheus text format.

use crate::metrics::Metrics;
use async_trait::async_trait;
use pingora::apps::http_app::ServeHttp;
use pingora::protocols::http::ServerSession;

/// The `GET /metrics` listener.
pub(crate) struct MetricsService {
    /// The registry the proxy records into, rendered on each scrape.
    pub(crate) metrics: std::sync::Arc<Metrics>,
}

#[async_trait]
impl ServeHttp for MetricsService {
    async fn response(&self, session: &mut ServerSession) -> http::Response<Vec<u8>> {
        let (status, ctype, body) = if session.req_header().uri.path() == "/metrics" {
            (
                200,
                "text/plain; version=0.0.4; charset=utf-8",
                self.metrics.render(),
            )
        } else {
            (404, "text/plain", b"not found\n".to_vec())
        };
        super::admin::response(status, ctype, body)
    }
}
