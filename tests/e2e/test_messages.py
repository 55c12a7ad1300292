"""The Anthropic Messages API end to end: the official `anthropic` SDK against the real basalt
binary and the Bedrock simulator (which verifies SigV4 and Converse's request shape). Its own
stack, so that its routes (`/v1/messages`, Claude model names mapped to inference profiles) and
its metrics are its own."""

import base64
import json
import os
import subprocess
import tempfile
import urllib.error
import urllib.request

import anthropic
import pytest
from prometheus_client.parser import text_string_to_metric_families

from conftest import AK, BASALT, CLIENT_KEY, SIM, SK, free_port, wait_http

SONNET = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
HAIKU = "us.anthropic.claude-haiku-4-5-20251001-v1:0"
PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
PDF = base64.b64encode(b"%PDF-1.4\n%\xc7\xec\x8f\xa2\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n").decode()
WEATHER = {
    "name": "get_weather",
    "description": "Weather for a city",
    "input_schema": {"type": "object", "properties": {"city": {"type": "string", "enum": ["Paris"]}}, "required": ["city"]},
}

CONFIG = """
listeners:
  - name: default
    address: 127.0.0.1:{gw}
  - name: authed
    address: 127.0.0.1:{gw_auth}
    auth: {{apiKeys: {{secretRef: {{name: client-keys}}}}}}
admin:
  address: 127.0.0.1:{admin}
metrics:
  address: 127.0.0.1:{metrics}
secrets:
  - name: static
    stringData: {{accessKey: {ak}, secretKey: {sk}}}
  - name: client-keys
    stringData: {{team-a: {client_key}}}
backends:
  - name: sonnet
    ai: {{provider: {{bedrock: {{model: "{sonnet}", region: us-east-1, endpoint: "http://127.0.0.1:{sim}"}}}}}}
    policies: {{auth: {{aws: {{secretRef: {{name: static}}}}}}}}
  - name: haiku
    ai: {{provider: {{bedrock: {{model: "{haiku}", region: us-east-1, endpoint: "http://127.0.0.1:{sim}",
                                anthropicBetas: [interleaved-thinking-2025-05-14]}}}}}}
    policies: {{auth: {{aws: {{secretRef: {{name: static}}}}}}}}
  - name: any
    ai: {{provider: {{bedrock: {{region: us-east-1, endpoint: "http://127.0.0.1:{sim}"}}}}}}
    policies: {{auth: {{aws: {{secretRef: {{name: static}}}}}}}}
routes:
  - name: sonnet
    matches: [{{path: {{type: PathPrefix, value: /v1/messages}}, model: "claude-sonnet-4-5*"}}]
    backendRefs: [{{name: sonnet}}]
  - name: haiku
    matches: [{{path: {{type: PathPrefix, value: /v1/messages}}, model: "claude-haiku-4-5*"}}]
    backendRefs: [{{name: haiku}}]
  - name: bedrock-ids
    matches: [{{path: {{type: PathPrefix, value: /v1/messages}}, model: "us.*"}}]
    backendRefs: [{{name: any}}]
"""


class MessagesStack:
    def __init__(self, tmp):
        self.ports = {k: free_port() for k in ("gw", "gw_auth", "admin", "metrics", "sim")}
        path = os.path.join(tmp, "gateway.yaml")
        with open(path, "w") as f:
            f.write(CONFIG.format(ak=AK, sk=SK, client_key=CLIENT_KEY, sonnet=SONNET, haiku=HAIKU, **self.ports))
        self.log = open(os.path.join(tmp, "basalt.log"), "w+")
        env = dict(os.environ, BASALT_LOG="info")
        self.sim = subprocess.Popen([SIM, "--listen", f"127.0.0.1:{self.ports['sim']}"],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        self.gw = subprocess.Popen([BASALT, "--config", path], stdout=self.log, stderr=self.log, env=env)
        wait_http(f"http://127.0.0.1:{self.ports['admin']}/healthz/ready")
        wait_http(f"http://127.0.0.1:{self.ports['sim']}/_sim/requests")

    def base_url(self, listener="gw"):
        return f"http://127.0.0.1:{self.ports[listener]}"

    def upstream(self):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.ports['sim']}/_sim/requests") as r:
            reqs = json.loads(r.read())
        assert reqs, "the simulator received no request"
        return reqs[-1]

    def upstream_body(self):
        return json.loads(self.upstream()["body"])

    def metrics(self):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.ports['metrics']}/metrics") as r:
            return r.read().decode()

    def stop(self):
        for p in (self.gw, self.sim):
            p.terminate()
        for p in (self.gw, self.sim):
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()


