//! `POST .../messages/count_tokens`: parse (capped) → select the route → one exchange with
//! Bedrock CountTokens at the route's first backend (counting runs nothing, so it is neither
//! retried nor failed over) → `{"input_tokens": N}`. A model without CountTokens gets
//! Bedrock's own error (a 400), never an estimate.

use super::context::RequestCtx;
use super::converse::model_for;
use super::exchange::{self, Call};
use super::respond::{self, downstream};
use super::Gateway;
use super::Session;
use crate::anthropic;
use crate::bedrock::{self, Operation};
use crate::error::GatewayError;
use crate::translate::frontend::RequestContext;
use crate::translate::messages::count_tokens;
use bytes::Bytes;
use pingora::prelude::*;
use tokio::time::Instant;

/// Serve one count_tokens request whose body was read.
pub(crate) async fn handle(
    gw: &Gateway,
    session: &mut Session,
    ctx: &mut RequestCtx,
    path: &str,
    body: &Bytes,
) -> Result<(), GatewayError> {
    let request = anthropic::parse_request(body, gw.caps)?;
    let client_model = request.model.as_deref().unwrap_or("");
    ctx.client_model = request.model.as_deref().map(str::to_owned);
    let entry = gw.routes.select(path, client_model)?;
    ctx.route = Some(entry.route.name.clone());
    // A Bedrock call against the account's quotas: counted like any request (no tokens).
    super::limits::admit(gw, session, ctx, entry).await?;
    let upstream = entry
        .upstreams
        .first()
        .ok_or_else(|| GatewayError::Internal {
            message: format!("route {} has no backend", entry.route.name),
        })?;
    let model_id = model_for(upstream, client_model)?;
    let tctx = RequestContext {
        family: upstream.backend.family(model_id),
        caching: None,
        betas: &[],
        client_betas: &[],
    };
    let counted = count_tokens::request(&request, &tctx)?;
    ctx.backend = Some(upstream.backend.name.clone());
    ctx.model = Some(model_id.to_owned());
    ctx.attempts = 1;
    let call = Call {
        upstream,
        connector: &gw.connector,
        timeouts: &entry.route.timeouts,
        model_id,
        op: Operation::CountTokens,
        deadline: Instant::now() + entry.route.timeouts.total,
    };
    let start = Instant::now();
    let http = exchange::open(&call, Bytes::from(counted))
        .await
        .map_err(|f| f.error)?;
    ctx.upstream_request_id = exchange::header_value(&http, "x-amzn-requestid");
    let status = exchange::status(&http);
    let error_type = exchange::header_value(&http, "x-amzn-errortype");
    let answer = exchange::read_all(upstream, http, call.deadline).await?;
    ctx.upstream = Some(start.elapsed());
    if status != 200 {
        return Err(bedrock::error::from_response(status, error_type.as_deref(), &answer).into());
    }
    let (out, _) = count_tokens::answer(&answer)?;
    ctx.status = 200;
    let headers = super::limits::headers(ctx);
    respond::json(session, 200, out, &ctx.request_id, &headers)
        .await
        .map_err(|e| downstream(&e))
}
