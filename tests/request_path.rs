//! The request path (`src/proxy/*`) in process: the real gateway (`basalt::server::build` on a
//! config written in `request_path/stack.rs`), the built-in Bedrock simulator and a scripted
//! upstream that writes exact bytes, all on loopback ports, started once for this binary.
//! `cargo test` alone thus catches a broken dispatch, body read, route selection, upstream
//! exchange, error mapping, stream relay or capacity limit; tests/e2e checks the same through
//! the release binaries and real SDKs.
//!
//! Each test drives one behaviour through raw HTTP/1.1 (`request_path/client.rs`) and asserts
//! the exact status and OpenAI error body (`error.code`, `error.type`, `error.param`, and the
//! message where it is part of the contract). Tests run in parallel against the one stack:
//! requests to the simulator carry a unique nonce, and a test finds its own upstream request
//! in `GET /_sim/requests` by it.
//!
//! That the tests catch what they name was checked by breaking the expectation, one test at a
//! time, and watching it fail (then restoring it): e.g. the golden stream compared against
//! `text_no_usage.sse` fails on the usage chunk; `allow: GET` instead of `POST` fails the 405
//! test; expecting 200 for the second request on the `tight` listener fails with its 503;
//! expecting the 413 connection to close fails since the next request is answered 200.

// A test fails by panicking: unwrap, expect and panic are its assertions.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
// The simulator is a cargo feature (on by default); without it there is nothing to run here.
#![cfg(feature = "simulator")]

#[path = "request_path/client.rs"]
mod client;
#[path = "request_path/script.rs"]
mod script;
#[path = "request_path/stack.rs"]
mod stack;

use client::{chat, get, head, request, Conn, Response};
use serde_json::{json, Value};
use stack::stack;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

// ---------------------------------------------------------------------------------------------
// Helpers

/// A token no other request of this run contains (the `-end` keeps `…-1-end` from being
/// found inside `…-11-end`).
fn nonce() -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    format!(
        "nonce-{}-{}-end",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

fn user(model: &str, text: &str) -> Value {
    json!({"model": model, "messages": [{"role": "user", "content": text}]})
}

/// Assert an OpenAI error answer exactly: status, JSON content type, `x-should-retry`, and
/// `{"error": {message, type, param, code}}` with nothing else. Returns the message.
fn assert_error(r: &Response, status: u16, code: &str, kind: &str, param: Option<&str>) -> String {
    assert_eq!(r.status, status, "{}", r.text());
    assert_eq!(r.header("content-type"), Some("application/json"));
    // Retryable: 429 and 5xx, except 500 (the gateway's own bug: retrying will not help).
    let retry = matches!(status, 429 | 500..=599) && status != 500;
    assert_eq!(
        r.header("x-should-retry"),
        Some(if retry { "true" } else { "false" }),
        "{code}"
    );
    let body = r.json();
    let e = &body["error"];
    assert_eq!(body.as_object().unwrap().len(), 1, "{body}");
    assert_eq!(e.as_object().unwrap().len(), 4, "{body}");
    assert_eq!(e["code"], code, "{body}");
    assert_eq!(e["type"], kind, "{body}");
    assert_eq!(e["param"], param.map_or(Value::Null, Value::from), "{body}");
    e["message"].as_str().expect("a message").to_owned()
}

/// The simulator's record of the one upstream request whose body contains `nonce`.
fn sim_request(nonce: &str) -> Value {
    let all = get(stack().sim, "/_sim/requests", &[]).json();
    let mine: Vec<&Value> = all
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["body"].as_str().unwrap_or("").contains(nonce))
        .collect();
    assert_eq!(
        mine.len(),
        1,
        "upstream requests carrying {nonce}: {mine:?}"
    );
    mine[0].clone()
}

/// Whether any upstream request carried `nonce`.
fn sim_saw(nonce: &str) -> bool {
    let all = get(stack().sim, "/_sim/requests", &[]).text();
    all.contains(nonce)
}

