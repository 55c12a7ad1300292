//! Golden fixtures for the pure translation, both directions, compared as parsed JSON:
//! `tests/fixtures/request/<case>/{openai.json, converse.json}` (OpenAI in → Converse out) and
//! `tests/fixtures/response/<case>/{converse.json, openai.json}` (Converse in → OpenAI out).
//! A request case may add `model.txt` (the Bedrock model id), `policy.json` (a promptCaching
//! policy) and `adjusted.json` (the client parameters the gateway changed).
//! `BASALT_BLESS=1 cargo test --test golden` rewrites the expected files (review the diff!).

// A test fails by panicking: unwrap, expect and panic are its assertions.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use basalt::translate::caching::CachePolicy;
use basalt::translate::chat::{request, response};
use basalt::translate::frontend::RequestContext;
use basalt::translate::names::ToolNames;
use serde_json::Value;
use std::fs;
use std::path::{Path, PathBuf};

fn cases(dir: &str) -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(dir);
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

fn check(expected_path: &Path, actual: Value, failures: &mut Vec<String>) {
    if std::env::var_os("BASALT_BLESS").is_some() {
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

/// Translation context per case: `model.txt` holds the Bedrock model id (default below).
fn model_for(case: &Path) -> String {
    fs::read_to_string(case.join("model.txt"))
        .map(|s| s.trim().to_owned())
        .unwrap_or_else(|_| "anthropic.claude-3-5-sonnet-20241022-v2:0".to_owned())
}

/// `policy.json` holds the route's promptCaching policy (`{cacheSystem, cacheMessages,
/// cacheTools, minTokens}`), absent = no policy.
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

#[test]
fn requests_translate_to_golden_converse() {
    let mut failures = Vec::new();
    for case in cases("request") {
        let body = fs::read(case.join("openai.json")).unwrap();
        let parsed = basalt::openai::parse_chat_request(&body)
            .unwrap_or_else(|e| panic!("{}: {e}", case.display()));
        let model = model_for(&case);
        let mut ctx = RequestContext::for_model(&model);
        ctx.caching = caching_for(&case);
        let out =
            request::translate(&parsed, &ctx).unwrap_or_else(|e| panic!("{}: {e}", case.display()));
        let actual = serde_json::to_value(&out.converse).unwrap();
        // The gateway's fast writer produces exactly serde_json's bytes.
        let mut fast = Vec::new();
        basalt::json::to_writer(&mut fast, &out.converse).unwrap();
        if fast != serde_json::to_vec(&out.converse).unwrap() {
            failures.push(format!(
                "{}: basalt::json differs from serde_json",
                case.display()
            ));
        }
        // Every translation must also pass Bedrock's request-shape rules for that model.
        if let Err(e) = basalt::sim::validate::validate_for_model(&model, &actual) {
            failures.push(format!("{}: Bedrock would reject it: {e}", case.display()));
        }
        check(&case.join("converse.json"), actual, &mut failures);
        let adjusted = case.join("adjusted.json");
        if !out.adjusted.is_empty() || adjusted.exists() {
            check(&adjusted, serde_json::json!(out.adjusted), &mut failures);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn responses_translate_to_golden_openai() {
    let mut failures = Vec::new();
    for case in cases("response") {
        let body = fs::read(case.join("converse.json")).unwrap();
        let names = ToolNames::default();
        let ctx = response::ResponseContext {
            id: "chatcmpl-golden",
            created: 1_700_000_000,
            model: "anthropic.claude-3-5-sonnet-20241022-v2:0",
            tool_names: &names,
        };
        let out =
            response::translate(&body, &ctx).unwrap_or_else(|e| panic!("{}: {e}", case.display()));
        let actual: Value = serde_json::from_slice(&out.body).unwrap();
        check(&case.join("openai.json"), actual, &mut failures);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Tool names that Bedrock cannot take are mapped on the way out and restored on the way back.
#[test]
fn renamed_tools_round_trip() {
    let body = br#"{"model":"m","messages":[{"role":"user","content":"hi"}],
        "tools":[{"type":"function","function":{"name":"weather.get","parameters":{"type":"object"}}}]}"#;
    let parsed = basalt::openai::parse_chat_request(body).unwrap();
    let out = request::translate(&parsed, &RequestContext::for_model("m")).unwrap();
    let converse = serde_json::to_value(&out.converse).unwrap();
    let bedrock_name = converse["toolConfig"]["tools"][0]["toolSpec"]["name"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(bedrock_name, "weather.get");
    assert!(bedrock_name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-'));
    let answer = serde_json::json!({
        "output": {"message": {"role": "assistant", "content": [
            {"toolUse": {"toolUseId": "t1", "name": bedrock_name, "input": {"city": "Paris"}}}]}},
        "stopReason": "tool_use", "usage": {"inputTokens": 1, "outputTokens": 1, "totalTokens": 2}});
    let ctx = response::ResponseContext {
        id: "x",
        created: 0,
        model: "m",
        tool_names: &out.answer.tool_names,
    };
    let resp = response::translate(answer.to_string().as_bytes(), &ctx).unwrap();
    let v: Value = serde_json::from_slice(&resp.body).unwrap();
    assert_eq!(
        v["choices"][0]["message"]["tool_calls"][0]["function"]["name"],
        "weather.get"
    );
    assert_eq!(
        v["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"],
        r#"{"city":"Paris"}"#
    );
    assert_eq!(v["choices"][0]["finish_reason"], "tool_calls");
}

/// Every bad input gets a 400 that names what is wrong.
#[test]
fn bad_inputs_are_named_400s() {
    let cases: &[(&str, Option<&str>, &str)] = &[
        (
            r#"{"model":"m"}"#,
            Some("messages"),
            "`messages` is required",
        ),
        (
            r#"{"model":"m","messages":[]}"#,
            Some("messages"),
            "at least one message",
        ),
        (
            r#"{"model":"m","messages":[{"role":"system","content":"only system"}]}"#,
            Some("messages"),
            "at least one user or assistant",
        ),
        (
            r#"{"model":"m","messages":"hi"}"#,
            None,
            "messages: invalid type",
        ),
        (
            r#"{"model":"m","messages":[{"role":"robot","content":"x"}]}"#,
            None,
            "unknown variant `robot`",
        ),
        (
            r#"{"model":"m","messages":[{"content":"x"}]}"#,
            None,
            "missing field `role`",
        ),
        (
            r#"{"model":"m","messages":[{"role":"user","content":"x"},{"role":"tool","content":"r"}]}"#,
            None,
            "missing field `tool_call_id`",
        ),
        (
            r#"{"model":"m","messages":[{"role":"function","content":"r"}]}"#,
            None,
            "missing field `name`",
        ),
        (
            r#"{"model":"m","messages":[{"role":"assistant","tool_calls":[{"type":"function"}]}]}"#,
            None,
            "missing field `id`",
        ),
        (
            r#"{"model":"m","messages":[{"role":"user","content":5}]}"#,
            None,
            "a string, an array of content parts, or null",
        ),
        (
            r#"{"model":"m","messages":[{"role":"user","content":"x"}],"n":2}"#,
            Some("n"),
            "`n` = 2",
        ),
        (
            r#"{"model":"m","messages":[{"role":"user","content":"x"}],"logprobs":true}"#,
            Some("logprobs"),
            "log probabilities",
        ),
        (
            r#"{"model":"m","messages":[{"role":"user","content":"x"}],"top_logprobs":2}"#,
            Some("top_logprobs"),
            "log probabilities",
        ),
        (
            r#"{"model":"m","messages":[{"role":"user","content":"x"}],"logit_bias":{"50256":-100}}"#,
            Some("logit_bias"),
            "logit_bias",
        ),
        (
            r#"{"model":"m","messages":[{"role":"user","content":"x"}],"frequency_penalty":0.5}"#,
            Some("frequency_penalty"),
            "only 0",
        ),
        (
            r#"{"model":"m","messages":[{"role":"user","content":"x"}],"presence_penalty":-1}"#,
            Some("presence_penalty"),
            "only 0",
        ),
        (
            r#"{"model":"m","messages":[{"role":"user","content":"x"}],"audio":{"voice":"alloy","format":"mp3"}}"#,
            Some("audio"),
            "audio",
        ),
        (
            r#"{"model":"m","messages":[{"role":"user","content":"x"}],"modalities":["text","audio"]}"#,
            Some("modalities"),
            "audio",
        ),
        (
            r#"{"model":"m","messages":[{"role":"user","content":"x"}],"prediction":{"type":"content","content":"x"}}"#,
            Some("prediction"),
            "prediction",
        ),
        (
            r#"{"model":"m","messages":[{"role":"user","content":"x"}],"temperature":2.5}"#,
            Some("temperature"),
            "between 0 and 2",
        ),
        (
            r#"{"model":"m","messages":[{"role":"user","content":"x"}],"top_p":1.5}"#,
            Some("top_p"),
            "between 0 and 1",
        ),
        (
            r#"{"model":"m","messages":[{"role":"user","content":"x"}],"max_tokens":0}"#,
            Some("max_tokens"),
            "at least 1",
        ),
        (
            r#"{"model":"m","messages":[{"role":"user","content":"x"}],"max_completion_tokens":-5}"#,
            Some("max_completion_tokens"),
            "at least 1",
        ),
        (
            r#"{"model":"m","messages":[{"role":"user","content":"x"}],"service_tier":"scale"}"#,
            Some("service_tier"),
            "not available",
        ),
        (
            r#"{"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"https://example.com/cat.png"}}]}]}"#,
            Some("messages[0].content[0]"),
            "remote image URLs are not supported",
        ),
        (
            r#"{"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/bmp;base64,AAAA"}}]}]}"#,
            Some("messages[0].content[0]"),
            "image type `image/bmp`",
        ),
        (
            r#"{"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/png;base64,@@@"}}]}]}"#,
            Some("messages[0].content[0]"),
            "not valid base64",
        ),
        (
            r#"{"model":"m","messages":[{"role":"user","content":[{"type":"file","file":{"file_id":"file-abc"}}]}]}"#,
            Some("messages[0].content[0]"),
            "`file_id` is not supported",
        ),
        (
            r#"{"model":"m","messages":[{"role":"user","content":[{"type":"video","video":{}}]}]}"#,
            None,
            "unknown variant `video`",
        ),
        (
            r#"{"model":"m","messages":[{"role":"user","content":"x"}],"tools":[{"type":"custom","custom":{"name":"x"}}]}"#,
            Some("tools[0].type"),
            "function tools only",
        ),
        (
            r#"{"model":"m","messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"a"}}],"tool_choice":{"type":"function","function":{"name":"b"}}}"#,
            Some("tool_choice"),
            "not among `tools`",
        ),
        (
            r#"{"model":"m","messages":[{"role":"user","content":"x"}],"tool_choice":"required"}"#,
            Some("tool_choice"),
            "requires `tools`",
        ),
        (
            r#"{"model":"m","messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"a"}}],"tool_choice":"sometimes"}"#,
            Some("tool_choice"),
            "unknown `tool_choice` value",
        ),
        (
            r#"{"model":"m","messages":[{"role":"user","content":"x"},{"role":"assistant","tool_calls":[{"id":"c1","type":"function","function":{"name":"a","arguments":"{not json"}}]}],"tools":[{"type":"function","function":{"name":"a"}}]}"#,
            Some("messages[1].tool_calls[0].function.arguments"),
            "must be a JSON object",
        ),
        (
            r#"{"model":"m","messages":[{"role":"user","content":"x"},{"role":"assistant","tool_calls":[{"id":"c1","type":"function","function":{"name":"a","arguments":"[1,2]"}}]}],"tools":[{"type":"function","function":{"name":"a"}}]}"#,
            Some("messages[1].tool_calls[0].function.arguments"),
            "must be a JSON object",
        ),
        (
            r#"{"model":"m","messages":[{"role":"system","content":[{"type":"image_url","image_url":{"url":"data:image/png;base64,AAAA"}}]},{"role":"user","content":"x"}]}"#,
            Some("messages[0].content[0]"),
            "only text parts",
        ),
        (
            r#"{"model":"m","messages":[{"role":"user","content":"x"}],"metadata":{"k":"#,
            None,
            "EOF",
        ),
        (
            r#"{"model":"m","messages":[{"role":"user","content":"x"}]} trailing"#,
            None,
            "trailing characters",
        ),
        (
            r#"[{"role":"user","content":"x"}]"#,
            None,
            "must be a JSON object",
        ),
        ("  ", None, "empty"),
        (
            r#"{"model":"m","messages":[{"role":"user","content":"x"}],"reasoning_effort":"extreme"}"#,
            Some("reasoning_effort"),
            "must be one of none, minimal, low, medium, high, xhigh, max",
        ),
    ];
    for (body, param, needle) in cases {
        let err = match basalt::openai::parse_chat_request(body.as_bytes()) {
            Err(e) => e,
            Ok(parsed) => match request::translate(&parsed, &RequestContext::for_model("m")) {
                Err(e) => e,
                Ok(_) => panic!("accepted: {body}"),
            },
        };
        assert_eq!(err.status(), 400, "{body}: {err}");
        assert_eq!(err.param(), *param, "{body}: {err}");
        assert!(
            err.message().contains(needle),
            "{body}: `{}` lacks `{needle}`",
            err.message()
        );
    }
}

/// Whatever the mix of client hints and policy, a request never carries more than 4 cache
/// points, and a model family without prompt caching gets none.
#[test]
fn cache_points_are_capped_and_gated_by_family() {
    use basalt::translate::caching;
    let policy = CachePolicy {
        system: true,
        messages: true,
        tools: true,
        min_tokens: 1,
    };
    for hints in 0..8 {
        let parts: Vec<Value> = (0..hints)
            .map(|i| serde_json::json!({"type": "text", "text": format!("part {i}"), "cache_control": {"type": "ephemeral"}}))
            .collect();
        let body = serde_json::json!({
            "model": "m",
            "messages": [
                {"role": "system", "content": [{"type": "text", "text": "sys", "cache_control": {"type": "ephemeral"}}]},
                {"role": "user", "content": "first"},
                {"role": "assistant", "content": "ok"},
                {"role": "user", "content": if parts.is_empty() { Value::from("q") } else { Value::from(parts) }},
            ],
            "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}],
        })
        .to_string();
        let parsed = basalt::openai::parse_chat_request(body.as_bytes()).unwrap();
        for (model, max) in [
            ("anthropic.claude-sonnet-4-20250514-v1:0", 4),
            ("amazon.nova-lite-v1:0", 4),
            ("meta.llama3-70b-instruct-v1:0", 0),
            ("anthropic.claude-3-haiku-20240307-v1:0", 0),
        ] {
            let mut ctx = RequestContext::for_model(model);
            ctx.caching = Some(policy);
            let out = request::translate(&parsed, &ctx).unwrap();
            let n = caching::count(&out.converse);
            assert!(n <= max, "{model}, {hints} hints: {n} points");
            if max > 0 {
                assert!(
                    n >= 3.min(max),
                    "{model}, {hints} hints: the policy placed only {n}"
                );
            }
            let v = serde_json::to_value(&out.converse).unwrap();
            basalt::sim::validate::validate_for_model(model, &v)
                .unwrap_or_else(|e| panic!("{model}, {hints} hints: {e}"));
        }
    }
}
