//! The handler of every API served over Converse, generic over its front-end: parse (capped)
//! → select the route → for each attempt (see [`super::attempts`]): translate to Converse for
//! that backend's model → the upstream exchange → the answer, as JSON or through the stream
//! relay.

use super::attempts::Attempts;
use super::context::RequestCtx;
use super::exchange::{self, Call, Failed};
use super::h1::Conn;
use super::relay::{Relay, Relayed};
use super::resilience;
use super::respond::{self, downstream, ADJUSTED_HEADER};
use super::routes::RouteEntry;
use super::upstream::Upstream;
use super::Gateway;
use super::Session;
use crate::bedrock::{self, Operation};
use crate::error::GatewayError;
use crate::translate::affinity;
use crate::translate::frontend::{AnswerMeta, FrontEnd, RequestContext, Translated};
use bytes::Bytes;
use pingora::prelude::*;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::time::Instant;

/// A request translated for one Bedrock model.
struct Prepared<'a, F: FrontEnd> {
    model_id: &'a str,
    translated: Translated<'a, F::Answer>,
    converse: Bytes,
}

/// How one attempt ended.
enum Attempt {
    /// The client has its answer (or is gone).
    Answered,
    /// Failed before any byte reached the client: may be tried again.
    Failed(Failed, Option<Duration>),
}

/// Serve one request of front-end `F` whose body was read.
pub(crate) async fn handle<F: FrontEnd>(
    gw: &Gateway,
    session: &mut Session,
    ctx: &mut RequestCtx,
    path: &str,
    body: &Bytes,
) -> Result<(), GatewayError> {
    let request = F::parse(body, gw.caps)?;
    let betas = anthropic_betas(session);
    let betas: Vec<&str> = betas.iter().map(String::as_str).collect();
    ctx.client_model = F::model(&request).map(str::to_owned);
    let client_model = F::model(&request).unwrap_or("");
    let entry = gw.routes.select(path, client_model)?;
    ctx.route = Some(entry.route.name.clone());
    super::limits::admit(gw, session, ctx, entry).await?;
    // `timeouts.total` bounds the whole exchange, retries and streaming included.
    let deadline = Instant::now() + entry.route.timeouts.total;
    let no_backend = || GatewayError::Internal {
        message: format!("route {} has no backend", entry.route.name),
    };
    let first = entry.upstreams.first().ok_or_else(no_backend)?;
    let model_id = model_for(first, client_model)?;
    let mut prepared = prepare::<F>(&request, entry, first, model_id, &betas, body.len())?;
    ctx.stream = prepared.translated.stream;
    let affinity = spreads(entry).then(|| affinity::prefix_key(&prepared.translated.converse));
    let mut attempts = Attempts::new(entry, &gw.metrics, affinity.unwrap_or(0), deadline);
    loop {
        let upstream = attempts.start().ok_or_else(no_backend)?;
        let outcome = match model_for(upstream, client_model) {
            Ok(model_id) if model_id == prepared.model_id => {
                one(gw, session, ctx, &prepared, upstream, &mut attempts).await
            }
            Ok(model_id) => {
                match prepare::<F>(&request, entry, upstream, model_id, &betas, body.len()) {
                    Ok(p) => {
                        prepared = p;
                        one(gw, session, ctx, &prepared, upstream, &mut attempts).await
                    }
                    Err(e) => Err(e),
                }
            }
            Err(e) => Err(e),
        };
        let (Failed { error, sent }, hint) = match outcome {
            Ok(Attempt::Answered) => return Ok(()),
            Ok(Attempt::Failed(f, hint)) => (f, hint),
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

/// Set up and make one attempt at `upstream` with the request prepared for its model.
async fn one<F: FrontEnd>(
    gw: &Gateway,
    session: &mut Session,
    ctx: &mut RequestCtx,
    prepared: &Prepared<'_, F>,
    upstream: &Upstream,
    attempts: &mut Attempts<'_>,
) -> Result<Attempt, GatewayError> {
    ctx.backend = Some(upstream.backend.name.clone());
    ctx.model = Some(prepared.model_id.to_owned());
    ctx.prompt_bytes = prepared.converse.len();
    ctx.attempts = attempts.made();
    let call = Call {
        upstream,
        connector: &gw.connector,
        timeouts: &attempts.route().timeouts,
        model_id: prepared.model_id,
        op: if prepared.translated.stream {
            Operation::ConverseStream
        } else {
            Operation::Converse
        },
        deadline: attempts.deadline(),
    };
    attempt(gw, session, ctx, &call, prepared, attempts).await
}

/// One attempt at one backend.
async fn attempt<F: FrontEnd>(
    gw: &Gateway,
    session: &mut Session,
    ctx: &mut RequestCtx,
    call: &Call<'_>,
    prepared: &Prepared<'_, F>,
    attempts: &mut Attempts<'_>,
) -> Result<Attempt, GatewayError> {
    let upstream_start = Instant::now();
    let http = match exchange::open(call, prepared.converse.clone()).await {
        Ok(http) => http,
        Err(f) => return Ok(Attempt::Failed(f, None)),
    };
    ctx.upstream_request_id = exchange::header_value(&http, "x-amzn-requestid");
    let status = exchange::status(&http);
    if status != 200 {
        // Errors before the first byte are ordinary HTTP errors, streaming or not.
        let error_type = exchange::header_value(&http, "x-amzn-errortype");
        let hint = resilience::retry_after(exchange::header_value(&http, "retry-after").as_deref());
        let answer = exchange::read_all(call.upstream, http, call.deadline).await?;
        ctx.upstream = Some(upstream_start.elapsed());
        let error = bedrock::error::from_response(status, error_type.as_deref(), &answer).into();
        return Ok(Attempt::Failed(Failed { error, sent: true }, hint));
    }
    let answer = Answer {
        http,
        upstream_start,
        prepared,
    };
    if !prepared.translated.stream {
        attempts.succeeded();
        answer.json(session, ctx, call).await?;
        return Ok(Attempt::Answered);
    }
    // Boxed: the relay's state is large, and a non-streaming request should not carry (and
    // copy) it in its future.
    match Box::pin(answer.stream(gw, session, ctx, call)).await? {
        Relayed::Done => {
            attempts.succeeded();
            Ok(Attempt::Answered)
        }
        Relayed::Early(error) => Ok(Attempt::Failed(Failed { error, sent: true }, None)),
    }
}

/// Whether the route's first priority group spreads traffic over several backends (only then
/// does the cache-affinity key matter).
fn spreads(entry: &RouteEntry) -> bool {
    let b = &entry.route.backends;
    b.len() > 1 && b[0].0 == b[1].0
}

/// The Bedrock model id a backend is asked for: its fixed model, else the client's.
pub(super) fn model_for<'a>(
    upstream: &'a Upstream,
    client_model: &'a str,
) -> Result<&'a str, GatewayError> {
    match upstream.backend.model.as_deref() {
        Some(m) => Ok(m),
        None if client_model.trim().is_empty() => Err(GatewayError::invalid(
            "`model` is required (this route's backend has no fixed model)",
            Some("model"),
        )),
        None => Ok(client_model),
    }
}

/// Translate the request for `model_id` on `upstream` and serialize the Converse body.
fn prepare<'a, F: FrontEnd>(
    request: &'a F::Request<'_>,
    entry: &'a RouteEntry,
    upstream: &'a Upstream,
    model_id: &'a str,
    client_betas: &[&str],
    body_len: usize,
) -> Result<Prepared<'a, F>, GatewayError> {
    let tctx = RequestContext {
        family: upstream.backend.family(model_id),
        caching: entry.route.prompt_caching.map(|p| p.policy()),
        betas: &upstream.backend.anthropic_betas,
        client_betas,
    };
    let translated = F::translate(request, &tctx)?;
    let mut converse = Vec::with_capacity(body_len + 512);
    crate::json::to_writer(&mut converse, &translated.converse).map_err(|e| {
        GatewayError::Internal {
            message: format!("serializing Converse request: {e}"),
        }
    })?;
    Ok(Prepared {
        model_id,
        translated,
        converse: Bytes::from(converse),
    })
}

