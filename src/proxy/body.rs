//! Reading a request body: capped by the listener's `maxBodyBytes` (413, draining what the
//! client is still uploading so it reads the answer), charged against the process-wide
//! request-body budget (`server.maxInFlightBodyBytes`), `Expect: 100-continue` answered, a
//! `Content-Encoding: gzip` body decoded (its decoded size capped the same way; other
//! encodings → 415).

use super::Session;
use crate::error::GatewayError;
use bytes::{Bytes, BytesMut};
use pingora::prelude::*;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Past the cap, up to this many bytes are read and discarded so that the client (still
/// uploading) reliably receives the 413; beyond it the connection is closed at once.
const DRAIN_MAX: usize = 64 * 1024 * 1024;

/// How long a request waits for room in the body budget before it gets a 503.
const BUDGET_WAIT: Duration = Duration::from_secs(2);

/// The process-wide budget of request-body bytes held in memory, in KiB units.
#[derive(Debug, Clone)]
pub(crate) struct BodyBudget {
    kib: Arc<Semaphore>,
    bytes: usize,
}

impl BodyBudget {
    /// A budget of `bytes` (rounded up to whole KiB).
    pub(crate) fn new(bytes: usize) -> Self {
        let kib = bytes.div_ceil(1024).min(Semaphore::MAX_PERMITS);
        BodyBudget {
            kib: Arc::new(Semaphore::new(kib)),
            bytes,
        }
    }

    /// Hold `more` bytes more (in `held`), waiting up to [`BUDGET_WAIT`] for room.
    async fn grow(
        &self,
        held: &mut Option<OwnedSemaphorePermit>,
        total: usize,
    ) -> Result<(), GatewayError> {
        let want = total.div_ceil(1024);
        let have = held.as_ref().map_or(0, |p| p.num_permits());
        if want <= have {
            return Ok(());
        }
        let n = u32::try_from(want - have).map_err(|_| self.exhausted())?;
        let acquire = self.kib.clone().acquire_many_owned(n);
        let permit = match tokio::time::timeout(BUDGET_WAIT, acquire).await {
            Ok(Ok(p)) => p,
            _ => return Err(self.exhausted()),
        };
        match held {
            Some(h) => h.merge(permit),
            None => *held = Some(permit),
        }
        Ok(())
    }

    fn exhausted(&self) -> GatewayError {
        GatewayError::BodyBudget { budget: self.bytes }
    }
}

/// A body read whole, and the budget it holds until dropped.
pub(crate) struct Body {
    /// The bytes.
    pub(crate) bytes: Bytes,
    /// Its share of the process budget.
    pub(crate) permit: Option<OwnedSemaphorePermit>,
}

/// Read the whole body, at most `cap` bytes, charging `budget` as it grows.
pub(crate) async fn read(
    session: &mut Session,
    cap: usize,
    budget: &BodyBudget,
) -> Result<Body, GatewayError> {
    let declared = declared_length(session);
    if let Some(n) = declared.filter(|n| *n > cap) {
        if n > DRAIN_MAX {
            // Not worth reading: answer now and close.
            session.set_keepalive(None);
            return Err(GatewayError::BodyTooLarge { limit: cap });
        }
        return Err(reject_too_large(session, cap, 0).await);
    }
    let mut permit = None;
    budget.grow(&mut permit, declared.unwrap_or(0)).await?;
    if expects_continue(session) {
        session
            .write_continue_response()
            .await
            .map_err(|e| super::respond::downstream(&e))?;
    }
    let mut buf = BytesMut::with_capacity(declared.unwrap_or(16 * 1024).min(cap));
    loop {
        match session.read_request_body().await {
            Ok(Some(chunk)) => {
                let seen = buf.len() + chunk.len();
                if seen > cap {
                    return Err(reject_too_large(session, cap, seen).await);
                }
                budget.grow(&mut permit, seen).await?;
                buf.extend_from_slice(&chunk);
            }
            Ok(None) => break,
            Err(e) => {
                session.set_keepalive(None);
                return Err(GatewayError::InvalidRequest {
                    message: format!("could not read the request body: {}", e.etype().as_str()),
                    param: None,
                });
            }
        }
    }
    let bytes = match encoding(session)? {
        Encoding::Identity => buf.freeze(),
        Encoding::Gzip => {
            let decoded = gunzip(&buf, cap)?;
            budget.grow(&mut permit, buf.len() + decoded.len()).await?;
            decoded
        }
    };
    Ok(Body { bytes, permit })
}

enum Encoding {
    Identity,
    Gzip,
}

/// The body's `Content-Encoding`: identity or gzip; anything else is refused.
fn encoding(session: &Session) -> Result<Encoding, GatewayError> {
    let Some(v) = session.req_header().headers.get("content-encoding") else {
        return Ok(Encoding::Identity);
    };
    let v = String::from_utf8_lossy(v.as_bytes())
        .trim()
        .to_ascii_lowercase();
    match v.as_str() {
        "" | "identity" => Ok(Encoding::Identity),
        "gzip" | "x-gzip" => Ok(Encoding::Gzip),
        _ => Err(GatewayError::UnsupportedEncoding {
            encoding: v.chars().take(32).collect(),
        }),
    }
}

/// Decode a gzip body, at most `cap` decoded bytes (a small body that inflates past the cap is
/// refused like a large one).
fn gunzip(body: &[u8], cap: usize) -> Result<Bytes, GatewayError> {
    use std::io::Read;
    let mut out = Vec::with_capacity((body.len() * 4).min(cap));
    let mut decoder = flate2::read::MultiGzDecoder::new(body).take(cap as u64 + 1);
    decoder.read_to_end(&mut out).map_err(|e| {
        GatewayError::invalid(format!("the gzip request body is corrupt: {e}"), None)
    })?;
    if out.len() > cap {
        return Err(GatewayError::BodyTooLarge { limit: cap });
    }
    Ok(Bytes::from(out))
}

fn declared_length(session: &Session) -> Option<usize> {
    let h = session.req_header().headers.get("content-length")?;
    h.to_str().ok()?.trim().parse().ok()
}

fn expects_continue(session: &Session) -> bool {
    session
        .req_header()
        .headers
        .get("expect")
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue"))
}

/// Read and discard the rest of an over-cap body, then answer 413 (keep-alive kept when the
/// whole body could be drained).
async fn reject_too_large(session: &mut Session, cap: usize, mut seen: usize) -> GatewayError {
    loop {
        match session.read_request_body().await {
            Ok(Some(chunk)) => {
                seen += chunk.len();
                if seen > DRAIN_MAX {
                    session.set_keepalive(None);
                    break;
                }
            }
            Ok(None) => break,
            Err(_) => {
                session.set_keepalive(None);
                break;
            }
        }
    }
    GatewayError::BodyTooLarge { limit: cap }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gzip_bodies_are_decoded_within_the_cap() {
        use std::io::Write;
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(&[b'a'; 10_000]).unwrap();
        let gz = enc.finish().unwrap();
        assert_eq!(gunzip(&gz, 10_000).unwrap().len(), 10_000);
        assert_eq!(
            gunzip(&gz, 9_999).unwrap_err().status(),
            413,
            "a gzip bomb is capped"
        );
        assert_eq!(gunzip(b"not gzip", 100).unwrap_err().status(), 400);
    }

    #[tokio::test]
    async fn the_budget_is_shared_and_given_back_on_drop() {
        let budget = BodyBudget::new(10 * 1024);
        let mut a = None;
        budget.grow(&mut a, 6 * 1024).await.unwrap();
        budget.grow(&mut a, 6 * 1024 + 1).await.unwrap();
        assert_eq!(a.as_ref().map(|p| p.num_permits()), Some(7));
        let mut b = None;
        tokio::time::pause();
        let e = budget.grow(&mut b, 4 * 1024).await.unwrap_err();
        assert_eq!(e.status(), 503);
        drop(a);
        budget.grow(&mut b, 10 * 1024).await.unwrap();
    }
}
