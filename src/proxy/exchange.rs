//! The upstream exchange with one backend: sign, take a pooled connection or connect, write the
//! request, read past informational (1xx) answers to the response header, read a whole answer —
//! every step inside the route's deadlines.
//!
//! A POST is never sent twice: a pooled connection is checked before use (one the server closed
//! while idle is discarded), and a request goes again on a fresh connection only when writing it
//! failed — the server cannot have processed a request whose body it did not receive whole.
//! Once a request is fully written, a failure is the client's 502/504.

use super::h1::{Conn, Head};
use super::upstream::Upstream;
use crate::bedrock::sigv4::SignInput;
use crate::bedrock::{self, Operation};
use crate::config::model::Timeouts;
use crate::error::GatewayError;
use bytes::Bytes;
use pingora::connectors::TransportConnector;
use pingora::prelude::*;
use std::time::SystemTime;
use tokio::time::Instant;

/// Cap on a Bedrock answer read into memory (non-streaming).
const MAX_UPSTREAM_BODY: usize = 64 * 1024 * 1024;

/// One call to one backend.
pub(crate) struct Call<'a> {
    /// The backend's upstream state.
    pub(crate) upstream: &'a Upstream,
    /// Pingora's transport connector (TCP, TLS, connect timeouts).
    pub(crate) connector: &'a TransportConnector,
    /// The route's timeouts.
    pub(crate) timeouts: &'a Timeouts,
    /// The Bedrock model id (percent-encoded into the path).
    pub(crate) model_id: &'a str,
    /// Converse or ConverseStream.
    pub(crate) op: Operation,
    /// `timeouts.total` from the start of the exchange.
    pub(crate) deadline: Instant,
}

/// A failed attempt: the error, and whether the request may have reached the backend whole
/// (then it may have run, and is not sent again).
#[derive(Debug)]
pub(crate) struct Failed {
    /// What the client would see.
    pub(crate) error: GatewayError,
    /// The request was delivered whole (or it cannot be known that it was not).
    pub(crate) sent: bool,
}

impl Failed {
    fn before_sending(error: GatewayError) -> Self {
        Failed { error, sent: false }
    }

    fn after_sending_io(e: &std::io::Error) -> Self {
        Failed {
            error: io_error(e),
            sent: true,
        }
    }
}

/// Send the signed request and read the response header: it must arrive within
/// `connect + firstByte`, and before the total deadline.
pub(crate) async fn open(call: &Call<'_>, body: Bytes) -> Result<Conn, Failed> {
    let first_byte = Instant::now() + call.timeouts.connect + call.timeouts.first_byte;
    let limit = first_byte.min(call.deadline);
    match tokio::time::timeout_at(limit, send(call, body)).await {
        Ok(r) => r,
        // Connecting has its own, shorter timeout: past it the request was (being) written.
        Err(_) => Err(Failed {
            error: GatewayError::UpstreamTimeout {
                message: "no response header within the route's firstByte/total timeout".into(),
            },
            sent: true,
        }),
    }
}

/// What failed, and whether the server may have received the whole request.
enum Failure {
    /// Writing failed: the request was not delivered whole; safe to send again.
    Write(std::io::Error),
    /// The request was written; it must not be sent again.
    Read(std::io::Error),
}

async fn send(call: &Call<'_>, body: Bytes) -> Result<Conn, Failed> {
    let head = request_head(call, &body)
        .await
        .map_err(Failed::before_sending)?;
    if let Some(mut conn) = call.upstream.take_idle() {
        match exchange(&mut conn, &head, &body).await {
            Ok(()) => return Ok(conn),
            Err(Failure::Read(e)) => return Err(Failed::after_sending_io(&e)),
            Err(Failure::Write(e)) => {
                log::debug!(
                    "pooled upstream connection failed while writing ({e}); using a fresh one"
                );
            }
        }
    }
    let peer = call
        .upstream
        .peer(call.timeouts)
        .await
        .map_err(Failed::before_sending)?;
    // Boxed: the connector's future (TCP and TLS handshakes) is large, and inline it would be
    // part of every request's state for the request's whole life, streams included; it is
    // needed only when no pooled connection can be used.
    let stream = Box::pin(call.connector.new_stream(&peer))
        .await
        .map_err(|e| Failed::before_sending(upstream_error(&e)))?;
    let mut conn = Conn::new(stream);
    match exchange(&mut conn, &head, &body).await {
        Ok(()) => Ok(conn),
        Err(Failure::Write(e)) => Err(Failed::before_sending(io_error(&e))),
        Err(Failure::Read(e)) => Err(Failed::after_sending_io(&e)),
    }
}

