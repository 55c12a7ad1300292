//! One client request, start to end: route → read body (capped) → parse → translate → sign →
//! upstream exchange over the pooled connector → translate back → respond. Called from
//! `request_filter`; everything it needs from Pingora is the `Session` and the `Connector`.

use super::upstream::Upstream;
use super::{respond, Gateway, RequestCtx};
use crate::bedrock::eventstream::Decoder;
use crate::bedrock::{self, sigv4::SignInput, Operation};
use crate::config::model::Route;
use crate::error::GatewayError;
use crate::metrics::{Metrics, Observation};
use crate::openai;
use crate::translate::stream::{StreamContext, StreamTranslator};
use crate::translate::{request as treq, response as tresp};
use bytes::{Bytes, BytesMut};
use pingora::http::{RequestHeader, ResponseHeader};
use pingora::prelude::*;
use pingora::protocols::http::client::HttpSession;
use std::sync::atomic::Ordering;
use std::time::{SystemTime, UNIX_EPOCH};
use tokio::time::Instant;

/// Cap on a Bedrock answer read into memory (non-streaming).
/// Response header listing client parameters the gateway changed or dropped (comma-separated).
pub const ADJUSTED_HEADER: &str = "x-basalt-adjusted";
const MAX_UPSTREAM_BODY: usize = 64 * 1024 * 1024;

/// Serve one request. Every error is answered as an OpenAI error body — except a client that
/// is gone (a write to it failed, possibly mid-stream): it is recorded, the connection is not
/// reused, and nothing more is written.
pub async fn serve(gw: &Gateway, session: &mut Session, ctx: &mut RequestCtx) -> Result<()> {
    let Err(e) = dispatch(gw, session, ctx).await else {
        return Ok(());
    };
    ctx.status = e.status();
    let result = if let GatewayError::ClientGone { .. } = e {
        session.set_keepalive(None);
        Ok(())
    } else {
        respond::error(session, &e, &ctx.request_id).await
    };
    ctx.error = Some(e);
    result
}

async fn dispatch(
    gw: &Gateway,
    session: &mut Session,
    ctx: &mut RequestCtx,
) -> Result<(), GatewayError> {
    let method = session.req_header().method.clone();
    let path = session.req_header().uri.path().to_owned();

    if let Some(keys) = &gw.listener.api_keys {
        ctx.client = Some(check_client_key(session, keys)?.to_owned());
    }
    if path == "/v1/models" {
        return if method == http::Method::GET {
            let body = models_list(gw);
            ctx.status = 200;
            respond::json(session, 200, body, &ctx.request_id, &[])
                .await
                .map_err(downstream)
        } else {
            Err(GatewayError::MethodNotAllowed {
                method: method.to_string(),
                path,
            })
        };
    }
    if !gw.routes.iter().any(|r| r.serves_path(&path)) {
        return Err(GatewayError::NotFound {
            method: method.to_string(),
            path,
        });
    }
    if method != http::Method::POST {
        return Err(GatewayError::MethodNotAllowed {
            method: method.to_string(),
            path,
        });
    }

    let limit = gw.listener.max_concurrent_requests;
    if gw.in_flight.fetch_add(1, Ordering::Relaxed) >= limit {
        gw.in_flight.fetch_sub(1, Ordering::Relaxed);
        return Err(GatewayError::Overloaded { limit });
    }
    ctx.counted = true;
    gw.metrics.in_flight.inc();

    let body = read_body(session, gw.listener.max_body_bytes).await?;
    chat(gw, session, ctx, &path, &body).await
}

