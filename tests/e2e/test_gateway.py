"""End-to-end: the official openai SDK → basalt → Bedrock simulator, checking what the client
gets and what the simulator received (path encoding, headers, SigV4 verified by botocore)."""

import base64
import hmac
import http.client
import json
import os
import re
import shutil
import subprocess
import time
import urllib.request

import openai
import pytest

from conftest import AK, API_KEY, BASALT, CLIENT_KEY, ROOT, SK, TOKEN, TOKEN_AK, TOKEN_SK


def raw(stack, method, path, body=None, headers=None, port=None):
    conn = http.client.HTTPConnection("127.0.0.1", port or stack.ports["gw"], timeout=30)
    hdrs = {"content-type": "application/json"}
    hdrs.update(headers or {})
    conn.request(method, path, body=body, headers=hdrs)
    r = conn.getresponse()
    data = r.read()
    conn.close()
    return r.status, {k.lower(): v for k, v in r.getheaders()}, data


def error_of(data):
    body = json.loads(data)
    assert set(body["error"]) == {"message", "type", "param", "code"}, body
    return body["error"]


# --- happy paths ------------------------------------------------------------------------------

def test_basic_completion(stack, client):
    stack.clear()
    r = client.chat.completions.create(
        model="us.anthropic.claude-sonnet-4-5-20250929-v1:0",
        messages=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Write me a 20-word pitch"}],
        max_tokens=100,
        temperature=0.2,
    )
    assert r.object == "chat.completion"
    assert r.id.startswith("chatcmpl-")
    assert r.model == "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
    assert r.choices[0].message.role == "assistant"
    assert "Write me a 20-word pitch" in r.choices[0].message.content
    assert r.choices[0].finish_reason == "stop"
    assert r.usage.total_tokens == r.usage.prompt_tokens + r.usage.completion_tokens > 0

    up = stack.last_upstream()
    assert up["path"] == "/model/us.anthropic.claude-sonnet-4-5-20250929-v1%3A0/converse"
    body = json.loads(up["body"])
    assert body["system"] == [{"text": "Be brief."}]
    assert body["inferenceConfig"] == {"maxTokens": 100, "temperature": 0.2}


def test_backend_model_replaces_client_model(stack, client):
    stack.clear()
    r = client.chat.completions.create(model="fixed", messages=[{"role": "user", "content": "hi"}])
    assert r.model == "amazon.nova-micro-v1:0"
    assert stack.last_upstream()["path"] == "/model/amazon.nova-micro-v1%3A0/converse"


def test_arn_model_ids_are_encoded(stack, client):
    stack.clear()
    arn = "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc123"
    r = client.chat.completions.create(model=arn, messages=[{"role": "user", "content": "hi"}])
    assert r.model == arn
    assert stack.last_upstream()["path"] == (
        "/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012%3Aapplication-inference-profile%2Fabc123/converse"
    )


def test_multi_turn(stack, client):
    stack.clear()
    r = client.chat.completions.create(
        model="m",
        messages=[
            {"role": "assistant", "content": "Hi, I am basalt."},
            {"role": "user", "content": "one"},
            {"role": "user", "content": "two"},
            {"role": "assistant", "content": "ok"},
            {"role": "user", "content": "three"},
        ],
    )
    assert r.choices[0].message.content
    msgs = json.loads(stack.last_upstream()["body"])["messages"]
    assert [m["role"] for m in msgs] == ["user", "assistant", "user", "assistant", "user"]
    assert msgs[2]["content"] == [{"text": "one"}, {"text": "two"}]


