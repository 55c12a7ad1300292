//! The OpenAI Responses front-end: golden fixtures both directions, the event stream split at
//! every byte offset, and a named 400 for every bad input.
//!
//! - `tests/fixtures/responses/request/<case>/{request.json, converse.json}` (+ `model.txt`,
//!   `adjusted.json`): Responses request in → Converse out (also checked against the
//!   simulator's Bedrock request rules for the model);
//! - `tests/fixtures/responses/response/<case>/{converse.json, response.json}` (+ `request.json`,
//!   whose echoed fields and `include` apply): Converse answer in → `response` object out;
//! - `tests/fixtures/responses/stream/<case>/{events.json, request.json?, stream.sse}`: the
//!   ConverseStream events (encoded to event-stream bytes here) → the SSE sent.
//!
//! `BASALT_BLESS=1 cargo test --test responses` rewrites the expected files (review the diff!).

// A test fails by panicking: unwrap, expect and panic are its assertions.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use basalt::bedrock::eventstream::{encode_event, encode_exception, Decoder};
use basalt::openai::RequestCaps;
use basalt::translate::frontend::{AnswerMeta, FrontEnd, RequestContext};
use basalt::translate::responses::Responses;
use serde_json::{json, Value};
use std::fs;
use std::path::{Path, PathBuf};

const MODEL: &str = "anthropic.claude-3-5-sonnet-20241022-v2:0";
const DEFAULT_REQUEST: &str = r#"{"model":"m","input":"hi"}"#;

fn root(dir: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/responses")
        .join(dir)
}

fn cases(dir: &str) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = fs::read_dir(root(dir))
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    out.sort();
    assert!(!out.is_empty(), "no fixtures in {dir}");
    out
}

fn bless() -> bool {
    std::env::var_os("BASALT_BLESS").is_some()
}

fn check_json(path: &Path, actual: Value, failures: &mut Vec<String>) {
    if bless() {
        fs::write(path, serde_json::to_string_pretty(&actual).unwrap() + "\n").unwrap();
        return;
    }
    let Ok(text) = fs::read_to_string(path) else {
        failures.push(format!(
            "{}: missing (run with BASALT_BLESS=1)",
            path.display()
        ));
        return;
    };
    let expected: Value = serde_json::from_str(&text).unwrap();
    if expected != actual {
        failures.push(format!(
            "{}:\n  expected {expected}\n  actual   {actual}",
            path.display()
        ));
    }
}

fn request_body(case: &Path) -> Vec<u8> {
    fs::read(case.join("request.json")).unwrap_or_else(|_| DEFAULT_REQUEST.as_bytes().to_vec())
}

fn meta() -> AnswerMeta<'static> {
    AnswerMeta {
        id: "resp_golden",
        created: 1_700_000_000,
        model: MODEL,
    }
}

/// The answer leg's context for a request body (translated for the default model).
fn answer_for(body: &[u8]) -> <Responses as FrontEnd>::Answer {
    let req = Responses::parse(body, RequestCaps::default()).unwrap();
    Responses::translate(&req, &RequestContext::for_model(MODEL))
        .unwrap()
        .answer
}