/// Clients authenticate with `Authorization: Bearer <key>` or `x-api-key: <key>`.
/// Returns the name of the matching key (it identifies the client in logs).
fn check_client_key<'k>(
    session: &Session,
    keys: &'k [(String, crate::secret::Secret)],
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
    // Compare against every key (constant time each) so timing does not reveal which matched.
    let mut found = None;
    for (name, secret) in keys {
        if presented.is_some_and(|k| constant_time_eq(secret.expose().as_bytes(), k.as_bytes())) {
            found = Some(name.as_str());
        }
    }
    found.ok_or(GatewayError::Unauthenticated)
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Past the cap, up to this many bytes are read and discarded so that the client (still
/// uploading) reliably receives the 413; beyond it the connection is closed at once.
const DRAIN_MAX: usize = 64 * 1024 * 1024;

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

async fn read_body(session: &mut Session, cap: usize) -> Result<Bytes, GatewayError> {
    let declared = session
        .req_header()
        .headers
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if let Some(n) = declared.filter(|n| *n > cap) {
        if n > DRAIN_MAX {
            // Not worth reading: answer now and close.
            session.set_keepalive(None);
            return Err(GatewayError::BodyTooLarge { limit: cap });
        }
        return Err(reject_too_large(session, cap, 0).await);
    }
    let mut buf = BytesMut::with_capacity(declared.unwrap_or(16 * 1024).min(cap));
    loop {
        match session.read_request_body().await {
            Ok(Some(chunk)) => {
                if buf.len() + chunk.len() > cap {
                    let seen = buf.len() + chunk.len();
                    return Err(reject_too_large(session, cap, seen).await);
                }
                buf.extend_from_slice(&chunk);
            }
            Ok(None) => break,
            Err(e) => {
                session.set_keepalive(None);
                return Err(GatewayError::InvalidRequest {
                    message: format!("could not read the request body: {e}"),
                    param: None,
                });
            }
        }
    }
    Ok(buf.freeze())
}

fn select_route<'r>(
    routes: &'r [Route],
    path: &str,
    model: &str,
) -> Result<&'r Route, GatewayError> {
    routes
        .iter()
        .find(|r| {
            r.matches
                .iter()
                .any(|m| m.matches_path(path) && m.matches_model(model))
        })
        .ok_or_else(|| GatewayError::ModelNotFound {
            model: model.to_owned(),
        })
}

fn new_id() -> String {
    let mut id = String::with_capacity(33);
    id.push_str("chatcmpl-");
    for _ in 0..24 {
        id.push(fastrand::alphanumeric());
    }
    id
}

