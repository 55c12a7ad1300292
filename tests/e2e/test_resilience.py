"""Retries, failover, ejection, the retry budget and cache-affinity spreading (routes[].retry,
failover, backendRefs[].priority), end to end: a dedicated gateway in front of the session's
simulator, a second simulator, a dead port and a stand-in that always answers 503. Simulator
faults are scheduled per request text: `[sim:fail=N:Kind]` fails the first N requests carrying
that exact text."""

import re
import subprocess
import time
import urllib.request
import uuid

import openai
import pytest
import standins
from conftest import AK, SIM, SK, free_port, wait_http

CONFIG = """
listeners: [{{name: default, address: "127.0.0.1:{gw}"}}]
admin: {{address: "127.0.0.1:{admin}"}}
metrics: {{address: "127.0.0.1:{metrics}"}}
secrets: [{{name: static, stringData: {{accessKey: {ak}, secretKey: {sk}}}}}]
backends:
  - name: east
    ai: {{provider: {{bedrock: {{region: us-east-1, endpoint: "http://127.0.0.1:{sim}"}}}}}}
    policies: {{auth: {{aws: {{secretRef: {{name: static}}}}}}}}
  - name: west
    ai: {{provider: {{bedrock: {{region: us-west-2, endpoint: "http://127.0.0.1:{sim2}"}}}}}}
    policies: {{auth: {{aws: {{secretRef: {{name: static}}}}}}}}
  - name: down
    ai: {{provider: {{bedrock: {{model: "us.primary-model-v1:0", region: eu-west-1, endpoint: "http://127.0.0.1:{dead}"}}}}}}
    policies: {{auth: {{aws: {{secretRef: {{name: static}}}}}}}}
  - name: fallback
    ai: {{provider: {{bedrock: {{model: "eu.fallback-model-v1:0", region: eu-central-1, endpoint: "http://127.0.0.1:{sim}"}}}}}}
    policies: {{auth: {{aws: {{secretRef: {{name: static}}}}}}}}
  - name: flaky
    ai: {{provider: {{bedrock: {{region: us-east-2, endpoint: "{flaky}"}}}}}}
    policies: {{auth: {{aws: {{secretRef: {{name: static}}}}}}}}
routes:
  - name: retry
    matches: [{{path: {{type: PathPrefix, value: /v1/chat/completions}}, model: "retry-*"}}]
    backendRefs: [{{name: east}}]
    retry: {{attempts: 3, backoff: 10ms, maxBackoff: 50ms}}
  - name: deadline
    matches: [{{path: {{type: PathPrefix, value: /v1/chat/completions}}, model: "deadline-*"}}]
    backendRefs: [{{name: east}}]
    retry: {{attempts: 3, backoff: 10ms, maxBackoff: 50ms}}
    timeouts: {{total: 2s}}
  - name: noretry
    matches: [{{path: {{type: PathPrefix, value: /v1/chat/completions}}, model: "noretry-*"}}]
    backendRefs: [{{name: east}}]
  - name: failover
    matches: [{{path: {{type: PathPrefix, value: /v1/chat/completions}}, model: "failover-*"}}]
    backendRefs: [{{name: down, priority: 0}}, {{name: fallback, priority: 1}}]
    retry: {{attempts: 2, backoff: 1ms, maxBackoff: 5ms}}
    failover: {{consecutiveFailures: 1, ejectFor: 1500ms}}
  - name: failover503
    matches: [{{path: {{type: PathPrefix, value: /v1/chat/completions}}, model: "f503-*"}}]
    backendRefs: [{{name: flaky, priority: 0}}, {{name: east, priority: 1}}]
    retry: {{attempts: 2, backoff: 1ms, maxBackoff: 5ms}}
  - name: budget
    matches: [{{path: {{type: PathPrefix, value: /v1/chat/completions}}, model: "budget-*"}}]
    backendRefs: [{{name: flaky}}]
    retry: {{attempts: 5, backoff: 1ms, maxBackoff: 2ms}}
  - name: spread
    matches: [{{path: {{type: PathPrefix, value: /v1/chat/completions}}, model: "spread-*"}}]
    backendRefs: [{{name: east, priority: 0}}, {{name: west, priority: 0}}]
"""


