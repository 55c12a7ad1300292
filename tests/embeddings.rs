//! The embeddings translation, pure: golden cases in `tests/fixtures/embeddings/<case>/case.json`
//! (`model` called, OpenAI `request` → the InvokeModel bodies `invoke`, Bedrock `answers` →
//! the OpenAI list `expected`), every bad input, and base64 exactness.

// A test fails by panicking: unwrap, expect and panic are its assertions.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use basalt::openai::embeddings::{parse_embeddings_request, Vector};
use basalt::translate::embeddings::{self, CallAnswer, Encoding, Family, MAX_INPUTS};
use base64::Engine;
use serde_json::{json, Value};
use std::fs;
use std::path::Path;

fn cases() -> Vec<(String, Value)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/embeddings");
    let mut out: Vec<(String, Value)> = fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .map(|p| {
            let text = fs::read_to_string(p.join("case.json")).unwrap();
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, serde_json::from_str(&text).unwrap())
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    assert!(out.len() >= 5, "embeddings fixtures missing");
    out
}

#[test]
fn golden_cases() {
    for (name, case) in cases() {
        let model = case["model"].as_str().unwrap();
        let body = serde_json::to_vec(&case["request"]).unwrap();
        let req = parse_embeddings_request(&body).unwrap();
        let plan = embeddings::plan(&req, model).unwrap_or_else(|e| panic!("{name}: {e:?}"));
        let sent: Vec<Value> = plan
            .calls
            .iter()
            .map(|c| serde_json::from_slice(&c.body).unwrap())
            .collect();
        assert_eq!(
            Value::Array(sent),
            case["invoke"],
            "{name}: InvokeModel bodies"
        );
        let bodies: Vec<Vec<u8>> = case["answers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| serde_json::to_vec(&a["body"]).unwrap())
            .collect();
        let answers: Vec<CallAnswer> = case["answers"]
            .as_array()
            .unwrap()
            .iter()
            .zip(&bodies)
            .map(|(a, body)| CallAnswer {
                body,
                input_tokens: a["header_tokens"].as_u64(),
            })
            .collect();
        let answered = embeddings::assemble(&plan, model, &answers).unwrap();
        let got: Value = serde_json::from_slice(&answered.body).unwrap();
        assert_eq!(got, case["expected"], "{name}: OpenAI answer");
        assert_eq!(
            answered.input_tokens,
            case["expected"]["usage"]["prompt_tokens"].as_u64().unwrap()
        );
    }
}

/// Plan `request` for `model` and return the error's status, param and message.
fn refused(model: &str, request: Value) -> (u16, Option<String>, String) {
    let body = serde_json::to_vec(&request).unwrap();
    let err = match parse_embeddings_request(&body) {
        Err(e) => e,
        Ok(req) => match embeddings::plan(&req, model) {
            Err(e) => e,
            Ok(_) => panic!("{model} {request} was accepted"),
        },
    };
    (err.status(), err.param().map(str::to_owned), err.message())
}

#[test]
fn every_bad_input_is_a_400_naming_the_field() {
    let titan = "amazon.titan-embed-text-v2:0";
    let many: Vec<String> = (0..=MAX_INPUTS).map(|i| i.to_string()).collect();
    for (model, request, param, needle) in [
        (titan, json!({"input": ""}), "input", "empty string"),
        (titan, json!({"input": []}), "input", "empty array"),
        (
            titan,
            json!({"input": ["a", ""]}),
            "input",
            "input[1] is an empty string",
        ),
        (titan, json!({"input": [1, 2, 3]}), "input", "token ids"),
        (
            titan,
            json!({"input": ["a", [1, 2]]}),
            "input",
            "input[1] is token ids",
        ),
        (titan, json!({"input": many}), "input", "at most 2048"),
        (
            titan,
            json!({"input": "a", "dimensions": 768}),
            "dimensions",
            "256, 512, 1024",
        ),
        (
            titan,
            json!({"input": "a", "encoding_format": "int8"}),
            "encoding_format",
            "int8",
        ),
        (
            titan,
            json!({"input": "a", "input_type": "search_query"}),
            "input_type",
            "no input_type",
        ),
        (
            "cohere.embed-english-v3",
            json!({"input": "a", "dimensions": 256}),
            "dimensions",
            "use one of 1024",
        ),
        (
            "cohere.embed-english-v3",
            json!({"input": "a", "input_type": "image"}),
            "input_type",
            "image",
        ),
        (
            "cohere.embed-english-v3",
            json!({"input": "a", "normalize": true}),
            "normalize",
            "Titan only",
        ),
        (
            "cohere.embed-v4:0",
            json!({"input": "a", "dimensions": 3072}),
            "dimensions",
            "1536",
        ),
        (
            "amazon.nova-2-multimodal-embeddings-v1:0",
            json!({"input": "a", "dimensions": 512}),
            "dimensions",
            "3072",
        ),
        (
            "amazon.nova-micro-v1:0",
            json!({"input": "a"}),
            "model",
            "amazon.nova-micro-v1:0",
        ),
        (
            "arn:aws:bedrock:us-east-1:1:application-inference-profile/x",
            json!({"input": "a"}),
            "model",
            "not a supported embeddings model",
        ),
    ] {
        let (status, got_param, message) = refused(model, request.clone());
        assert_eq!(status, 400, "{model} {request}: {message}");
        assert_eq!(
            got_param.as_deref(),
            Some(param),
            "{model} {request}: {message}"
        );
        assert!(message.contains(needle), "{model} {request}: {message}");
    }
    for bad in [
        json!({"input": 3}),
        json!({"input": [true]}),
        json!({"input": null}),
        json!({}),
    ] {
        let (status, _, message) = refused(titan, bad.clone());
        assert_eq!(status, 400, "{bad}: {message}");
        assert!(message.contains("input"), "{bad}: {message}");
    }
}

#[test]
fn families_are_detected_through_profiles_and_arns() {
    for (id, family) in [
        ("amazon.titan-embed-text-v2:0", Some(Family::TitanV2)),
        ("us.amazon.titan-embed-text-v2:0", Some(Family::TitanV2)),
        ("cohere.embed-multilingual-v3", Some(Family::CohereV3)),
        ("global.cohere.embed-v4:0", Some(Family::CohereV4)),
        (
            "arn:aws:bedrock:us-east-1::foundation-model/cohere.embed-v4:0",
            Some(Family::CohereV4),
        ),
        (
            "amazon.nova-2-multimodal-embeddings-v1:0",
            Some(Family::Nova),
        ),
        ("amazon.titan-embed-text-v1", None),
        ("anthropic.claude-sonnet-4-5-20250929-v1:0", None),
    ] {
        assert_eq!(Family::detect(id), family, "{id}");
    }
}

#[test]
fn a_call_is_rewritten_for_another_model_of_its_family_only() {
    let body = br#"{"input":["a","b"]}"#;
    let req = parse_embeddings_request(body).unwrap();
    let plan = embeddings::plan(&req, "amazon.titan-embed-text-v2:0").unwrap();
    assert_eq!(plan.calls.len(), 2);
    let again = plan.body_for(1, "eu.amazon.titan-embed-text-v2:0").unwrap();
    assert_eq!(again, plan.calls[1].body);
    let e = plan.body_for(1, "cohere.embed-v4:0").unwrap_err();
    assert_eq!(e.status(), 400);
    assert!(e.message().contains("one family"), "{}", e.message());
}

#[test]
fn unreadable_or_short_answers_are_502() {
    let req = parse_embeddings_request(br#"{"input":["a","b"]}"#).unwrap();
    let plan = embeddings::plan(&req, "cohere.embed-v4:0").unwrap();
    for body in [
        &br#"{"embeddings":{"float":[[1.0]]}}"#[..],
        br#"{"embeddings":{"int8":[[1],[2]]}}"#,
        br#"not json"#,
    ] {
        let answers = [CallAnswer {
            body,
            input_tokens: None,
        }];
        let e = embeddings::assemble(&plan, "m", &answers).unwrap_err();
        assert_eq!(e.status(), 502, "{}", String::from_utf8_lossy(body));
    }
}

#[test]
fn base64_is_the_little_endian_f32_bytes() {
    let mut values = vec![
        0.0f32,
        -0.0,
        1.0,
        -1.0,
        0.1,
        f32::MIN_POSITIVE,
        f32::MAX,
        1e-45,
        -3.4e38,
    ];
    let mut s = 0x9e37_79b9_7f4a_7c15u64;
    for _ in 0..1024 {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        let f = f32::from_bits(s as u32);
        if f.is_finite() {
            values.push(f);
        }
    }
    let Vector::Base64(b64) = embeddings::encode(values.clone(), Encoding::Base64) else {
        panic!("not base64");
    };
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .unwrap();
    let back: Vec<u32> = bytes
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]).to_bits())
        .collect();
    let bits: Vec<u32> = values.iter().map(|f| f.to_bits()).collect();
    assert_eq!(back, bits);
}
