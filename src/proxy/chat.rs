//! The chat-completions handler: parse (capped) → select the route and backend → translate to
//! Converse → the upstream exchange → the answer, as JSON or through the stream relay.

use super::context::RequestCtx;
use super::exchange::{self, Call};
use super::relay::Relay;
use super::respond::{self, downstream, ADJUSTED_HEADER};
use super::routes::RouteEntry;
use super::upstream::Upstream;
use super::Gateway;
use crate::bedrock::{self, Operation};
use crate::error::GatewayError;
use crate::openai;
use crate::translate::request::{self as treq, Translated};
use crate::translate::response as tresp;
use crate::translate::stream::{StreamContext, StreamTranslator};
use bytes::Bytes;
use pingora::prelude::*;
use pingora::protocols::http::client::HttpSession;
use std::time::{SystemTime, UNIX_EPOCH};
use tokio::time::Instant;

/// The backend a request goes to, and the model id it asks for.
struct Target<'r> {
    entry: &'r RouteEntry,
    upstream: &'r Upstream,
    model_id: &'r str,
}

/// Serve one chat-completions request whose body was read.
pub async fn handle(
    gw: &Gateway,
    session: &mut Session,
    ctx: &mut RequestCtx,
    path: &str,
    body: &Bytes,
) -> Result<(), GatewayError> {
    let request = openai::parse_chat_request_with(body, gw.caps)?;
    ctx.client_model = request.model.as_deref().map(str::to_owned);
    let target = target(gw, ctx, path, request.model.as_deref().unwrap_or(""))?;
    let route = &target.entry.route;
    let backend = &target.upstream.backend;
    let tctx = treq::RequestContext {
        model_id: target.model_id,
        family: backend.family(target.model_id),
        caching: route.prompt_caching.map(|p| p.policy()),
    };
    let translated = treq::translate(&request, &tctx)?;
    ctx.stream = translated.stream;
    let mut converse = Vec::with_capacity(body.len() + 512);
    crate::json::to_writer(&mut converse, &translated.converse).map_err(|e| {
        GatewayError::Internal {
            message: format!("serializing Converse request: {e}"),
        }
    })?;
    let call = Call {
        upstream: target.upstream,
        connector: &gw.connector,
        timeouts: &route.timeouts,
        model_id: target.model_id,
        op: if translated.stream {
            Operation::ConverseStream
        } else {
            Operation::Converse
        },
        // `timeouts.total` bounds the whole exchange, streaming included.
        deadline: Instant::now() + route.timeouts.total,
    };
    let upstream_start = Instant::now();
    let http = exchange::open(&call, Bytes::from(converse)).await?;
    ctx.upstream_request_id = exchange::header_value(&http, "x-amzn-requestid");
    let status = http.response_header().map_or(0, |h| h.status.as_u16());
    if status != 200 {
        // Errors before the first byte are ordinary HTTP errors, streaming or not.
        let error_type = exchange::header_value(&http, "x-amzn-errortype");
        let answer = exchange::read_all(call.upstream, http, call.deadline).await?;
        ctx.upstream = Some(upstream_start.elapsed());
        return Err(bedrock::error::from_response(status, error_type.as_deref(), &answer).into());
    }
    let stream = translated.stream;
    let answer = Answer {
        http,
        upstream_start,
        translated,
        model_id: target.model_id,
    };
    if stream {
        answer
            .stream(gw, session, ctx, &call, &route.timeouts)
            .await
    } else {
        answer.json(session, ctx, &call).await
    }
}

/// Pick the route, its backend and the Bedrock model id; note them in the context.
fn target<'g>(
    gw: &'g Gateway,
    ctx: &mut RequestCtx,
    path: &str,
    client_model: &'g str,
) -> Result<Target<'g>, GatewayError> {
    let entry = gw.routes.select(path, client_model)?;
    ctx.route = Some(entry.route.name.clone());
    let upstream = entry
        .upstreams
        .first()
        .ok_or_else(|| GatewayError::Internal {
            message: format!("route {} has no backend", entry.route.name),
        })?;
    ctx.backend = Some(upstream.backend.name.clone());
    let model_id = match upstream.backend.model.as_deref() {
        Some(m) => m,
        None if client_model.trim().is_empty() => {
            return Err(GatewayError::invalid(
                "`model` is required (this route's backend has no fixed model)",
                Some("model"),
            ))
        }
        None => client_model,
    };
    ctx.model = Some(model_id.to_owned());
    Ok(Target {
        entry,
        upstream,
        model_id,
    })
}

/// A 200 from Bedrock, to be answered to the client.
struct Answer<'a, 'r> {
    http: HttpSession,
    upstream_start: Instant,
    translated: Translated<'r>,
    model_id: &'a str,
}

impl Answer<'_, '_> {
    /// Client parameters changed so that Bedrock accepts the request (documented, visible).
    fn adjusted(&self) -> Vec<(&'static str, String)> {
        if self.translated.adjusted.is_empty() {
            Vec::new()
        } else {
            vec![(ADJUSTED_HEADER, self.translated.adjusted.join(","))]
        }
    }

    async fn json(
        self,
        session: &mut Session,
        ctx: &mut RequestCtx,
        call: &Call<'_>,
    ) -> Result<(), GatewayError> {
        let adjusted = self.adjusted();
        let answer = exchange::read_all(call.upstream, self.http, call.deadline).await?;
        let id = completion_id();
        let rctx = tresp::ResponseContext {
            id: &id,
            created: unix_now(),
            model: self.model_id,
            tool_names: &self.translated.tool_names,
        };
        let out = tresp::translate(&answer, &rctx)?;
        ctx.upstream = Some(self.upstream_start.elapsed());
        ctx.ttft = Some(ctx.start.elapsed());
        ctx.usage = Some(out.usage);
        ctx.status = 200;
        respond::json(session, 200, out.body, &ctx.request_id, &adjusted)
            .await
            .map_err(|e| downstream(&e))
    }

    async fn stream(
        self,
        gw: &Gateway,
        session: &mut Session,
        ctx: &mut RequestCtx,
        call: &Call<'_>,
        timeouts: &crate::config::model::Timeouts,
    ) -> Result<(), GatewayError> {
        let adjusted = self.adjusted();
        let sctx = StreamContext {
            id: completion_id(),
            created: unix_now(),
            model: self.model_id.to_owned(),
            include_usage: self.translated.include_usage,
            tool_names: self.translated.tool_names,
        };
        let relay = Relay {
            upstream: call.upstream,
            http: self.http,
            upstream_start: self.upstream_start,
            idle: timeouts.stream_idle,
            deadline: call.deadline,
            translator: StreamTranslator::new(sctx),
        };
        relay.run(session, ctx, &gw.metrics, &adjusted).await
    }
}

fn completion_id() -> String {
    let mut id = String::with_capacity(33);
    id.push_str("chatcmpl-");
    for _ in 0..24 {
        id.push(fastrand::alphanumeric());
    }
    id
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}
