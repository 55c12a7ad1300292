//! The Anthropic Messages front-end: golden fixtures both ways
//! (`tests/fixtures/messages/request/<case>/{anthropic.json, converse.json}`, optional
//! `model.txt`, `policy.json`, `betas.json` (the client's `anthropic-beta` values),
//! `adjusted.json`; `response/<case>/{converse.json, anthropic.json}`, optional `request.json`),
//! event streams → Anthropic SSE (`stream/<case>.sse`), identical for every split of the bytes,
//! count_tokens, and a 400 naming the field for every bad input.
//! `BASALT_BLESS=1 cargo test --test messages` rewrites the expected files (review the diff!).

// A test fails by panicking: unwrap, expect and panic are its assertions.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use basalt::bedrock::eventstream::{encode_event, encode_exception, Decoder};
use basalt::openai::RequestCaps;
use basalt::translate::caching::CachePolicy;
use basalt::translate::frontend::{AnswerMeta, RequestContext};
use basalt::translate::messages::stream::{MessagesStream, StreamContext};
use basalt::translate::messages::{count_tokens, request, response, MessagesAnswer};
use serde_json::{json, Value};
use std::fs;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/messages")
}

fn cases(dir: &str) -> Vec<PathBuf> {
    let root = root().join(dir);
    let mut out: Vec<PathBuf> = fs::read_dir(&root)
        .unwrap_or_else(|e| panic!("{}: {e}", root.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    out.sort();
    assert!(!out.is_empty(), "no fixtures in {}", root.display());
    out
}

fn read_json(p: &Path) -> Value {
    let text = fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn bless() -> bool {
    std::env::var_os("BASALT_BLESS").is_some()
}

fn check(expected_path: &Path, actual: Value, failures: &mut Vec<String>) {
    if bless() {
        let text = serde_json::to_string_pretty(&actual).unwrap() + "\n";
        fs::write(expected_path, text).unwrap();
        return;
    }
    if !expected_path.exists() {
        failures.push(format!(
            "{}: missing (run with BASALT_BLESS=1)",
            expected_path.display()
        ));
        return;
    }
    let expected = read_json(expected_path);
    if expected != actual {
        failures.push(format!(
            "{}:\n  expected {}\n  actual   {}",
            expected_path.display(),
            expected,
            actual
        ));
    }
}

fn model_for(case: &Path) -> String {
    fs::read_to_string(case.join("model.txt"))
        .map(|s| s.trim().to_owned())
        .unwrap_or_else(|_| "global.anthropic.claude-sonnet-4-5-20250929-v1:0".to_owned())
}

fn caching_for(case: &Path) -> Option<CachePolicy> {
    let p = case.join("policy.json");
    p.exists().then(|| {
        let v = read_json(&p);
        let flag = |k: &str, d: bool| v[k].as_bool().unwrap_or(d);
        CachePolicy {
            system: flag("cacheSystem", true),
            messages: flag("cacheMessages", true),
            tools: flag("cacheTools", false),
            min_tokens: v["minTokens"].as_u64().unwrap_or(1024),
        }
    })
}

fn betas_for(case: &Path) -> Vec<String> {
    let p = case.join("betas.json");
    if !p.exists() {
        return Vec::new();
    }
    serde_json::from_value(read_json(&p)).unwrap()
}

#[test]
fn requests_translate_to_golden_converse() {
    let mut failures = Vec::new();
    for case in cases("request") {
        let body = fs::read(case.join("anthropic.json")).unwrap();
        let parsed = basalt::anthropic::parse_request(&body, RequestCaps::default())
            .unwrap_or_else(|e| panic!("{}: {e}", case.display()));
        let model = model_for(&case);
        let betas = betas_for(&case);
        let default_betas: Vec<String> = request::DEFAULT_BETAS
            .iter()
            .map(|b| b.to_string())
            .collect();
        let client_betas: Vec<&str> = betas.iter().map(String::as_str).collect();
        let mut ctx = RequestContext::for_model(&model);
        ctx.caching = caching_for(&case);
        ctx.client_betas = &client_betas;
        ctx.betas = &default_betas;
        let out =
            request::translate(&parsed, &ctx).unwrap_or_else(|e| panic!("{}: {e}", case.display()));
        let actual = serde_json::to_value(&out.converse).unwrap();
        if let Err(e) = basalt::sim::validate::validate_for_model(&model, &actual) {
            failures.push(format!("{}: Bedrock would reject it: {e}", case.display()));
        }
        check(&case.join("converse.json"), actual, &mut failures);
        let adjusted = case.join("adjusted.json");
        if !out.adjusted.is_empty() || adjusted.exists() {
            check(&adjusted, json!(out.adjusted), &mut failures);
        }
        assert_eq!(out.stream, parsed_stream(&body), "{}", case.display());
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn parsed_stream(body: &[u8]) -> bool {
    let v: Value = serde_json::from_slice(body).unwrap();
    v["stream"].as_bool().unwrap_or(false)
}

fn answer_for(case: &Path) -> MessagesAnswer {
    let p = case.join("request.json");
    let stops = if p.exists() {
        serde_json::from_value(read_json(&p)["stop_sequences"].clone()).unwrap()
    } else {
        Vec::new()
    };
    MessagesAnswer {
        stop_sequences: stops,
        ..Default::default()
    }
}

const META: AnswerMeta<'static> = AnswerMeta {
    id: "msg_golden",
    created: 1_700_000_000,
    model: "global.anthropic.claude-sonnet-4-5-20250929-v1:0",
};

#[test]
fn responses_translate_to_golden_messages() {
    let mut failures = Vec::new();
    for case in cases("response") {
        let body = fs::read(case.join("converse.json")).unwrap();
        let out = response::translate(&body, &answer_for(&case), &META)
            .unwrap_or_else(|e| panic!("{}: {e}", case.display()));
        let actual: Value = serde_json::from_slice(&out.body).unwrap();
        check(&case.join("anthropic.json"), actual, &mut failures);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn a_non_converse_answer_is_a_bad_upstream_response() {
    for body in [&b"not json"[..], br#"{"output":{}}"#] {
        let e = response::translate(body, &MessagesAnswer::default(), &META).unwrap_err();
        assert_eq!(e.status(), 502, "{e}");
    }
}

/// Renamed tool names are restored, in JSON answers and streams.
#[test]
fn renamed_tools_round_trip() {
    let body = br#"{"model":"m","max_tokens":10,"messages":[{"role":"user","content":"hi"}],
        "tools":[{"name":"weather.get","input_schema":{"type":"object"}}]}"#;
    let parsed = basalt::anthropic::parse_request(body, RequestCaps::default()).unwrap();
    let out = request::translate(&parsed, &RequestContext::for_model("m")).unwrap();
    let converse = serde_json::to_value(&out.converse).unwrap();
    let bedrock = converse["toolConfig"]["tools"][0]["toolSpec"]["name"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(bedrock, "weather.get");
    let answer = json!({"output": {"message": {"role": "assistant", "content": [
        {"toolUse": {"toolUseId": "t1", "name": bedrock, "input": {"city": "Paris"}}}]}},
        "stopReason": "tool_use", "usage": {"inputTokens": 1, "outputTokens": 1, "totalTokens": 2}});
    let resp = response::translate(answer.to_string().as_bytes(), &out.answer, &META).unwrap();
    let v: Value = serde_json::from_slice(&resp.body).unwrap();
    assert_eq!(v["content"][0]["name"], "weather.get");
    assert_eq!(v["content"][0]["input"], json!({"city": "Paris"}));
    assert_eq!(v["stop_reason"], "tool_use");

    let mut s = ev("messageStart", json!({"role": "assistant"}));
    s.extend(ev(
        "contentBlockStart",
        json!({"contentBlockIndex": 0, "start": {"toolUse": {"toolUseId": "t1", "name": bedrock}}}),
    ));
    s.extend(ev("messageStop", json!({"stopReason": "tool_use"})));
    let sse = run(&s, &[], out.answer.clone());
    assert!(sse.contains(r#""name":"weather.get""#), "{sse}");
}

// ---------------------------------------------------------------------------------------------
// Streams
// ---------------------------------------------------------------------------------------------

fn ev(kind: &str, v: Value) -> Vec<u8> {
    encode_event(kind, v.to_string().as_bytes())
}

fn run(stream: &[u8], cuts: &[usize], answer: MessagesAnswer) -> String {
    let mut d = Decoder::new();
    let mut t = MessagesStream::new(StreamContext {
        id: "msg_test".into(),
        model: "m".into(),
        answer,
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

fn usage() -> Value {
    json!({"usage": {"inputTokens": 10, "outputTokens": 5, "totalTokens": 1515,
        "cacheReadInputTokens": 1000, "cacheWriteInputTokens": 500}, "metrics": {"latencyMs": 1}})
}

/// Named event streams: (name, ConverseStream bytes, stop sequences).
fn streams() -> Vec<(&'static str, Vec<u8>, Vec<String>)> {
    let start = || ev("messageStart", json!({"role": "assistant", "p": "abc"}));
    let delta = |i: u64, d: Value| {
        ev(
            "contentBlockDelta",
            json!({"contentBlockIndex": i, "delta": d, "p": "xy"}),
        )
    };
    let stop = |i: u64| ev("contentBlockStop", json!({"contentBlockIndex": i}));
    let mut text = start();
    for piece in ["Hé", "llo 🌍", " world"] {
        text.extend(delta(0, json!({"text": piece})));
    }
    text.extend(stop(0));
    text.extend(ev("messageStop", json!({"stopReason": "end_turn"})));
    text.extend(ev("metadata", usage()));

    let mut tools = start();
    tools.extend(delta(0, json!({"reasoningContent": {"text": "Need the "}})));
    tools.extend(delta(0, json!({"reasoningContent": {"text": "weather."}})));
    tools.extend(delta(0, json!({"reasoningContent": {"signature": "c2ln"}})));
    tools.extend(stop(0));
    tools.extend(delta(
        1,
        json!({"reasoningContent": {"redactedContent": "cmVk"}}),
    ));
    tools.extend(stop(1));
    tools.extend(delta(2, json!({"text": "Checking."})));
    tools.extend(stop(2));
    for i in [3u64, 4] {
        tools.extend(ev("contentBlockStart", json!({"contentBlockIndex": i, "start": {"toolUse": {"toolUseId": format!("tooluse_{i}"), "name": "get_weather"}}})));
        tools.extend(delta(i, json!({"toolUse": {"input": "{\"city\":"}})));
        tools.extend(delta(i, json!({"toolUse": {"input": "\"Paris\"}"}})));
        tools.extend(stop(i));
    }
    tools.extend(ev("messageStop", json!({"stopReason": "tool_use"})));
    tools.extend(ev("metadata", usage()));

    let mut stop_seq = start();
    stop_seq.extend(delta(0, json!({"text": "one two"})));
    stop_seq.extend(ev("messageStop", json!({"stopReason": "stop_sequence", "additionalModelResponseFields": {"stop_sequence": "THREE"}})));
    stop_seq.extend(ev("metadata", usage()));

    let mut refusal = start();
    refusal.extend(delta(0, json!({"text": "No."})));
    refusal.extend(ev(
        "messageStop",
        json!({"stopReason": "guardrail_intervened"}),
    ));

    let mut exception = start();
    exception.extend(delta(0, json!({"text": "partial"})));
    exception.extend(encode_exception(
        "throttlingException",
        br#"{"message":"slow down"}"#,
    ));
    exception.extend(delta(0, json!({"text": "never sent"})));

    let mut truncated = start();
    truncated.extend(delta(0, json!({"text": "cut"})));

    vec![
        ("text", text, vec![]),
        ("thinking_redacted_text_and_tools", tools, vec![]),
        (
            "stop_sequence",
            stop_seq,
            vec!["FOUR".into(), "THREE".into()],
        ),
        ("refusal_without_metadata", refusal, vec![]),
        ("exception_mid_stream", exception, vec![]),
        ("truncated", truncated, vec![]),
    ]
}

#[test]
fn event_streams_translate_to_golden_sse() {
    let dir = root().join("stream");
    fs::create_dir_all(&dir).unwrap();
    let mut failures = Vec::new();
    for (name, bytes, stops) in streams() {
        let answer = MessagesAnswer {
            stop_sequences: stops,
            ..Default::default()
        };
        let sse = run(&bytes, &[], answer);
        let path = dir.join(format!("{name}.sse"));
        if bless() {
            fs::write(&path, &sse).unwrap();
            continue;
        }
        let expected = fs::read_to_string(&path).unwrap_or_default();
        if expected != sse {
            failures.push(format!(
                "{}:\n--- expected\n{expected}\n--- actual\n{sse}",
                path.display()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn chunking_never_changes_the_output() {
    for (name, bytes, stops) in streams() {
        let answer = MessagesAnswer {
            stop_sequences: stops,
            ..Default::default()
        };
        let whole = run(&bytes, &[], answer.clone());
        for cut in 1..bytes.len() {
            assert_eq!(
                run(&bytes, &[cut], answer.clone()),
                whole,
                "{name}: split at {cut}"
            );
        }
        let every: Vec<usize> = (1..bytes.len()).collect();
        assert_eq!(
            run(&bytes, &every, answer.clone()),
            whole,
            "{name}: byte by byte"
        );
    }
}

/// The SSE events in order: (event name, data).
fn events(sse: &str) -> Vec<(String, Value)> {
    sse.split("\n\n")
        .filter(|e| !e.is_empty())
        .map(|e| {
            let (name, data) = e.split_once('\n').unwrap();
            let name = name.strip_prefix("event: ").unwrap().to_owned();
            let data: Value = serde_json::from_str(data.strip_prefix("data: ").unwrap()).unwrap();
            assert_eq!(
                data["type"],
                name.as_str(),
                "the data's type is the event name"
            );
            (name, data)
        })
        .collect()
}

#[test]
fn block_indices_are_dense_and_every_block_is_closed() {
    for (name, bytes, _) in streams() {
        let evs = events(&run(&bytes, &[], MessagesAnswer::default()));
        let mut open: Option<u64> = None;
        let mut next = 0;
        for (kind, data) in &evs {
            match kind.as_str() {
                "content_block_start" => {
                    assert!(open.is_none(), "{name}: a block opened inside another");
                    assert_eq!(data["index"], next, "{name}");
                    open = Some(next);
                    next += 1;
                }
                "content_block_delta" => assert_eq!(data["index"].as_u64(), open, "{name}"),
                "content_block_stop" => {
                    assert_eq!(data["index"].as_u64(), open, "{name}");
                    open = None;
                }
                // An error ends the stream where it is, as Anthropic's does.
                "message_delta" | "message_stop" => {
                    assert!(open.is_none(), "{name}: {kind} with a block open")
                }
                _ => {}
            }
        }
        let last = &evs.last().unwrap().0;
        assert!(
            last == "message_stop" || last == "error",
            "{name}: ends with {last}"
        );
        assert_eq!(evs[0].0, "message_start", "{name}");
    }
}

#[test]
fn usage_and_stop_reason_arrive_in_message_delta() {
    let (_, bytes, stops) = streams()
        .into_iter()
        .find(|s| s.0 == "stop_sequence")
        .unwrap();
    let answer = MessagesAnswer {
        stop_sequences: stops,
        ..Default::default()
    };
    let evs = events(&run(&bytes, &[], answer));
    let delta = &evs.iter().find(|e| e.0 == "message_delta").unwrap().1;
    assert_eq!(delta["delta"]["stop_reason"], "stop_sequence");
    assert_eq!(delta["delta"]["stop_sequence"], "THREE");
    assert_eq!(
        delta["usage"],
        json!({"input_tokens": 10, "output_tokens": 5, "cache_read_input_tokens": 1000, "cache_creation_input_tokens": 500})
    );
}

// ---------------------------------------------------------------------------------------------
// count_tokens
// ---------------------------------------------------------------------------------------------

#[test]
fn count_tokens_sends_the_converse_input_and_answers_input_tokens() {
    let body = br#"{"model":"m","system":[{"type":"text","text":"S","cache_control":{"type":"ephemeral"}}],
        "tools":[{"name":"f","input_schema":{"type":"object"}}],
        "messages":[{"role":"user","content":"hello"}]}"#;
    let parsed = basalt::anthropic::parse_request(body, RequestCaps::default()).unwrap();
    let ctx = RequestContext::for_model("us.anthropic.claude-sonnet-4-5-20250929-v1:0");
    let out: Value =
        serde_json::from_slice(&count_tokens::request(&parsed, &ctx).unwrap()).unwrap();
    assert_eq!(
        out,
        json!({"input": {"converse": {
            "messages": [{"role": "user", "content": [{"text": "hello"}]}],
            "system": [{"text": "S"}, {"cachePoint": {"type": "default"}}],
            "toolConfig": {"tools": [{"toolSpec": {"name": "f", "inputSchema": {"json": {"type": "object"}}}}]}
        }}})
    );
    let (answer, n) = count_tokens::answer(br#"{"inputTokens": 42}"#).unwrap();
    assert_eq!(n, 42);
    assert_eq!(
        serde_json::from_slice::<Value>(&answer).unwrap(),
        json!({"input_tokens": 42})
    );
    assert_eq!(count_tokens::answer(b"{}").unwrap_err().status(), 502);
    // Cache hints are dropped for models that do not cache.
    let llama = RequestContext::for_model("meta.llama3-70b-instruct-v1:0");
    let out = String::from_utf8(count_tokens::request(&parsed, &llama).unwrap()).unwrap();
    assert!(!out.contains("cachePoint"), "{out}");
}

// ---------------------------------------------------------------------------------------------
// Bad input
// ---------------------------------------------------------------------------------------------

/// Every bad input gets a 400 whose message (and field) says what is wrong.
#[test]
fn bad_inputs_are_named_400s() {
    let m = r#""messages":[{"role":"user","content":"hi"}]"#;
    let cases: Vec<(String, &str)> = vec![
        (r#"{"model":"m","messages":[{"role":"user","content":"hi"}]}"#.into(), "max_tokens"),
        (r#"{"model":"m","max_tokens":0,"messages":[{"role":"user","content":"hi"}]}"#.into(), "max_tokens"),
        (r#"{"model":"m","max_tokens":5}"#.into(), "messages"),
        (r#"{"model":"m","max_tokens":5,"messages":[]}"#.into(), "messages"),
        (r#"{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"  "}]}"#.into(), "messages"),
        (r#"{"model":"m","max_tokens":5,"messages":[{"role":"system","content":"x"}]}"#.into(), "messages[0].role"),
        (format!(r#"{{"model":"m","max_tokens":5,"temperature":1.5,{m}}}"#), "temperature"),
        (format!(r#"{{"model":"m","max_tokens":5,"top_p":-1,{m}}}"#), "top_p"),
        (format!(r#"{{"model":"m","max_tokens":5,"top_k":-1,{m}}}"#), "top_k"),
        (format!(r#"{{"model":"m","max_tokens":5,"system":[{{"type":"image"}}],{m}}}"#), "system[0]"),
        (format!(r#"{{"model":"m","max_tokens":5,"tools":[{{"type":"web_search_20250305","name":"web_search"}}],{m}}}"#), "tools[0].type"),
        (format!(r#"{{"model":"m","max_tokens":5,"tools":[{{"type":"code_execution_20250825","name":"code_execution"}}],{m}}}"#), "tools[0].type"),
        (format!(r#"{{"model":"m","max_tokens":5,"tools":[{{"name":"f"}}],{m}}}"#), "tools[0].input_schema"),
        (format!(r#"{{"model":"m","max_tokens":5,"tools":[{{"input_schema":{{}}}}],{m}}}"#), "tools[0].name"),
        (format!(r#"{{"model":"m","max_tokens":5,"tools":[{{"name":"f","input_schema":[]}}],{m}}}"#), "tools[0].input_schema"),
        (format!(r#"{{"model":"m","max_tokens":5,"tools":[{{"name":"f","input_schema":{{}}}}],"tool_choice":{{"type":"tool"}},{m}}}"#), "tool_choice.name"),
        (format!(r#"{{"model":"m","max_tokens":5,"tools":[{{"name":"f","input_schema":{{}}}}],"tool_choice":{{"type":"tool","name":"g"}},{m}}}"#), "tool_choice.name"),
        (format!(r#"{{"model":"m","max_tokens":5,"tool_choice":{{"type":"sometimes"}},{m}}}"#), "tool_choice.type"),
        (format!(r#"{{"model":"m","max_tokens":5,"mcp_servers":[],{m}}}"#), "mcp_servers"),
        (format!(r#"{{"model":"m","max_tokens":5,"container":"c",{m}}}"#), "container"),
        (format!(r#"{{"model":"m","max_tokens":5,"service_tier":"priority",{m}}}"#), "service_tier"),
        (format!(r#"{{"model":"m","max_tokens":5,"output_config":{{"format":{{"type":"json_schema"}}}},{m}}}"#), "output_config.format"),
        (format!(r#"{{"model":"m","max_tokens":5,"output_config":{{"effort":"huge"}},{m}}}"#), "output_config.effort"),
        (format!(r#"{{"model":"m","max_tokens":5000,"thinking":{{"type":"enabled"}},{m}}}"#), "thinking.budget_tokens"),
        (format!(r#"{{"model":"m","max_tokens":5000,"thinking":{{"type":"enabled","budget_tokens":100}},{m}}}"#), "thinking.budget_tokens"),
        (format!(r#"{{"model":"m","max_tokens":2000,"thinking":{{"type":"enabled","budget_tokens":2000}},{m}}}"#), "max_tokens"),
        (format!(r#"{{"model":"m","max_tokens":5000,"thinking":{{"type":"sometimes"}},{m}}}"#), "thinking.type"),
        (format!(r#"{{"model":"m","max_tokens":5000,"temperature":0.5,"thinking":{{"type":"enabled","budget_tokens":1024}},{m}}}"#), "temperature"),
        (format!(r#"{{"model":"m","max_tokens":5000,"top_p":0.5,"thinking":{{"type":"enabled","budget_tokens":1024}},{m}}}"#), "top_p"),
        (format!(r#"{{"model":"m","max_tokens":5000,"tools":[{{"name":"f","input_schema":{{}}}}],"tool_choice":{{"type":"any"}},"thinking":{{"type":"enabled","budget_tokens":1024}},{m}}}"#), "tool_choice"),
        (r#"{"model":"m","max_tokens":5,"messages":[{"role":"user","content":[{"type":"image","source":{"type":"url","url":"https://x/y.png"}}]}]}"#.into(), "messages[0].content[0].source.type"),
        (r#"{"model":"m","max_tokens":5,"messages":[{"role":"user","content":[{"type":"image","source":{"type":"base64","media_type":"image/bmp","data":"AAAA"}}]}]}"#.into(), "messages[0].content[0].source.media_type"),
        (r#"{"model":"m","max_tokens":5,"messages":[{"role":"user","content":[{"type":"image","source":{"type":"base64","media_type":"image/png","data":"not base64!"}}]}]}"#.into(), "messages[0].content[0].source.data"),
        (r#"{"model":"m","max_tokens":5,"messages":[{"role":"user","content":[{"type":"image"}]}]}"#.into(), "messages[0].content[0].source"),
        (r#"{"model":"m","max_tokens":5,"messages":[{"role":"user","content":[{"type":"document","source":{"type":"url","url":"https://x/y.pdf"}}]}]}"#.into(), "messages[0].content[0].source"),
        (r#"{"model":"m","max_tokens":5,"messages":[{"role":"user","content":[{"type":"document","source":{"type":"base64","media_type":"application/msword","data":"AAAA"}}]}]}"#.into(), "messages[0].content[0].source"),
        (r#"{"model":"m","max_tokens":5,"messages":[{"role":"user","content":[{"type":"text"}]}]}"#.into(), "messages[0].content[0].text"),
        (r#"{"model":"m","max_tokens":5,"messages":[{"role":"user","content":[{"type":"server_tool_use","id":"x"}]}]}"#.into(), "messages[0].content[0].type"),
        (r#"{"model":"m","max_tokens":5,"messages":[{"role":"user","content":[{"type":"tool_use","id":"a","name":"f","input":{}}]}]}"#.into(), "messages[0].content[0]"),
        (r#"{"model":"m","max_tokens":5,"messages":[{"role":"assistant","content":[{"type":"tool_result","tool_use_id":"a"}]}]}"#.into(), "messages[0].content[0]"),
        (r#"{"model":"m","max_tokens":5,"messages":[{"role":"user","content":[{"type":"thinking","thinking":"x"}]}]}"#.into(), "messages[0].content[0]"),
        (r#"{"model":"m","max_tokens":5,"messages":[{"role":"assistant","content":[{"type":"tool_use","id":"a","name":"f","input":[1]}]}]}"#.into(), "messages[0].content[0].input"),
        (r#"{"model":"m","max_tokens":5,"messages":[{"role":"assistant","content":[{"type":"tool_use","name":"f","input":{}}]}]}"#.into(), "messages[0].content[0].id"),
        (r#"{"model":"m","max_tokens":5,"messages":[{"role":"user","content":[{"type":"tool_result"}]}]}"#.into(), "messages[0].content[0].tool_use_id"),
        (r#"{"model":"m","max_tokens":5,"messages":[{"role":"user","content":[{"type":"tool_result","tool_use_id":"a","content":[{"type":"search_result"}]}]}]}"#.into(), "messages[0].content[0].content[0].type"),
        (r#"{"model":"m","max_tokens":5,"messages":[{"role":"assistant","content":[{"type":"redacted_thinking"}]}]}"#.into(), "messages[0].content[0].data"),
    ];
    let ctx = RequestContext::for_model("us.anthropic.claude-sonnet-4-5-20250929-v1:0");
    for (body, param) in &cases {
        let parsed = basalt::anthropic::parse_request(body.as_bytes(), RequestCaps::default())
            .unwrap_or_else(|e| panic!("{body}: parse failed: {e}"));
        let e = request::translate(&parsed, &ctx)
            .err()
            .unwrap_or_else(|| panic!("{body}: accepted"));
        assert_eq!(e.status(), 400, "{body}: {e}");
        assert_eq!(e.param(), Some(*param), "{body}: {e}");
        let v: Value = serde_json::from_slice(&basalt::anthropic::error_body(&e)).unwrap();
        assert_eq!(v["type"], "error");
        assert_eq!(v["error"]["type"], "invalid_request_error", "{body}");
    }
    // Malformed JSON and wrong types are 400s that name the place.
    for (body, needle) in [
        ("", "empty"),
        ("[1]", "JSON object"),
        (r#"{"messages":"hi"}"#, "messages"),
        (r#"{"max_tokens":"many"}"#, "max_tokens"),
        (
            r#"{"messages":[{"role":"user","content":5}]}"#,
            "messages[0].content",
        ),
    ] {
        let e =
            basalt::anthropic::parse_request(body.as_bytes(), RequestCaps::default()).unwrap_err();
        assert_eq!(e.status(), 400, "{body}");
        assert!(e.message().contains(needle), "{body}: {e}");
    }
}
