//! Writing complete responses to the client: JSON with an exact `Content-Length`, and OpenAI
//! error bodies for every `GatewayError`.

use crate::error::GatewayError;
use bytes::Bytes;
use pingora::http::ResponseHeader;
use pingora::prelude::*;

/// The request-id header, read from the client (or generated) and returned on every answer.
pub const REQUEST_ID: &str = "x-request-id";

/// Write a complete JSON response (with the request's `x-request-id`).
pub async fn json(
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
    session.write_response_header(Box::new(h), false).await?;
    session
        .write_response_body(Some(Bytes::from(body)), true)
        .await?;
    Ok(())
}

/// Write an OpenAI-shaped error (`{"error":{message,type,param,code}}`).
pub async fn error(session: &mut Session, e: &GatewayError, request_id: &str) -> Result<()> {
    let mut extra = vec![(
        "x-should-retry",
        if e.retryable() { "true" } else { "false" }.to_owned(),
    )];
    if let GatewayError::MethodNotAllowed { .. } = e {
        extra.push(("allow", "POST".to_owned()));
    }
    json(session, e.status(), e.to_openai_json(), request_id, &extra).await
}
