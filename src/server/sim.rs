//! The built-in Bedrock simulator served over Pingora: in the gateway's process
//! (`basalt --simulator ADDR`) or alone (`basalt-sim`). The simulator's logic is [`crate::sim`].

use crate::sim::{directive, Answer, Body, SimOptions, Simulator};
use async_trait::async_trait;
use bytes::Bytes;
use pingora::apps::{HttpPersistentSettings, HttpServerApp, ReusedHttpStream};
use pingora::http::ResponseHeader;
use pingora::prelude::*;
use pingora::protocols::http::ServerSession;
use pingora::server::configuration::ServerConf;
use pingora::server::ShutdownWatch;
use pingora::services::listening::Service;
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// Add the simulator on `addr` to a server.
pub fn add(server: &mut Server, addr: &str, options: SimOptions, threads: usize) {
    let mut sim = Service::new("bedrock simulator".to_owned(), Simulator::new(options));
    sim.add_tcp(addr);
    sim.threads = Some(threads);
    server.add_service(sim);
    log::info!("built-in Bedrock simulator on {addr}");
}

/// A standalone simulator server (the `basalt-sim` binary).
pub fn standalone(addr: &str, options: SimOptions, threads: usize) -> Server {
    let conf = ServerConf {
        threads,
        grace_period_seconds: Some(0),
        graceful_shutdown_timeout_seconds: Some(1),
        ..ServerConf::default()
    };
    let mut server = Server::new_with_opt_and_conf(None, conf);
    server.bootstrap();
    add(&mut server, addr, options, threads);
    server
}

#[async_trait]
impl HttpServerApp for Simulator {
    async fn process_new_http(
        self: &Arc<Self>,
        mut http: ServerSession,
        shutdown: &ShutdownWatch,
    ) -> Option<ReusedHttpStream> {
        match http.read_request().await {
            Ok(true) => {}
            _ => return None,
        }
        let keepalive = self.options.keepalive_secs;
        http.set_keepalive(if *shutdown.borrow() {
            None
        } else {
            Some(keepalive)
        });
        let (method, path, headers, body) = read_whole(&mut http).await?;
        let text_directive_latency = std::str::from_utf8(&body)
            .ok()
            .and_then(|t| directive(t, "latency"))
            .and_then(crate::config::model::parse_duration);
        let delay = text_directive_latency.unwrap_or(self.options.latency);
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        let peer = http
            .client_addr()
            .map(|a| a.to_string())
            .unwrap_or_default();
        let answer = self.answer(&method, &path, &headers, &body, &peer);
        write_answer(self, &mut http, answer).await?;
        let persistent = HttpPersistentSettings::for_session(&http);
        match http.finish().await {
            Ok(c) => c.map(|s| ReusedHttpStream::from_reusable_stream(s, persistent)),
            Err(_) => None,
        }
    }
}

/// Method, raw path, headers and the whole body of a request.
async fn read_whole(
    http: &mut ServerSession,
) -> Option<(String, String, Vec<(String, String)>, Vec<u8>)> {
    let method = http.req_header().method.as_str().to_owned();
    let path = String::from_utf8_lossy(http.req_header().raw_path()).into_owned();
    let headers: Vec<(String, String)> = http
        .req_header()
        .headers
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_owned(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let mut body = Vec::new();
    loop {
        match http.read_request_body().await {
            Ok(Some(chunk)) => body.extend_from_slice(&chunk),
            Ok(None) => break,
            Err(_) => return None,
        }
    }
    Some((method, path, headers, body))
}

/// Write an answer: JSON with its length, or event-stream frames (paced, counted).
async fn write_answer(sim: &Simulator, http: &mut ServerSession, answer: Answer) -> Option<()> {
    let mut resp = ResponseHeader::build(answer.status, Some(4 + answer.headers.len())).ok()?;
    resp.insert_header(
        "x-amzn-requestid",
        format!("sim-{:016x}", fastrand::u64(..)),
    )
    .ok()?;
    for (k, v) in answer.headers {
        resp.insert_header(k, v).ok()?;
    }
    match answer.body {
        Body::Json(body) => {
            resp.insert_header("content-type", "application/json")
                .ok()?;
            resp.insert_header("content-length", body.len().to_string())
                .ok()?;
            http.write_response_header(Box::new(resp)).await.ok()?;
            http.write_response_body(Bytes::from(body), true)
                .await
                .ok()?;
        }
        Body::EventStream { frames, pace } => {
            resp.insert_header("content-type", "application/vnd.amazon.eventstream")
                .ok()?;
            resp.insert_header("transfer-encoding", "chunked").ok()?;
            http.write_response_header(Box::new(resp)).await.ok()?;
            sim.streams.started.fetch_add(1, Ordering::Relaxed);
            let n = frames.len();
            for (i, f) in frames.into_iter().enumerate() {
                if i > 0 && !pace.is_zero() {
                    tokio::time::sleep(pace).await;
                }
                let written = http.write_response_body(Bytes::from(f.encode()), i + 1 == n);
                if written.await.is_err() {
                    sim.streams.aborted.fetch_add(1, Ordering::Relaxed);
                    return None;
                }
            }
            if http.finish_body().await.is_err() {
                sim.streams.aborted.fetch_add(1, Ordering::Relaxed);
                return None;
            }
            sim.streams.completed.fetch_add(1, Ordering::Relaxed);
        }
    }
    Some(())
}
