//! Client authentication on listeners with `auth.apiKeys`: `Authorization: Bearer <key>` or
//! `x-api-key: <key>`, compared in constant time against every key.

use super::Session;
use crate::error::GatewayError;
use crate::secret::Secret;
use pingora::prelude::*;
use subtle::ConstantTimeEq;

/// The name of the key the request presented (it identifies the client in logs), or
/// `Unauthenticated`.
pub(crate) fn check<'k>(
    session: &Session,
    keys: &'k [(String, Secret)],
) -> Result<&'k str, GatewayError> {
    let h = session.req_header();
    let bearer = h
        .headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim);
    let presented = bearer.or_else(|| h.headers.get("x-api-key").and_then(|v| v.to_str().ok()));
    let presented = presented.filter(|k| !k.is_empty());
    // Compare against every key so timing does not reveal which matched.
    let mut found = None;
    for (name, secret) in keys {
        let same =
            presented.is_some_and(|k| bool::from(secret.expose().as_bytes().ct_eq(k.as_bytes())));
        if same {
            found = Some(name.as_str());
        }
    }
    found.ok_or(GatewayError::Unauthenticated)
}
