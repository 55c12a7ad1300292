//! The admin and metrics listeners, served until the process exits — through a drain too, so
//! that `/healthz/ready` can answer 503 (rather than refuse connections) while the API
//! listeners finish their requests, and metrics can still be scraped. The socket is bound when
//! the process is built, so a taken port is a start-up error.

use async_trait::async_trait;
use pingora::apps::ServerApp;
use pingora::protocols::Stream;
use pingora::server::ShutdownWatch;
use pingora::services::background::BackgroundService;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::watch;

/// One operations listener: a bound socket and the HTTP app that answers on it.
pub(crate) struct OpsListener<A> {
    name: &'static str,
    socket: Mutex<Option<std::net::TcpListener>>,
    app: Arc<A>,
}

impl<A> OpsListener<A> {
    /// Bind `addr` now; serve `app` on it once the server runs.
    pub(crate) fn bind(name: &'static str, addr: SocketAddr, app: A) -> Result<Self, String> {
        let socket = std::net::TcpListener::bind(addr)
            .and_then(|s| s.set_nonblocking(true).map(|()| s))
            .map_err(|e| format!("{name} listener on {addr}: {e}"))?;
        Ok(OpsListener {
            name,
            socket: Mutex::new(Some(socket)),
            app: Arc::new(app),
        })
    }
}

#[async_trait]
impl<A: ServerApp + Send + Sync + 'static> BackgroundService for OpsListener<A> {
    async fn start(&self, _shutdown: ShutdownWatch) {
        let socket = self.socket.lock().ok().and_then(|mut s| s.take());
        let Some(listener) = socket.and_then(|s| tokio::net::TcpListener::from_std(s).ok()) else {
            log::error!("{} listener: no socket to serve", self.name);
            return;
        };
        // The apps see a shutdown that never comes: they keep connections alive until exit.
        let (_never_sent, never) = watch::channel(false);
        loop {
            match listener.accept().await {
                Ok((tcp, _)) => {
                    let app = self.app.clone();
                    let never = never.clone();
                    tokio::spawn(async move {
                        let stream: Stream =
                            Box::new(pingora::protocols::l4::stream::Stream::from(tcp));
                        ServerApp::process_new(&app, stream, &never).await;
                    });
                }
                Err(e) => {
                    log::warn!("{} listener: accept failed: {e}", self.name);
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
    }
}

/// A complete response for the admin and metrics listeners.
pub(crate) fn response(status: u16, content_type: &str, body: Vec<u8>) -> http::Response<Vec<u8>> {
    http::Response::builder()
        .status(status)
        .header("content-type", content_type)
        .header("content-length", body.len())
        .body(body)
        .unwrap_or_default()
}