#[test]
fn requests_translate_to_golden_converse() {
    let mut failures = Vec::new();
    for case in cases("request") {
        let body = fs::read(case.join("request.json")).unwrap();
        let model = fs::read_to_string(case.join("model.txt"))
            .map(|s| s.trim().to_owned())
            .unwrap_or_else(|_| MODEL.to_owned());
        let req = Responses::parse(&body, RequestCaps::default())
            .unwrap_or_else(|e| panic!("{}: {e}", case.display()));
        let out = Responses::translate(&req, &RequestContext::for_model(&model))
            .unwrap_or_else(|e| panic!("{}: {e}", case.display()));
        let actual = serde_json::to_value(&out.converse).unwrap();
        if let Err(e) = basalt::sim::validate::validate_for_model(&model, &actual) {
            failures.push(format!("{}: Bedrock would reject it: {e}", case.display()));
        }
        check_json(&case.join("converse.json"), actual, &mut failures);
        let adjusted = case.join("adjusted.json");
        if !out.adjusted.is_empty() || adjusted.exists() {
            check_json(&adjusted, json!(out.adjusted), &mut failures);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn answers_translate_to_golden_responses() {
    let mut failures = Vec::new();
    for case in cases("response") {
        let answer = answer_for(&request_body(&case));
        let body = fs::read(case.join("converse.json")).unwrap();
        let out = Responses::answer(&body, &answer, &meta())
            .unwrap_or_else(|e| panic!("{}: {e}", case.display()));
        let actual: Value = serde_json::from_slice(&out.body).unwrap();
        check_json(&case.join("response.json"), actual, &mut failures);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// `events.json`: `[[kind, payload], ...]`; kind `!<exceptionType>` is an exception frame.
fn event_stream(case: &Path) -> Vec<u8> {
    let events: Vec<(String, Value)> =
        serde_json::from_str(&fs::read_to_string(case.join("events.json")).unwrap()).unwrap();
    let mut out = Vec::new();
    for (kind, payload) in events {
        let bytes = payload.to_string();
        match kind.strip_prefix('!') {
            Some(exception) => out.extend(encode_exception(exception, bytes.as_bytes())),
            None => out.extend(encode_event(&kind, bytes.as_bytes())),
        }
    }
    out
}

/// Feed the stream cut at `cuts`, then finish.
fn run(answer: &<Responses as FrontEnd>::Answer, stream: &[u8], cuts: &[usize]) -> String {
    let mut d = Decoder::new();
    let mut t = Responses::stream(answer, &meta());
    let mut out = Vec::new();
    let mut from = 0;
    for &cut in cuts.iter().chain(std::iter::once(&stream.len())) {
        d.push(&stream[from..cut]);
        from = cut;
        while let Some(f) = d.next_frame().unwrap() {
            basalt::translate::frontend::StreamOut::on_frame(&mut t, &f, &mut out);
        }
    }
    basalt::translate::frontend::StreamOut::finish(&mut t, &mut out);
    String::from_utf8(out).unwrap()
}

/// The events of an SSE text, checked for framing and numbering.
fn parse_sse(sse: &str) -> Vec<Value> {
    let mut events = Vec::new();
    for (n, chunk) in sse.split_terminator("\n\n").enumerate() {
        let (head, data) = chunk.split_once('\n').unwrap();
        let kind = head.strip_prefix("event: ").unwrap();
        let v: Value = serde_json::from_str(data.strip_prefix("data: ").unwrap()).unwrap();
        assert_eq!(v["type"], kind, "event name and type agree");
        assert_eq!(v["sequence_number"], n as u64, "numbered in order");
        events.push(v);
    }
    events
}

#[test]
fn streams_translate_to_golden_sse_at_every_split() {
    let mut failures = Vec::new();
    for case in cases("stream") {
        let answer = answer_for(&request_body(&case));
        let stream = event_stream(&case);
        let whole = run(&answer, &stream, &[]);
        parse_sse(&whole);
        for cut in 1..stream.len() {
            assert_eq!(
                run(&answer, &stream, &[cut]),
                whole,
                "{} cut at {cut}",
                case.display()
            );
        }
        // Byte by byte, too.
        let every: Vec<usize> = (1..stream.len()).collect();
        assert_eq!(run(&answer, &stream, &every), whole, "{}", case.display());
        let path = case.join("stream.sse");
        if bless() {
            fs::write(&path, &whole).unwrap();
        } else if fs::read_to_string(&path).ok().as_deref() != Some(whole.as_str()) {
            failures.push(format!("{}: differs:\n{whole}", path.display()));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The streamed `response.completed` carries the same output and usage as the JSON answer.
#[test]
fn stream_and_json_answers_agree() {
    let case = root("stream").join("tools_reasoning");
    let answer = answer_for(&request_body(&case));
    let events = parse_sse(&run(&answer, &event_stream(&case), &[]));
    let done = events.last().unwrap();
    assert_eq!(done["type"], "response.completed");
    let json_case = root("response").join("tools_reasoning");
    let body = fs::read(json_case.join("converse.json")).unwrap();
    let answer = answer_for(&request_body(&json_case));
    let out = Responses::answer(&body, &answer, &meta()).unwrap();
    let v: Value = serde_json::from_slice(&out.body).unwrap();
    assert_eq!(done["response"]["output"], v["output"]);
    assert_eq!(done["response"]["usage"], v["usage"]);
    assert_eq!(done["response"]["status"], v["status"]);
}

/// A reasoning item from an answer, sent back as input, replays as the same signed reasoning.
#[test]
fn reasoning_round_trips_through_encrypted_content() {
    let case = root("response").join("tools_reasoning");
    let answer = answer_for(&request_body(&case));
    let body = fs::read(case.join("converse.json")).unwrap();
    let out = Responses::answer(&body, &answer, &meta()).unwrap();
    let v: Value = serde_json::from_slice(&out.body).unwrap();
    let mut input = vec![json!({"role": "user", "content": "weather?"})];
    input.extend(v["output"].as_array().unwrap().iter().cloned());
    input.push(json!({"type": "function_call_output", "call_id": "tooluse_1", "output": "sunny"}));
    let next = json!({"model": "m", "input": input,
        "tools": [{"type": "function", "name": "get_weather", "parameters": {"type": "object"}}]});
    let next = next.to_string();
    let req = Responses::parse(next.as_bytes(), RequestCaps::default()).unwrap();
    let model = "anthropic.claude-sonnet-4-20250514-v1:0";
    let t = Responses::translate(&req, &RequestContext::for_model(model)).unwrap();
    let converse = serde_json::to_value(&t.converse).unwrap();
    let original: Value = serde_json::from_slice(&body).unwrap();
    let sent = &converse["messages"][1]["content"];
    assert_eq!(
        sent[0]["reasoningContent"]["reasoningText"],
        original["output"]["message"]["content"][0]["reasoningContent"]["reasoningText"]
    );
    assert_eq!(sent[2]["toolUse"]["toolUseId"], "tooluse_1");
    assert_eq!(
        converse["messages"][2]["content"][0]["toolResult"]["toolUseId"],
        "tooluse_1"
    );
}

/// (status, param, message) of the error a body gets.
fn error_of(body: &str) -> (u16, Option<String>, String) {
    let e = match Responses::parse(body.as_bytes(), RequestCaps::default()) {
        Err(e) => e,
        Ok(req) => match Responses::translate(&req, &RequestContext::for_model(MODEL)) {
            Ok(_) => panic!("accepted: {body}"),
            Err(e) => e,
        },
    };
    (e.status(), e.param().map(str::to_owned), e.message())
}

/// Every bad input gets a 400 that names what is wrong.
#[test]
fn bad_inputs_are_named_400s() {
    let cases: &[(&str, Option<&str>, &str)] = &[
        (r#"{"model":"m"}"#, Some("input"), "`input` is required"),
        (
            r#"{"model":"m","input":[]}"#,
            Some("input"),
            "at least one message",
        ),
        (
            r#"{"model":"m","input":"  "}"#,
            Some("input"),
            "at least one message",
        ),
        (r#"{"model":"m","input":42}"#, None, "input: invalid type"),
        (r#"[1]"#, None, "must be a JSON object"),
        (
            r#"{"model":"m","input":"hi","store":true}"#,
            Some("store"),
            "basalt is stateless",
        ),
        (
            r#"{"model":"m","input":"hi","previous_response_id":"resp_1"}"#,
            Some("previous_response_id"),
            "basalt is stateless",
        ),
        (
            r#"{"model":"m","input":"hi","conversation":"conv_1"}"#,
            Some("conversation"),
            "basalt is stateless",
        ),
        (
            r#"{"model":"m","input":"hi","prompt":{"id":"pmpt_1"}}"#,
            Some("prompt"),
            "basalt is stateless",
        ),
        (
            r#"{"model":"m","input":"hi","background":true}"#,
            Some("background"),
            "basalt is stateless",
        ),
        (
            r#"{"model":"m","input":[{"type":"item_reference","id":"msg_1"}]}"#,
            Some("input[0].type"),
            "basalt is stateless",
        ),
        (
            r#"{"model":"m","input":"hi","tools":[{"type":"function","name":"f"},{"type":"web_search"},{"type":"code_interpreter","container":{"type":"auto"}}]}"#,
            Some("tools[1].type"),
            "`web_search`, `code_interpreter` is not available on Bedrock",
        ),
        (
            r#"{"model":"m","input":"hi","tools":[{"type":"file_search","vector_store_ids":["v"]}]}"#,
            Some("tools[0].type"),
            "`file_search`",
        ),
        (
            r#"{"model":"m","input":"hi","tools":[{"type":"computer_use_preview"}]}"#,
            Some("tools[0].type"),
            "`computer_use_preview`",
        ),
        (
            r#"{"model":"m","input":"hi","tools":[{"type":"image_generation"}]}"#,
            Some("tools[0].type"),
            "`image_generation`",
        ),
        (
            r#"{"model":"m","input":"hi","tools":[{"type":"mcp","server_label":"x"}]}"#,
            Some("tools[0].type"),
            "`mcp`",
        ),
        (
            r#"{"model":"m","input":"hi","tools":[{"type":"function"}]}"#,
            Some("tools[0].name"),
            "non-empty `name`",
        ),
        (
            r#"{"model":"m","input":"hi","tools":[{"name":"f"}]}"#,
            None,
            "tools: [0]: missing field `type`",
        ),
        (
            r#"{"model":"m","input":"hi","tool_choice":"required"}"#,
            Some("tool_choice"),
            "requires `tools`",
        ),
        (
            r#"{"model":"m","input":"hi","tools":[{"type":"function","name":"f"}],"tool_choice":"sometimes"}"#,
            Some("tool_choice"),
            "unknown `tool_choice`",
        ),
        (
            r#"{"model":"m","input":"hi","tools":[{"type":"function","name":"f"}],"tool_choice":{"type":"function","name":"g"}}"#,
            Some("tool_choice.name"),
            "not among `tools`",
        ),
        (
            r#"{"model":"m","input":"hi","tools":[{"type":"function","name":"f"}],"tool_choice":{"type":"web_search_preview"}}"#,
            Some("tool_choice.type"),
            "not available on Bedrock",
        ),
        (
            r#"{"model":"m","input":"hi","tools":[{"type":"function","name":"f"}],"tool_choice":{"type":"allowed_tools","mode":"maybe","tools":[]}}"#,
            Some("tool_choice.mode"),
            "allowed_tools mode",
        ),
        (
            r#"{"model":"m","input":"hi","max_output_tokens":0}"#,
            Some("max_output_tokens"),
            "at least 1",
        ),
        (
            r#"{"model":"m","input":"hi","temperature":3}"#,
            Some("temperature"),
            "between 0 and 2",
        ),
        (
            r#"{"model":"m","input":"hi","top_p":1.5}"#,
            Some("top_p"),
            "between 0 and 1",
        ),
        (
            r#"{"model":"m","input":"hi","reasoning":{"effort":"huge"}}"#,
            Some("reasoning.effort"),
            "`reasoning.effort` must be",
        ),
        (
            r#"{"model":"m","input":"hi","reasoning":{"summary":"long"}}"#,
            Some("reasoning.summary"),
            "auto, concise, detailed",
        ),
        (
            r#"{"model":"m","input":"hi","text":{"format":{"type":"json_schema","name":"x"}}}"#,
            Some("text.format.schema"),
            "is required",
        ),
        (
            r#"{"model":"m","input":"hi","text":{"format":{"type":"xml"}}}"#,
            Some("text.format.type"),
            "unknown `text.format.type`",
        ),
        (
            r#"{"model":"m","input":"hi","text":{"verbosity":"high"}}"#,
            Some("text.verbosity"),
            "only medium",
        ),
        (
            r#"{"model":"m","input":"hi","top_logprobs":2}"#,
            Some("top_logprobs"),
            "log probabilities",
        ),
        (
            r#"{"model":"m","input":"hi","include":["message.output_text.logprobs"]}"#,
            Some("include"),
            "log probabilities",
        ),
        (
            r#"{"model":"m","input":"hi","max_tool_calls":3}"#,
            Some("max_tool_calls"),
            "cannot bound",
        ),
        (
            r#"{"model":"m","input":"hi","truncation":"sometimes"}"#,
            Some("truncation"),
            "auto or disabled",
        ),
        (
            r#"{"model":"m","input":"hi","service_tier":"scale"}"#,
            Some("service_tier"),
            "not available on Bedrock",
        ),
        (
            r#"{"model":"m","input":"hi","metadata":{"bad key!":"v"}}"#,
            Some("metadata"),
            "not accepted by Bedrock",
        ),
        (
            r#"{"model":"m","input":[{"content":"hi"}]}"#,
            Some("input[0].role"),
            "needs `role`",
        ),
        (
            r#"{"model":"m","input":[{"role":"tool","content":"hi"}]}"#,
            Some("input[0].role"),
            "unknown role `tool`",
        ),
        (
            r#"{"model":"m","input":[{"type":"web_search_call","id":"ws_1"}]}"#,
            Some("input[0].type"),
            "`web_search_call` is not supported",
        ),
        (
            r#"{"model":"m","input":[{"type":"function_call","name":"f","arguments":"{}"}]}"#,
            Some("input[0].call_id"),
            "is required",
        ),
        (
            r#"{"model":"m","input":[{"type":"function_call","call_id":"c","arguments":"{}"}]}"#,
            Some("input[0].name"),
            "is required",
        ),
        (
            r#"{"model":"m","input":[{"type":"function_call","call_id":"c","name":"f","arguments":"[1]"}]}"#,
            Some("input[0].arguments"),
            "JSON object",
        ),
        (
            r#"{"model":"m","input":[{"type":"function_call_output","output":"x"}]}"#,
            Some("input[0].call_id"),
            "is required",
        ),
        (
            r#"{"model":"m","input":[{"type":"function_call_output","call_id":"c"}]}"#,
            Some("input[0].output"),
            "is required",
        ),
        (
            r#"{"model":"m","input":[{"type":"function_call_output","call_id":"c","output":[{"type":"input_image","image_url":"data:image/png;base64,AA=="}]}]}"#,
            Some("input[0].output[0]"),
            "only text parts",
        ),
        (
            r#"{"model":"m","input":[{"type":"reasoning","summary":[],"encrypted_content":"gAAAA-openai"}]}"#,
            Some("input[0].encrypted_content"),
            "not produced by basalt",
        ),
        (
            r#"{"model":"m","input":[{"role":"user","content":[{"type":"input_image","image_url":"https://x/y.png"}]}]}"#,
            Some("input[0].content[0]"),
            "remote image URLs",
        ),
        (
            r#"{"model":"m","input":[{"role":"user","content":[{"type":"input_image","file_id":"file_1"}]}]}"#,
            Some("input[0].content[0]"),
            "`file_id` and `file_url` are not supported",
        ),
        (
            r#"{"model":"m","input":[{"role":"user","content":[{"type":"input_image"}]}]}"#,
            Some("input[0].content[0]"),
            "needs `image_url`",
        ),
        (
            r#"{"model":"m","input":[{"role":"user","content":[{"type":"input_file","file_url":"https://x/a.pdf"}]}]}"#,
            Some("input[0].content[0]"),
            "not supported",
        ),
        (
            r#"{"model":"m","input":[{"role":"user","content":[{"type":"input_file"}]}]}"#,
            Some("input[0].content[0]"),
            "needs `file_data`",
        ),
        (
            r#"{"model":"m","input":[{"role":"user","content":[{"type":"input_file","filename":"a.exe","file_data":"AAAA"}]}]}"#,
            Some("input[0].content[0]"),
            "unsupported document type",
        ),
        (
            r#"{"model":"m","input":[{"role":"user","content":[{"type":"input_audio"}]}]}"#,
            Some("input[0].content[0]"),
            "`input_audio` is not supported",
        ),
        (
            r#"{"model":"m","input":[{"role":"system","content":[{"type":"input_image","image_url":"data:image/png;base64,AA=="}]}]}"#,
            Some("input[0].content[0]"),
            "only text parts",
        ),
    ];
    for (body, param, needle) in cases {
        let (status, p, message) = error_of(body);
        assert_eq!(status, 400, "{body}: {message}");
        assert_eq!(p.as_deref(), *param, "{body}: {message}");
        assert!(message.contains(needle), "{body}: {message}");
    }
}

/// A request past the listener's caps is refused before it is parsed, naming `input`.
#[test]
fn caps_count_input_items() {
    let caps = RequestCaps::default();
    let items = vec![r#"{"role":"user","content":"a"}"#; 10_001].join(",");
    let body = format!(r#"{{"model":"m","input":[{items}]}}"#);
    let e = Responses::parse(body.as_bytes(), caps).unwrap_err();
    assert_eq!(e.param(), Some("input"));
    assert!(e.message().contains("maxMessages"), "{}", e.message());
}

/// Omitting `store` (OpenAI's default is true) is served: the answer says `store: false`.
#[test]
fn omitted_store_is_served_statelessly() {
    let answer = answer_for(br#"{"model":"m","input":"hi","store":false}"#);
    let body = json!({"output": {"message": {"role": "assistant", "content": [{"text": "hello"}]}},
        "stopReason": "end_turn", "usage": {"inputTokens": 1, "outputTokens": 1, "totalTokens": 2}});
    let out = Responses::answer(body.to_string().as_bytes(), &answer, &meta()).unwrap();
    let v: Value = serde_json::from_slice(&out.body).unwrap();
    assert_eq!(v["store"], false);
    assert_eq!(v["output"][0]["content"][0]["text"], "hello");
}