fn header<'v>(record: &'v Value, name: &str) -> &'v str {
    record["headers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h[0] == name)
        .and_then(|h| h[1].as_str())
        .unwrap_or_else(|| panic!("no {name} header in {record}"))
}

/// The SSE events of a body (`data: ...` payloads, in order).
fn sse_events(body: &str) -> Vec<&str> {
    assert!(
        body.ends_with("\n\n"),
        "SSE must end with a blank line: {body:?}"
    );
    body.split("\n\n")
        .filter(|e| !e.is_empty())
        .map(|e| {
            e.strip_prefix("data: ")
                .expect("every event is one data: line")
        })
        .collect()
}

/// The SSE with the first chunk's `id`, `created` and `model` replaced by the values the
/// golden files were generated with (`chatcmpl-test`, `1`, `m`).
fn normalise(body: &str) -> String {
    let first: Value = serde_json::from_str(sse_events(body)[0]).unwrap();
    let id = first["id"].as_str().unwrap();
    assert!(id.starts_with("chatcmpl-") && id.len() == 33, "{id}");
    body.replace(&format!("\"id\":\"{id}\""), "\"id\":\"chatcmpl-test\"")
        .replace(
            &format!("\"created\":{},", first["created"]),
            "\"created\":1,",
        )
        .replace(
            &format!("\"model\":{},", first["model"]),
            "\"model\":\"m\",",
        )
}

fn golden(name: &str) -> String {
    String::from_utf8(script::fixture(name)).unwrap()
}

fn stream_request(model: &str) -> Value {
    json!({
        "model": model,
        "stream": true,
        "stream_options": {"include_usage": true},
        "messages": [{"role": "user", "content": "hi"}],
    })
}

// ---------------------------------------------------------------------------------------------
// Dispatch: paths, methods, the model list, client API keys

#[test]
fn unknown_path_is_404_not_found_with_the_request_id_echoed() {
    let r = request(
        stack().main,
        "POST",
        "/v1/embeddings",
        &[("x-request-id", "rp-test-404")],
        b"{}",
    );
    let m = assert_error(&r, 404, "not_found", "invalid_request_error", None);
    assert_eq!(m, "no route for POST /v1/embeddings");
    assert_eq!(r.header("x-request-id"), Some("rp-test-404"));
}

#[test]
fn wrong_method_is_405_with_allow_post() {
    let r = get(stack().main, "/v1/chat/completions", &[]);
    let m = assert_error(&r, 405, "method_not_allowed", "invalid_request_error", None);
    assert_eq!(m, "method GET is not allowed on /v1/chat/completions");
    assert_eq!(r.header("allow"), Some("POST"));
    let r = request(stack().main, "POST", "/v1/models", &[], b"{}");
    assert_error(&r, 405, "method_not_allowed", "invalid_request_error", None);
}

#[test]
fn models_lists_exact_match_models_then_fixed_backend_models() {
    let r = get(stack().main, "/v1/models", &[]);
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("application/json"));
    let entry = |id: &str, owner: &str| json!({"id": id, "object": "model", "created": 0, "owned_by": owner});
    // Globs (`script-*`, `amazon.nova-*` ...) are not model ids. A glob route that passes the
    // client's model through lists the well-known Bedrock ids it matches, after the exact and
    // fixed ones (amazon.nova-micro is listed once).
    assert_eq!(
        r.json(),
        json!({"object": "list", "data": [
            entry("fixed-model", "aws-bedrock"),
            entry("amazon.nova-micro-v1:0", "amazon"),
            entry("amazon.nova-pro-v1:0", "amazon"),
            entry("amazon.nova-lite-v1:0", "amazon"),
            entry("amazon.nova-2-multimodal-embeddings-v1:0", "amazon"),
        ]})
    );
}

