//! Event-stream bytes → SSE: every stream is also fed split at every byte offset, and the SSE
//! must be identical whatever the chunking.

// A test fails by panicking: unwrap, expect and panic are its assertions.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use basalt::bedrock::eventstream::{encode_event, encode_exception, Decoder};
use basalt::translate::chat::stream::{StreamContext, StreamTranslator};
use basalt::translate::names::ToolNames;
use serde_json::{json, Value};

fn ev(kind: &str, v: Value) -> Vec<u8> {
    encode_event(kind, v.to_string().as_bytes())
}

fn run(stream: &[u8], cuts: &[usize], include_usage: bool) -> String {
    let mut d = Decoder::new();
    let mut t = StreamTranslator::new(StreamContext {
        id: "chatcmpl-test".into(),
        created: 1,
        model: "m".into(),
        include_usage,
        tool_names: ToolNames::default(),
    });
    let mut out = Vec::new();
    let mut from = 0;
    for &cut in cuts.iter().chain(std::iter::once(&stream.len())) {
        d.push(&stream[from..cut]);
        from = cut;
        while let Some(f) = d.next_frame().unwrap() {
            t.on_frame(&f, &mut out);
        }
    }
    t.finish(&mut out);
    String::from_utf8(out).unwrap()
}

fn events(sse: &str) -> Vec<Value> {
    sse.split("\n\n")
        .filter(|e| !e.is_empty())
        .map(|e| {
            let data = e.strip_prefix("data: ").expect("data: line");
            if data == "[DONE]" {
                json!("[DONE]")
            } else {
                serde_json::from_str(data).unwrap()
            }
        })
        .collect()
}

fn text_stream() -> Vec<u8> {
    let mut s = ev("messageStart", json!({"role": "assistant", "p": "abc"}));
    for piece in ["Hé", "llo 🌍", " world"] {
        s.extend(ev(
            "contentBlockDelta",
            json!({"contentBlockIndex": 0, "delta": {"text": piece}, "p": "xyz123"}),
        ));
    }
    s.extend(ev("contentBlockStop", json!({"contentBlockIndex": 0})));
    s.extend(ev("messageStop", json!({"stopReason": "end_turn"})));
    s.extend(ev("metadata", json!({"usage": {"inputTokens": 10, "outputTokens": 3, "totalTokens": 13, "cacheReadInputTokens": 5}, "metrics": {"latencyMs": 9}, "p": "q"})));
    s
}

fn tool_stream() -> Vec<u8> {
    let mut s = ev("messageStart", json!({"role": "assistant"}));
    s.extend(ev(
        "contentBlockDelta",
        json!({"contentBlockIndex": 0, "delta": {"reasoningContent": {"text": "think"}}}),
    ));
    s.extend(ev(
        "contentBlockDelta",
        json!({"contentBlockIndex": 0, "delta": {"reasoningContent": {"signature": "sig=="}}}),
    ));
    s.extend(ev("contentBlockStop", json!({"contentBlockIndex": 0})));
    for (block, id, name, parts) in [
        (1, "t1", "get_weather", ["{\"ci", "ty\":\"Paris\"}"]),
        (2, "t2", "get_time", ["{", "}"]),
    ] {
        s.extend(ev("contentBlockStart", json!({"contentBlockIndex": block, "start": {"toolUse": {"toolUseId": id, "name": name}}})));
        for p in parts {
            s.extend(ev(
                "contentBlockDelta",
                json!({"contentBlockIndex": block, "delta": {"toolUse": {"input": p}}}),
            ));
        }
        s.extend(ev("contentBlockStop", json!({"contentBlockIndex": block})));
    }
    s.extend(ev("messageStop", json!({"stopReason": "tool_use"})));
    s.extend(ev(
        "metadata",
        json!({"usage": {"inputTokens": 1, "outputTokens": 2, "totalTokens": 3}}),
    ));
    s
}

#[test]
fn chunking_never_changes_the_output() {
    for stream in [text_stream(), tool_stream()] {
        let whole = run(&stream, &[], true);
        for cut in 0..=stream.len() {
            assert_eq!(run(&stream, &[cut], true), whole, "split at {cut}");
        }
        // Byte by byte.
        let every: Vec<usize> = (1..stream.len()).collect();
        assert_eq!(run(&stream, &every, true), whole);
    }
}