class Sim:
    def __init__(self):
        self.port = free_port()
        self.proc = subprocess.Popen([SIM, "--listen", f"127.0.0.1:{self.port}"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_http(f"http://127.0.0.1:{self.port}/_sim/requests")

    def requests(self):
        import json

        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/_sim/requests") as r:
            return json.loads(r.read())

    def close(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


@pytest.fixture(scope="module")
def res(stack):
    flaky = standins.StandIn(standins.fixed(
        503, b'{"message":"Bedrock is unavailable"}',
        [("Content-Type", "application/json"), ("x-amzn-ErrorType", "ServiceUnavailableException")]))
    west = Sim()
    g = None
    try:
        g = standins.Gateway(CONFIG, ak=AK, sk=SK, sim=stack.ports["sim"], sim2=west.port,
                             dead=free_port(), flaky=flaky.endpoint)
        yield g, stack, west, flaky
    finally:
        if g:
            g.close()
        west.close()
        flaky.close()


def nonce():
    return uuid.uuid4().hex[:12]


def seen(stack, text):
    """Requests the session's simulator received whose body carries `text`."""
    return sum(1 for r in stack.upstream_requests() if text in r.get("body", ""))


def access(g, request_id, timeout=3.0):
    import json

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for line in g.logs().splitlines():
            if "basalt::access]" in line and request_id in line:
                return json.loads(line.split("] ", 1)[1])
        time.sleep(0.05)
    raise AssertionError(f"no access line for {request_id}")


def metric(g, name, **labels):
    total = 0.0
    for line in g.metrics_text().splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        if all(f'{k}="{v}"' in line for k, v in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
def test_throttled_twice_then_200(res, stream):
    g, stack, _, _ = res
    text = f"[sim:fail=2:ThrottlingException] {nonce()}"
    client = g.client()
    rid = nonce()
    if stream:
        chunks = list(client.chat.completions.create(
            model="retry-m", stream=True, messages=[{"role": "user", "content": text}],
            extra_headers={"x-request-id": rid}))
        assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    else:
        r = client.chat.completions.create(model="retry-m", messages=[{"role": "user", "content": text}],
                                           extra_headers={"x-request-id": rid})
        assert r.choices[0].message.content
    assert seen(stack, text) == 3, "two throttled attempts, then the answer"
    line = access(g, rid)
    assert (line["status"], line["attempts"], line["backend"]) == (200, 3, "east")


def test_an_exception_as_the_first_stream_event_is_retried(res):
    g, stack, _, _ = res
    text = f"[sim:fail=1:ThrottlingException] [sim:fail-in-stream] {nonce()}"
    chunks = list(g.client().chat.completions.create(
        model="retry-m", stream=True, messages=[{"role": "user", "content": text}]))
    assert chunks and chunks[-1].choices[0].finish_reason == "stop"
    assert seen(stack, text) == 2


def test_retries_give_up_after_attempts_with_the_last_error(res):
    g, stack, _, _ = res
    text = f"[sim:fail=9:ThrottlingException] [sim:retry-after=0] {nonce()}"
    with pytest.raises(openai.RateLimitError) as e:
        g.client().chat.completions.create(model="retry-m", messages=[{"role": "user", "content": text}])
    assert e.value.code == "rate_limit_exceeded"
    assert "3 of 9" in e.value.message, "the last attempt's error reaches the client"
    assert seen(stack, text) == 3


def test_no_retry_on_validation_or_without_a_retry_policy(res):
    g, stack, _, _ = res
    text = f"[sim:error=ValidationException] {nonce()}"
    with pytest.raises(openai.BadRequestError):
        g.client().chat.completions.create(model="retry-m", messages=[{"role": "user", "content": text}])
    assert seen(stack, text) == 1
    text = f"[sim:fail=1:ThrottlingException] {nonce()}"
    with pytest.raises(openai.RateLimitError):
        g.client().chat.completions.create(model="noretry-m", messages=[{"role": "user", "content": text}])
    assert seen(stack, text) == 1


def test_no_retry_once_a_streamed_byte_reached_the_client(res):
    g, stack, _, _ = res
    text = f"[sim:stream-error=throttlingException] {nonce()}"
    got = []
    with pytest.raises(openai.APIError):
        for c in g.client().chat.completions.create(
                model="retry-m", stream=True, messages=[{"role": "user", "content": text}]):
            got.append(c)
    assert got, "the stream had started"
    assert seen(stack, text) == 1


def test_failover_when_the_primary_is_unreachable_then_ejection_and_recovery(res):
    g, stack, _, _ = res
    client = g.client()
    rid = nonce()
    r = client.chat.completions.create(model="failover-x", messages=[{"role": "user", "content": nonce()}],
                                       extra_headers={"x-request-id": rid})
    assert r.model == "eu.fallback-model-v1:0", "the answer names the model that answered"
    line = access(g, rid)
    assert (line["attempts"], line["backend"], line["model"]) == (2, "fallback", "eu.fallback-model-v1:0")
    assert metric(g, "basalt_backend_ejected", backend="down") == 1
    import json

    with urllib.request.urlopen(f"http://127.0.0.1:{g.admin_port}/config_dump") as resp:
        health = {(h["route"], h["backend"]): h for h in json.loads(resp.read())["health"]}
    assert health[("failover", "down")]["state"] == "ejected"
    assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", health[("failover", "down")]["ejectedUntil"])
    assert health[("failover", "fallback")] == {"route": "failover", "backend": "fallback",
                                               "state": "healthy", "ejectedUntil": None}
    # Ejected: the next request goes straight to the fallback.
    rid = nonce()
    client.chat.completions.create(model="failover-x", messages=[{"role": "user", "content": nonce()}],
                                   extra_headers={"x-request-id": rid})
    assert access(g, rid)["attempts"] == 1
    # After ejectFor, one probe goes to the primary again (it is still down: two attempts).
    time.sleep(1.6)
    rid = nonce()
    client.chat.completions.create(model="failover-x", messages=[{"role": "user", "content": nonce()}],
                                   extra_headers={"x-request-id": rid})
    assert access(g, rid)["attempts"] == 2
    assert metric(g, "basalt_retries_total", route="failover", reason="connect") >= 2
    assert metric(g, "basalt_upstream_attempts_total", backend="down", outcome="unreachable") >= 2


def test_failover_when_the_primary_answers_503(res):
    g, stack, _, flaky = res
    before = flaky.count()
    text = nonce()
    r = g.client().chat.completions.create(model="f503-x", messages=[{"role": "user", "content": text}])
    assert r.choices[0].message.content
    assert flaky.count() - before == 1
    assert seen(stack, text) == 1


def test_the_retry_budget_caps_retries_during_an_outage(res):
    g, _, _, flaky = res
    before = flaky.count()
    for _ in range(6):
        with pytest.raises(openai.InternalServerError):
            g.client().chat.completions.create(model="budget-x", messages=[{"role": "user", "content": "x"}])
    sent = flaky.count() - before
    # Without a budget: 6 requests × 5 attempts = 30. With it, the backend's retries in 10 s are
    # at most max(10, 20 % of its requests): 6 first attempts + at most 10 retries.
    assert 6 <= sent <= 16, sent
    assert metric(g, "basalt_retry_budget_exhausted_total", backend="flaky") >= 1


def test_equal_priority_backends_share_traffic_with_prefix_affinity(res):
    g, stack, west, _ = res
    client = g.client()
    system = f"You are a careful assistant {nonce()}."
    first = f"Question zero {nonce()}"
    for i in range(6):
        client.chat.completions.create(model="spread-x", messages=[
            {"role": "system", "content": system}, {"role": "user", "content": first},
            {"role": "assistant", "content": "ok"}, {"role": "user", "content": f"turn {i}"}])
    east_n = seen(stack, system)
    west_n = sum(1 for r in west.requests() if system in r.get("body", ""))
    assert sorted([east_n, west_n]) == [0, 6], "one prefix, one backend"
    tag = nonce()
    for i in range(24):
        client.chat.completions.create(model="spread-x", messages=[
            {"role": "user", "content": f"{tag} different prefix {i}"}])
    east_n = seen(stack, tag)
    west_n = sum(1 for r in west.requests() if tag in r.get("body", ""))
    assert east_n + west_n == 24 and east_n >= 3 and west_n >= 3, (east_n, west_n)


def test_retry_metrics_are_exact(res):
    g, stack, _, _ = res
    before = metric(g, "basalt_retries_total", route="retry", reason="throttling")
    ok_before = metric(g, "basalt_upstream_attempts_total", backend="east", outcome="ok")
    thr_before = metric(g, "basalt_upstream_attempts_total", backend="east", outcome="throttled")
    text = f"[sim:fail=2:ThrottlingException] {nonce()}"
    g.client().chat.completions.create(model="retry-m", messages=[{"role": "user", "content": text}])
    assert metric(g, "basalt_retries_total", route="retry", reason="throttling") - before == 2
    assert metric(g, "basalt_upstream_attempts_total", backend="east", outcome="throttled") - thr_before == 2
    assert metric(g, "basalt_upstream_attempts_total", backend="east", outcome="ok") - ok_before == 1


def test_a_retry_hint_past_the_total_timeout_is_not_waited_for(res):
    g, stack, _, _ = res
    text = f"[sim:fail=1:ThrottlingException] [sim:retry-after=5] {nonce()}"
    t0 = time.monotonic()
    with pytest.raises(openai.RateLimitError):
        g.client().chat.completions.create(model="deadline-m", messages=[{"role": "user", "content": text}])
    took = time.monotonic() - t0
    assert seen(stack, text) == 1, "waiting 5 s would end past timeouts.total (2 s): no retry"
    assert took < 1.5, took  # answered at once, not after the hint or the deadline


def test_a_retry_hint_within_the_total_timeout_is_honoured(res):
    g, stack, _, _ = res
    text = f"[sim:fail=1:ThrottlingException] [sim:retry-after=1] {nonce()}"
    t0 = time.monotonic()
    r = g.client().chat.completions.create(model="retry-m", messages=[{"role": "user", "content": text}])
    took = time.monotonic() - t0
    assert r.choices[0].message.content and seen(stack, text) == 2
    assert took >= 1.0, f"the 1 s Retry-After was not waited for ({took:.2f} s; backoff alone is <= 50 ms)"
