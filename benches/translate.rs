//! Per-request costs of the gateway's own work: translation both ways, SigV4, event-stream → SSE,
//! config load, metrics.
//!
//! Run with: `cargo bench --bench translate -- --warm-up-time 1 --measurement-time 3`
//!
//! Results, 2026-11-25, shared 2-core AMD EPYC VM (24 GiB, load average ~1), Rust 1.95.0,
//! criterion medians. The machine is shared and noisy: absolute times vary by up to ±30 % between
//! runs; the pairs marked "same run" are the comparisons to trust.
//!
//! | bench                                                          | time      |
//! |----------------------------------------------------------------|-----------|
//! | request: parse + translate + serialize, small chat (1.6 KB)    | 3.9–5.6 µs |
//! | request: parse + translate + serialize, agentic (200 KB)       | 235–350 µs |
//! | request: parse + translate + serialize, image (100 KB)         | 113–154 µs |
//! | response: translate small                                      | 1.0–2.0 µs |
//! | JSON writer vs serde_json, agentic Converse body (same run)    | 68 µs vs 133 µs |
//! | JSON writer vs serde_json, small Converse body (same run)      | 1.20 µs vs 1.16 µs |
//! | SigV4, 1.6 KB: basalt `Signer` vs `aws-sigv4` (same run)       | 2.9 µs vs 9.1 µs |
//! | SigV4, 200 KB: basalt `Signer` vs `aws-sigv4` (same run)       | 118 µs vs 125 µs |
//! | SHA-256 of the body, the floor of SigV4: 1.6 KB / 200 KB       | 0.98 µs / 117 µs |
//! | event-stream → SSE, per event (decode + translate + write)     | 0.92–1.35 µs |
//! | config: load conf/local.yaml                                   | 74–112 µs |
//! | metrics: observe one finished request                          | 0.55–0.63 µs |
//!
//! Gateway-level figures (CPU per request, latency, RSS) are in load/README.md.

// A test fails by panicking: unwrap, expect and panic are its assertions.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use basalt::bedrock::eventstream::{encode_event, Decoder};
use basalt::bedrock::sigv4::{sign_reference, AwsCredentials, SignInput, Signer};
use basalt::secret::Secret;
use basalt::translate::chat::stream::{StreamContext, StreamTranslator};
use basalt::translate::chat::{request, response};
use basalt::translate::frontend::RequestContext;
use basalt::translate::names::ToolNames;
use criterion::{black_box, criterion_main, Criterion, Throughput};
use serde_json::json;
use sha2::{Digest, Sha256};
use std::time::SystemTime;

const MODEL: &str = "amazon.nova-micro-v1:0";

/// The 1.6 KB chat request of load/nonstream.py (system prompt + a short conversation).
fn small_request() -> Vec<u8> {
    let filler = "Our gateway must be fast, exact and observable for every team that uses it. ";
    let mut messages = vec![
        json!({"role": "system", "content": format!("You are a precise assistant for the platform team. {}", filler.repeat(4))}),
    ];
    for i in 0..3 {
        messages.push(
            json!({"role": "user", "content": format!("Question {i}: {}", filler.repeat(2))}),
        );
        messages.push(json!({"role": "assistant", "content": format!("Answer {i}: {filler}")}));
    }
    messages.push(json!({"role": "user", "content": "Summarise the discussion in one sentence."}));
    serde_json::to_vec(
        &json!({"model": MODEL, "max_tokens": 256, "temperature": 0.2, "messages": messages}),
    )
    .unwrap()
}

/// The ~200 KB agentic request of load/nonstream.py (20 tools, 70 tool-call turns).
fn large_request() -> Vec<u8> {
    let tools: Vec<_> = (0..20).map(|i| json!({"type": "function", "function": {
        "name": format!("tool_{i}"), "description": "Look things up in the internal knowledge base. ".repeat(4),
        "parameters": {"type": "object", "properties": {
            "query": {"type": "string", "description": "What to look for, in plain words."},
            "limit": {"type": "integer", "minimum": 1, "maximum": 50},
            "filters": {"type": "object", "properties": {"team": {"type": "string"}, "since": {"type": "string"}}}},
            "required": ["query"]}}})).collect();
    let mut messages =
        vec![json!({"role": "system", "content": "You are an agent with tools. ".repeat(40)})];
    let result =
        "Result line with details about the matching document and its metadata. ".repeat(32);
    for i in 0..70 {
        messages.push(json!({"role": "user", "content": format!("Step {i}: find the next document. ").repeat(4)}));
        messages.push(json!({"role": "assistant", "content": null, "tool_calls": [{"id": format!("call_{i}"), "type": "function",
            "function": {"name": format!("tool_{}", i % 20), "arguments": json!({"query": format!("doc {i}"), "limit": 5}).to_string()}}]}));
        messages
            .push(json!({"role": "tool", "tool_call_id": format!("call_{i}"), "content": result}));
    }
    messages.push(json!({"role": "user", "content": "Now write the final report."}));
    serde_json::to_vec(
        &json!({"model": MODEL, "max_tokens": 1024, "messages": messages, "tools": tools}),
    )
    .unwrap()
}

