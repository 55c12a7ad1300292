//! One listener's HTTP app under Pingora's connection handling: read a request head, serve it
//! ([`Edge::serve`]), record it, and hand the connection back for the next request. It stands
//! where Pingora's proxy app would, without that app's per-request state for phases basalt
//! never uses (cache, upstream proxying, subrequests, modules).

use crate::error::GatewayError;
use crate::proxy::context::RequestCtx;
use crate::proxy::Edge;
use async_trait::async_trait;
use pingora::apps::{HttpPersistentSettings, HttpServerApp, HttpServerOptions, ReusedHttpStream};
use pingora::http::ResponseHeader;
use pingora::protocols::http::v2::server::H2Options;
use pingora::protocols::http::ServerSession;
use pingora::server::ShutdownWatch;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use tokio::sync::Notify;

/// The app of one listener.
pub(crate) struct EdgeHttp {
    edge: Edge,
    options: HttpServerOptions,
    h2: H2Options,
    /// Set when the service shuts down: idle keep-alive connections stop waiting for a head.
    closing: AtomicBool,
    closed: Notify,
}

impl EdgeHttp {
    /// The app over a listener's request path, with its HTTP/1 and HTTP/2 options.
    pub(crate) fn new(edge: Edge, options: HttpServerOptions, h2: H2Options) -> Self {
        EdgeHttp {
            edge,
            options,
            h2,
            closing: AtomicBool::new(false),
            closed: Notify::new(),
        }
    }

    /// Read the next request head; `false` when there is none to serve (the client closed,
    /// the head was malformed and answered 400, or the service is shutting down).
    async fn read_head(&self, session: &mut ServerSession) -> bool {
        // Registered before the flag is read, so a shutdown between the two is not missed.
        let closed = self.closed.notified();
        tokio::pin!(closed);
        closed.as_mut().enable();
        if self.closing.load(Ordering::Acquire) {
            return false;
        }
        let read = tokio::select! {
            // Biased: a head already buffered is served before a shutdown is noticed.
            biased;
            read = session.read_request() => read,
            () = closed => return false,
        };
        match read {
            Ok(true) => true,
            Ok(false) => false,
            Err(e) => {
                if matches!(e.etype(), pingora::ErrorType::InvalidHTTPHeader) {
                    log::debug!("malformed request head: {e}");
                    malformed_head(session).await;
                }
                session.shutdown().await;
                false
            }
        }
    }
}

/// Answer a request head that cannot be parsed: a 400 with an OpenAI error body (the path, and
/// so the client's API, is unknown), then close.
async fn malformed_head(session: &mut ServerSession) {
    let e = GatewayError::invalid("the request head is not valid HTTP/1.1", None);
    let body = crate::openai::error_body(&e);
    let Ok(mut head) = ResponseHeader::build(400, Some(3)) else {
        return;
    };
    for (k, v) in [
        ("content-type", "application/json"),
        ("content-length", &body.len().to_string()),
        ("connection", "close"),
    ] {
        if head.insert_header(k, v).is_err() {
            return;
        }
    }
    let _ = session.write_error_response(head, body.into()).await;
}

#[async_trait]
impl HttpServerApp for EdgeHttp {
    async fn process_new_http(
        self: &Arc<Self>,
        mut session: ServerSession,
        shutdown: &ShutdownWatch,
    ) -> Option<ReusedHttpStream> {
        if !self.read_head(&mut session).await {
            return None;
        }
        if *shutdown.borrow() {
            session.set_keepalive(None);
        }
        let mut ctx = RequestCtx::new();
        let served = self.edge.serve(&mut session, &mut ctx).await;
        self.edge.finished(&session, &mut ctx);
        // A failed write to the client: nothing more can be said on this connection.
        served.ok()?;
        let settings = HttpPersistentSettings::for_session(&session);
        let reusable = session.finish().await.ok().flatten()?;
        Some(ReusedHttpStream::from_reusable_stream(reusable, settings))
    }

    fn h2_options(&self) -> Option<H2Options> {
        Some(self.h2.clone())
    }

    fn server_options(&self) -> Option<&HttpServerOptions> {
        Some(&self.options)
    }

    async fn http_cleanup(&self) {
        self.closing.store(true, Ordering::Release);
        self.closed.notify_waiters();
    }
}