async fn exchange(conn: &mut Conn, head: &[u8], body: &[u8]) -> Result<(), Failure> {
    conn.send(head, body).await.map_err(Failure::Write)?;
    conn.read_head().await.map_err(Failure::Read)?;
    Ok(())
}

/// The signed request head: request line, host, content type and length, accept, and the
/// authorizer's fields (a value with a control character is refused, never sent).
async fn request_head(call: &Call<'_>, body: &Bytes) -> Result<Vec<u8>, GatewayError> {
    let ep = &call.upstream.backend.endpoint;
    let path = bedrock::model_path(call.model_id, call.op);
    let url = format!("{}{}", ep.base_url, path);
    let input = SignInput {
        url: &url,
        path: &path,
        host: &ep.authority,
        content_type: "application/json",
        body,
    };
    let auth = call
        .upstream
        .authorizer
        .headers(&input, SystemTime::now())
        .await?;
    let accept = match call.op {
        Operation::Converse | Operation::Invoke | Operation::CountTokens => "application/json",
        Operation::ConverseStream => "application/vnd.amazon.eventstream",
    };
    let mut head = Vec::with_capacity(
        256 + path.len() + auth.iter().map(|(_, v)| v.len() + 32).sum::<usize>(),
    );
    head.extend_from_slice(b"POST ");
    head.extend_from_slice(path.as_bytes());
    head.extend_from_slice(b" HTTP/1.1\r\nhost: ");
    head.extend_from_slice(ep.authority.as_bytes());
    head.extend_from_slice(b"\r\ncontent-type: application/json\r\ncontent-length: ");
    head.extend_from_slice(itoa::Buffer::new().format(body.len()).as_bytes());
    head.extend_from_slice(b"\r\naccept: ");
    head.extend_from_slice(accept.as_bytes());
    head.extend_from_slice(b"\r\n");
    for (name, value) in &auth {
        if value.bytes().any(|b| (b < 0x20 && b != b'\t') || b == 0x7f) {
            return Err(GatewayError::Internal {
                message: format!("the {name} value for the upstream holds a control character"),
            });
        }
        head.extend_from_slice(name.as_bytes());
        head.extend_from_slice(b": ");
        head.extend_from_slice(value.as_bytes());
        head.extend_from_slice(b"\r\n");
    }
    head.extend_from_slice(b"\r\n");
    Ok(head)
}

/// Read a whole answer body before `deadline`, then return the connection to the idle pool.
pub(crate) async fn read_all(
    upstream: &Upstream,
    mut conn: Conn,
    deadline: Instant,
) -> Result<Bytes, GatewayError> {
    let answer = tokio::time::timeout_at(deadline, conn.read_to_end(MAX_UPSTREAM_BODY))
        .await
        .unwrap_or_else(|_| {
            Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "no complete answer within the route's total timeout",
            ))
        })
        .map_err(|e| io_error(&e))?;
    upstream.release(conn);
    Ok(answer)
}

/// The named field of the answer's head.
pub(crate) fn header_value(conn: &Conn, name: &str) -> Option<String> {
    conn.head().and_then(|h| h.header(name)).map(str::to_owned)
}

/// The answer's status (0 before a head was read).
pub(crate) fn status(conn: &Conn) -> u16 {
    conn.head().map_or(0, Head::status)
}

/// Errors on the connection → 502 (unreachable, broken answer) or 504 (timeout). The message
/// names the kind of failure only.
pub(crate) fn io_error(e: &std::io::Error) -> GatewayError {
    log::warn!("upstream exchange failed: {e}");
    match e.kind() {
        std::io::ErrorKind::TimedOut => GatewayError::UpstreamTimeout {
            message: e.to_string(),
        },
        std::io::ErrorKind::InvalidData => GatewayError::UpstreamBadResponse {
            message: format!("the backend's answer is not valid HTTP/1.1: {e}"),
        },
        kind => GatewayError::UpstreamUnreachable {
            message: format!("{kind} talking to the backend"),
        },
    }
}

/// Pingora connect errors → 502 (unreachable) or 504 (timeout). The message names the kind of
/// failure only: Pingora's text carries addresses and raw bytes that are not the client's.
pub(crate) fn upstream_error(e: &Error) -> GatewayError {
    log::warn!("upstream exchange failed: {e}");
    let what = e.etype().as_str();
    match e.etype() {
        ErrorType::ConnectTimedout | ErrorType::ReadTimedout | ErrorType::WriteTimedout => {
            GatewayError::UpstreamTimeout {
                message: format!("{what} talking to the backend"),
            }
        }
        _ => GatewayError::UpstreamUnreachable {
            message: format!("{what} talking to the backend"),
        },
    }
}