async fn chat(
    gw: &Gateway,
    session: &mut Session,
    ctx: &mut RequestCtx,
    path: &str,
    body: &Bytes,
) -> Result<(), GatewayError> {
    let request = openai::parse_chat_request(body)?;
    let client_model = request.model.as_deref().unwrap_or("");
    let route = select_route(&gw.routes, path, client_model)?;
    ctx.route = Some(route.name.clone());
    let (_, backend) = route
        .backends
        .first()
        .ok_or_else(|| GatewayError::Internal {
            message: format!("route {} has no backend", route.name),
        })?;
    let upstream = gw
        .upstream_for(backend)
        .ok_or_else(|| GatewayError::Internal {
            message: format!("no upstream state for backend {}", backend.name),
        })?;
    ctx.backend = Some(backend.name.clone());
    let model_id = match backend.model.as_deref() {
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
    ctx.client_model = request.model.as_deref().map(str::to_owned);

    let tctx = treq::RequestContext {
        model_id,
        family: backend.family(model_id),
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
    let converse = Bytes::from(converse);
    let id = new_id();
    let created = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);

    // `timeouts.total` bounds the whole exchange, streaming included.
    let deadline = Instant::now() + route.timeouts.total;
    let op = if translated.stream {
        Operation::ConverseStream
    } else {
        Operation::Converse
    };
    let upstream_start = Instant::now();
    let http = open_with_deadline(gw, upstream, route, model_id, op, converse, deadline).await?;
    ctx.upstream_request_id = http
        .response_header()
        .and_then(|h| h.headers.get("x-amzn-requestid"))
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let header = http.response_header();
    let status = header.map(|h| h.status.as_u16()).unwrap_or(0);
    if status != 200 {
        // Errors before the first byte are ordinary HTTP errors, streaming or not.
        let error_type = header
            .and_then(|h| h.headers.get("x-amzn-errortype"))
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let answer = within(deadline, read_all(upstream, http)).await?;
        ctx.upstream = Some(upstream_start.elapsed());
        return Err(bedrock::error::from_response(
            status,
            error_type.as_deref(),
            &answer,
        ));
    }
    // Client parameters changed so that Bedrock accepts the request (documented, visible).
    let adjusted: Vec<(&'static str, String)> = if translated.adjusted.is_empty() {
        Vec::new()
    } else {
        vec![(ADJUSTED_HEADER, translated.adjusted.join(","))]
    };
    if translated.stream {
        let sctx = StreamContext {
            id,
            created,
            model: model_id.to_owned(),
            include_usage: translated.include_usage,
            tool_names: translated.tool_names,
        };
        return stream(
            gw,
            session,
            ctx,
            route,
            upstream,
            (http, upstream_start),
            sctx,
            deadline,
            &adjusted,
        )
        .await;
    }
    let answer = within(deadline, read_all(upstream, http)).await?;
    let out = tresp::translate(
        &answer,
        &tresp::ResponseContext {
            id: &id,
            created,
            model: model_id,
            tool_names: &translated.tool_names,
        },
    )?;
    ctx.upstream = Some(upstream_start.elapsed());
    ctx.ttft = Some(ctx.start.elapsed());
    ctx.usage = Some(out.usage);
    ctx.status = 200;
    respond::json(session, 200, out.body, &ctx.request_id, &adjusted)
        .await
        .map_err(downstream)
}

/// Run `fut` until the route's total deadline.
async fn within<T>(
    deadline: Instant,
    fut: impl std::future::Future<Output = Result<T, GatewayError>>,
) -> Result<T, GatewayError> {
    tokio::time::timeout_at(deadline, fut)
        .await
        .unwrap_or_else(|_| {
            Err(GatewayError::UpstreamTimeout {
                message: "no complete answer within the route's total timeout".into(),
            })
        })
}

/// Open the exchange: the response header must arrive within `connect + firstByte`, and
/// before the total deadline.
#[allow(clippy::too_many_arguments)]
async fn open_with_deadline(
    gw: &Gateway,
    upstream: &Upstream,
    route: &Route,
    model_id: &str,
    op: Operation,
    body: Bytes,
    deadline: Instant,
) -> Result<HttpSession, GatewayError> {
    let first_byte = Instant::now() + route.timeouts.connect + route.timeouts.first_byte;
    let limit = first_byte.min(deadline);
    match tokio::time::timeout_at(limit, open(gw, upstream, route, model_id, op, body)).await {
        Ok(r) => r,
        Err(_) => Err(GatewayError::UpstreamTimeout {
            message: "no response header within the route's firstByte/total timeout".into(),
        }),
    }
}

async fn build_request(
    upstream: &Upstream,
    model_id: &str,
    op: Operation,
    body: &Bytes,
) -> Result<RequestHeader, GatewayError> {
    let ep = &upstream.backend.endpoint;
    let path = bedrock::model_path(model_id, op);
    let url = format!("{}{}", ep.base_url, path);
    let auth = upstream
        .authorizer
        .headers(
            &SignInput {
                url: &url,
                path: &path,
                host: &ep.authority,
                content_type: "application/json",
                body,
            },
            SystemTime::now(),
        )
        .await?;
    let internal = |e: Box<Error>| GatewayError::Internal {
        message: format!("building upstream request: {e}"),
    };
    let mut req =
        RequestHeader::build("POST", path.as_bytes(), Some(6 + auth.len())).map_err(internal)?;
    req.insert_header("host", ep.authority.as_str())
        .map_err(internal)?;
    req.insert_header("content-type", "application/json")
        .map_err(internal)?;
    req.insert_header("content-length", body.len().to_string())
        .map_err(internal)?;
    let accept = match op {
        Operation::Converse => "application/json",
        Operation::ConverseStream => "application/vnd.amazon.eventstream",
    };
    req.insert_header("accept", accept).map_err(internal)?;
    for (k, v) in auth {
        req.insert_header(k, v).map_err(internal)?;
    }
    Ok(req)
}

/// Send the signed request and read the response header. A pooled connection may have been
/// closed by the server while idle: a reused connection that fails before any response byte is
/// retried on another one (nothing was processed).
async fn open(
    gw: &Gateway,
    upstream: &Upstream,
    route: &Route,
    model_id: &str,
    op: Operation,
    body: Bytes,
) -> Result<HttpSession, GatewayError> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        let req = build_request(upstream, model_id, op, &body).await?;
        // An idle keep-alive connection of this backend, else a new one (the peer, with its DNS
        // lookup, is only needed then).
        let (mut http, reused) = match upstream.take_idle() {
            Some(http) => (http, true),
            None => {
                let peer = upstream.peer(&route.timeouts).await?;
                let (http, _) = gw
                    .connector
                    .get_http_session(&peer)
                    .await
                    .map_err(upstream_error)?;
                (http, false)
            }
        };
        match send_and_read_header(&mut http, req, body.clone()).await {
            Ok(()) => return Ok(http),
            Err(e) if reused && attempt < 3 => {
                log::debug!("reused upstream connection failed ({e}), retrying on a fresh one");
            }
            Err(e) => return Err(upstream_error(e)),
        }
    }
}

