//! The stream relay: a 200 ConverseStream answer (AWS event-stream frames) in, OpenAI SSE out,
//! frame by frame as it arrives. The client's response header waits for the first output, so a
//! stream whose first event is a failure (an exception instead of `messageStart`, a broken
//! frame, a timeout) is returned ([`Relayed::Early`]) to be retried or answered as an ordinary
//! HTTP error. Failures after that (exceptions, decode errors,
//! `streamIdle`, the total deadline) become one error event and no `[DONE]`. A client that
//! hangs up ends the exchange; the half-read upstream connection is dropped, never pooled.

use super::context::RequestCtx;
use super::h1::Conn;
use super::observe::OpenStream;
use super::respond::{self, downstream};
use super::upstream::Upstream;
use super::Session;
use crate::bedrock::eventstream::Decoder;
use crate::error::GatewayError;
use crate::metrics::Metrics;
use crate::translate::frontend::StreamOut;
use bytes::Bytes;
use pingora::prelude::*;
use std::time::Duration;
use tokio::time::Instant;

/// One stream being relayed.
pub(crate) struct Relay<'a, S: StreamOut> {
    /// The upstream whose connection is returned to the pool after a clean end.
    pub(crate) upstream: &'a Upstream,
    /// The open upstream exchange (response header read, status 200).
    pub(crate) http: Conn,
    /// When the upstream exchange started.
    pub(crate) upstream_start: Instant,
    /// `timeouts.streamIdle`.
    pub(crate) idle: Duration,
    /// `timeouts.total` from the start of the exchange.
    pub(crate) deadline: Instant,
    /// The event-stream → SSE state machine of the client's API.
    pub(crate) translator: S,
}

/// How a relay ended.
#[derive(Debug)]
pub(crate) enum Relayed {
    /// The stream went to the client (to its end, or to an error event).
    Done,
    /// It failed before any byte went to the client: nothing was written.
    Early(GatewayError),
}

/// What one read from the upstream produced.
enum Step {
    /// Bytes (possibly no complete frame yet).
    Bytes(Bytes),
    /// The upstream ended the body.
    End,
    /// The client went away.
    ClientGone(Box<Error>),
    /// Bytes from the client (pipelining): stop watching it; writes still detect a close.
    ClientSpoke,
    /// A failure that becomes the error event.
    Failed(GatewayError),
}