@pytest.fixture(scope="module")
def mstack():
    with tempfile.TemporaryDirectory() as tmp:
        s = MessagesStack(tmp)
        try:
            yield s
        finally:
            s.stop()


@pytest.fixture
def claude(mstack):
    return anthropic.Anthropic(base_url=mstack.base_url(), api_key="unused", max_retries=0, timeout=30)


def user(text):
    return [{"role": "user", "content": text}]


# ---------------------------------------------------------------------------------------------
# Non-streaming
# ---------------------------------------------------------------------------------------------

def test_create_maps_the_claude_name_to_the_profile(mstack, claude):
    m = claude.messages.create(model="claude-sonnet-4-5-20250929", max_tokens=100, system="Be brief.",
                               messages=user("Hello there"), metadata={"user_id": "u-42"})
    assert m.id.startswith("msg_") and m.type == "message" and m.role == "assistant"
    assert m.content[0].type == "text" and "You said: Hello there" in m.content[0].text
    assert m.stop_reason == "end_turn" and m.stop_sequence is None
    assert m.model == SONNET
    assert m.usage.input_tokens > 0 and m.usage.output_tokens > 0
    up = mstack.upstream()
    assert up["path"] == "/model/us.anthropic.claude-sonnet-4-5-20250929-v1%3A0/converse"
    body = json.loads(up["body"])
    assert body["system"] == [{"text": "Be brief."}]
    assert body["inferenceConfig"]["maxTokens"] == 100
    assert body["requestMetadata"] == {"user_id": "u-42"}
    # The client's x-api-key never goes upstream.
    assert not any(k.lower() == "x-api-key" for k, _ in up["headers"])


def test_system_as_blocks_and_a_haiku_route(mstack, claude):
    m = claude.messages.create(model="claude-haiku-4-5-20251001", max_tokens=50,
                               system=[{"type": "text", "text": "One."}, {"type": "text", "text": "Two."}],
                               messages=user("hi"))
    assert m.model == HAIKU
    assert mstack.upstream_body()["system"] == [{"text": "One."}, {"text": "Two."}]


@pytest.mark.parametrize("bedrock,anthropic_reason", [
    ("max_tokens", "max_tokens"),
    ("guardrail_intervened", "refusal"),
    ("content_filtered", "refusal"),
    ("model_context_window_exceeded", "model_context_window_exceeded"),
    ("end_turn", "end_turn"),
])
def test_every_stop_reason(claude, bedrock, anthropic_reason):
    m = claude.messages.create(model="claude-sonnet-4-5", max_tokens=20, messages=user(f"[sim:stop={bedrock}]"))
    assert m.stop_reason == anthropic_reason


def test_stop_sequence_reports_the_sequence(mstack, claude):
    m = claude.messages.create(model="claude-sonnet-4-5", max_tokens=20, stop_sequences=["STOP", "HALT"],
                               messages=user("[sim:stop=stop_sequence]"))
    assert m.stop_reason == "stop_sequence" and m.stop_sequence == "STOP"
    body = mstack.upstream_body()
    assert body["inferenceConfig"]["stopSequences"] == ["STOP", "HALT"]
    assert body["additionalModelResponseFieldPaths"] == ["/stop_sequence"]


def test_tool_round_trip_with_every_tool_choice(mstack, claude):
    first = claude.messages.create(model="claude-sonnet-4-5", max_tokens=200, tools=[WEATHER],
                                   tool_choice={"type": "any"}, messages=user("Weather in Paris?"))
    assert first.stop_reason == "tool_use"
    call = next(b for b in first.content if b.type == "tool_use")
    assert call.name == "get_weather" and call.input == {"city": "Paris"}
    assert mstack.upstream_body()["toolConfig"]["toolChoice"] == {"any": {}}
    history = user("Weather in Paris?") + [
        {"role": "assistant", "content": [b.model_dump(exclude_none=True) for b in first.content]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": call.id, "content": "18C"},
                                     {"type": "text", "text": "thanks"}]},
    ]
    second = claude.messages.create(model="claude-sonnet-4-5", max_tokens=200, tools=[WEATHER], messages=history)
    assert second.stop_reason == "end_turn" and second.content[0].type == "text"
    result = mstack.upstream_body()["messages"][2]["content"][0]["toolResult"]
    assert result["toolUseId"] == call.id and result["content"] == [{"text": "18C"}]

    forced = claude.messages.create(model="claude-sonnet-4-5", max_tokens=200,
                                    tools=[{"name": "other", "input_schema": {"type": "object"}}, WEATHER],
                                    tool_choice={"type": "tool", "name": "get_weather"}, messages=user("x"))
    assert [b.name for b in forced.content if b.type == "tool_use"] == ["get_weather"]
    auto = claude.messages.create(model="claude-sonnet-4-5", max_tokens=200, tools=[WEATHER],
                                  tool_choice={"type": "auto"}, messages=user("no tool needed"))
    assert auto.stop_reason == "end_turn"
    none = claude.messages.create(model="claude-sonnet-4-5", max_tokens=200, tools=[WEATHER],
                                  tool_choice={"type": "none"}, messages=history)
    assert none.stop_reason == "end_turn"
    assert "toolConfig" not in mstack.upstream_body()


