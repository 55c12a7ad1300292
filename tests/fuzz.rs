//! Property-based fuzzing on stable Rust (proptest): no byte sequence a client, an upstream or
//! an operator can produce makes the parser, the translators, the event-stream decoder or the
//! config loader panic, and every rejection of client input is a 4xx. Structure-aware
//! generators build near-valid OpenAI requests, Converse answers and event streams, so that the
//! cases reach deep into the translators rather than stopping at the JSON parser.
//!
//! Case counts: `PROPTEST_CASES` (default 2,000 per property: seconds for the whole file in a
//! release build on this project's 2-core machine); the long run in `docs/fuzzing.md` sets it
//! higher. Failures are persisted by proptest under `tests/fuzz.proptest-regressions` and
//! replayed first on every run.

// A test fails by panicking: unwrap, expect and panic are its assertions.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use basalt::bedrock::eventstream::{encode_event, encode_exception, Decoder};
use basalt::openai::parse_chat_request;
use basalt::translate::chat::stream::{StreamContext, StreamTranslator};
use basalt::translate::chat::{request, response};
use basalt::translate::frontend::RequestContext;
use basalt::translate::names::ToolNames;
use proptest::prelude::*;
use serde_json::{json, Value};

/// Models of every family the translator distinguishes.
const MODELS: &[&str] = &[
    "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
    "anthropic.claude-3-7-sonnet-20250219-v1:0",
    "us.anthropic.claude-opus-4-5-20251101-v1:0",
    "amazon.nova-micro-v1:0",
    "us.amazon.nova-2-lite-v1:0",
    "openai.gpt-oss-120b-1:0",
    "us.deepseek.r1-v1:0",
    "meta.llama3-70b-instruct-v1:0",
];

fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2_000);
    ProptestConfig {
        cases,
        failure_persistence: Some(Box::new(
            proptest::test_runner::FileFailurePersistence::Direct(
                "tests/fuzz.proptest-regressions",
            ),
        )),
        ..ProptestConfig::default()
    }
}

/// Parse and translate for `model`: the outcome must be a translation or a 4xx.
fn parse_and_translate(body: &[u8], model: &str) {
    let Ok(req) = parse_chat_request(body) else {
        let e = parse_chat_request(body).err().unwrap();
        assert!(
            (400..500).contains(&e.status()),
            "parse: {} {e}",
            e.status()
        );
        return;
    };
    let ctx = RequestContext::for_model(model);
    if let Err(e) = request::translate(&req, &ctx) {
        assert!(
            (400..500).contains(&e.status()),
            "translate: {} {e}",
            e.status()
        );
    }
}

// --- structure-aware generators ---------------------------------------------------------------

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just(" \n\t".to_owned()),
        "[a-zA-Z0-9 .,!?é🌍\\\\\"]{0,24}",
        any::<String>(),
    ]
}

