//! The embeddings handler: parse → select the route → plan the InvokeModel calls for the model
//! of the route's first backend ([`crate::translate::embeddings::plan`]) → run each call with
//! its own attempts (retries, failover: [`super::attempts`]), at most [`CONCURRENCY`] at once,
//! answers kept in input order → assemble the OpenAI list → answer.

use super::attempts::Attempts;
use super::context::RequestCtx;
use super::converse::model_for;
use super::exchange::{self, Call, Failed};
use super::resilience;
use super::respond::{self, downstream};
use super::routes::RouteEntry;
use super::upstream::Upstream;
use super::Gateway;
use super::Session;
use crate::bedrock::{self, Operation, TokenUsage};
use crate::error::GatewayError;
use crate::openai::embeddings::parse_embeddings_request;
use crate::translate::embeddings::{self, CallAnswer, Plan};
use bytes::Bytes;
use futures::stream::{self, StreamExt};
use pingora::prelude::*;
use std::time::Duration;
use tokio::time::Instant;

/// InvokeModel calls of one request in flight at once (Titan and Nova embed one text per call;
/// a 2048-input request is 2048 calls).
pub(crate) const CONCURRENCY: usize = 8;

/// Bedrock's input-token header on InvokeModel answers.
const INPUT_TOKENS: &str = "x-amzn-bedrock-input-token-count";

/// One call's answer and what the access log wants of it.
struct Called {
    body: Bytes,
    input_tokens: Option<u64>,
    backend: String,
    attempts: u32,
    request_id: Option<String>,
}

/// What every call of a request shares.
struct Run<'a> {
    gw: &'a Gateway,
    entry: &'a RouteEntry,
    plan: &'a Plan<'a>,
    /// The model the plan was written for.
    model_id: &'a str,
    client_model: &'a str,
    deadline: Instant,
}

/// Serve one embeddings request whose body was read.
pub(crate) async fn handle(
    gw: &Gateway,
    session: &mut Session,
    ctx: &mut RequestCtx,
    path: &str,
    body: &Bytes,
) -> Result<(), GatewayError> {
    let request = parse_embeddings_request(body)?;
    ctx.client_model = request.model.as_deref().map(str::to_owned);
    let client_model = request.model.as_deref().unwrap_or("");
    let entry = gw.routes.select(path, client_model)?;
    ctx.route = Some(entry.route.name.clone());
    super::limits::admit(gw, session, ctx, entry).await?;
    let deadline = Instant::now() + entry.route.timeouts.total;
    let first = entry.upstreams.first().ok_or_else(|| no_backend(entry))?;
    let model_id = model_for(first, client_model)?;
    let plan = embeddings::plan(&request, model_id)?;
    ctx.model = Some(model_id.to_owned());
    let run = Run {
        gw,
        entry,
        plan: &plan,
        model_id,
        client_model,
        deadline,
    };
    let upstream_start = Instant::now();
    let called = run.all(ctx).await?;
    ctx.upstream = Some(upstream_start.elapsed());
    let answers: Vec<CallAnswer> = called
        .iter()
        .map(|c| CallAnswer {
            body: &c.body,
            input_tokens: c.input_tokens,
        })
        .collect();
    let answered = embeddings::assemble(&plan, model_id, &answers)?;
    ctx.usage = Some(TokenUsage {
        input_tokens: answered.input_tokens,
        total_tokens: answered.input_tokens,
        ..TokenUsage::default()
    });
    ctx.status = 200;
    let headers = super::limits::headers(ctx);
    respond::json(session, 200, answered.body, &ctx.request_id, &headers)
        .await
        .map_err(|e| downstream(&e))
}

fn no_backend(entry: &RouteEntry) -> GatewayError {
    GatewayError::Internal {
        message: format!("route {} has no backend", entry.route.name),
    }
}

impl Run<'_> {
    /// Every call of the plan, [`CONCURRENCY`] at a time, answers in call order. The first
    /// failure (in call order) fails the request; calls still running are dropped.
    async fn all(&self, ctx: &mut RequestCtx) -> Result<Vec<Called>, GatewayError> {
        let mut calls = stream::iter(0..self.plan.calls.len())
            .map(|k| self.call(k))
            .buffered(CONCURRENCY);
        let mut out = Vec::with_capacity(self.plan.calls.len());
        ctx.attempts = 0;
        while let Some(result) = calls.next().await {
            let called = result?;
            ctx.attempts += called.attempts;
            ctx.backend = Some(called.backend.clone());
            ctx.upstream_request_id = called.request_id.clone();
            out.push(called);
        }
        Ok(out)
    }

    /// Call `k` of the plan, with the route's retry and failover policy.
    async fn call(&self, k: usize) -> Result<Called, GatewayError> {
        let mut attempts = Attempts::new(self.entry, &self.gw.metrics, 0, self.deadline);
        loop {
            let upstream = attempts.start().ok_or_else(|| no_backend(self.entry))?;
            let (Failed { error, sent }, hint) = match self.attempt(k, upstream, &attempts).await {
                Ok(Ok(mut called)) => {
                    attempts.succeeded();
                    called.attempts = attempts.made();
                    return Ok(called);
                }
                Ok(Err(failed)) => failed,
                Err(e) => {
                    attempts.abandon();
                    return Err(e);
                }
            };
            if !attempts.failed(&error, sent, hint).await {
                return Err(error);
            }
        }
    }

    /// One attempt of call `k` at `upstream`: `Ok(Err(..))` is a failure that may be retried.
    async fn attempt(
        &self,
        k: usize,
        upstream: &Upstream,
        attempts: &Attempts<'_>,
    ) -> Result<Result<Called, (Failed, Option<Duration>)>, GatewayError> {
        let model_id = model_for(upstream, self.client_model)?;
        let body = match self.plan.calls.get(k) {
            Some(c) if model_id == self.model_id => c.body.clone(),
            _ => self.plan.body_for(k, model_id)?,
        };
        let call = Call {
            upstream,
            connector: &self.gw.connector,
            timeouts: &attempts.route().timeouts,
            model_id,
            op: Operation::Invoke,
            deadline: self.deadline,
        };
        let http = match exchange::open(&call, Bytes::from(body)).await {
            Ok(http) => http,
            Err(f) => return Ok(Err((f, None))),
        };
        let request_id = exchange::header_value(&http, "x-amzn-requestid");
        let status = exchange::status(&http);
        if status != 200 {
            let error_type = exchange::header_value(&http, "x-amzn-errortype");
            let hint =
                resilience::retry_after(exchange::header_value(&http, "retry-after").as_deref());
            let answer = exchange::read_all(upstream, http, self.deadline).await?;
            let error =
                bedrock::error::from_response(status, error_type.as_deref(), &answer).into();
            return Ok(Err((Failed { error, sent: true }, hint)));
        }
        let input_tokens =
            exchange::header_value(&http, INPUT_TOKENS).and_then(|v| v.trim().parse::<u64>().ok());
        let body = exchange::read_all(upstream, http, self.deadline).await?;
        Ok(Ok(Called {
            body,
            input_tokens,
            backend: upstream.backend.name.clone(),
            attempts: 0,
            request_id,
        }))
    }
}