/// Read a whole answer body, then return the connection to the backend's idle pool.
async fn read_all(upstream: &Upstream, mut http: HttpSession) -> Result<Bytes, GatewayError> {
    let mut answer = BytesMut::new();
    loop {
        match http.read_response_body().await {
            Ok(Some(chunk)) => {
                if answer.len() + chunk.len() > MAX_UPSTREAM_BODY {
                    return Err(GatewayError::UpstreamBadResponse {
                        message: format!("answer larger than {MAX_UPSTREAM_BODY} bytes"),
                    });
                }
                answer.extend_from_slice(&chunk);
            }
            Ok(None) => break,
            Err(e) => return Err(upstream_error(e)),
        }
    }
    if http.response_done() {
        upstream.release(http).await;
    }
    Ok(answer.freeze())
}

/// Relay a 200 ConverseStream answer as OpenAI SSE, frame by frame as it arrives. Failures
/// after the header (exceptions, decode errors, `streamIdle`, the total deadline) become one
/// error event and no `[DONE]`. A client that hangs up ends the exchange; the half-read
/// upstream connection is dropped, never pooled.
#[allow(clippy::too_many_arguments)]
async fn stream(
    gw: &Gateway,
    session: &mut Session,
    ctx: &mut RequestCtx,
    route: &Route,
    upstream: &Upstream,
    (mut http, upstream_start): (HttpSession, Instant),
    sctx: StreamContext,
    deadline: Instant,
    extra: &[(&'static str, String)],
) -> Result<(), GatewayError> {
    let mut header =
        ResponseHeader::build(200, Some(4 + extra.len())).map_err(|e| GatewayError::Internal {
            message: e.to_string(),
        })?;
    for (k, v) in extra {
        header
            .insert_header(*k, v.as_str())
            .map_err(|e| GatewayError::Internal {
                message: e.to_string(),
            })?;
    }
    for (k, v) in [
        ("content-type", "text/event-stream"),
        ("cache-control", "no-cache"),
        ("x-accel-buffering", "no"),
        (respond::REQUEST_ID, ctx.request_id.as_str()),
    ] {
        header
            .insert_header(k, v)
            .map_err(|e| GatewayError::Internal {
                message: e.to_string(),
            })?;
    }
    ctx.status = 200;
    session
        .write_response_header(Box::new(header), false)
        .await
        .map_err(downstream)?;

    let _open = OpenStream::new(&gw.metrics);
    let mut decoder = Decoder::new();
    let mut translator = StreamTranslator::new(sctx);
    let mut out = Vec::with_capacity(4096);
    let idle = route.timeouts.stream_idle;
    let mut clean_end = false;
    let mut watch_client = true;
    loop {
        let limit = (Instant::now() + idle).min(deadline);
        let read = tokio::select! {
            biased;
            read = tokio::time::timeout_at(limit, http.read_response_body()) => read,
            // A client that hangs up while the upstream is quiet is noticed now, not at the
            // next write: dropping `http` closes the upstream exchange.
            gone = session.read_body_or_idle(true), if watch_client => {
                if let Err(e) = gone {
                    ctx.usage = translator.usage();
                    ctx.upstream = Some(upstream_start.elapsed());
                    return Err(downstream(e));
                }
                // Bytes from the client (pipelining): stop watching, writes still detect a close.
                watch_client = false;
                continue;
            }
        };
        match read {
            Ok(Ok(Some(bytes))) => {
                decoder.push(&bytes);
                loop {
                    match decoder.next_frame() {
                        Ok(Some(frame)) => translator.on_frame(&frame, &mut out),
                        Ok(None) => break,
                        Err(e) => {
                            translator.error(
                                &GatewayError::UpstreamBadResponse { message: e.0 },
                                &mut out,
                            );
                            break;
                        }
                    }
                }
            }
            Ok(Ok(None)) => {
                clean_end = decoder.pending() == 0;
                if !clean_end {
                    translator.error(
                        &GatewayError::UpstreamBadResponse {
                            message: "the Bedrock stream ended inside a frame".into(),
                        },
                        &mut out,
                    );
                }
                break;
            }
            Ok(Err(e)) => {
                translator.error(&upstream_error(e), &mut out);
                break;
            }
            Err(_) => {
                let message = if Instant::now() >= deadline {
                    "the stream exceeded the route's total timeout".to_owned()
                } else {
                    format!("no stream event for {} ms", idle.as_millis())
                };
                translator.error(&GatewayError::UpstreamTimeout { message }, &mut out);
                break;
            }
        }
        if translator.error_sent().is_some() {
            break;
        }
        if !out.is_empty() {
            let chunk = Bytes::from(std::mem::take(&mut out));
            if let Err(e) = session.write_response_body(Some(chunk), false).await {
                // Client gone: drop the upstream session (never pooled half-read).
                ctx.usage = translator.usage();
                ctx.upstream = Some(upstream_start.elapsed());
                return Err(downstream(e));
            }
            if ctx.ttft.is_none() && translator.output_sent() {
                ctx.ttft = Some(ctx.start.elapsed());
            }
        }
    }
    translator.finish(&mut out);
    ctx.upstream = Some(upstream_start.elapsed());
    ctx.usage = translator.usage();
    ctx.error = translator.error_sent().cloned();
    session
        .write_response_body(Some(Bytes::from(out)), true)
        .await
        .map_err(downstream)?;
    if clean_end && http.response_done() {
        upstream.release(http).await;
    }
    Ok(())
}

async fn send_and_read_header(
    http: &mut HttpSession,
    req: RequestHeader,
    body: Bytes,
) -> Result<()> {
    http.write_request_header(Box::new(req)).await?;
    http.write_request_body(body, true).await?;
    http.finish_request_body().await?;
    http.read_response_header().await?;
    Ok(())
}

/// Pingora upstream errors → 502 (unreachable) or 504 (timeout).
fn upstream_error(e: Box<Error>) -> GatewayError {
    match e.etype() {
        ErrorType::ConnectTimedout | ErrorType::ReadTimedout | ErrorType::WriteTimedout => {
            GatewayError::UpstreamTimeout {
                message: e.to_string(),
            }
        }
        _ => GatewayError::UpstreamUnreachable {
            message: e.to_string(),
        },
    }
}

/// A failed write to the client: the client is gone, nothing more can be sent.
fn downstream(e: Box<Error>) -> GatewayError {
    GatewayError::ClientGone {
        message: e.to_string(),
    }
}

/// `GET /v1/models`: every model id a client may send (exact model matches of routes, and the
/// fixed models of their backends).
fn models_list(gw: &Gateway) -> Vec<u8> {
    let mut ids: Vec<&str> = Vec::new();
    for r in gw.routes.iter() {
        for m in &r.matches {
            if let Some(p) = &m.model {
                if !p.contains('*') && !ids.contains(&p.as_str()) {
                    ids.push(p);
                }
            }
        }
        for (_, b) in &r.backends {
            if let Some(m) = &b.model {
                if !ids.contains(&m.as_str()) {
                    ids.push(m);
                }
            }
        }
    }
    let data: Vec<serde_json::Value> = ids
        .into_iter()
        .map(|id| serde_json::json!({"id": id, "object": "model", "created": 0, "owned_by": "aws-bedrock"}))
        .collect();
    serde_json::to_vec(&serde_json::json!({"object": "list", "data": data})).unwrap_or_default()
}

/// One structured access-log line per request (no message contents, no secrets).
pub fn log_access(session: &Session, ctx: &RequestCtx) {
    if !log::log_enabled!(target: "basalt::access", log::Level::Info) {
        return;
    }
    let h = session.req_header();
    let usage = ctx.usage.unwrap_or_default();
    let ms = |d: std::time::Duration| d.as_secs_f64() * 1000.0;
    let line = serde_json::json!({
        "time": humantime::format_rfc3339_millis(SystemTime::now()).to_string(),
        "request_id": ctx.request_id,
        "client": ctx.client,
        "method": h.method.as_str(),
        "path": h.uri.path(),
        "route": ctx.route,
        "backend": ctx.backend,
        "model": ctx.model,
        "request_model": ctx.client_model,
        "stream": ctx.stream,
        "status": ctx.status,
        "duration_ms": ms(ctx.start.elapsed()),
        "ttft_ms": ctx.ttft.map(ms),
        "upstream_ms": ctx.upstream.map(ms),
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "cached_tokens": usage.prompt_tokens_details.cached_tokens,
        "cache_write_tokens": usage.prompt_tokens_details.cache_write_tokens,
        "error_type": ctx.error.as_ref().map(|e| e.metric_label()),
        "upstream_request_id": ctx.upstream_request_id,
    });
    log::info!(target: "basalt::access", "{line}");
}

/// Record the finished request in the metrics (tokens exactly once, here).
pub fn record_metrics(metrics: &Metrics, ctx: &RequestCtx) {
    metrics.observe(&Observation {
        route: ctx.route.as_deref(),
        backend: ctx.backend.as_deref(),
        request_model: ctx.client_model.as_deref(),
        response_model: ctx.model.as_deref(),
        status: ctx.status,
        error_type: ctx.error.as_ref().map(|e| e.metric_label()),
        duration: ctx.start.elapsed(),
        ttft: ctx.ttft,
        upstream: ctx.upstream,
        usage: ctx.usage.as_ref(),
        stream: ctx.stream,
    });
}

/// The client's `x-request-id` when it is a sane token (≤ 128 visible ASCII characters), else a
/// fresh random one.
pub fn request_id(session: &Session) -> String {
    session
        .req_header()
        .headers
        .get(respond::REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 128 && v.bytes().all(|b| b.is_ascii_graphic()))
        .map(str::to_owned)
        .unwrap_or_else(|| format!("{:032x}", fastrand::u128(..)))
}

/// Counts an open stream in the `basalt_open_streams` gauge for as long as it lives.
struct OpenStream<'m>(&'m Metrics);

impl<'m> OpenStream<'m> {
    fn new(metrics: &'m Metrics) -> Self {
        metrics.open_streams.inc();
        OpenStream(metrics)
    }
}

impl Drop for OpenStream<'_> {
    fn drop(&mut self) {
        self.0.open_streams.dec();
    }
}