TOOLS = [
    {"type": "function", "function": {"name": "get_weather", "description": "Weather by city",
                                      "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}},
    {"type": "function", "function": {"name": "get_time", "parameters": {"type": "object", "properties": {"tz": {"type": "string"}}}}},
]


def test_tools_round_trip(stack, client):
    stack.clear()
    first = client.chat.completions.create(
        model="m", tools=TOOLS, messages=[{"role": "user", "content": "weather and time in Paris [sim:tools=2]"}]
    )
    msg = first.choices[0].message
    assert first.choices[0].finish_reason == "tool_calls"
    assert [c.function.name for c in msg.tool_calls] == ["get_weather", "get_time"]
    assert json.loads(msg.tool_calls[0].function.arguments) == {"city": "Paris"}
    sent = json.loads(stack.last_upstream()["body"])
    assert sent["toolConfig"]["tools"][0]["toolSpec"]["inputSchema"]["json"]["required"] == ["city"]

    history = [
        {"role": "user", "content": "weather and time in Paris"},
        msg.model_dump(exclude_none=True),
        {"role": "tool", "tool_call_id": msg.tool_calls[0].id, "content": "18C"},
        {"role": "tool", "tool_call_id": msg.tool_calls[1].id, "content": "14:05"},
    ]
    second = client.chat.completions.create(model="m", tools=TOOLS, messages=history)
    assert second.choices[0].finish_reason == "stop"
    sent = json.loads(stack.last_upstream()["body"])
    last = sent["messages"][-1]
    assert last["role"] == "user"
    assert [b["toolResult"]["toolUseId"] for b in last["content"]] == [c.id for c in msg.tool_calls]


def test_tool_choice_named_and_none(stack, client):
    stack.clear()
    client.chat.completions.create(
        model="m", tools=TOOLS, tool_choice={"type": "function", "function": {"name": "get_time"}},
        messages=[{"role": "user", "content": "time?"}],
    )
    assert json.loads(stack.last_upstream()["body"])["toolConfig"]["toolChoice"] == {"tool": {"name": "get_time"}}
    client.chat.completions.create(model="m", tools=TOOLS, tool_choice="none", messages=[{"role": "user", "content": "time?"}])
    assert "toolConfig" not in json.loads(stack.last_upstream()["body"])


def test_image_and_document(stack, client):
    stack.clear()
    png = base64.b64encode(b"\x89PNG\r\n\x1a\nfake").decode()
    pdf = base64.b64encode(b"%PDF-1.4 fake").decode()
    client.chat.completions.create(
        model="m",
        messages=[{"role": "user", "content": [
            {"type": "text", "text": "What is in these?"},
            {"type": "image_url", "image_url": {"url": f"data:image/jpg;base64,{png}"}},
            {"type": "file", "file": {"filename": "report.pdf", "file_data": f"data:application/pdf;base64,{pdf}"}},
        ]}],
    )
    content = json.loads(stack.last_upstream()["body"])["messages"][0]["content"]
    assert content[1] == {"image": {"format": "jpeg", "source": {"bytes": png}}}
    assert content[2] == {"document": {"format": "pdf", "name": "report", "source": {"bytes": pdf}}}


def test_reasoning_and_cache_usage(stack, client):
    def ask(cache):
        # Same length either way, so the simulator's inputTokens estimate is identical.
        return client.chat.completions.create(
            model="m", messages=[{"role": "user", "content": f"think [sim:reasoning] [sim:cache={cache}]"}])

    r = ask("read:100,write:050")
    plain = ask("read:000,write:000")
    m = r.choices[0].message
    assert m.model_extra["reasoning_content"] == "Let me think about this step by step."
    assert m.model_extra["reasoning_details"][0]["signature"] == "c2ltLXNpZ25hdHVyZQ=="
    assert r.usage.prompt_tokens_details.cached_tokens == 100
    assert r.usage.prompt_tokens_details.model_dump()["cache_write_tokens"] == 50
    # prompt_tokens counts cache reads and writes on top of Bedrock's inputTokens.
    assert r.usage.prompt_tokens - plain.usage.prompt_tokens == 150
    assert r.usage.total_tokens == r.usage.prompt_tokens + r.usage.completion_tokens


def test_structured_output(stack, client):
    stack.clear()
    schema = {"type": "object", "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
              "required": ["name", "age"], "additionalProperties": False}
    r = client.chat.completions.create(
        model="m", messages=[{"role": "user", "content": "a person"}],
        response_format={"type": "json_schema", "json_schema": {"name": "person", "schema": schema, "strict": True}},
    )
    assert json.loads(r.choices[0].message.content) == {"name": "Paris", "age": 1}
    tf = json.loads(stack.last_upstream()["body"])["outputConfig"]["textFormat"]
    assert tf["type"] == "json_schema" and json.loads(tf["structure"]["jsonSchema"]["schema"]) == schema


def test_structured_output_parse_with_refs_and_bounds(stack, client):
    """The SDK's `.parse` with a pydantic model: nested models become `$defs` + `$ref`, and
    `Field(ge=..)`, `min_length`, `Literal` become bounds, lengths and enums; the simulator's
    answer satisfies them all, so pydantic validates it."""
    from typing import List, Literal

    from pydantic import BaseModel, Field

    class Address(BaseModel):
        city: str = Field(min_length=8)
        kind: Literal["home", "work"]

    class Person(BaseModel):
        age: int = Field(ge=18, le=120)
        score: float = Field(gt=0, lt=1)
        addresses: List[Address] = Field(min_length=2)

    r = client.chat.completions.parse(model="m", messages=[{"role": "user", "content": "Ann"}],
                                      response_format=Person)
    p = r.choices[0].message.parsed
    assert p is not None and 18 <= p.age <= 120 and 0 < p.score < 1, p
    assert len(p.addresses) >= 2 and all(len(a.city) >= 8 and a.kind == "home" for a in p.addresses), p
    sent = json.loads(json.loads(stack.last_upstream()["body"])["outputConfig"]["textFormat"]["structure"]["jsonSchema"]["schema"])
    assert "$defs" in sent, sent


def test_one_mebibyte_request(stack, client):
    stack.clear()
    big = "x" * (1024 * 1024)
    r = client.chat.completions.create(model="m", messages=[{"role": "user", "content": big}])
    assert r.choices[0].finish_reason == "stop"
    assert len(stack.last_upstream()["body"]) > 1024 * 1024


def test_models_list(stack):
    """The exact-match route models and the backends' fixed models of the conftest config, each
    once, first; wildcard matches (`token-*`, `*`) are not models, but the `*` route passes any
    model through, so the well-known Bedrock ids follow."""
    status, headers, data = raw(stack, "GET", "/v1/models")
    assert status == 200 and headers["content-type"] == "application/json"
    listing = json.loads(data)
    assert listing["object"] == "list"
    ids = [m["id"] for m in listing["data"]]
    assert sorted(ids[:3]) == sorted([
        "fixed",  # route `fixed` matches this model exactly
        "amazon.nova-micro-v1:0",  # backend sim-fixed's model
        "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc123",  # sim-profile's
    ]), ids
    assert len(ids) == len(set(ids)), ids
    for known in ("us.anthropic.claude-sonnet-4-5-20250929-v1:0", "amazon.nova-pro-v1:0",
                  "amazon.titan-embed-text-v2:0"):
        assert known in ids[3:], ids
    assert not any("*" in i for i in ids), ids
    for m in listing["data"]:
        assert m["object"] == "model" and m["owned_by"] and isinstance(m["created"], int), m


# --- upstream hygiene and signing -------------------------------------------------------------

def test_only_allow_listed_headers_go_upstream(stack):
    stack.clear()
    status, _, _ = raw(stack, "POST", "/v1/chat/completions",
                       json.dumps({"model": "m", "messages": [{"role": "user", "content": "hi"}]}),
                       {"authorization": "Bearer client-secret", "cookie": "session=1", "x-forwarded-for": "10.0.0.1",
                        "x-forwarded-proto": "https", "user-agent": "test-agent/1"})
    assert status == 200
    names = {k.lower() for k, _ in stack.last_upstream()["headers"]}
    assert names <= {"host", "content-type", "content-length", "accept", "authorization", "x-amz-date", "x-amz-security-token"}
    auth = dict((k.lower(), v) for k, v in stack.last_upstream()["headers"])["authorization"]
    assert "client-secret" not in auth


def botocore_verify(req, access_key, secret_key, token=None):
    """Recompute the SigV4 signature of a captured request with botocore's signer."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    headers = {k.lower(): v for k, v in req["headers"]}
    m = re.match(r"AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request, "
                 r"SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$", headers["authorization"])
    assert m, headers["authorization"]
    ak, _date, region, service, signed, signature = m.groups()
    assert ak == access_key and service == "bedrock"
    assert {"host", "x-amz-date", "content-type"} <= set(signed.split(";"))
    if token:
        assert "x-amz-security-token" in signed.split(";") and headers["x-amz-security-token"] == token
    aws = AWSRequest(method="POST", url=f"http://{headers['host']}{req['path']}", data=req["body"].encode())
    for h in signed.split(";"):
        aws.headers[h] = headers[h]
    aws.context["timestamp"] = headers["x-amz-date"]
    signer = SigV4Auth(Credentials(access_key, secret_key, token), service, region)
    cr = signer.canonical_request(aws)
    expected = signer.signature(signer.string_to_sign(aws, cr), aws)
    return hmac.compare_digest(expected, signature), region


def test_sigv4_verified_by_botocore(stack, client):
    stack.clear()
    client.chat.completions.create(model="anthropic.claude-3-haiku-20240307-v1:0",
                                   messages=[{"role": "user", "content": "sign me ünïcödé"}])
    up = stack.last_upstream()
    ok, region = botocore_verify(up, AK, SK)
    assert ok and region == "us-east-1"
    # The verifier discriminates (else `ok` above proves nothing): one body byte changed fails.
    assert "sign me" in up["body"]
    assert not botocore_verify(dict(up, body=up["body"].replace("sign me", "sign mE")), AK, SK)[0]


def test_sigv4_with_session_token_verified_by_botocore(stack, client):
    stack.clear()
    client.chat.completions.create(model="token-model:1", messages=[{"role": "user", "content": "hi"}])
    up = stack.last_upstream()
    assert up["path"] == "/model/token-model%3A1/converse"
    ok, region = botocore_verify(up, TOKEN_AK, TOKEN_SK, TOKEN)
    assert ok and region == "us-west-2"


def test_bedrock_api_key_is_sent_as_bearer(stack, client):
    stack.clear()
    client.chat.completions.create(model="apikey-model", messages=[{"role": "user", "content": "hi"}])
    headers = dict((k.lower(), v) for k, v in stack.last_upstream()["headers"])
    assert headers["authorization"] == f"Bearer {API_KEY}"
    assert "x-amz-date" not in headers


def test_client_api_keys_on_listener(stack):
    body = json.dumps({"model": "m", "messages": [{"role": "user", "content": "hi"}]})
    port = stack.ports["gw_auth"]
    status, _, data = raw(stack, "POST", "/v1/chat/completions", body, port=port)
    assert status == 401 and error_of(data)["code"] == "invalid_api_key"
    status, _, _ = raw(stack, "POST", "/v1/chat/completions", body, {"authorization": "Bearer wrong"}, port=port)
    assert status == 401
    stack.clear()
    status, _, _ = raw(stack, "POST", "/v1/chat/completions", body, {"authorization": f"Bearer {CLIENT_KEY}"}, port=port)
    assert status == 200
    status, _, _ = raw(stack, "POST", "/v1/chat/completions", body, {"x-api-key": CLIENT_KEY}, port=port)
    assert status == 200
    assert all(CLIENT_KEY not in json.dumps(r["headers"]) for r in stack.upstream_requests())


# --- errors -----------------------------------------------------------------------------------

BEDROCK_ERRORS = [
    ("ValidationException", 400, openai.BadRequestError, "invalid_request_error", "invalid_request"),
    ("AccessDeniedException", 403, openai.PermissionDeniedError, "permission_error", "access_denied"),
    ("UnrecognizedClientException", 401, openai.AuthenticationError, "authentication_error", "invalid_credentials"),
    ("ResourceNotFoundException", 404, openai.NotFoundError, "invalid_request_error", "model_not_found"),
    ("ThrottlingException", 429, openai.RateLimitError, "rate_limit_error", "rate_limit_exceeded"),
    ("ModelNotReadyException", 429, openai.RateLimitError, "rate_limit_error", "rate_limit_exceeded"),
    ("ModelTimeoutException", 504, openai.InternalServerError, "server_error", "model_timeout"),
    ("ModelErrorException", 502, openai.InternalServerError, "server_error", "model_error"),
    ("InternalServerException", 502, openai.InternalServerError, "server_error", "upstream_internal_error"),
    ("ServiceUnavailableException", 503, openai.InternalServerError, "server_error", "service_unavailable"),
]


@pytest.mark.parametrize("exception,status,cls,etype,code", BEDROCK_ERRORS)
def test_bedrock_errors_map_to_openai(stack, client, exception, status, cls, etype, code):
    with pytest.raises(cls) as info:
        client.chat.completions.create(model="m", messages=[{"role": "user", "content": f"[sim:error={exception}]"}])
    e = info.value
    assert e.status_code == status
    assert e.body["type"] == etype and e.body["code"] == code
    assert f"simulated {exception}" in e.body["message"]


def test_bedrock_validation_reaches_client_as_400(stack):
    # basalt passes this through; Bedrock (the simulator) rejects a toolResult whose id matches no
    # toolUse in the previous assistant turn, and the client gets that message as a 400.
    body = {"model": "m", "tools": TOOLS, "messages": [
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "ok"},
        {"role": "tool", "tool_call_id": "call_unknown", "content": "result"}]}
    status, _, data = raw(stack, "POST", "/v1/chat/completions", json.dumps(body))
    err = error_of(data)
    assert status == 400 and err["code"] == "invalid_request" and err["type"] == "invalid_request_error"
    assert "does not match a toolUse in the previous assistant message" in err["message"]


def test_unreachable_upstream_is_502(stack, client):
    with pytest.raises(openai.InternalServerError) as info:
        client.chat.completions.create(model="dead-model", messages=[{"role": "user", "content": "hi"}])
    assert info.value.status_code == 502 and info.value.body["code"] == "upstream_unreachable"


def test_upstream_timeout_is_504(stack, client):
    with pytest.raises(openai.InternalServerError) as info:
        client.chat.completions.create(model="slow-model", messages=[{"role": "user", "content": "[sim:latency=3s]"}])
    assert info.value.status_code == 504 and info.value.body["code"] == "upstream_timeout"


BAD_INPUTS = [
    ("POST", "/v1/chat/completions", "{not json", 400, "invalid_json", None),
    ("POST", "/v1/chat/completions", "", 400, "invalid_json", None),
    ("POST", "/v1/chat/completions", "[]", 400, "invalid_json", None),
    ("POST", "/v1/chat/completions", '{"model":"m"}', 400, "invalid_request", "messages"),
    ("POST", "/v1/chat/completions", '{"model":"m","messages":[]}', 400, "invalid_request", "messages"),
    ("POST", "/v1/chat/completions", '{"model":"m","messages":[{"role":"user","content":"x"}],"n":3}', 400, "unsupported_parameter", "n"),
    ("POST", "/v1/chat/completions", '{"model":"m","messages":[{"role":"user","content":"x"}],"logprobs":true}', 400, "unsupported_parameter", "logprobs"),
    ("POST", "/v1/chat/completions", '{"model":"m","messages":[{"role":"user","content":"x"}],"temperature":"hot"}', 400, "invalid_json", None),
    ("POST", "/v1/chat/completions", '{"model":"","messages":[{"role":"user","content":"x"}]}', 400, "invalid_request", "model"),
    ("GET", "/v1/chat/completions", None, 405, "method_not_allowed", None),
    ("DELETE", "/v1/models", None, 405, "method_not_allowed", None),
    ("POST", "/v1/embeddings", "{}", 404, "not_found", None),
    ("GET", "/", None, 404, "not_found", None),
]


@pytest.mark.parametrize("method,path,body,status,code,param", BAD_INPUTS)
def test_bad_inputs(stack, method, path, body, status, code, param):
    got, headers, data = raw(stack, method, path, body)
    assert got == status, data
    assert headers["content-type"] == "application/json"
    err = error_of(data)
    assert err["code"] == code and err["param"] == param and err["message"]


def test_body_over_cap_is_413_and_gateway_keeps_serving(stack, client):
    big = json.dumps({"model": "m", "messages": [{"role": "user", "content": "x" * (3 * 1024 * 1024)}]})
    status, _, data = raw(stack, "POST", "/v1/chat/completions", big)
    assert status == 413 and error_of(data)["code"] == "request_too_large"
    # Chunked (no Content-Length) over the cap too.
    conn = http.client.HTTPConnection("127.0.0.1", stack.ports["gw"], timeout=30)
    conn.putrequest("POST", "/v1/chat/completions")
    conn.putheader("content-type", "application/json")
    conn.putheader("transfer-encoding", "chunked")
    conn.endheaders()
    chunk = b"x" * (256 * 1024)
    try:
        for _ in range(12):
            conn.send(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        conn.send(b"0\r\n\r\n")
    except (BrokenPipeError, ConnectionResetError):
        pass
    r = conn.getresponse()
    assert r.status == 413
    conn.close()
    r = client.chat.completions.create(model="m", messages=[{"role": "user", "content": "still alive?"}])
    assert r.choices[0].message.content


def test_gateway_survives_garbage(stack, client):
    import socket

    from standins import raw_exchange

    # An unparsable request head: Pingora itself answers 400 and closes (its body is empty
    # today: see test_probe.py::test_malformed_request_gets_an_openai_error_body).
    answers = raw_exchange(stack.ports["gw"], b"\x00\x01\x02 garbage\r\n\r\n", timeout=5)
    assert [a[0] for a in answers] == [400], answers
    # A body cut short by the client (it half-closes after 1 of 5 bytes): an OpenAI 400.
    s = socket.create_connection(("127.0.0.1", stack.ports["gw"]), timeout=5)
    try:
        s.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nContent-Length: 5\r\n\r\n{")
        s.shutdown(socket.SHUT_WR)
        got = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            got += chunk
    finally:
        s.close()
    status, headers, data = raw_answer(got)
    assert status == 400 and headers["content-type"] == "application/json", got
    err = error_of(data)
    assert err["type"] == "invalid_request_error" and "request body" in err["message"], err
    # The gateway keeps serving.
    r = client.chat.completions.create(model="m", messages=[{"role": "user", "content": "ok?"}])
    assert r.choices[0].message.content


def raw_answer(data):
    from standins import parse_responses

    answers = parse_responses(data)
    assert len(answers) == 1, data
    return answers[0]


# --- admin and config -------------------------------------------------------------------------

def test_config_dump_guide_query_and_no_secrets(stack):
    import urllib.request

    url = f"http://127.0.0.1:{stack.ports['admin']}/config_dump"
    dump = urllib.request.urlopen(url).read()
    for secret in (SK, TOKEN_SK, TOKEN, API_KEY, CLIENT_KEY):
        assert secret.encode() not in dump
    jq = shutil.which("jq")
    assert jq, "jq is required (installed by tests/run.sh)"
    query = '.policies[] | select(.name.name == "bedrock-caching-policy" and .policy.backend.aI.promptCaching != null)'
    out = subprocess.run([jq, query], input=dump, capture_output=True, check=True).stdout
    got = json.loads(out)
    assert got["name"] == {"kind": "Policy", "name": "bedrock-caching-policy", "namespace": "default"}
    assert got["target"] == {"route": {"name": "bedrock", "namespace": "default", "kind": "HTTPRoute"}}
    assert got["policy"]["backend"]["aI"]["promptCaching"] == {
        "cacheSystem": True, "cacheMessages": True, "cacheTools": False, "minTokens": 1024}
    assert got["key"]
    parsed = json.loads(dump)
    assert {b["name"]["name"] for b in parsed["backends"]} >= {"sim", "sim-token", "sim-apikey"}
    assert parsed["listeners"][0]["name"] == "default" and parsed["routes"]


def test_check_flag(tmp_path):
    good = os.path.join(ROOT, "conf", "local.yaml")  # not next to BASALT: CARGO_TARGET_DIR may be elsewhere
    assert subprocess.run([BASALT, "--config", good, "--check"], capture_output=True).returncode == 0
    bad = tmp_path / "bad.yaml"
    bad.write_text(open(good).read().replace("region: us-east-1", "regoin: us-east-1"))
    r = subprocess.run([BASALT, "--config", str(bad), "--check"], capture_output=True, text=True)
    assert r.returncode != 0
    assert "backends[0].ai.provider.bedrock.regoin: unknown key" in r.stderr
    unset = tmp_path / "unset.yaml"
    unset.write_text(open(good).read().replace("secretKey: basalt-local-secret-key", "secretKey: ${BASALT_TEST_UNSET_VAR}"))
    r = subprocess.run([BASALT, "--config", str(unset), "--check"], capture_output=True, text=True,
                       env={k: v for k, v in os.environ.items() if k != "BASALT_TEST_UNSET_VAR"})
    assert r.returncode != 0
    assert "secrets[0].stringData.secretKey: environment variable BASALT_TEST_UNSET_VAR is not set" in r.stderr


def test_logs_carry_no_secrets_and_one_access_line(stack, client):
    client.chat.completions.create(model="token-x", messages=[{"role": "user", "content": "secret prompt text"}])
    a = stack.access_line(lambda a: a["model"] == "token-x")
    assert a is not None, "no access line"
    text = stack.log_text()
    assert "credentials: static keys (secret `static`)" in text
    for secret in (SK, TOKEN_SK, TOKEN, API_KEY, CLIENT_KEY, "secret prompt text"):
        assert secret not in text
    assert len([x for x in stack.access_lines() if x["model"] == "token-x"]) == 1
    assert (a["route"], a["backend"], a["status"], a["error_type"]) == ("token", "sim-token", 200, None)
    assert a["prompt_tokens"] > 0 and a["completion_tokens"] > 0 and a["duration_ms"] > 0


# --- streaming --------------------------------------------------------------------------------

def test_stream_text_with_usage(stack, client):
    stack.clear()
    chunks = list(client.chat.completions.create(
        model="m", stream=True, stream_options={"include_usage": True},
        messages=[{"role": "user", "content": "héllo 🌍"}]))
    assert stack.last_upstream()["path"] == "/model/m/converse-stream"
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text.endswith("You said: héllo 🌍")
    assert len({c.id for c in chunks}) == 1 and len({c.created for c in chunks}) == 1
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    assert chunks[-1].choices == [] and chunks[-1].usage.total_tokens > 0


def test_stream_without_usage_option(stack, client):
    chunks = list(client.chat.completions.create(model="m", stream=True, messages=[{"role": "user", "content": "hi"}]))
    # Content actually streamed (an empty stream would make the `all`s below vacuous) ...
    assert len(chunks) >= 3, chunks
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text.endswith("You said: hi"), text
    assert chunks[-1].choices[0].finish_reason == "stop"
    # ... and no chunk carries usage, nor is there a choices-less usage chunk.
    assert all(c.usage is None for c in chunks) and all(c.choices for c in chunks)


def test_stream_tool_calls(stack, client):
    chunks = list(client.chat.completions.create(
        model="m", stream=True, tools=TOOLS, messages=[{"role": "user", "content": "both [sim:tools=2]"}]))
    calls = {}
    for c in chunks:
        for tc in (c.choices[0].delta.tool_calls or []) if c.choices else []:
            entry = calls.setdefault(tc.index, {"id": None, "name": None, "args": ""})
            entry["id"] = entry["id"] or tc.id
            entry["name"] = entry["name"] or (tc.function.name if tc.function else None)
            entry["args"] += (tc.function.arguments or "") if tc.function else ""
    assert sorted(calls) == [0, 1]
    assert calls[0]["name"] == "get_weather" and json.loads(calls[0]["args"]) == {"city": "Paris"}
    assert calls[1]["name"] == "get_time"
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "tool_calls"


def test_stream_exception_raises_api_error(stack, client):
    stream = client.chat.completions.create(
        model="m", stream=True, messages=[{"role": "user", "content": "x [sim:stream-error=throttlingException]"}])
    with pytest.raises(openai.APIError) as info:
        for _ in stream:
            pass
    assert "simulated throttlingException" in str(info.value.message)


def test_stream_error_before_first_byte_is_http_error(stack, client):
    with pytest.raises(openai.RateLimitError):
        client.chat.completions.create(model="m", stream=True,
                                       messages=[{"role": "user", "content": "[sim:error=ThrottlingException]"}])


def test_stream_is_incremental(stack, client):
    t0 = time.monotonic()
    stamps = []
    for c in client.chat.completions.create(
            model="m", stream=True, messages=[{"role": "user", "content": "pace me [sim:pace=40ms]"}]):
        stamps.append(time.monotonic() - t0)
    # ~20 frames 40 ms apart: the first chunk must arrive long before the last.
    assert len(stamps) > 10
    assert stamps[-1] - stamps[0] > 0.3, stamps
    assert stamps[0] < stamps[-1] / 3, stamps


def test_stream_relays_every_event_botocore_decodes(stack, client):
    """The same request sent straight to the simulator (its event stream decoded by botocore,
    CRCs checked) and through basalt: basalt's SSE carries exactly the text deltas botocore
    decodes, in order, one chunk each, and the same stop reason and output token count."""
    import urllib.request
    from botocore.eventstream import EventStreamBuffer

    text = "relay me exactly, all of it"
    req = urllib.request.Request(stack.sim_url("/model/m/converse-stream"), method="POST",
                                 data=json.dumps({"messages": [{"role": "user", "content": [{"text": text}]}]}).encode(),
                                 headers={"content-type": "application/json", "authorization": "Bearer " + API_KEY})
    buf = EventStreamBuffer()
    buf.add_data(urllib.request.urlopen(req).read())
    events = [(m.headers[":event-type"], json.loads(m.payload)) for m in buf]
    assert events[0][0] == "messageStart" and [k for k, _ in events[-2:]] == ["messageStop", "metadata"]
    deltas = [p["delta"]["text"] for k, p in events if k == "contentBlockDelta"]
    assert len(deltas) > 2

    chunks = list(client.chat.completions.create(model="m", stream=True, stream_options={"include_usage": True},
                                                 messages=[{"role": "user", "content": text}]))
    relayed = [c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content]
    assert relayed == deltas
    assert events[-2][1]["stopReason"] == "end_turn"
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    assert chunks[-1].usage.completion_tokens == events[-1][1]["usage"]["outputTokens"]


def test_stream_idle_timeout_is_an_error_event(stack, client):
    stream = client.chat.completions.create(
        model="idle-m", stream=True, messages=[{"role": "user", "content": "[sim:pace=1500ms]"}])
    with pytest.raises(openai.APIError) as info:
        for _ in stream:
            pass
    assert "no stream event for 1000 ms" in str(info.value.message)


def test_stream_total_timeout_is_an_error_event(stack, client):
    t0 = time.monotonic()
    stream = client.chat.completions.create(
        model="budget-m", stream=True, messages=[{"role": "user", "content": "[sim:pace=300ms]"}])
    got = []
    with pytest.raises(openai.APIError) as info:
        for c in stream:
            got.append(c)
    assert "total timeout" in str(info.value.message)
    assert got, "chunks before the deadline were delivered"
    assert 1.8 < time.monotonic() - t0 < 4


def test_max_concurrent_requests(stack):
    import threading

    port = stack.ports["gw_tight"]
    slow = json.dumps({"model": "m", "messages": [{"role": "user", "content": "[sim:latency=1500ms]"}]})
    quick = json.dumps({"model": "m", "messages": [{"role": "user", "content": "hi"}]})
    result = {}
    t = threading.Thread(target=lambda: result.update(slow=raw(stack, "POST", "/v1/chat/completions", slow, port=port)))
    t.start()
    time.sleep(0.5)
    status, headers, data = raw(stack, "POST", "/v1/chat/completions", quick, port=port)
    assert status == 503 and error_of(data)["code"] == "overloaded" and headers["x-should-retry"] == "true"
    t.join()
    assert result["slow"][0] == 200
    assert raw(stack, "POST", "/v1/chat/completions", quick, port=port)[0] == 200, "the slot was released"


def sim_streams(stack):
    with urllib.request.urlopen(stack.sim_url("/_sim/streams")) as r:
        return json.loads(r.read())


def test_client_hang_up_mid_stream_closes_the_upstream(stack, client):
    """A client that leaves while the upstream is quiet (3 s between frames) is noticed at once:
    the access line (499) appears long before the next frame, and the upstream exchange is
    closed rather than read to the end or pooled (the simulator's next write fails)."""
    import socket
    before = sim_streams(stack)
    body = json.dumps({"model": "hangup-probe", "stream": True,
                       "messages": [{"role": "user", "content": "[sim:stamp=3] [sim:pace=3s]"}]}).encode()
    s = socket.create_connection(("127.0.0.1", stack.ports["gw"]))
    s.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n"
              b"content-length: %d\r\n\r\n" % len(body) + body)
    got = b""
    while b"data: " not in got:
        got += s.recv(65536)
    assert got.startswith(b"HTTP/1.1 200"), got
    t0 = time.monotonic()
    s.close()

    line = stack.access_line(lambda a: a["model"] == "hangup-probe", timeout=2.5 - (time.monotonic() - t0))
    assert line is not None, "the gateway did not notice the hang-up before the next frame"
    assert line["status"] == 499 and line["error_type"] == "client_gone", line

    deadline = time.monotonic() + 8
    while sim_streams(stack)["aborted"] == before["aborted"] and time.monotonic() < deadline:
        time.sleep(0.1)
    after = sim_streams(stack)
    assert after["aborted"] == before["aborted"] + 1, (before, after)
    assert after["completed"] == before["completed"], "the abandoned stream was read to its end"
    # The gateway keeps serving, streaming and not.
    assert client.chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}]).choices
    assert list(client.chat.completions.create(model="m", stream=True, messages=[{"role": "user", "content": "hi"}]))