#[test]
fn text_usage_and_done() {
    let evs = events(&run(&text_stream(), &[], true));
    assert_eq!(
        evs[0]["choices"][0]["delta"],
        json!({"role": "assistant", "content": ""})
    );
    let text: String = evs
        .iter()
        .filter_map(|e| e["choices"][0]["delta"]["content"].as_str())
        .collect();
    assert_eq!(text, "Héllo 🌍 world");
    let finish = &evs[evs.len() - 3];
    assert_eq!(finish["choices"][0]["finish_reason"], "stop");
    let usage = &evs[evs.len() - 2];
    assert_eq!(usage["choices"], json!([]));
    assert_eq!(usage["usage"]["prompt_tokens"], 15);
    assert_eq!(usage["usage"]["total_tokens"], 18);
    assert_eq!(usage["usage"]["prompt_tokens_details"]["cached_tokens"], 5);
    assert_eq!(evs.last().unwrap(), &json!("[DONE]"));
    for e in &evs[..evs.len() - 1] {
        assert_eq!(e["id"], "chatcmpl-test");
        assert_eq!(e["object"], "chat.completion.chunk");
    }
    // Without include_usage: no usage chunk, no usage field.
    let evs = events(&run(&text_stream(), &[], false));
    assert!(evs.iter().all(|e| e.get("usage").is_none()));
    assert!(evs
        .iter()
        .all(|e| e == "[DONE]" || e["choices"] != json!([])));
}

#[test]
fn tool_calls_and_reasoning() {
    let evs = events(&run(&tool_stream(), &[], false));
    let deltas: Vec<&Value> = evs
        .iter()
        .filter_map(|e| e["choices"][0].get("delta"))
        .collect();
    assert!(deltas.iter().any(|d| d["reasoning_content"] == "think"));
    assert!(deltas.iter().any(|d| d["reasoning_signature"] == "sig=="));
    let calls: Vec<&Value> = deltas
        .iter()
        .filter_map(|d| d["tool_calls"].get(0))
        .collect();
    assert_eq!(
        calls[0],
        &json!({"index": 0, "id": "t1", "type": "function", "function": {"name": "get_weather", "arguments": ""}})
    );
    let args0: String = calls
        .iter()
        .filter(|c| c["index"] == 0)
        .filter_map(|c| c["function"]["arguments"].as_str())
        .collect();
    let args1: String = calls
        .iter()
        .filter(|c| c["index"] == 1)
        .filter_map(|c| c["function"]["arguments"].as_str())
        .collect();
    assert_eq!(args0, "{\"city\":\"Paris\"}");
    assert_eq!(args1, "{}");
    assert!(evs
        .iter()
        .any(|e| e["choices"][0]["finish_reason"] == "tool_calls"));
}