/// A user turn with a ~100 KB base64 PNG.
fn image_request() -> Vec<u8> {
    let data = "iVBORw0KGgoAAAANSUhEUgAA".repeat(4_300);
    serde_json::to_vec(
        &json!({"model": MODEL, "messages": [{"role": "user", "content": [
        {"type": "text", "text": "What is in this picture?"},
        {"type": "image_url", "image_url": {"url": format!("data:image/png;base64,{data}")}}]}]}),
    )
    .unwrap()
}

const ANSWER: &str = r#"{"output":{"message":{"role":"assistant","content":[{"text":"Basalt: one endpoint, every Bedrock model, OpenAI-exact responses, microsecond overhead, signed correctly, observable, and safe for your whole organisation."}]}},
"stopReason":"end_turn","usage":{"inputTokens":41,"outputTokens":29,"totalTokens":70},"metrics":{"latencyMs":412}}"#;

fn translate_request(body: &[u8]) -> Vec<u8> {
    let req = basalt::openai::parse_chat_request(black_box(body)).unwrap();
    let t = request::translate(&req, &RequestContext::for_model(MODEL)).unwrap();
    let mut out = Vec::with_capacity(body.len() + 512);
    basalt::json::to_writer(&mut out, &t.converse).unwrap();
    out
}

fn requests(c: &mut Criterion) {
    for (name, body) in [
        (
            "request: parse+translate+serialize small (1.6 KB)",
            small_request(),
        ),
        (
            "request: parse+translate+serialize agentic (200 KB)",
            large_request(),
        ),
        (
            "request: parse+translate+serialize image (100 KB)",
            image_request(),
        ),
    ] {
        c.bench_function(name, |b| b.iter(|| translate_request(&body)));
    }
    // Parsing alone (the wire types, borrowed from the body).
    for (name, body) in [("small", small_request()), ("agentic", large_request())] {
        c.bench_function(&format!("request: parse {name}"), |b| {
            b.iter(|| basalt::openai::parse_chat_request(black_box(&body)).is_ok())
        });
    }
    // The caps' pre-scan alone (part of every parse above).
    for (name, body) in [("small", small_request()), ("agentic", large_request())] {
        let caps = basalt::openai::RequestCaps::default();
        c.bench_function(&format!("request: caps pre-scan {name}"), |b| {
            b.iter(|| basalt::openai::caps_exceeded(black_box(&body), caps))
        });
    }
    // The JSON writer against serde_json on the same translated requests, same run.
    for (name, body) in [("small", small_request()), ("agentic", large_request())] {
        let req = basalt::openai::parse_chat_request(&body).unwrap();
        let t = request::translate(&req, &RequestContext::for_model(MODEL)).unwrap();
        c.bench_function(&format!("json: serde_json::to_writer, {name}"), |b| {
            b.iter(|| {
                let mut out = Vec::with_capacity(body.len() + 512);
                serde_json::to_writer(&mut out, black_box(&t.converse)).unwrap();
                out
            })
        });
        c.bench_function(&format!("json: basalt::json::to_writer, {name}"), |b| {
            b.iter(|| {
                let mut out = Vec::with_capacity(body.len() + 512);
                basalt::json::to_writer(&mut out, black_box(&t.converse)).unwrap();
                out
            })
        });
    }
    let names = ToolNames::default();
    c.bench_function("response: translate small", |b| {
        b.iter(|| {
            let ctx = response::ResponseContext {
                id: "chatcmpl-x",
                created: 1,
                model: MODEL,
                tool_names: &names,
            };
            response::translate(black_box(ANSWER.as_bytes()), &ctx).unwrap()
        })
    });
}