impl<S: StreamOut> Relay<'_, S> {
    /// Relay until the stream ends, the client leaves, or a deadline passes.
    pub(crate) async fn run(
        mut self,
        session: &mut Session,
        ctx: &mut RequestCtx,
        metrics: &Metrics,
        extra: &[(&'static str, String)],
    ) -> Result<Relayed, GatewayError> {
        let _open = OpenStream::new(metrics);
        let mut decoder = Decoder::new();
        let mut out = Vec::with_capacity(4096);
        let mut watch_client = true;
        let mut clean_end = false;
        loop {
            match self.next(session, watch_client).await {
                Step::Bytes(bytes) => {
                    self.decode(&mut decoder, &bytes, &mut out);
                    self.decode_buffered(&mut decoder, &mut out);
                }
                Step::End => {
                    clean_end = decoder.pending() == 0;
                    if !clean_end {
                        let message = "the Bedrock stream ended inside a frame".into();
                        let e = GatewayError::UpstreamBadResponse { message };
                        self.translator.error(&e, &mut out);
                    }
                    break;
                }
                Step::ClientGone(e) => return Err(self.client_gone(ctx, &e)),
                Step::ClientSpoke => watch_client = false,
                Step::Failed(e) => {
                    self.translator.error(&e, &mut out);
                    break;
                }
            }
            if let Some(e) = self.early_failure() {
                return Ok(Relayed::Early(e));
            }
            if self.translator.error_sent().is_some() {
                break;
            }
            if !out.is_empty() {
                if ctx.status != 200 {
                    respond::sse_header(session, &ctx.request_id, extra).await?;
                    ctx.status = 200;
                }
                let chunk = Bytes::from(std::mem::take(&mut out));
                if let Err(e) = session.write_response_body(chunk, false).await {
                    return Err(self.client_gone(ctx, &e));
                }
                if ctx.ttft.is_none() && self.translator.output_sent() {
                    ctx.ttft = Some(ctx.start.elapsed());
                }
            }
        }
        if let Some(e) = self.early_failure() {
            return Ok(Relayed::Early(e));
        }
        if ctx.status != 200 {
            respond::sse_header(session, &ctx.request_id, extra).await?;
            ctx.status = 200;
        }
        self.finish(session, ctx, out, clean_end).await?;
        Ok(Relayed::Done)
    }

    /// Wait for upstream bytes, watching for a client that hangs up while the upstream is
    /// quiet (noticed now, not at the next write: dropping `http` closes the exchange).
    async fn next(&mut self, session: &mut Session, watch_client: bool) -> Step {
        let limit = (Instant::now() + self.idle).min(self.deadline);
        let read = tokio::select! {
            biased;
            read = tokio::time::timeout_at(limit, self.http.read_body()) => read,
            gone = session.read_body_or_idle(true), if watch_client => {
                return match gone {
                    Err(e) => Step::ClientGone(e),
                    Ok(_) => Step::ClientSpoke,
                };
            }
        };
        match read {
            Ok(Ok(Some(bytes))) => Step::Bytes(bytes),
            Ok(Ok(None)) => Step::End,
            Ok(Err(e)) => Step::Failed(super::exchange::io_error(&e)),
            Err(_) => {
                let message = if Instant::now() >= self.deadline {
                    "the stream exceeded the route's total timeout".to_owned()
                } else {
                    format!("no stream event for {} ms", self.idle.as_millis())
                };
                Step::Failed(GatewayError::UpstreamTimeout { message })
            }
        }
    }

    /// A failure before the stream started (its first event was the failure): nothing was
    /// or will be written. Decided by the events, not by how the bytes were split.
    fn early_failure(&self) -> Option<GatewayError> {
        let e = self.translator.error_sent()?;
        (!self.translator.started()).then(|| e.clone())
    }

    fn decode(&mut self, decoder: &mut Decoder, bytes: &[u8], out: &mut Vec<u8>) {
        decoder.push(bytes);
        loop {
            match decoder.next_frame() {
                Ok(Some(frame)) => self.translator.on_frame(&frame, out),
                Ok(None) => break,
                Err(e) => {
                    let e = GatewayError::UpstreamBadResponse { message: e.0 };
                    self.translator.error(&e, out);
                    break;
                }
            }
        }
    }

    /// Decode the rest of what the last read brought (further chunks of the body already in
    /// the connection's buffer), so that frames arriving together leave in one write.
    fn decode_buffered(&mut self, decoder: &mut Decoder, out: &mut Vec<u8>) {
        while self.translator.error_sent().is_none() {
            match self.http.take_body() {
                Ok(Some(bytes)) => self.decode(decoder, &bytes, out),
                Ok(None) => break,
                Err(e) => {
                    let e = super::exchange::io_error(&e);
                    self.translator.error(&e, out);
                    break;
                }
            }
        }
    }

    /// The client is gone: record what was produced; the upstream session is dropped.
    fn client_gone(&self, ctx: &mut RequestCtx, e: &Error) -> GatewayError {
        ctx.usage = self.translator.tokens();
        if ctx.usage.is_none() {
            ctx.abandoned_chars = Some(self.translator.produced_chars());
        }
        ctx.upstream = Some(self.upstream_start.elapsed());
        downstream(e)
    }

    async fn finish(
        mut self,
        session: &mut Session,
        ctx: &mut RequestCtx,
        mut out: Vec<u8>,
        clean_end: bool,
    ) -> Result<(), GatewayError> {
        self.translator.finish(&mut out);
        ctx.upstream = Some(self.upstream_start.elapsed());
        ctx.usage = self.translator.tokens();
        if ctx.usage.is_none() {
            // Failed after it started (idle, deadline, exception): Bedrock's usage never
            // came, so what was relayed is the measure (rate limits charge it).
            ctx.abandoned_chars = Some(self.translator.produced_chars());
        }
        ctx.error = self.translator.error_sent().cloned();
        session
            .write_response_body(Bytes::from(out), true)
            .await
            .map_err(|e| downstream(&e))?;
        if clean_end {
            self.upstream.release(self.http);
        }
        Ok(())
    }
}