#[test]
fn exceptions_end_the_stream_without_done() {
    for (kind, etype, code) in [
        (
            "throttlingException",
            "rate_limit_error",
            "rate_limit_exceeded",
        ),
        (
            "modelStreamErrorException",
            "server_error",
            "model_stream_error",
        ),
        (
            "validationException",
            "invalid_request_error",
            "invalid_request",
        ),
        (
            "internalServerException",
            "server_error",
            "upstream_internal_error",
        ),
        (
            "serviceUnavailableException",
            "server_error",
            "service_unavailable",
        ),
    ] {
        let mut s = ev("messageStart", json!({"role": "assistant"}));
        s.extend(ev(
            "contentBlockDelta",
            json!({"contentBlockIndex": 0, "delta": {"text": "par"}}),
        ));
        s.extend(encode_exception(kind, br#"{"message":"boom"}"#));
        let whole = run(&s, &[], true);
        for cut in 0..=s.len() {
            assert_eq!(run(&s, &[cut], true), whole);
        }
        let evs = events(&whole);
        let last = evs.last().unwrap();
        assert_eq!(last["error"]["type"], etype, "{kind}");
        assert_eq!(last["error"]["code"], code, "{kind}");
        assert_eq!(last["error"]["message"], "Bedrock: boom");
        assert!(!whole.contains("[DONE]"));
    }
}

#[test]
fn truncated_stream_is_an_error_not_done() {
    let mut s = ev("messageStart", json!({"role": "assistant"}));
    s.extend(ev(
        "contentBlockDelta",
        json!({"contentBlockIndex": 0, "delta": {"text": "par"}}),
    ));
    let out = run(&s, &[], false);
    assert!(out.contains("upstream_bad_response") && !out.contains("[DONE]"));
}

/// A stream that ends in a Bedrock exception after one text delta.
fn exception_stream(kind: &str) -> Vec<u8> {
    let mut s = ev("messageStart", json!({"role": "assistant", "p": "ab"}));
    s.extend(ev(
        "contentBlockDelta",
        json!({"contentBlockIndex": 0, "delta": {"text": "par"}, "p": "cdefg"}),
    ));
    s.extend(encode_exception(kind, br#"{"message":"boom"}"#));
    s
}

/// Reasoning with a signature and a redacted block, then text; the usage has cache writes.
fn reasoning_stream() -> Vec<u8> {
    let mut s = ev("messageStart", json!({"role": "assistant"}));
    for d in [
        json!({"reasoningContent": {"text": "Let me "}}),
        json!({"reasoningContent": {"text": "think."}}),
        json!({"reasoningContent": {"signature": "EqQBCkYIARgCIkD=="}}),
    ] {
        s.extend(ev(
            "contentBlockDelta",
            json!({"contentBlockIndex": 0, "delta": d}),
        ));
    }
    s.extend(ev("contentBlockStop", json!({"contentBlockIndex": 0})));
    s.extend(ev(
        "contentBlockDelta",
        json!({"contentBlockIndex": 1, "delta": {"reasoningContent": {"redactedContent": "b3BhcXVl"}}}),
    ));
    s.extend(ev("contentBlockStop", json!({"contentBlockIndex": 1})));
    s.extend(ev(
        "contentBlockDelta",
        json!({"contentBlockIndex": 2, "delta": {"text": "42"}}),
    ));
    s.extend(ev("contentBlockStop", json!({"contentBlockIndex": 2})));
    s.extend(ev("messageStop", json!({"stopReason": "max_tokens"})));
    s.extend(ev("metadata", json!({"usage": {"inputTokens": 3, "outputTokens": 9, "totalTokens": 1212, "cacheWriteInputTokens": 1200}})));
    s
}

/// The golden cases: (file stem, event-stream bytes as generated when blessing, include_usage).
fn golden_cases() -> Vec<(String, Vec<u8>, bool)> {
    let mut cases = vec![
        ("text_usage".to_owned(), text_stream(), true),
        ("text_no_usage".to_owned(), text_stream(), false),
        ("parallel_tools_reasoning".to_owned(), tool_stream(), true),
        (
            "reasoning_redacted_cache_write".to_owned(),
            reasoning_stream(),
            true,
        ),
    ];
    for kind in [
        "throttlingException",
        "modelStreamErrorException",
        "validationException",
        "internalServerException",
        "serviceUnavailableException",
    ] {
        cases.push((format!("exception_{kind}"), exception_stream(kind), true));
    }
    cases
}

/// `tests/fixtures/stream/<case>.eventstream` (real AWS event-stream bytes; the e2e suite also
/// parses them with botocore) → `<case>.sse`, byte for byte, whole and split at every offset.
/// `BASALT_BLESS=1` rewrites both files from the generators above.
#[test]
fn event_stream_files_translate_to_golden_sse() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/stream");
    let bless = std::env::var_os("BASALT_BLESS").is_some();
    for (name, generated, include_usage) in golden_cases() {
        let input = dir.join(format!("{name}.eventstream"));
        let expected = dir.join(format!("{name}.sse"));
        if bless {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(&input, &generated).unwrap();
            std::fs::write(&expected, run(&generated, &[], include_usage)).unwrap();
        }
        let bytes = std::fs::read(&input).unwrap_or_else(|e| panic!("{input:?}: {e}"));
        let want =
            std::fs::read_to_string(&expected).unwrap_or_else(|e| panic!("{expected:?}: {e}"));
        assert_eq!(run(&bytes, &[], include_usage), want, "{name}");
        for cut in 0..=bytes.len() {
            assert_eq!(
                run(&bytes, &[cut], include_usage),
                want,
                "{name} split at {cut}"
            );
        }
        let every: Vec<usize> = (1..bytes.len()).collect();
        assert_eq!(
            run(&bytes, &every, include_usage),
            want,
            "{name} byte by byte"
        );
    }
}