def test_an_error_tool_result_has_status_error(mstack, claude):
    history = user("go") + [
        {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "is_error": True,
                                      "content": [{"type": "text", "text": "boom"}]}]},
    ]
    claude.messages.create(model="claude-sonnet-4-5", max_tokens=50, messages=history)
    body = mstack.upstream_body()
    assert body["messages"][2]["content"][0]["toolResult"]["status"] == "error"
    # No tools sent: the history's tool names make the toolConfig Bedrock requires.
    assert body["toolConfig"]["tools"][0]["toolSpec"]["name"] == "get_weather"


def test_thinking_and_its_signed_replay(mstack, claude):
    m = claude.messages.create(model="claude-sonnet-4-5", max_tokens=2048,
                               thinking={"type": "enabled", "budget_tokens": 1024}, messages=user("Think"))
    thinking = m.content[0]
    assert thinking.type == "thinking" and thinking.signature and thinking.thinking
    assert mstack.upstream_body()["additionalModelRequestFields"]["thinking"] == {"type": "enabled", "budget_tokens": 1024}
    history = user("Think") + [{"role": "assistant", "content": [b.model_dump() for b in m.content]},
                               {"role": "user", "content": "again"}]
    claude.messages.create(model="claude-sonnet-4-5", max_tokens=2048,
                           thinking={"type": "enabled", "budget_tokens": 1024}, messages=history)
    replayed = mstack.upstream_body()["messages"][1]["content"][0]["reasoningContent"]["reasoningText"]
    assert replayed == {"text": thinking.thinking, "signature": thinking.signature}


def test_thinking_is_turned_off_for_an_unsigned_tool_turn(mstack, claude):
    history = user("go") + [
        {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "ok"}]},
    ]
    raw = claude.messages.with_raw_response.create(model="claude-sonnet-4-5", max_tokens=2048, tools=[WEATHER],
                                                   thinking={"type": "enabled", "budget_tokens": 1024},
                                                   messages=history)
    assert raw.parse().stop_reason == "end_turn"
    assert "thinking" in raw.headers["x-basalt-adjusted"].split(",")
    assert "additionalModelRequestFields" not in mstack.upstream_body()


def test_images_and_pdfs(mstack, claude):
    claude.messages.create(model="claude-sonnet-4-5", max_tokens=50, messages=[{"role": "user", "content": [
        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG}},
        {"type": "document", "source": {"type": "base64", "media_type": "application/pdf", "data": PDF}},
        {"type": "text", "text": "Describe"}]}])
    content = mstack.upstream_body()["messages"][0]["content"]
    assert content[0]["image"]["format"] == "png"
    assert content[1]["document"]["format"] == "pdf"


def test_cache_control_places_cache_points_and_reports_cache_usage(mstack, claude):
    system = [{"type": "text", "text": "policy " * 800, "cache_control": {"type": "ephemeral"}}]
    first = claude.messages.create(model="claude-sonnet-4-5", max_tokens=20, system=system, messages=user("q1"))
    body = mstack.upstream_body()
    assert body["system"][1] == {"cachePoint": {"type": "default"}}
    assert first.usage.cache_creation_input_tokens > 0
    second = claude.messages.create(model="claude-sonnet-4-5", max_tokens=20, system=system, messages=user("q2"))
    assert second.usage.cache_read_input_tokens == first.usage.cache_creation_input_tokens
    assert second.usage.input_tokens < second.usage.cache_read_input_tokens


