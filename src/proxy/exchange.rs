//! The upstream exchange with one backend: sign, take a pooled connection or connect, write the
//! request, read past informational (1xx) answers to the response header, read a whole answer —
//! every step inside the route's deadlines.
//!
//! A POST is never sent twice: a pooled connection is checked before use (one the server closed
//! while idle is discarded), and a request goes again on a fresh connection only when writing it
//! failed — the server cannot have processed a request whose body it did not receive whole.
//! Once a request is fully written, a failure is the client's 502/504.

use super::upstream::Upstream;
use crate::bedrock::sigv4::SignInput;
use crate::bedrock::{self, Operation};
use crate::config::model::Timeouts;
use crate::error::GatewayError;
use bytes::{Bytes, BytesMut};
use pingora::connectors::http::Connector;
use pingora::http::RequestHeader;
use pingora::prelude::*;
use pingora::protocols::http::client::HttpSession;
use std::time::SystemTime;
use tokio::time::Instant;

/// Cap on a Bedrock answer read into memory (non-streaming).
const MAX_UPSTREAM_BODY: usize = 64 * 1024 * 1024;

/// Informational answers read past before the final one; more is a broken upstream.
const MAX_INFORMATIONAL: usize = 8;

/// One call to one backend.
pub(crate) struct Call<'a> {
    /// The backend's upstream state.
    pub(crate) upstream: &'a Upstream,
    /// Pingora's connector (TLS, connect timeouts).
    pub(crate) connector: &'a Connector,
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

    fn after_sending(e: &Error) -> Self {
        Failed {
            error: upstream_error(e),
            sent: true,
        }
    }
}

/// Send the signed request and read the response header: it must arrive within
/// `connect + firstByte`, and before the total deadline.
pub(crate) async fn open(call: &Call<'_>, body: Bytes) -> Result<HttpSession, Failed> {
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
    Write(Box<Error>),
    /// The request was written; it must not be sent again.
    Read(Box<Error>),
}

async fn send(call: &Call<'_>, body: Bytes) -> Result<HttpSession, Failed> {
    let req = build_request(call, &body)
        .await
        .map_err(Failed::before_sending)?;
    if let Some(mut http) = call.upstream.take_idle() {
        match exchange(&mut http, req.clone(), body.clone()).await {
            Ok(()) => return Ok(http),
            Err(Failure::Read(e)) => return Err(Failed::after_sending(&e)),
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
    let (mut http, _) = call
        .connector
        .get_http_session(&peer)
        .await
        .map_err(|e| Failed::before_sending(upstream_error(&e)))?;
    match exchange(&mut http, req, body).await {
        Ok(()) => Ok(http),
        Err(Failure::Write(e)) => Err(Failed::before_sending(upstream_error(&e))),
        Err(Failure::Read(e)) => Err(Failed::after_sending(&e)),
    }
}

async fn exchange(http: &mut HttpSession, req: RequestHeader, body: Bytes) -> Result<(), Failure> {
    http.write_request_header(Box::new(req))
        .await
        .map_err(Failure::Write)?;
    http.write_request_body(body, true)
        .await
        .map_err(Failure::Write)?;
    http.finish_request_body().await.map_err(Failure::Write)?;
    read_final_header(http).await.map_err(Failure::Read)
}

/// Read response headers until a final (non-1xx) one: `100 Continue` and `103 Early Hints`
/// carry nothing for Bedrock clients.
async fn read_final_header(http: &mut HttpSession) -> Result<()> {
    for _ in 0..=MAX_INFORMATIONAL {
        http.read_response_header().await?;
        let informational = http
            .response_header()
            .is_some_and(|h| h.status.is_informational() && h.status.as_u16() != 101);
        if !informational {
            return Ok(());
        }
    }
    Error::e_explain(
        ErrorType::InvalidHTTPHeader,
        "too many informational responses",
    )
}

async fn build_request(call: &Call<'_>, body: &Bytes) -> Result<RequestHeader, GatewayError> {
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
    let internal = |e: Box<Error>| GatewayError::Internal {
        message: format!("building upstream request: {e}"),
    };
    let mut req =
        RequestHeader::build("POST", path.as_bytes(), Some(6 + auth.len())).map_err(internal)?;
    let accept = match call.op {
        Operation::Converse | Operation::Invoke | Operation::CountTokens => "application/json",
        Operation::ConverseStream => "application/vnd.amazon.eventstream",
    };
    req.insert_header("host", ep.authority.as_str())
        .map_err(internal)?;
    req.insert_header("content-type", "application/json")
        .map_err(internal)?;
    req.insert_header("content-length", body.len().to_string())
        .map_err(internal)?;
    req.insert_header("accept", accept).map_err(internal)?;
    for (k, v) in auth {
        req.insert_header(k, v).map_err(internal)?;
    }
    Ok(req)
}

/// Read a whole answer body before `deadline`, then return the connection to the idle pool.
pub(crate) async fn read_all(
    upstream: &Upstream,
    mut http: HttpSession,
    deadline: Instant,
) -> Result<Bytes, GatewayError> {
    let read = async {
        let mut answer = BytesMut::new();
        while let Some(chunk) = http
            .read_response_body()
            .await
            .map_err(|e| upstream_error(&e))?
        {
            if answer.len() + chunk.len() > MAX_UPSTREAM_BODY {
                return Err(GatewayError::UpstreamBadResponse {
                    message: format!("answer larger than {MAX_UPSTREAM_BODY} bytes"),
                });
            }
            answer.extend_from_slice(&chunk);
        }
        Ok(answer.freeze())
    };
    let answer = tokio::time::timeout_at(deadline, read)
        .await
        .unwrap_or_else(|_| {
            Err(GatewayError::UpstreamTimeout {
                message: "no complete answer within the route's total timeout".into(),
            })
        })?;
    if http.response_done() {
        upstream.release(http).await;
    }
    Ok(answer)
}

/// The response header's status and the named header's value.
pub(crate) fn header_value(http: &HttpSession, name: &str) -> Option<String> {
    http.response_header()
        .and_then(|h| h.headers.get(name))
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// Pingora upstream errors → 502 (unreachable) or 504 (timeout). The message names the kind of
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