fn signing(c: &mut Criterion) {
    let creds = AwsCredentials {
        access_key_id: "ASIAEXAMPLE".into(),
        secret_access_key: Secret::new("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
        session_token: Some(Secret::new("FwoGZXIvYXdzEExampleSessionToken".repeat(10))),
        expiry: None,
    };
    let identity = creds.identity();
    let signer = Signer::new(&creds);
    let path = "/model/amazon.nova-micro-v1%3A0/converse";
    let url = format!("https://bedrock-runtime.us-east-1.amazonaws.com{path}");
    for (size, body) in [
        ("1.6 KB", vec![b'x'; 1_600]),
        ("200 KB", vec![b'x'; 200_000]),
    ] {
        let input = SignInput {
            url: &url,
            path,
            host: "bedrock-runtime.us-east-1.amazonaws.com",
            content_type: "application/json",
            body: &body,
        };
        c.bench_function(&format!("sigv4: basalt Signer, {size}"), |b| {
            b.iter(|| signer.sign(black_box(&input), "us-east-1", SystemTime::now()))
        });
        c.bench_function(&format!("sigv4: aws-sigv4 reference, {size}"), |b| {
            b.iter(|| {
                sign_reference(black_box(&input), &identity, "us-east-1", SystemTime::now())
                    .unwrap()
            })
        });
        c.bench_function(&format!("sha256 of the body (the floor), {size}"), |b| {
            b.iter(|| Sha256::digest(black_box(&body)))
        });
    }
}

fn streaming(c: &mut Criterion) {
    // 200 text deltas plus start/stop/metadata, fed as they arrive on the wire.
    let mut wire = encode_event("messageStart", br#"{"role":"assistant","p":"abcdefgh"}"#);
    let events = 200;
    for i in 0..events {
        let payload = format!(
            r#"{{"contentBlockIndex":0,"delta":{{"text":"word{i} "}},"p":"abcdefghijklmnop"}}"#
        );
        wire.extend(encode_event("contentBlockDelta", payload.as_bytes()));
    }
    wire.extend(encode_event(
        "contentBlockStop",
        br#"{"contentBlockIndex":0}"#,
    ));
    wire.extend(encode_event("messageStop", br#"{"stopReason":"end_turn"}"#));
    wire.extend(encode_event(
        "metadata",
        br#"{"usage":{"inputTokens":10,"outputTokens":200,"totalTokens":210},"metrics":{"latencyMs":1}}"#,
    ));
    let mut group = c.benchmark_group("stream");
    group.throughput(Throughput::Elements(events + 4));
    group.bench_function("event-stream -> SSE, per event (204 events)", |b| {
        b.iter(|| {
            let mut decoder = Decoder::new();
            let mut t = StreamTranslator::new(StreamContext {
                id: "chatcmpl-x".into(),
                created: 1,
                model: MODEL.into(),
                include_usage: true,
                tool_names: ToolNames::default(),
            });
            let mut out = Vec::with_capacity(256);
            let mut sent = 0;
            // One frame per read, one SSE write per frame, as in a paced stream.
            for chunk in wire.chunks(96) {
                decoder.push(chunk);
                while let Some(f) = decoder.next_frame().unwrap() {
                    t.on_frame(&f, &mut out);
                    sent += out.len();
                    out.clear();
                }
            }
            t.finish(&mut out);
            sent + out.len()
        })
    });
    group.finish();
}

fn config_and_metrics(c: &mut Criterion) {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/conf/local.yaml")).unwrap();
    let dir = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/conf"));
    c.bench_function("config: load conf/local.yaml", |b| {
        b.iter(|| basalt::config::load_str(black_box(&text), dir, &|_| None).unwrap())
    });
    let config = basalt::config::load_str(&text, dir, &|_| None).unwrap();
    let metrics = basalt::metrics::Metrics::new(&config).unwrap();
    let usage = basalt::bedrock::TokenUsage {
        input_tokens: 200,
        output_tokens: 80,
        total_tokens: 1280,
        cache_read_input_tokens: Some(1000),
        cache_write_input_tokens: None,
    };
    c.bench_function("metrics: observe one finished request", |b| {
        b.iter(|| {
            metrics.observe(black_box(&basalt::metrics::Observation {
                operation: basalt::metrics::Operation::Chat,
                route: Some("bedrock"),
                backend: Some("bedrock"),
                request_model: Some(MODEL),
                response_model: Some(MODEL),
                status: 200,
                error_type: None,
                duration: std::time::Duration::from_millis(250),
                ttft: Some(std::time::Duration::from_millis(120)),
                upstream: Some(std::time::Duration::from_millis(240)),
                usage: Some(&usage),
                stream: false,
            }))
        })
    });
}

/// The group `criterion_main!` runs. Private because `criterion_group!` generates a `pub fn`
/// that it gives no doc comment (and a doc comment on the invocation would go unused).
mod harness {
    criterion::criterion_group!(
        benches,
        super::requests,
        super::signing,
        super::streaming,
        super::config_and_metrics
    );
}
criterion_main!(harness::benches);