def test_betas_are_filtered_through_the_allow_list(mstack, claude):
    raw = claude.messages.with_raw_response.create(
        model="claude-sonnet-4-5", max_tokens=20, extra_body={"top_k": 5}, messages=user("hi"),
        extra_headers={"anthropic-beta": "context-1m-2025-08-07, not-a-real-beta-2099-01-01"})
    assert raw.headers["x-basalt-adjusted"] == "anthropic-beta"
    extra = mstack.upstream_body()["additionalModelRequestFields"]
    assert extra == {"anthropic_beta": ["context-1m-2025-08-07"], "top_k": 5}


def test_a_backend_allow_list_replaces_the_default(mstack, claude):
    raw = claude.messages.with_raw_response.create(
        model="claude-haiku-4-5", max_tokens=20, messages=user("hi"),
        extra_headers={"anthropic-beta": "context-1m-2025-08-07,interleaved-thinking-2025-05-14"})
    assert raw.headers["x-basalt-adjusted"] == "anthropic-beta"
    assert mstack.upstream_body()["additionalModelRequestFields"] == {
        "anthropic_beta": ["interleaved-thinking-2025-05-14"]}


# ---------------------------------------------------------------------------------------------
# Streaming
# ---------------------------------------------------------------------------------------------

def test_stream_text_events_and_final_message(mstack, claude):
    with claude.messages.stream(model="claude-sonnet-4-5", max_tokens=100, messages=user("Stream please")) as s:
        text = "".join(s.text_stream)
        final = s.get_final_message()
    assert "You said: Stream please" in text
    assert final.content[0].text == text
    assert final.stop_reason == "end_turn" and final.usage.output_tokens > 0 and final.usage.input_tokens > 0
    assert mstack.upstream()["path"].endswith("/converse-stream")
    events = [e.type for e in claude.messages.create(model="claude-sonnet-4-5", max_tokens=100,
                                                     messages=user("again"), stream=True)]
    assert events[0] == "message_start" and events[-1] == "message_stop"
    assert events[-2] == "message_delta"
    assert "content_block_start" in events and "content_block_stop" in events


def test_stream_tool_use(claude):
    with claude.messages.stream(model="claude-sonnet-4-5", max_tokens=100, tools=[WEATHER],
                                messages=user("[sim:tool]")) as s:
        final = s.get_final_message()
    call = final.content[-1]
    assert call.type == "tool_use" and call.input == {"city": "Paris"} and call.id.startswith("tooluse_")
    assert final.stop_reason == "tool_use"


def test_stream_thinking_with_signature(claude):
    with claude.messages.stream(model="claude-sonnet-4-5", max_tokens=2048,
                                thinking={"type": "enabled", "budget_tokens": 1024}, messages=user("think")) as s:
        final = s.get_final_message()
    assert [b.type for b in final.content] == ["thinking", "text"]
    assert final.content[0].signature == "c2ltLXNpZ25hdHVyZQ=="


def test_in_stream_error_is_an_error_event(claude):
    with pytest.raises(anthropic.APIStatusError) as e:
        with claude.messages.stream(model="claude-sonnet-4-5", max_tokens=100,
                                    messages=user("[sim:stream-error=throttlingException]")) as s:
            for _ in s:
                pass
    # The SDK raises the `error` event's body (the answer's HTTP status was already 200).
    assert e.value.body["type"] == "error"
    assert e.value.body["error"]["type"] == "rate_limit_error"


# ---------------------------------------------------------------------------------------------
# count_tokens
# ---------------------------------------------------------------------------------------------

def test_count_tokens(mstack, claude):
    r = claude.messages.count_tokens(model="claude-sonnet-4-5", system="sys", tools=[WEATHER], messages=user("count me"))
    assert r.input_tokens > 0
    up = mstack.upstream()
    assert up["path"] == "/model/us.anthropic.claude-sonnet-4-5-20250929-v1%3A0/count-tokens"
    body = json.loads(up["body"])
    assert set(body["input"]["converse"]) == {"messages", "system", "toolConfig"}


def test_count_tokens_on_a_model_without_it_is_a_clear_400(claude):
    with pytest.raises(anthropic.BadRequestError) as e:
        claude.messages.count_tokens(model="us.amazon.nova-pro-v1:0", messages=user("x"))
    assert "counting tokens" in e.value.body["error"]["message"]


# ---------------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------------