/// A 200 from Bedrock, to be answered to the client.
struct Answer<'a, 'r, F: FrontEnd> {
    http: Conn,
    upstream_start: Instant,
    prepared: &'a Prepared<'r, F>,
}

impl<F: FrontEnd> Answer<'_, '_, F> {
    /// Client parameters changed so that Bedrock accepts the request (documented, visible).
    fn adjusted(&self) -> Vec<(&'static str, String)> {
        let adjusted = &self.prepared.translated.adjusted;
        if adjusted.is_empty() {
            Vec::new()
        } else {
            vec![(ADJUSTED_HEADER, adjusted.join(","))]
        }
    }

    async fn json(
        self,
        session: &mut Session,
        ctx: &mut RequestCtx,
        call: &Call<'_>,
    ) -> Result<(), GatewayError> {
        let mut adjusted = self.adjusted();
        adjusted.extend(super::limits::headers(ctx));
        let answer = exchange::read_all(call.upstream, self.http, call.deadline).await?;
        let id = answer_id(F::ID_PREFIX);
        let meta = AnswerMeta {
            id: &id,
            created: unix_now(),
            model: self.prepared.model_id,
        };
        let out = F::answer(&answer, &self.prepared.translated.answer, &meta)?;
        ctx.upstream = Some(self.upstream_start.elapsed());
        ctx.ttft = Some(ctx.start.elapsed());
        ctx.usage = Some(out.tokens);
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
    ) -> Result<Relayed, GatewayError> {
        let mut adjusted = self.adjusted();
        adjusted.extend(super::limits::headers(ctx));
        let id = answer_id(F::ID_PREFIX);
        let meta = AnswerMeta {
            id: &id,
            created: unix_now(),
            model: self.prepared.model_id,
        };
        let relay = Relay {
            upstream: call.upstream,
            http: self.http,
            upstream_start: self.upstream_start,
            idle: call.timeouts.stream_idle,
            deadline: call.deadline,
            translator: F::stream(&self.prepared.translated.answer, &meta),
        };
        relay.run(session, ctx, &gw.metrics, &adjusted).await
    }
}

/// The client's `anthropic-beta` values (comma-separated, over any number of headers); only
/// the Messages front-end reads them.
fn anthropic_betas(session: &Session) -> Vec<String> {
    session
        .req_header()
        .headers
        .get_all("anthropic-beta")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|b| !b.is_empty())
        .map(str::to_owned)
        .collect()
}

/// An answer id: the front-end's prefix and 24 random alphanumerics.
fn answer_id(prefix: &str) -> String {
    let mut id = String::with_capacity(prefix.len() + 24);
    id.push_str(prefix);
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
