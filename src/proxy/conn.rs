//! The downstream connection guard: a wrapper around each accepted HTTP/1 stream that enforces
//! the request-head limits Pingora 0.9.1 has no hook for — the whole head within
//! `headerTimeout` (slowloris; 408 and close), at most `maxHeaderBytes` (431), a request line of
//! at most [`MAX_REQUEST_LINE`] bytes (414), at most [`MAX_HEADER_COUNT`] header lines (431) —
//! and closes a kept-alive connection that stays idle for `idleTimeout`. The request path tells
//! the guard when a head was parsed ([`head_parsed`]) and when its answer is done
//! ([`request_done`]); between the two the guard only passes bytes through.

use super::head::{HeadScan, Refusal, MAX_HEADER_COUNT, MAX_REQUEST_LINE};
use crate::config::model::ConnLimits;
use pingora::protocols::{
    GetProxyDigest, GetSocketDigest, GetTimingDigest, Peek, Shutdown, Ssl, Stream, UniqueID,
    UniqueIDType,
};
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{sleep, Instant, Sleep};

/// How long a refused connection's incoming bytes are drained before it is closed.
const LINGER: std::time::Duration = std::time::Duration::from_secs(1);
/// At most this many bytes are drained from a refused connection.
const LINGER_BYTES: usize = 1 << 20;

const NO_SIGNAL: u8 = 0;
const HEAD_PARSED: u8 = 1;
const REQUEST_DONE: u8 = 2;

/// Where the connection is in its request cycle.
#[derive(Debug)]
enum Phase {
    /// No byte of the next head yet: the deadline is `headerTimeout` from the accept (first
    /// request) or `idleTimeout` from the last answer (kept alive); past it, a silent close.
    Waiting { first: bool },
    /// Reading a head: its bytes are counted and scanned; past the deadline, 408.
    Head,
    /// The head was read: bytes pass through (Pingora's and the request path's own timeouts
    /// apply to bodies).
    Body,
    /// Writing a final error answer before failing the read.
    Rejecting { answer: Vec<u8>, written: usize },
    /// The answer is written and our side shut: what the client still sends is read and
    /// dropped for a moment (up to [`LINGER`]), so that closing with unread data does not reset
    /// the connection before the client has read the answer.
    Lingering { dropped: usize },
    /// Closed by a limit: every read fails.
    Closed,
}

/// An accepted downstream stream with the head limits applied (HTTP/1), or passed through
/// untouched (HTTP/2, whose frames carry their own limits).
#[derive(Debug)]
pub(crate) struct Guarded {
    inner: Stream,
    limits: ConnLimits,
    http1: bool,
    phase: Phase,
    scan: HeadScan,
    deadline: Pin<Box<Sleep>>,
    signal: Arc<AtomicU8>,
}

impl Guarded {
    /// Guard a stream just accepted (after its TLS handshake, if any).
    pub(crate) fn new(inner: Stream, limits: ConnLimits, http1: bool) -> Self {
        Guarded {
            inner,
            limits,
            http1,
            phase: Phase::Waiting { first: true },
            scan: HeadScan::default(),
            deadline: Box::pin(sleep(limits.header_timeout)),
            signal: Arc::new(AtomicU8::new(NO_SIGNAL)),
        }
    }

    fn take_signal(&mut self) {
        match self.signal.swap(NO_SIGNAL, Ordering::AcqRel) {
            HEAD_PARSED => self.phase = Phase::Body,
            REQUEST_DONE => {
                self.phase = Phase::Waiting { first: false };
                self.scan = HeadScan::default();
                let at = Instant::now() + self.limits.idle_timeout;
                self.deadline.as_mut().reset(at);
            }
            _ => {}
        }
    }

    fn reject(&mut self, status: &str, code: &str, message: &str) {
        let body = format!(
            "{{\"error\":{{\"message\":\"{message}\",\"type\":\"invalid_request_error\",\
             \"param\":null,\"code\":\"{code}\"}}}}"
        );
        let answer = format!(
            "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
             connection: close\r\n\r\n{body}",
            body.len()
        );
        log::info!("downstream request head refused: {status}: {message}");
        self.phase = Phase::Rejecting {
            answer: answer.into_bytes(),
            written: 0,
        };
    }

    fn refuse(&mut self, why: Refusal) {
        let max = self.limits.max_header_bytes;
        match why {
            Refusal::TooLarge => self.reject(
                "431 Request Header Fields Too Large",
                "request_header_fields_too_large",
                &format!("the request head is larger than {max} bytes"),
            ),
            Refusal::TooManyHeaders => self.reject(
                "431 Request Header Fields Too Large",
                "request_header_fields_too_large",
                &format!("the request has more than {MAX_HEADER_COUNT} header fields"),
            ),
            Refusal::UriTooLong => self.reject(
                "414 URI Too Long",
                "uri_too_long",
                &format!(
                    "the request line is longer than {} bytes",
                    MAX_REQUEST_LINE.min(max)
                ),
            ),
        }
    }

    fn timed_out(&mut self) {
        let secs = self.limits.header_timeout.as_secs_f64();
        self.reject(
            "408 Request Timeout",
            "request_timeout",
            &format!("the request head did not arrive within {secs}s"),
        );
    }

