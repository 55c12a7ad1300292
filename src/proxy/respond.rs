//! Writing answers to the client: complete JSON with an exact `Content-Length`, the SSE
//! response header, and every `GatewayError` in the client API's error shape.

use super::api::{Api, ErrorShape};
use super::Session;
use crate::error::GatewayError;
use bytes::Bytes;
use pingora::http::ResponseHeader;
use pingora::prelude::*;

/// The request-id header, read from the client (or generated) and returned on every answer.
pub(crate) const REQUEST_ID: &str = "x-request-id";

/// Response header listing client parameters the gateway changed or dropped (comma-separated).
pub(crate) const ADJUSTED_HEADER: &str = "x-basalt-adjusted";

/// Write a complete JSON response (with the request's `x-request-id`).
pub(crate) async fn json(
    session: &mut Session,
    status: u16,
    body: Vec<u8>,
    request_id: &str,
    extra: &[(&'static str, String)],
) -> Result<()> {
    let mut h = ResponseHeader::build(status, Some(3 + extra.len()))?;
    h.insert_header("content-type", "application/json")?;
    h.insert_header("content-length", body.len().to_string())?;
    h.insert_header(REQUEST_ID, request_id)?;
    for (k, v) in extra {
        h.insert_header(*k, v.as_str())?;
    }
    session.write_response_header(Box::new(h)).await?;
    session.write_response_body(Bytes::from(body), true).await?;
    Ok(())
}

/// Write the header of a `text/event-stream` answer.
pub(crate) async fn sse_header(
    session: &mut Session,
    request_id: &str,
    extra: &[(&'static str, String)],
) -> Result<(), GatewayError> {
    let internal = |e: Box<Error>| GatewayError::Internal {
        message: e.to_string(),
    };
    let mut header = ResponseHeader::build(200, Some(5 + extra.len())).map_err(internal)?;
    for (k, v) in extra {
        header.insert_header(*k, v.as_str()).map_err(internal)?;
    }
    for (k, v) in [
        ("content-type", "text/event-stream"),
        // Chunked framing: the end of the stream is the last chunk, not a connection close,
        // so the client's connection stays alive for its next request.
        ("transfer-encoding", "chunked"),
        ("cache-control", "no-cache"),
        ("x-accel-buffering", "no"),
        (REQUEST_ID, request_id),
    ] {
        header.insert_header(k, v).map_err(internal)?;
    }
    session
        .write_response_header(Box::new(header))
        .await
        .map_err(|e| downstream(&e))
}

/// Write an error in the shape of the client's API, with `headers` (the rate-limit standing,
/// when the route has limits) added.
pub(crate) async fn error(
    session: &mut Session,
    e: &GatewayError,
    request_id: &str,
    api: Api,
    headers: Vec<(&'static str, String)>,
) -> Result<()> {
    let mut extra = headers;
    extra.push((
        "x-should-retry",
        if e.retryable() { "true" } else { "false" }.to_owned(),
    ));
    if let GatewayError::MethodNotAllowed { .. } = e {
        extra.push(("allow", "POST".to_owned()));
    }
    if let GatewayError::RateLimited {
        retry_after_secs, ..
    } = e
    {
        extra.push(("retry-after", retry_after_secs.to_string()));
    }
    let body = error_body(api.error_shape(), e);
    json(
        session,
        status(api.error_shape(), e),
        body,
        request_id,
        &extra,
    )
    .await
}

/// The HTTP status of an error in one API's shape (Anthropic's overloaded_error is a 529).
pub(crate) fn status(shape: ErrorShape, e: &GatewayError) -> u16 {
    match shape {
        ErrorShape::OpenAi => e.status(),
        ErrorShape::Anthropic => e.anthropic_status(),
    }
}

/// The body of an error in one API's shape.
pub(crate) fn error_body(shape: ErrorShape, e: &GatewayError) -> Vec<u8> {
    match shape {
        ErrorShape::OpenAi => crate::openai::error_body(e),
        ErrorShape::Anthropic => crate::anthropic::error_body(e),
    }
}

/// A failed write to the client: the client is gone, nothing more can be sent.
pub(crate) fn downstream(e: &Error) -> GatewayError {
    GatewayError::ClientGone {
        message: e.etype().as_str().to_owned(),
    }
}
