//! Writing complete responses to the client: JSON with an exact `Content-Length`, and OpenAI
//! error bodies for every `GatewayError`.

use crate::error::GatewayError;
use bytes::Bytes;
use pingora::http::ResponseHeader;
use pingora::prelude::*;

/// Write a complete JSON response.
pub async fn json(
    session: &mut Session,
    status: u16,
    body: Vec<u8>,
    extra: &[(&'static str, String)],
) -> Result<()> {
    let mut h = ResponseHeader::build(status, Some(3 + extra.len()))?;
    h.insert_header("content-type", "application/json")?;
    h.insert_header("content-length", body.len().to_string())?;
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
pub async fn error(session: &mut Session, e: &GatewayError) -> Result<()> {
    let mut extra = vec![(
        "x-should-retry",
        if e.retryable() { "true" } else { "false" }.to_owned(),
    )];
    if let GatewayError::MethodNotAllowed { .. } = e {
        extra.push(("allow", "POST".to_owned()));
    }
    json(session, e.status(), e.to_openai_json(), &extra).await
}