def test_stream_frames_stamped_by_the_simulator_arrive_in_order(stack):
    """`[sim:stamp=N]` sends N text deltas carrying their send time; the load script uses them to
    measure frame → SSE latency. Here: all N arrive, each stamp is in the past and increasing."""
    import openai as oa

    c = oa.OpenAI(base_url=stack.base_url, api_key="x", max_retries=0)
    stamps = []
    for chunk in c.chat.completions.create(model="m", stream=True,
                                           messages=[{"role": "user", "content": "[sim:stamp=20] [sim:pace=5ms]"}]):
        if chunk.choices and chunk.choices[0].delta.content:
            stamps.append((int(chunk.choices[0].delta.content), time.time_ns()))
    assert len(stamps) == 20
    assert all(a[0] < b[0] for a, b in zip(stamps, stamps[1:]))
    assert all(0 <= recv - sent < 2e9 for sent, recv in stamps)


GOLDEN_REPLAY = """
listeners: [{{name: l, address: "127.0.0.1:{gw}"}}]
admin: {{address: "127.0.0.1:{admin}"}}
metrics: {{address: "127.0.0.1:{metrics}"}}
secrets: [{{name: static, stringData: {{accessKey: {ak}, secretKey: {sk}}}}}]
backends:
  - name: standin
    ai: {{provider: {{bedrock: {{region: us-east-1, endpoint: "{endpoint}"}}}}}}
    policies: {{auth: {{aws: {{secretRef: {{name: static}}}}}}}}
routes:
  - name: r
    matches: [{{path: {{type: PathPrefix, value: /v1/chat/completions}}}}]
    backendRefs: [{{name: standin}}]
"""