def raw_post(url, body, headers=None):
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                 headers={"content-type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(req) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


@pytest.mark.parametrize("body,needle", [
    ({"model": "claude-sonnet-4-5", "messages": user("x")}, "max_tokens"),
    ({"model": "claude-sonnet-4-5", "max_tokens": 5}, "messages"),
    ({"model": "claude-sonnet-4-5", "max_tokens": 5, "messages": [{"role": "user", "content": [
        {"type": "image", "source": {"type": "url", "url": "https://example.com/a.png"}}]}]}, "inline images"),
    ({"model": "claude-sonnet-4-5", "max_tokens": 5, "messages": user("x"),
      "tools": [{"type": "web_search_20250305", "name": "web_search"}]}, "web_search_20250305"),
    ({"model": "claude-sonnet-4-5", "max_tokens": 5, "messages": user("x"),
      "tools": [{"type": "code_execution_20250825", "name": "code_execution"}]}, "code_execution_20250825"),
    ({"model": "claude-sonnet-4-5", "max_tokens": 5, "messages": "not a list"}, "messages"),
])
def test_bad_input_is_an_anthropic_400(mstack, body, needle):
    status, err = raw_post(mstack.base_url() + "/v1/messages", body)
    assert status == 400
    assert err["type"] == "error" and err["error"]["type"] == "invalid_request_error"
    assert needle in err["error"]["message"]


def test_sdk_sees_bad_request_and_not_found(claude):
    with pytest.raises(anthropic.BadRequestError) as e:
        claude.messages.create(model="claude-sonnet-4-5", max_tokens=0, messages=user("x"))
    assert e.value.body["error"]["type"] == "invalid_request_error"
    with pytest.raises(anthropic.NotFoundError) as e:
        claude.messages.create(model="gpt-nope", max_tokens=5, messages=user("x"))
    assert e.value.body["error"]["type"] == "not_found_error"


@pytest.mark.parametrize("kind,exc,status,etype", [
    ("ThrottlingException", anthropic.RateLimitError, 429, "rate_limit_error"),
    ("AccessDeniedException", anthropic.PermissionDeniedError, 403, "permission_error"),
    ("ServiceUnavailableException", anthropic.APIStatusError, 529, "overloaded_error"),
    ("InternalServerException", anthropic.InternalServerError, 502, "api_error"),
    ("ValidationException", anthropic.BadRequestError, 400, "invalid_request_error"),
])
def test_bedrock_errors_map_to_anthropic_types(claude, kind, exc, status, etype):
    with pytest.raises(exc) as e:
        claude.messages.create(model="claude-sonnet-4-5", max_tokens=5, messages=user(f"[sim:error={kind}]"))
    assert e.value.status_code == status
    assert e.value.body["error"]["type"] == etype


def test_x_api_key_is_the_client_key(mstack):
    bad = anthropic.Anthropic(base_url=mstack.base_url("gw_auth"), api_key="wrong", max_retries=0)
    with pytest.raises(anthropic.AuthenticationError) as e:
        bad.messages.create(model="claude-sonnet-4-5", max_tokens=5, messages=user("x"))
    assert e.value.body == {"type": "error", "error": {"type": "authentication_error",
                                                        "message": e.value.body["error"]["message"]}}
    good = anthropic.Anthropic(base_url=mstack.base_url("gw_auth"), api_key=CLIENT_KEY, max_retries=0)
    assert good.messages.create(model="claude-sonnet-4-5", max_tokens=5, messages=user("x")).stop_reason == "end_turn"
    assert not any(k.lower() in ("x-api-key", "authorization") and v == CLIENT_KEY
                   for k, v in mstack.upstream()["headers"])


# ---------------------------------------------------------------------------------------------
# Metrics (runs last in this module: it reads the counters the tests above left)
# ---------------------------------------------------------------------------------------------

def test_zz_metrics_record_the_tokens(mstack, claude):
    before = mstack.metrics()
    m = claude.messages.create(model="claude-haiku-4-5", max_tokens=20, messages=user("metered [sim:cache=read:100,write:50]"))
    after = mstack.metrics()

    def total(text, token_type):
        v = 0.0
        for fam in text_string_to_metric_families(text):
            for s in fam.samples:
                if (s.name == "gen_ai_client_token_usage_sum" and s.labels.get("gen_ai_token_type") == token_type
                        and s.labels.get("route") == "haiku"
                        and s.labels.get("gen_ai_operation_name") == "chat"):
                    v += s.value
        return v

    assert total(after, "output") - total(before, "output") == m.usage.output_tokens
    assert total(after, "input_cache_read") - total(before, "input_cache_read") == 100
    assert total(after, "input_cache_write") - total(before, "input_cache_write") == 50
    assert m.usage.cache_read_input_tokens == 100 and m.usage.cache_creation_input_tokens == 50
