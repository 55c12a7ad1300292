"""OpenAI Responses API end to end: the official `openai` SDK's `client.responses.create`,
`.stream` and `.parse` against the real `basalt` binary and the Bedrock simulator, on a stack of
its own whose route serves `/v1/responses`: text, streaming, function-calling round trip,
reasoning replayed through `encrypted_content`, structured output, max_output_tokens →
incomplete, the stateless 400s, built-in tools → 400, and the request metrics."""

import json
import os
import subprocess
import tempfile
import urllib.request

import openai
import pytest
from pydantic import BaseModel

from conftest import AK, BASALT, SIM, SK, free_port, wait_http

CLAUDE = "anthropic.claude-sonnet-4-20250514-v1:0"

CONFIG = """
listeners:
  - name: default
    address: 127.0.0.1:{gw}
admin:
  address: 127.0.0.1:{admin}
metrics:
  address: 127.0.0.1:{metrics}
secrets:
  - name: static
    stringData: {{accessKey: {ak}, secretKey: {sk}}}
backends:
  - name: sim
    ai: {{provider: {{bedrock: {{region: us-east-1, endpoint: "http://127.0.0.1:{sim}"}}}}}}
    policies: {{auth: {{aws: {{secretRef: {{name: static}}}}}}}}
routes:
  - name: responses
    matches: [{{path: {{type: PathPrefix, value: /v1/responses}}, model: "*"}}]
    backendRefs: [{{name: sim}}]
"""