#[test]
fn client_api_keys_are_required_on_an_authed_listener() {
    let port = stack().authed;
    for headers in [
        vec![],
        vec![("authorization", "Bearer not-the-key")],
        vec![("x-api-key", "not-the-key")],
        vec![("authorization", "Basic dGVhbS1hOmtleQ==")],
    ] {
        let r = get(port, "/v1/models", &headers);
        let m = assert_error(&r, 401, "invalid_api_key", "authentication_error", None);
        assert!(m.starts_with("missing or invalid API key"), "{m}");
    }
    // Refused before routing: an unknown path is 401 too, not 404.
    let r = request(port, "POST", "/v1/embeddings", &[], b"{}");
    assert_error(&r, 401, "invalid_api_key", "authentication_error", None);
    let bearer = format!("Bearer {}", stack::CLIENT_KEY);
    for h in [
        ("authorization", bearer.as_str()),
        ("x-api-key", stack::CLIENT_KEY),
    ] {
        let r = get(port, "/v1/models", &[h]);
        assert_eq!(r.status, 200, "{h:?}: {}", r.text());
        assert_eq!(r.json()["object"], "list");
    }
    // And a chat request with the key goes through to Bedrock.
    let n = nonce();
    let body = user("amazon.nova-lite-v1:0", &n).to_string();
    let r = request(
        port,
        "POST",
        "/v1/chat/completions",
        &[("authorization", &bearer)],
        body.as_bytes(),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(sim_saw(&n));
}

// ---------------------------------------------------------------------------------------------
// Body: the size cap, chunked bodies, 100-continue, the shape caps

#[test]
fn a_body_over_max_body_bytes_by_content_length_is_413_and_the_connection_keeps_serving() {
    let mut c = Conn::open(stack().main);
    let big = vec![b'x'; stack::MAX_BODY_BYTES + 1];
    let r = c.request("POST", "/v1/chat/completions", &[], &big);
    let m = assert_error(&r, 413, "request_too_large", "invalid_request_error", None);
    assert_eq!(m, "request body exceeds the limit of 4096 bytes");
    // The body was drained: the same connection serves the next request.
    let r = c.request("GET", "/v1/models", &[], b"");
    assert_eq!(r.status, 200, "{}", r.text());
    // Exactly at the cap is not too large (it is then parsed: not JSON, so 400).
    let exact = vec![b'x'; stack::MAX_BODY_BYTES];
    let r = c.request("POST", "/v1/chat/completions", &[], &exact);
    assert_error(&r, 400, "invalid_json", "invalid_request_error", None);
}

#[test]
fn a_chunked_body_over_max_body_bytes_is_413_and_the_connection_keeps_serving() {
    let mut c = Conn::open(stack().main);
    c.write(&head(
        "POST",
        "/v1/chat/completions",
        &[("transfer-encoding", "chunked")],
        None,
    ));
    // 5 × 1000 bytes: over 4096 only in the fifth chunk; no length announced.
    for _ in 0..5 {
        let mut chunk = b"3e8\r\n".to_vec();
        chunk.extend_from_slice(&[b'y'; 1000]);
        chunk.extend_from_slice(b"\r\n");
        c.write(&chunk);
    }
    c.write(b"0\r\n\r\n");
    let r = c.read_response();
    assert_error(&r, 413, "request_too_large", "invalid_request_error", None);
    let r = c.request("GET", "/v1/models", &[], b"");
    assert_eq!(r.status, 200, "{}", r.text());
}

#[test]
fn expect_100_continue_gets_100_before_the_answer() {
    let n = nonce();
    let body = user("amazon.nova-lite-v1:0", &n).to_string();
    let mut c = Conn::open(stack().main);
    c.write(&head(
        "POST",
        "/v1/chat/completions",
        &[
            ("expect", "100-continue"),
            ("content-type", "application/json"),
        ],
        Some(body.len()),
    ));
    // Nothing of the body is sent until the gateway says to go on.
    let (status, _) = c.read_head();
    assert_eq!(status, 100, "an interim 100 Continue comes first");
    c.write(body.as_bytes());
    let r = c.read_response();
    assert_eq!(r.status, 200, "{}", r.text());
    let content = r.json()["choices"][0]["message"]["content"].clone();
    assert!(content.as_str().unwrap().contains(&n), "{content}");
}

#[test]
fn request_caps_are_400_naming_the_listener_limit() {
    let port = stack().main;
    let n = nonce();
    let msg = |t: &str| json!({"role": "user", "content": t});
    // maxMessages = 4: five messages.
    let five: Vec<Value> = (0..5).map(|i| msg(&format!("{n} {i}"))).collect();
    let r = chat(
        port,
        &json!({"model": "amazon.nova-lite-v1:0", "messages": five}),
    );
    let m = assert_error(
        &r,
        400,
        "invalid_request",
        "invalid_request_error",
        Some("messages"),
    );
    assert_eq!(
        m,
        "the request has more than 4 messages (the listener's limits.maxMessages)"
    );
    // maxContentParts = 6, summed over messages: 4 + 3 parts in two messages.
    let parts = |k: usize| -> Vec<Value> {
        (0..k)
            .map(|i| json!({"type": "text", "text": format!("{n} part {i}")}))
            .collect()
    };
    let r = chat(
        port,
        &json!({"model": "amazon.nova-lite-v1:0", "messages": [
            {"role": "user", "content": parts(4)},
            {"role": "assistant", "content": "ok"},
            {"role": "user", "content": parts(3)},
        ]}),
    );
    let m = assert_error(
        &r,
        400,
        "invalid_request",
        "invalid_request_error",
        Some("messages"),
    );
    assert_eq!(
        m,
        "the request has more than 6 content parts (the listener's limits.maxContentParts)"
    );
    // maxTools = 2: three tools.
    let tools: Vec<Value> = (0..3)
        .map(|i| json!({"type": "function", "function": {"name": format!("f{i}"), "parameters": {"type": "object"}}}))
        .collect();
    let r = chat(
        port,
        &json!({"model": "amazon.nova-lite-v1:0", "messages": [msg(&n)], "tools": tools}),
    );
    let m = assert_error(
        &r,
        400,
        "invalid_request",
        "invalid_request_error",
        Some("tools"),
    );
    assert_eq!(
        m,
        "the request has more than 2 tools (the listener's limits.maxTools)"
    );
    assert!(!sim_saw(&n), "a request over a cap must not reach Bedrock");
    // At the caps, the same shapes are served.
    let r = chat(
        port,
        &json!({"model": "amazon.nova-lite-v1:0", "messages": [
            {"role": "user", "content": parts(3)},
            {"role": "assistant", "content": "ok"},
            {"role": "user", "content": parts(2)},
        ], "tools": tools[..2]}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
}

// ---------------------------------------------------------------------------------------------
// Routes: model globs, fixed backend models, no match

#[test]
fn model_globs_select_the_route_and_its_backend() {
    // `amazon.nova-*` → sim-east (us-east-1), `anthropic.*` → sim-west (us-west-2): the
    // backend shows in the SigV4 credential scope of the request the simulator received.
    for (model, path, region) in [
        (
            "amazon.nova-lite-v1:0",
            "/model/amazon.nova-lite-v1%3A0/converse",
            "us-east-1",
        ),
        (
            "anthropic.claude-3-haiku-20240307-v1:0",
            "/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse",
            "us-west-2",
        ),
    ] {
        let n = nonce();
        let r = chat(stack().main, &user(model, &n));
        assert_eq!(r.status, 200, "{model}: {}", r.text());
        assert_eq!(r.json()["model"], model);
        let up = sim_request(&n);
        assert_eq!(up["method"], "POST");
        assert_eq!(up["path"], path);
        let auth = header(&up, "authorization");
        assert!(
            auth.contains(&format!("/{region}/bedrock/aws4_request")),
            "{model}: {auth}"
        );
    }
}

#[test]
fn a_backend_fixed_model_overrides_the_clients() {
    let n = nonce();
    let r = chat(stack().main, &user("fixed-model", &n));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["model"], "amazon.nova-micro-v1:0");
    let up = sim_request(&n);
    assert_eq!(up["path"], "/model/amazon.nova-micro-v1%3A0/converse");
    assert!(header(&up, "authorization").contains("/eu-west-1/bedrock/aws4_request"));
}

#[test]
fn a_model_no_route_matches_is_404_model_not_found() {
    let n = nonce();
    let r = chat(stack().main, &user("gpt-4o", &n));
    let m = assert_error(
        &r,
        404,
        "model_not_found",
        "invalid_request_error",
        Some("model"),
    );
    assert_eq!(
        m,
        "the model `gpt-4o` does not exist or is not served by this gateway"
    );
    assert!(!sim_saw(&n));
}

// ---------------------------------------------------------------------------------------------
// Upstream errors: Bedrock exceptions, unreadable answers, refused, silent, 1xx

#[test]
fn bedrock_exceptions_map_to_openai_errors() {
    for (exception, status, code, kind) in [
        (
            "ThrottlingException",
            429,
            "rate_limit_exceeded",
            "rate_limit_error",
        ),
        (
            "ValidationException",
            400,
            "invalid_request",
            "invalid_request_error",
        ),
        (
            "ModelTimeoutException",
            504,
            "model_timeout",
            "server_error",
        ),
        (
            "ServiceUnavailableException",
            503,
            "service_unavailable",
            "server_error",
        ),
    ] {
        let n = nonce();
        let text = format!("[sim:error={exception}] {n}");
        let r = chat(stack().main, &user("amazon.nova-lite-v1:0", &text));
        let m = assert_error(&r, status, code, kind, None);
        assert_eq!(m, format!("Bedrock: simulated {exception}"));
        assert!(sim_saw(&n));
    }
}

#[test]
fn an_unknown_upstream_exception_is_502_upstream_error() {
    let r = chat(stack().main, &user("script-unknown-exception", "hi"));
    let m = assert_error(&r, 502, "upstream_error", "server_error", None);
    assert_eq!(m, "Bedrock: a brand new failure");
}

#[test]
fn a_200_that_is_not_a_converse_answer_is_502_upstream_bad_response() {
    let r = chat(stack().main, &user("script-empty-json", "hi"));
    let m = assert_error(&r, 502, "upstream_bad_response", "server_error", None);
    assert!(m.starts_with("unreadable answer from Bedrock: "), "{m}");
}

#[test]
fn connection_refused_is_502_upstream_unreachable() {
    let r = chat(stack().main, &user("dead-model", "hi"));
    let m = assert_error(&r, 502, "upstream_unreachable", "server_error", None);
    assert!(m.starts_with("could not reach Bedrock: "), "{m}");
    assert!(
        !m.contains("127.0.0.1"),
        "no address reaches the client: {m}"
    );
}

#[test]
fn no_response_header_within_first_byte_is_504_upstream_timeout() {
    // Route `hang`: connect 100ms + firstByte 300ms; the scripted upstream never answers.
    let start = Instant::now();
    let r = chat(stack().main, &user("hang-forever", "hi"));
    let took = start.elapsed();
    let m = assert_error(&r, 504, "upstream_timeout", "server_error", None);
    assert_eq!(
        m,
        "Bedrock timed out: no response header within the route's firstByte/total timeout"
    );
    // Bounds generous for a loaded machine: not before firstByte, long before the 60 s default.
    assert!(took >= Duration::from_millis(300), "{took:?}");
    assert!(took < Duration::from_secs(5), "{took:?}");
}

#[test]
fn an_informational_1xx_before_the_answer_is_skipped() {
    let r = chat(stack().main, &user("script-early-hints", "hi"));
    assert_eq!(r.status, 200, "{}", r.text());
    let body = r.json();
    assert_eq!(
        body["choices"][0]["message"]["content"],
        "after early hints"
    );
    assert_eq!(body["choices"][0]["finish_reason"], "stop");
    assert_eq!(body["usage"]["total_tokens"], 7);
    // The same before a stream's 200.
    let r = chat(stack().main, &stream_request("script-stream-early-hints"));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(normalise(&r.text()), golden("text_usage.sse"));
}

// ---------------------------------------------------------------------------------------------
// The stream relay, against the scripted upstream

#[test]
fn a_stream_in_odd_sized_pieces_relays_the_golden_sse() {
    let r = chat(stack().main, &stream_request("script-stream-text"));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("content-type"), Some("text/event-stream"));
    assert_eq!(r.header("cache-control"), Some("no-cache"));
    let sse = r.text();
    assert_eq!(normalise(&sse), golden("text_usage.sse"));
    assert_eq!(sse_events(&sse).last(), Some(&"[DONE]"));
}

#[test]
fn an_exception_frame_after_text_is_one_error_event_and_no_done() {
    let r = chat(stack().main, &stream_request("script-stream-exception"));
    assert_eq!(r.status, 200, "{}", r.text());
    let sse = r.text();
    assert_eq!(normalise(&sse), golden("exception_throttlingException.sse"));
    let events = sse_events(&sse);
    let errors = events
        .iter()
        .filter(|e| e.starts_with("{\"error\""))
        .count();
    assert_eq!(errors, 1, "{sse}");
    let last: Value = serde_json::from_str(events.last().unwrap()).unwrap();
    assert_eq!(
        last,
        json!({"error": {"message": "Bedrock: boom", "type": "rate_limit_error", "param": null, "code": "rate_limit_exceeded"}})
    );
    assert!(!sse.contains("[DONE]"));
}

#[test]
fn an_upstream_closing_mid_frame_is_an_error_event_and_no_done() {
    let r = chat(stack().main, &stream_request("script-stream-cut"));
    assert_eq!(r.status, 200, "{}", r.text());
    let sse = r.text();
    let events = sse_events(&sse);
    // messageStart's role chunk, then the error.
    assert_eq!(events.len(), 2, "{sse}");
    let first: Value = serde_json::from_str(events[0]).unwrap();
    assert_eq!(
        first["choices"][0]["delta"],
        json!({"role": "assistant", "content": ""})
    );
    let last: Value = serde_json::from_str(events[1]).unwrap();
    assert_eq!(
        last,
        json!({"error": {
            "message": "unreadable answer from Bedrock: the Bedrock stream ended inside a frame",
            "type": "server_error", "param": null, "code": "upstream_bad_response"}})
    );
    assert!(!sse.contains("[DONE]"));
}

// ---------------------------------------------------------------------------------------------
// Capacity

#[test]
fn a_listener_at_max_concurrent_requests_answers_503_overloaded() {
    let port = stack().tight;
    // The first request is held at the scripted upstream (the gate) until released: while it
    // is there, it holds the listener's only slot. No timing assumption is needed.
    let first = std::thread::spawn(move || chat(port, &user("script-gate", "hold")));
    script::GATE.wait_arrived(1, Duration::from_secs(10));
    let n = nonce();
    let r = chat(port, &user("amazon.nova-lite-v1:0", &n));
    let m = assert_error(&r, 503, "overloaded", "server_error", None);
    assert_eq!(
        m,
        "the gateway is at its limit of 1 concurrent requests; retry shortly"
    );
    assert!(!sim_saw(&n), "a refused request must not reach Bedrock");
    script::GATE.release();
    let r = first.join().unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        r.json()["choices"][0]["message"]["content"],
        "through the gate"
    );
    // The slot is given back when the finished request is logged, just after its answer was
    // written: allow that moment (bounded at 5 s), then the listener serves again.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let r = chat(port, &user("amazon.nova-lite-v1:0", "again"));
        if r.status == 200 {
            break;
        }
        assert_error(&r, 503, "overloaded", "server_error", None);
        assert!(Instant::now() < deadline, "the slot was never given back");
        std::thread::sleep(Duration::from_millis(20));
    }
}
