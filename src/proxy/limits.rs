//! Rate limits on the request path: admit a request on its route's `rateLimit` policy before
//! any Bedrock call (429 with `Retry-After`, or 503 when a `failMode: closed` store is down),
//! the `x-ratelimit-*` headers of the answer, and charging the tokens Bedrock reported once
//! the request is logged.
//!
//! Key `ip` is the TCP peer address: `X-Forwarded-For` is not trusted (any client could set
//! it and pick its own bucket); put basalt behind a proxy only with `key: client`.

use super::context::RequestCtx;
use super::routes::RouteEntry;
use super::Gateway;
use super::Session;
use crate::config::model::{LimitKind, RateLimitKey};
use crate::error::GatewayError;
use crate::metrics::Metrics;
use crate::ratelimit::{self, go_duration, Headers, Limited, Refusal};
use pingora::prelude::*;

/// Admit the request on its route's rate limit, if the route has one.
pub(crate) async fn admit(
    gw: &Gateway,
    session: &Session,
    ctx: &mut RequestCtx,
    entry: &RouteEntry,
) -> Result<(), GatewayError> {
    let Some(limiter) = &entry.limiter else {
        return Ok(());
    };
    let key = match limiter.key_kind() {
        // Validation requires auth on every listener for `key: client`.
        RateLimitKey::Client => ctx.client.clone().ok_or(GatewayError::Unauthenticated)?,
        RateLimitKey::Ip => session.client_addr().and_then(|a| a.as_inet()).map_or_else(
            || "unknown".to_owned(),
            |a| a.ip().to_canonical().to_string(),
        ),
    };
    let outcome = limiter.admit(&key).await;
    let (admission, refusal) = match outcome {
        Ok(a) => (a, None),
        Err(Refusal::StoreUnavailable) => return Err(GatewayError::RateLimitStoreUnavailable),
        Err(Refusal::Limited {
            retry_after,
            limit,
            admission,
        }) => (admission, Some((retry_after, limit))),
    };
    ctx.rate_limit = Some(Limited {
        limiter: limiter.clone(),
        key,
        headers: Headers::of(&admission),
    });
    let Some((retry_after, limit)) = refusal else {
        return Ok(());
    };
    let label_key = match limiter.key_kind() {
        RateLimitKey::Client => ctx.client.as_deref().unwrap_or("ip"),
        RateLimitKey::Ip => "ip",
    };
    gw.metrics
        .limits
        .rejected
        .with_label_values(&[
            &entry.route.name,
            label_key,
            &ratelimit::limit_label(&limit),
        ])
        .inc();
    let kind = match limit.kind {
        LimitKind::Requests => "requests",
        LimitKind::Tokens => "tokens",
    };
    Err(GatewayError::RateLimited {
        kind,
        limit: format!("{} {kind} per {}", limit.amount, go_duration(limit.window)),
        retry_after_secs: ratelimit::retry_after_secs(retry_after),
    })
}

/// The `x-ratelimit-*` headers for the answer (none on a route without limits).
pub(crate) fn headers(ctx: &RequestCtx) -> Vec<(&'static str, String)> {
    ctx.rate_limit
        .as_ref()
        .map(|l| l.headers.0.clone())
        .unwrap_or_default()
}

/// Once the request is over: charge the tokens Bedrock reported (input, cache reads and
/// writes, output) to the key's token limits, and count them per client. Never waits.
pub(crate) fn charge(metrics: &Metrics, ctx: &RequestCtx) {
    let tokens = match (&ctx.usage, ctx.abandoned_chars) {
        // Bedrock's inputTokens + cacheReadInputTokens + cacheWriteInputTokens + outputTokens.
        (Some(u), _) => u.prompt_tokens().saturating_add(u.output_tokens),
        // A stream the client abandoned before Bedrock's usage arrived: estimated at four
        // bytes a token, the Converse request as input and the output relayed so far.
        (None, Some(chars)) => abandoned_tokens(ctx.prompt_bytes, chars),
        (None, None) => return,
    };
    if let Some(l) = &ctx.rate_limit {
        l.limiter.charge(&l.key, tokens);
    }
    if let Some(client) = &ctx.client {
        metrics
            .limits
            .client_tokens
            .with_label_values(&[client])
            .inc_by(tokens);
    }
}

/// The token estimate of an abandoned stream: four bytes of the Converse request, or four
/// characters of output, per token (rounded up; at least one token of input).
fn abandoned_tokens(prompt_bytes: usize, output_chars: u64) -> u64 {
    (prompt_bytes as u64).div_ceil(4).max(1) + output_chars.div_ceil(4)
}

#[cfg(test)]
mod tests {
    use super::abandoned_tokens;

    #[test]
    fn an_abandoned_stream_is_charged_four_bytes_a_token() {
        assert_eq!(abandoned_tokens(4000, 401), 1000 + 101);
        assert_eq!(abandoned_tokens(0, 0), 1);
    }
}