    /// Write the rejection, shut our side, drain what the client still sends for a moment,
    /// then fail the read for good.
    fn poll_rejecting(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        loop {
            match &mut self.phase {
                Phase::Rejecting { answer, written } if *written < answer.len() => {
                    let inner = Pin::new(&mut self.inner);
                    match ready!(inner.poll_write(cx, &answer[*written..])) {
                        Ok(0) | Err(_) => self.phase = Phase::Closed,
                        Ok(n) => *written += n,
                    }
                }
                Phase::Rejecting { .. } => {
                    let _ = ready!(Pin::new(&mut self.inner).poll_flush(cx));
                    let _ = ready!(Pin::new(&mut self.inner).poll_shutdown(cx));
                    self.deadline.as_mut().reset(Instant::now() + LINGER);
                    self.phase = Phase::Lingering { dropped: 0 };
                }
                Phase::Lingering { dropped } => {
                    let mut scratch = [0u8; 4096];
                    let mut buf = ReadBuf::new(&mut scratch);
                    match Pin::new(&mut self.inner).poll_read(cx, &mut buf) {
                        Poll::Ready(Ok(())) if !buf.filled().is_empty() => {
                            *dropped += buf.filled().len();
                            if *dropped > LINGER_BYTES {
                                self.phase = Phase::Closed;
                            }
                        }
                        Poll::Ready(_) => self.phase = Phase::Closed,
                        Poll::Pending => {
                            ready!(self.deadline.as_mut().poll(cx));
                            self.phase = Phase::Closed;
                        }
                    }
                }
                _ => return Poll::Ready(Err(closed())),
            }
        }
    }

    /// Account the bytes just read while waiting for or reading a head.
    fn account(&mut self, buf: &mut ReadBuf<'_>, before: usize) {
        let n = buf.filled().len() - before;
        if n == 0 {
            return;
        }
        if let Phase::Waiting { first } = self.phase {
            self.phase = Phase::Head;
            if !first {
                let at = Instant::now() + self.limits.header_timeout;
                self.deadline.as_mut().reset(at);
            }
        }
        let max = self.limits.max_header_bytes;
        match self.scan.feed(&buf.filled()[before..], max) {
            Ok(Some(_)) => self.phase = Phase::Body,
            Ok(None) => {}
            Err(why) => {
                buf.set_filled(before);
                self.refuse(why);
            }
        }
    }
}

fn closed() -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, "closed by a request-head limit")
}

/// The guard under a request's downstream stream (HTTP/1 only).
fn guard_of(session: &pingora::protocols::http::ServerSession) -> Option<&Guarded> {
    let stream = session.stream()?;
    (**stream).as_any().downcast_ref::<Guarded>()
}

/// The request path parsed this connection's head: stop counting it as head.
pub(crate) fn head_parsed(session: &pingora::protocols::http::ServerSession) {
    if let Some(g) = guard_of(session) {
        g.signal.store(HEAD_PARSED, Ordering::Release);
    }
}

/// The request path answered: the next bytes are the next request's head, after an idle wait.
pub(crate) fn request_done(session: &pingora::protocols::http::ServerSession) {
    if let Some(g) = guard_of(session) {
        g.signal.store(REQUEST_DONE, Ordering::Release);
    }
}

impl AsyncRead for Guarded {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if !this.http1 {
            return Pin::new(&mut this.inner).poll_read(cx, buf);
        }
        this.take_signal();
        match this.phase {
            Phase::Body => return Pin::new(&mut this.inner).poll_read(cx, buf),
            Phase::Rejecting { .. } | Phase::Lingering { .. } | Phase::Closed => {
                return this.poll_rejecting(cx)
            }
            Phase::Waiting { .. } | Phase::Head => {}
        }
        let before = buf.filled().len();
        match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                if matches!(this.phase, Phase::Head) && this.deadline.is_elapsed() {
                    buf.set_filled(before);
                    this.timed_out();
                    return this.poll_rejecting(cx);
                }
                this.account(buf, before);
                if matches!(this.phase, Phase::Rejecting { .. }) {
                    return this.poll_rejecting(cx);
                }
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => {
                if this.deadline.as_mut().poll(cx).is_pending() {
                    return Poll::Pending;
                }
                if let Phase::Head = this.phase {
                    this.timed_out();
                    return this.poll_rejecting(cx);
                }
                // Idle (or a new connection that never sent a byte): end it quietly.
                this.phase = Phase::Closed;
                Poll::Ready(Ok(()))
            }
        }
    }
}

impl AsyncWrite for Guarded {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

#[async_trait::async_trait]
impl Shutdown for Guarded {
    async fn shutdown(&mut self) {
        self.inner.shutdown().await
    }
}

impl UniqueID for Guarded {
    fn id(&self) -> UniqueIDType {
        self.inner.id()
    }
}

impl Ssl for Guarded {
    fn get_ssl(&self) -> Option<&pingora::protocols::tls::TlsRef> {
        self.inner.get_ssl()
    }
    fn get_ssl_digest(&self) -> Option<Arc<pingora::protocols::tls::SslDigest>> {
        self.inner.get_ssl_digest()
    }
    fn selected_alpn_proto(&self) -> Option<pingora::protocols::ALPN> {
        self.inner.selected_alpn_proto()
    }
}

impl GetTimingDigest for Guarded {
    fn get_timing_digest(&self) -> Vec<Option<pingora::protocols::TimingDigest>> {
        self.inner.get_timing_digest()
    }
    fn get_read_pending_time(&self) -> std::time::Duration {
        self.inner.get_read_pending_time()
    }
    fn get_write_pending_time(&self) -> std::time::Duration {
        self.inner.get_write_pending_time()
    }
}

impl GetProxyDigest for Guarded {
    fn get_proxy_digest(&self) -> Option<Arc<pingora::protocols::raw_connect::ProxyDigest>> {
        self.inner.get_proxy_digest()
    }
}

impl GetSocketDigest for Guarded {
    fn get_socket_digest(&self) -> Option<Arc<pingora::protocols::SocketDigest>> {
        self.inner.get_socket_digest()
    }
}

#[async_trait::async_trait]
impl Peek for Guarded {
    async fn try_peek(&mut self, buf: &mut [u8]) -> io::Result<bool> {
        self.inner.try_peek(buf).await
    }
}