def test_golden_event_streams_relay_as_golden_sse():
    """Each golden `.eventstream` file (tests/fixtures/stream; real AWS event-stream bytes) is
    served by a stand-in Bedrock as the ConverseStream answer; the SSE basalt sends the client is
    the golden `.sse` byte for byte, once the id, created time and model are normalised."""
    import glob
    import http.client

    import standins

    files = sorted(glob.glob(os.path.join(os.path.dirname(__file__), "..", "fixtures", "stream", "*.eventstream")))
    assert len(files) >= 9
    streams = {os.path.basename(p)[:-len(".eventstream")]: open(p, "rb").read() for p in files}

    def answer(_standin, req):
        case = req.line.split()[1].split("/")[2][len("golden-"):]
        return standins.http_response(200, streams[case], [("Content-Type", "application/vnd.amazon.eventstream")])

    upstream = standins.StandIn(standins.answering(answer))
    g = None
    try:
        g = standins.Gateway(GOLDEN_REPLAY, ak=AK, sk=SK, endpoint=upstream.endpoint)
        for case in streams:
            want = open(os.path.join(os.path.dirname(files[0]), case + ".sse"), encoding="utf-8").read()
            request = {"model": f"golden-{case}", "stream": True, "messages": [{"role": "user", "content": "hi"}]}
            if case != "text_no_usage":
                request["stream_options"] = {"include_usage": True}
            conn = http.client.HTTPConnection("127.0.0.1", g.port, timeout=30)
            conn.request("POST", "/v1/chat/completions", json.dumps(request), {"content-type": "application/json"})
            r = conn.getresponse()
            got = r.read().decode("utf-8")
            conn.close()
            assert r.status == 200 and r.getheader("content-type") == "text/event-stream", (case, r.status)
            got = re.sub(r'"id":"chatcmpl-[A-Za-z0-9]+"', '"id":"chatcmpl-test"', got)
            got = re.sub(r'"created":\d+', '"created":1', got)
            got = got.replace(f'"model":"golden-{case}"', '"model":"m"')
            assert got == want, case
    finally:
        if g:
            g.close()
        upstream.close()