@pytest.fixture(scope="module")
def rstack():
    with tempfile.TemporaryDirectory() as tmp:
        ports = {k: free_port() for k in ("gw", "admin", "metrics", "sim")}
        path = os.path.join(tmp, "gateway.yaml")
        with open(path, "w") as f:
            f.write(CONFIG.format(ak=AK, sk=SK, **ports))
        log = open(os.path.join(tmp, "basalt.log"), "w+")
        sim = subprocess.Popen([SIM, "--listen", f"127.0.0.1:{ports['sim']}"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        gw = subprocess.Popen([BASALT, "--config", path], stdout=log, stderr=log)
        try:
            wait_http(f"http://127.0.0.1:{ports['admin']}/healthz/ready")
            wait_http(f"http://127.0.0.1:{ports['sim']}/_sim/requests")
            yield ports
        finally:
            for p in (gw, sim):
                p.terminate()
            for p in (gw, sim):
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    p.kill()


@pytest.fixture
def rc(rstack):
    return openai.OpenAI(base_url=f"http://127.0.0.1:{rstack['gw']}/v1", api_key="x", max_retries=0, timeout=30)


def last_upstream(ports):
    with urllib.request.urlopen(f"http://127.0.0.1:{ports['sim']}/_sim/requests") as r:
        reqs = json.loads(r.read())
    assert reqs, "the simulator received no request"
    return reqs[-1]


def test_text(rc):
    r = rc.responses.create(model="amazon.nova-micro-v1:0", instructions="Be terse.", input="Say hello")
    assert r.object == "response" and r.id.startswith("resp_")
    assert r.status == "completed" and r.store is False
    assert r.output_text
    assert r.output[0].type == "message" and r.output[0].content[0].type == "output_text"
    assert r.usage.input_tokens > 0 and r.usage.output_tokens > 0
    assert r.usage.total_tokens == r.usage.input_tokens + r.usage.output_tokens
    assert r.usage.input_tokens_details.cached_tokens == 0
    assert r.instructions == "Be terse."


def test_stream_events_in_order(rc):
    events = list(rc.responses.create(model="amazon.nova-micro-v1:0", input="Stream please", stream=True))
    kinds = [e.type for e in events]
    assert kinds[:2] == ["response.created", "response.in_progress"]
    assert kinds[-1] == "response.completed"
    for k in ("response.output_item.added", "response.content_part.added", "response.output_text.delta",
              "response.output_text.done", "response.content_part.done", "response.output_item.done"):
        assert k in kinds, k
    assert [e.sequence_number for e in events] == list(range(len(events)))
    text = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    done = events[-1].response
    assert done.output_text == text and done.usage.output_tokens > 0


def test_stream_helper_and_final_response(rc):
    with rc.responses.stream(model="amazon.nova-micro-v1:0", input="Stream via helper") as s:
        deltas = [e.delta for e in s if e.type == "response.output_text.delta"]
        final = s.get_final_response()
    assert final.output_text == "".join(deltas)
    assert final.status == "completed"


TOOLS = [{"type": "function", "name": "get_weather", "description": "Weather by city",
          "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}]


def test_function_call_round_trip(rc, rstack):
    r = rc.responses.create(model="amazon.nova-micro-v1:0", input="Weather in Paris? [sim:tool]", tools=TOOLS)
    calls = [o for o in r.output if o.type == "function_call"]
    assert len(calls) == 1 and calls[0].name == "get_weather"
    assert isinstance(json.loads(calls[0].arguments), dict)
    history = [{"role": "user", "content": "Weather in Paris? [sim:tool]"}] + [o.model_dump(exclude_none=True) for o in r.output]
    history.append({"type": "function_call_output", "call_id": calls[0].call_id, "output": "21 degrees, sunny"})
    r2 = rc.responses.create(model="amazon.nova-micro-v1:0", input=history, tools=TOOLS)
    assert r2.status == "completed" and r2.output_text
    sent = json.loads(last_upstream(rstack)["body"])
    assert sent["messages"][1]["content"][0]["toolUse"]["toolUseId"] == calls[0].call_id
    assert sent["messages"][2]["content"][0]["toolResult"]["content"] == [{"text": "21 degrees, sunny"}]


def test_streamed_function_call(rc):
    events = list(rc.responses.create(model="amazon.nova-micro-v1:0", input="Weather? [sim:tool]", tools=TOOLS, stream=True))
    kinds = [e.type for e in events]
    assert "response.function_call_arguments.delta" in kinds and "response.function_call_arguments.done" in kinds
    done = [e for e in events if e.type == "response.function_call_arguments.done"][0]
    assert json.loads(done.arguments) == json.loads(events[-1].response.output[-1].arguments)


def test_reasoning_replayed_through_encrypted_content(rc, rstack):
    r = rc.responses.create(model=CLAUDE, input="Think, then call the tool [sim:tool]", tools=TOOLS,
                            reasoning={"effort": "low", "summary": "auto"}, include=["reasoning.encrypted_content"])
    reasoning = [o for o in r.output if o.type == "reasoning"]
    assert reasoning and reasoning[0].encrypted_content and reasoning[0].summary[0].text
    call = [o for o in r.output if o.type == "function_call"][0]
    history = [{"role": "user", "content": "Think, then call the tool [sim:tool]"}] + [o.model_dump(exclude_none=True) for o in r.output]
    history.append({"type": "function_call_output", "call_id": call.call_id, "output": "sunny"})
    r2 = rc.responses.create(model=CLAUDE, input=history, tools=TOOLS, reasoning={"effort": "low"},
                             include=["reasoning.encrypted_content"])
    assert r2.status == "completed"
    sent = json.loads(last_upstream(rstack)["body"])
    replayed = sent["messages"][1]["content"][0]["reasoningContent"]["reasoningText"]
    assert replayed == {"text": "Let me think about this step by step.", "signature": "c2ltLXNpZ25hdHVyZQ=="}


def test_streamed_reasoning_summary(rc):
    events = list(rc.responses.create(model=CLAUDE, input="Think about it", reasoning={"effort": "low"}, stream=True,
                                      include=["reasoning.encrypted_content"]))
    kinds = [e.type for e in events]
    assert "response.reasoning_summary_part.added" in kinds and "response.reasoning_summary_text.delta" in kinds
    item = [e for e in events if e.type == "response.output_item.done" and e.item.type == "reasoning"][0].item
    assert item.encrypted_content.startswith("bsr1.")


class Person(BaseModel):
    name: str
    age: int


def test_structured_output_parse(rc):
    r = rc.responses.parse(model="amazon.nova-micro-v1:0", input="Ann is 31", text_format=Person)
    assert isinstance(r.output_parsed, Person)


def test_max_output_tokens_incomplete(rc):
    r = rc.responses.create(model="amazon.nova-micro-v1:0", input="Long story [sim:stop=max_tokens]", max_output_tokens=16)
    assert r.status == "incomplete" and r.incomplete_details.reason == "max_output_tokens"
    events = list(rc.responses.create(model="amazon.nova-micro-v1:0", input="Long story [sim:stop=max_tokens]",
                                      max_output_tokens=16, stream=True))
    assert events[-1].type == "response.incomplete"
    assert events[-1].response.incomplete_details.reason == "max_output_tokens"


@pytest.mark.parametrize("extra,param", [
    ({"store": True}, "store"),
    ({"previous_response_id": "resp_123"}, "previous_response_id"),
])
def test_stateless_400s(rc, extra, param):
    with pytest.raises(openai.BadRequestError) as e:
        rc.responses.create(model="amazon.nova-micro-v1:0", input="hi", **extra)
    assert e.value.body["param"] == param
    assert "basalt is stateless" in e.value.body["message"]


def test_builtin_tool_400(rc):
    with pytest.raises(openai.BadRequestError) as e:
        rc.responses.create(model="amazon.nova-micro-v1:0", input="hi", tools=[{"type": "web_search"}])
    assert "`web_search`" in e.value.body["message"]
    assert e.value.body["param"] == "tools[0].type"


def test_upstream_error_is_openai_shaped(rc):
    with pytest.raises(openai.RateLimitError):
        rc.responses.create(model="amazon.nova-micro-v1:0", input="[sim:error=ThrottlingException]")


def test_metrics_recorded(rc, rstack):
    rc.responses.create(model="amazon.nova-micro-v1:0", input="count me")
    with urllib.request.urlopen(f"http://127.0.0.1:{rstack['metrics']}/metrics") as r:
        text = r.read().decode()
    usage = [l for l in text.splitlines() if l.startswith("gen_ai_client_token_usage") and 'route="responses"' in l]
    assert usage, "token usage recorded for the responses route"


def test_exception_mid_stream_is_error_then_failed(rc):
    events = list(rc.responses.create(model="amazon.nova-micro-v1:0", stream=True,
                                      input="Stream then fail [sim:stream-error=modelStreamErrorException]"))
    kinds = [e.type for e in events]
    assert "response.output_text.delta" in kinds
    assert kinds[-2:] == ["error", "response.failed"]
    assert events[-1].response.status == "failed" and events[-1].response.error.message
