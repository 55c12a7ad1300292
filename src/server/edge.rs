//! One API listener's connection handling, wrapped around its HTTP app ([`EdgeHttp`]): the cap
//! on open connections (`limits.maxConnections`; past it a new connection is answered 503 and
//! closed — refused rather than queued, so a flood cannot hold file descriptors waiting) and the
//! request-head guard ([`crate::proxy::conn`]) under every HTTP/1 connection.

use super::http::EdgeHttp;
use crate::config::model::ConnLimits;
use crate::proxy::conn::Guarded;
use crate::proxy::Gateway;
use arc_swap::ArcSwap;
use async_trait::async_trait;
use pingora::apps::ServerApp;
use pingora::protocols::{Stream, ALPN};
use pingora::server::ShutdownWatch;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The app a listener's Pingora service runs.
pub(crate) struct EdgeApp {
    http: Arc<EdgeHttp>,
    live: Arc<ArcSwap<Gateway>>,
    open: Arc<AtomicUsize>,
    name: String,
}

impl EdgeApp {
    /// Wrap a listener's HTTP app; its connection limits are read from the listener's
    /// current state at each accept.
    pub(crate) fn new(http: EdgeHttp, live: Arc<ArcSwap<Gateway>>, name: String) -> Self {
        EdgeApp {
            http: Arc::new(http),
            live,
            open: Arc::new(AtomicUsize::new(0)),
            name,
        }
    }
}

/// One open connection counted against `maxConnections`.
struct Slot(Arc<AtomicUsize>);

impl Slot {
    fn take(open: &Arc<AtomicUsize>, max: usize) -> Option<Slot> {
        if open.fetch_add(1, Ordering::AcqRel) >= max {
            open.fetch_sub(1, Ordering::AcqRel);
            return None;
        }
        Some(Slot(open.clone()))
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

const OVERLOADED: &str = "{\"error\":{\"message\":\"too many open connections\",\
\"type\":\"server_error\",\"param\":null,\"code\":\"overloaded\"}}";

/// Answer a connection past the cap: 503 on HTTP/1, a plain close on HTTP/2.
async fn refuse(mut stream: Stream, http1: bool) {
    if http1 {
        let answer = format!(
            "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\n\
             content-length: {}\r\nretry-after: 1\r\nconnection: close\r\n\r\n{OVERLOADED}",
            OVERLOADED.len()
        );
        let _ = stream.write_all(answer.as_bytes()).await;
        let _ = stream.flush().await;
    }
    pingora::protocols::Shutdown::shutdown(&mut *stream).await;
    // Drop what the client already sent for a moment, so that closing with unread bytes does
    // not reset the connection before it reads the answer.
    let drain = async {
        let mut scratch = [0u8; 4096];
        let mut left: usize = 64 * 1024;
        while left > 0 {
            match stream.read(&mut scratch).await {
                Ok(0) | Err(_) => break,
                Ok(n) => left = left.saturating_sub(n),
            }
        }
    };
    let _ = tokio::time::timeout(REFUSAL_LINGER, drain).await;
}

/// How long a refused connection is drained before it is closed.
const REFUSAL_LINGER: std::time::Duration = std::time::Duration::from_millis(250);

#[async_trait]
impl ServerApp for EdgeApp {
    async fn process_new(
        self: &Arc<Self>,
        stream: Stream,
        shutdown: &ShutdownWatch,
    ) -> Option<Stream> {
        let http1 = !matches!(stream.selected_alpn_proto(), Some(ALPN::H2));
        let limits: ConnLimits = self.live.load().listener.conn;
        let Some(_slot) = Slot::take(&self.open, limits.max_connections) else {
            log::warn!(
                "listener {}: {} connections open (limits.maxConnections); refusing one",
                self.name,
                limits.max_connections
            );
            refuse(stream, http1).await;
            return None;
        };
        let guarded: Stream = Box::new(Guarded::new(stream, limits, http1));
        ServerApp::process_new(&self.http, guarded, shutdown).await
    }

    async fn cleanup(&self) {
        ServerApp::cleanup(self.http.as_ref()).await;
    }
}