/// Any JSON value, small.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        text().prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            prop::collection::btree_map("[a-z_]{1,8}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn content_part() -> impl Strategy<Value = Value> {
    prop_oneof![
        12 => text().prop_map(|t| json!({"type": "text", "text": t})),
        4 => text().prop_map(|t| json!({"type": "text", "text": t, "cache_control": {"type": "ephemeral"}})),
        3 => Just(json!({"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}})),
        1 => text().prop_map(|u| json!({"type": "image_url", "image_url": {"url": u}})),
        2 => Just(json!({"type": "file", "file": {"file_data": "data:application/pdf;base64,JVBERi0=", "filename": "a.pdf"}})),
        1 => text().prop_map(|t| json!({"type": t})),
        1 => any_json(),
    ]
}

fn content() -> impl Strategy<Value = Value> {
    prop_oneof![
        8 => text().prop_map(Value::from),
        8 => prop::collection::vec(content_part(), 0..4).prop_map(Value::from),
        1 => Just(Value::Null),
        1 => any_json(),
    ]
}

fn tool_call() -> impl Strategy<Value = Value> {
    ("[a-z_]{0,6}", "[a-zA-Z0-9_-]{0,8}", prop_oneof![Just("{}".to_owned()), Just("{\"a\":1}".to_owned()), text()])
        .prop_map(|(id, name, args)| json!({"id": id, "type": "function", "function": {"name": name, "arguments": args}}))
}

fn message() -> impl Strategy<Value = Value> {
    prop_oneof![
        12 => content().prop_map(|c| json!({"role": "user", "content": c})),
        3 => content().prop_map(|c| json!({"role": "system", "content": c})),
        1 => content().prop_map(|c| json!({"role": "developer", "content": c})),
        6 => (content(), prop::collection::vec(tool_call(), 0..3))
            .prop_map(|(c, calls)| json!({"role": "assistant", "content": c, "tool_calls": calls})),
        2 => (text(), text()).prop_map(|(r, s)| json!({"role": "assistant", "content": "x",
            "reasoning_content": r, "reasoning_signature": s})),
        3 => ("[a-z_]{0,6}", content()).prop_map(|(id, c)| json!({"role": "tool", "tool_call_id": id, "content": c})),
        1 => ("[a-z]{0,6}", content()).prop_map(|(n, c)| json!({"role": "function", "name": n, "content": c})),
        1 => (text(), content()).prop_map(|(r, c)| json!({"role": r, "content": c})),
    ]
}

fn tool() -> impl Strategy<Value = Value> {
    ("[a-zA-Z0-9_.-]{0,70}", prop_oneof![6 => Just(json!({"type": "object"})), 1 => any_json()])
        .prop_map(|(name, params)| json!({"type": "function", "function": {"name": name, "parameters": params}}))
}

fn chat_request() -> impl Strategy<Value = Value> {
    (
        prop::collection::vec(message(), 0..6),
        prop::collection::vec(tool(), 0..3),
        prop::option::of(prop_oneof![
            3 => Just(json!("auto")), 1 => Just(json!("none")), 2 => Just(json!("required")),
            2 => "[a-z_]{0,6}".prop_map(|n| json!({"type": "function", "function": {"name": n}})),
            1 => any_json(),
        ]),
        prop::option::of(prop_oneof![
            2 => Just(json!("low")), 2 => Just(json!("medium")), 2 => Just(json!("high")),
            1 => Just(json!("minimal")), 1 => any_json()
        ]),
        prop::option::of(prop_oneof![
            2 => Just(json!({"type": "json_object"})),
            3 => Just(json!({"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "object"}}})),
            1 => any_json().prop_map(|s| json!({"type": "json_schema", "json_schema": {"name": "x", "schema": s}})),
            1 => any_json(),
        ]),
        prop::option::of(prop_oneof![4 => 1i64..100_000, 1 => any::<i64>()]),
        prop::option::of(prop_oneof![4 => (0.0f64..2.0).prop_map(Value::from), 1 => any_json()]),
        prop::option::of(any::<bool>()),
        prop::option::of(prop_oneof![
            3 => prop::collection::vec("[a-z]{1,4}", 0..3).prop_map(Value::from),
            1 => any_json()
        ]),
    )
        .prop_map(|(messages, tools, choice, effort, format, max, temp, stream, stop)| {
            let mut r = json!({"model": "m", "messages": messages});
            let o = r.as_object_mut().unwrap();
            if !tools.is_empty() {
                o.insert("tools".into(), tools.into());
            }
            for (k, v) in [
                ("tool_choice", choice),
                ("reasoning_effort", effort),
                ("response_format", format),
                ("max_tokens", max.map(Value::from)),
                ("temperature", temp),
                ("stream", stream.map(Value::from)),
                ("stop", stop),
            ] {
                if let Some(v) = v {
                    o.insert(k.into(), v);
                }
            }
            r
        })
}

// --- Converse answers and event streams --------------------------------------------------------

fn response_block() -> impl Strategy<Value = Value> {
    prop_oneof![
        text().prop_map(|t| json!({"text": t})),
        ("[a-z0-9]{0,6}", "[a-zA-Z_]{0,8}", any_json())
            .prop_map(|(id, n, i)| json!({"toolUse": {"toolUseId": id, "name": n, "input": i}})),
        (text(), prop::option::of(text())).prop_map(
            |(t, s)| json!({"reasoningContent": {"reasoningText": {"text": t, "signature": s}}})
        ),
        Just(json!({"reasoningContent": {"redactedContent": "AAEC"}})),
        any_json(),
    ]
}

fn converse_answer() -> impl Strategy<Value = Value> {
    (
        prop::collection::vec(response_block(), 0..4),
        prop::option::of(prop_oneof![
            Just("end_turn".to_owned()),
            Just("tool_use".to_owned()),
            Just("max_tokens".to_owned()),
            text()
        ]),
        prop::option::of(any_json()),
    )
        .prop_map(|(content, stop, usage)| {
            json!({"output": {"message": {"role": "assistant", "content": content}},
                   "stopReason": stop, "usage": usage})
        })
}

fn stream_event() -> impl Strategy<Value = Vec<u8>> {
    let ev = |k: &'static str, v: Value| encode_event(k, v.to_string().as_bytes());
    prop_oneof![
        Just(ev("messageStart", json!({"role": "assistant"}))),
        (0u64..3, text()).prop_map(move |(i, t)| ev(
            "contentBlockDelta",
            json!({"contentBlockIndex": i, "delta": {"text": t}})
        )),
        (0u64..3, text()).prop_map(move |(i, t)| ev(
            "contentBlockDelta",
            json!({"contentBlockIndex": i, "delta": {"toolUse": {"input": t}}})
        )),
        (0u64..3, text()).prop_map(move |(i, t)| ev(
            "contentBlockDelta",
            json!({"contentBlockIndex": i, "delta": {"reasoningContent": {"text": t}}})
        )),
        (0u64..3, "[a-z]{0,5}").prop_map(move |(i, n)| ev(
            "contentBlockStart",
            json!({"contentBlockIndex": i, "start": {"toolUse": {"toolUseId": "t", "name": n}}})
        )),
        (0u64..3).prop_map(move |i| ev("contentBlockStop", json!({"contentBlockIndex": i}))),
        text().prop_map(move |s| ev("messageStop", json!({"stopReason": s}))),
        (any::<u32>(), any::<u32>()).prop_map(move |(a, b)| ev(
            "metadata",
            json!({"usage": {"inputTokens": a, "outputTokens": b}})
        )),
        (text(), any_json()).prop_map(|(k, v)| encode_event(&k, v.to_string().as_bytes())),
        text().prop_map(|m| encode_exception(
            "throttlingException",
            json!({"message": m}).to_string().as_bytes()
        )),
        prop::collection::vec(any::<u8>(), 0..40),
    ]
}

/// Feed `bytes` to a decoder and a translator, cut at `cuts`; the SSE produced.
fn relay(bytes: &[u8], cuts: &[usize]) -> Vec<u8> {
    let mut d = Decoder::new();
    let mut t = StreamTranslator::new(StreamContext {
        id: "chatcmpl-x".into(),
        created: 1,
        model: "m".into(),
        include_usage: true,
        tool_names: ToolNames::default(),
    });
    let mut out = Vec::new();
    let mut from = 0;
    let mut broken = false;
    for &cut in cuts.iter().chain(std::iter::once(&bytes.len())) {
        let cut = cut.clamp(from, bytes.len());
        d.push(&bytes[from..cut]);
        from = cut;
        while !broken {
            match d.next_frame() {
                Ok(Some(f)) => t.on_frame(&f, &mut out),
                Ok(None) => break,
                Err(_) => broken = true,
            }
        }
    }
    t.finish(&mut out);
    out
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn arbitrary_bytes_never_panic_the_request_parser(body in prop::collection::vec(any::<u8>(), 0..512), m in 0..MODELS.len()) {
        parse_and_translate(&body, MODELS[m]);
    }

    #[test]
    fn near_valid_chat_requests_translate_or_are_4xx(req in chat_request(), m in 0..MODELS.len()) {
        parse_and_translate(req.to_string().as_bytes(), MODELS[m]);
    }

    #[test]
    fn arbitrary_converse_answers_translate_or_are_upstream_errors(answer in prop_oneof![
        converse_answer().prop_map(|v| v.to_string().into_bytes()),
        prop::collection::vec(any::<u8>(), 0..256),
    ]) {
        let names = ToolNames::default();
        let ctx = response::ResponseContext { id: "chatcmpl-x", created: 1, model: "m", tool_names: &names };
        if let Err(e) = response::translate(&answer, &ctx) {
            prop_assert_eq!(e.status(), 502, "{}", e);
        }
    }

    #[test]
    fn event_streams_never_panic_and_splitting_never_changes_the_sse(
        events in prop::collection::vec(stream_event(), 0..8),
        damage in prop::option::of((any::<prop::sample::Index>(), any::<u8>())),
        cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..6),
    ) {
        let mut bytes: Vec<u8> = events.concat();
        if let (Some((at, x)), false) = (damage, bytes.is_empty()) {
            let i = at.index(bytes.len());
            bytes[i] ^= x | 1;
        }
        let whole = relay(&bytes, &[]);
        let mut cuts: Vec<usize> = cuts.iter().map(|c| c.index(bytes.len() + 1)).collect();
        cuts.sort_unstable();
        prop_assert_eq!(relay(&bytes, &cuts), whole.clone());
        // Every SSE event is `data: <json or [DONE]>`.
        for e in String::from_utf8(whole).unwrap().split("\n\n").filter(|e| !e.is_empty()) {
            let data = e.strip_prefix("data: ").unwrap();
            prop_assert!(data == "[DONE]" || serde_json::from_str::<Value>(data).is_ok(), "{}", data);
        }
    }

    #[test]
    fn arbitrary_config_text_never_panics_the_loader(text in prop_oneof![
        any::<String>(),
        any_json().prop_map(|v| serde_yaml::to_string(&v).unwrap_or_default()),
        config_like(),
    ]) {
        let _ = basalt::config::load_str(&text, std::path::Path::new("/nonexistent"), &|_| None);
    }
}

/// YAML that looks like a config: the top-level keys with arbitrary values.
fn config_like() -> impl Strategy<Value = String> {
    prop::collection::btree_map(
        prop_oneof![
            Just("listeners"),
            Just("backends"),
            Just("routes"),
            Just("policies"),
            Just("secrets"),
            Just("admin"),
            Just("metrics"),
            Just("server"),
        ],
        any_json(),
        0..5,
    )
    .prop_map(|m| serde_yaml::to_string(&m).unwrap_or_default())
}

/// The generators are worth their cases only if many of them get past the parser into the
/// translator and out as a translation; this measures the share (a generator that drifts into
/// producing only rejects fails here).
#[test]
fn most_near_valid_requests_reach_a_translation() {
    use proptest::strategy::ValueTree;
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let (mut parsed, mut translated, n) = (0, 0, 2000);
    for i in 0..n {
        let req = chat_request().new_tree(&mut runner).unwrap().current();
        let body = req.to_string();
        if let Ok(r) = parse_chat_request(body.as_bytes()) {
            parsed += 1;
            let ctx = RequestContext::for_model(MODELS[i % MODELS.len()]);
            translated += usize::from(request::translate(&r, &ctx).is_ok());
        }
    }
    eprintln!("near-valid requests: {parsed}/{n} parsed, {translated}/{n} translated");
    assert!(parsed * 4 >= n, "only {parsed}/{n} parsed");
    assert!(translated * 10 >= n, "only {translated}/{n} translated");
}
