"""Regression tests for the defects a hostile probe found. Each test states the intended
behaviour; stand-in upstreams (tests/e2e/standins.py) misbehave the way a broken or hostile
Bedrock endpoint could. Gateways here are dedicated processes on generated configs so that a
crash, a leaked slot or inflated metrics cannot spill into the shared `stack`."""

import concurrent.futures
import json
import re
import subprocess

import openai
import pytest

import standins
from conftest import AK, API_KEY, BASALT, CLIENT_KEY, SK, TOKEN, TOKEN_AK, TOKEN_SK
from standins import CONVERSE_OK, Gateway, StandIn, raw_exchange

# A gateway with one listener (by default 2 concurrent requests; 16 MiB bodies) and two backends: the
# stand-in (session-token credentials) for `standin-*` models, the shared simulator for the rest.
PROBE = """
listeners:
  - name: probe
    address: 127.0.0.1:{gw}
    limits: {{maxConcurrentRequests: {max_concurrent}, maxBodyBytes: 16777216}}
admin: {{address: "127.0.0.1:{admin}"}}
metrics: {{address: "127.0.0.1:{metrics}"}}
secrets:
  - name: static
    stringData: {{accessKey: {ak}, secretKey: {sk}}}
  - name: with-token
    stringData: {{accessKey: {tak}, secretKey: {tsk}, sessionToken: "{token}"}}
backends:
  - name: standin
    ai: {{provider: {{bedrock: {{region: us-west-2, endpoint: "{standin}"}}}}}}
    policies: {{auth: {{aws: {{secretRef: {{name: with-token}}}}}}}}
  - name: sim
    ai: {{provider: {{bedrock: {{region: us-east-1, endpoint: "http://127.0.0.1:{sim}"}}}}}}
    policies: {{auth: {{aws: {{secretRef: {{name: static}}}}}}}}
routes:
  - name: standin
    matches: [{{path: {{type: PathPrefix, value: /v1/chat/completions}}, model: "standin-*"}}]
    backendRefs: [{{name: standin}}]
  - name: sim
    matches: [{{path: {{type: PathPrefix, value: /v1/chat/completions}}}}]
    backendRefs: [{{name: sim}}]
"""

HI = [{"role": "user", "content": "hi"}]


@pytest.fixture
def probe(stack):
    """probe(handler) → (gateway, stand-in), both closed at teardown."""
    made = []

    def make(handler, config=PROBE, env=None, max_concurrent=2):
        s = StandIn(handler)
        made.append(s)
        g = Gateway(config, env=env, standin=s.endpoint, sim=stack.ports["sim"], ak=AK, sk=SK,
                    tak=TOKEN_AK, tsk=TOKEN_SK, token=TOKEN, max_concurrent=max_concurrent)
        made.append(g)
        return g, s

    yield make
    for x in reversed(made):
        x.close()


def post(port, body, headers=None, timeout=30):
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        h = {"content-type": "application/json"}
        h.update(headers or {})
        conn.request("POST", "/v1/chat/completions", body=body, headers=h)
        r = conn.getresponse()
        return r.status, r.read()
    finally:
        conn.close()


def openai_error(data):
    body = json.loads(data)
    assert set(body) == {"error"} and set(body["error"]) == {"message", "type", "param", "code"}, body
    return body["error"]


# --- 1. informational (1xx) answers before the real one ---------------------------------------

INTERIM = {
    "100-continue": b"HTTP/1.1 100 Continue\r\n\r\n",
    "103-early-hints": b"HTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\n",
}


@pytest.mark.parametrize("interim", sorted(INTERIM))
def test_informational_answer_before_the_completion_is_skipped(probe, interim):
    g, s = probe(standins.informational_then_ok(INTERIM[interim]))
    r = g.client().chat.completions.create(model="standin-m", messages=HI)
    assert r.choices[0].message.content == "hello from the stand-in"
    assert r.usage.total_tokens == 8


def test_informational_answers_leak_no_concurrency_slot(probe):
    """Listener limit 2: three exchanges with a 1xx before the answer, whatever they give the
    client, must each release their slot; a normal request afterwards succeeds (not 503)."""
    g, s = probe(standins.informational_then_ok(INTERIM["100-continue"]))
    body = json.dumps({"model": "standin-m", "messages": HI})
    for _ in range(3):
        try:
            post(g.port, body)
        except (OSError, ConnectionError) as e:  # the gateway dropped the client connection
            print("1xx exchange failed on the client side:", e)
    status, data = post(g.port, json.dumps({"model": "m", "messages": HI}))
    assert status == 200, data


# --- 2. client model names must not become metric label values --------------------------------

FIXED = """
listeners: [{{name: l, address: "127.0.0.1:{gw}"}}]
admin: {{address: "127.0.0.1:{admin}"}}
metrics: {{address: "127.0.0.1:{metrics}"}}
secrets: [{{name: static, stringData: {{accessKey: {ak}, secretKey: {sk}}}}}]
backends:
  - name: sim-fixed
    ai: {{provider: {{bedrock: {{model: "amazon.nova-micro-v1:0", region: eu-west-1, endpoint: "http://127.0.0.1:{sim}"}}}}}}
    policies: {{auth: {{aws: {{secretRef: {{name: static}}}}}}}}
routes:
  - name: fixed
    matches: [{{path: {{type: PathPrefix, value: /v1/chat/completions}}}}]
    backendRefs: [{{name: sim-fixed}}]
"""


def test_huge_distinct_model_names_do_not_inflate_metrics(probe):
    """The route's backend fixes the model, so the client's `model` is free text: ten distinct
    100 KB names all succeed, and /metrics carries none of them (label `other`) and stays small."""
    g, _ = probe(standins.fixed(200, CONVERSE_OK), config=FIXED)
    c = g.client()
    names = [f"client-model-{i:02d}-" + chr(ord("a") + i) * 100_000 for i in range(10)]
    for name in names:
        r = c.chat.completions.create(model=name, messages=HI)
        assert r.model == "amazon.nova-micro-v1:0"
    text = g.metrics_text()
    assert len(text) < 200_000, f"/metrics is {len(text)} bytes"
    for name in names:
        assert name[:40] not in text
    assert 'gen_ai_request_model="other"' in text
    assert 'gen_ai_response_model="amazon.nova-micro-v1:0"' in text


# --- 3. a 200 that is not a Converse answer ----------------------------------------------------

@pytest.mark.parametrize("body", [b"{}", b'{"foo":1}', b"not json at all"], ids=["empty-object", "foreign-object", "not-json"])
def test_unreadable_200_answer_is_502_bad_response(probe, body):
    g, _ = probe(standins.fixed(200, body))
    status, data = post(g.port, json.dumps({"model": "standin-m", "messages": HI}))
    assert status == 502, data
    err = openai_error(data)
    assert (err["type"], err["code"]) == ("server_error", "upstream_bad_response"), err


# --- 4. exceptions the gateway does not know: docs/errors.md "unknown Bedrock error" -----------

@pytest.mark.parametrize("upstream_status,name,status,etype", [
    (400, "SomethingNewException", 400, "invalid_request_error"),
    (500, "AnotherNewServerException", 502, "server_error"),
])
def test_unknown_bedrock_exception_is_upstream_error(probe, upstream_status, name, status, etype):
    """docs/errors.md: unknown Bedrock error → its 4xx, else 502; type by status; code
    `upstream_error`; metric label `bedrock_other`."""
    g, _ = probe(standins.fixed(upstream_status, b'{"message":"x"}', [("x-amzn-ErrorType", name)]))
    status_got, data = post(g.port, json.dumps({"model": "standin-m", "messages": HI}))
    err = openai_error(data)
    assert status_got == status, data
    assert (err["type"], err["code"]) == (etype, "upstream_error"), err


# --- 5. upstream error text reaching the client is scrubbed and bounded ------------------------

def echo_403(as_json):
    def answer(standin, req):
        auth = req.header("authorization") or ""
        token = req.header("x-amz-security-token") or ""
        if as_json:
            echoed = "\n".join(f"{k}: {v}" for k, v in req.headers)
            body = json.dumps({"message": "User is not authorized to perform bedrock:InvokeModel; "
                                          f"request seen by 10.1.2.3:8080 with headers:\n{echoed}\n"
                                          "trace: " + "frame " * 600}).encode()
            return standins.json_response(403, body, [("x-amzn-ErrorType", "AccessDeniedException")])
        text = f"denied at 10.1.2.3:8080 for Authorization: {auth} x-amz-security-token: {token}"
        assert len(text) < 512  # short enough that today it is passed through verbatim
        return standins.http_response(403, text.encode(), [("Content-Type", "text/plain")])

    return standins.answering(answer)


@pytest.mark.parametrize("as_json", [True, False], ids=["json-message", "plain-text"])
def test_upstream_error_text_is_scrubbed(probe, as_json):
    g, s = probe(echo_403(as_json))
    status, data = post(g.port, json.dumps({"model": "standin-m", "messages": HI}))
    assert status == 403, data
    openai_error(data)
    seen = s.requests[-1]
    signature = re.search(r"Signature=([0-9a-f]{64})", seen.header("authorization")).group(1)
    assert seen.header("x-amz-security-token") == TOKEN  # the stand-in did see the secrets
    text = data.decode("utf-8", "replace")
    assert TOKEN not in text and "session-token-value" not in text
    assert signature not in text
    assert TOKEN_AK not in text
    assert len(data) <= 1024, f"{len(data)} bytes"


# --- 6. a POST fully written on a reused connection is never sent twice ------------------------

def test_post_written_on_reused_connection_is_not_resent(probe):
    """Request 1 is answered with keep-alive; request 2, on the pooled connection, is read whole
    by the stand-in, which then closes without answering. The request may have been processed:
    the client gets a 502 and the stand-in saw it once (two requests in all), not a retry."""
    g, s = probe(standins.first_answered_then_silent_close())
    c = g.client()
    assert c.chat.completions.create(model="standin-m", messages=HI).choices[0].message.content
    with pytest.raises(openai.APIStatusError) as e:
        c.chat.completions.create(model="standin-m", messages=HI)
    assert e.value.status_code == 502
    assert s.requests[1].conn_no == 1, "the second request went over the pooled connection"
    assert s.count() == 2, [r.conn_no for r in s.requests]


# --- 7. Pingora's own answers, pipelining -------------------------------------------------------

@pytest.mark.parametrize("junk", [
    b"\x00\x01\x02 garbage\r\n\r\n",
    b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nBad\x01Header: y\r\nContent-Length: 2\r\n\r\n{}",
], ids=["request-line", "header-bytes"])
def test_malformed_request_gets_an_openai_error_body(stack, junk):
    responses = raw_exchange(stack.ports["gw"], junk, timeout=5)
    assert responses, "no answer at all"
    status, headers, body = responses[0]
    assert status == 400
    assert headers.get("content-type") == "application/json"
    err = openai_error(body)
    assert err["type"] == "invalid_request_error"


def test_pipelined_requests_each_get_an_answer(stack):
    one = json.dumps({"model": "m", "messages": [{"role": "user", "content": "first"}]}).encode()
    two = json.dumps({"model": "m", "messages": [{"role": "user", "content": "second"}]}).encode()

    def request(body, extra=b""):
        return (b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n" + extra +
                b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body) + body)

    # The second asks for the connection to close after its answer, so the read ends promptly.
    data = request(one) + request(two, b"Connection: close\r\n")
    responses = raw_exchange(stack.ports["gw"], data, responses=2, timeout=10)
    assert [r[0] for r in responses] == [200, 200], responses
    texts = [json.loads(r[2])["choices"][0]["message"]["content"] for r in responses]
    assert "first" in texts[0] and "second" in texts[1], texts


# --- 8. no secret in the logs, even at trace level ---------------------------------------------

TRACE = """
listeners:
  - name: l
    address: 127.0.0.1:{gw}
    auth: {{apiKeys: {{secretRef: {{name: client-keys}}}}}}
admin: {{address: "127.0.0.1:{admin}"}}
metrics: {{address: "127.0.0.1:{metrics}"}}
secrets:
  - name: with-token
    stringData: {{accessKey: {tak}, secretKey: {tsk}, sessionToken: "{token}"}}
  - name: api-key
    stringData: {{apiKey: {api_key}}}
  - name: client-keys
    stringData: {{team-a: {client_key}}}
backends:
  - name: sim-token
    ai: {{provider: {{bedrock: {{region: us-west-2, endpoint: "http://127.0.0.1:{sim}"}}}}}}
    policies: {{auth: {{aws: {{secretRef: {{name: with-token}}}}}}}}
  - name: sim-apikey
    ai: {{provider: {{bedrock: {{region: us-east-1, endpoint: "http://127.0.0.1:{sim}"}}}}}}
    policies: {{auth: {{apiKey: {{secretRef: {{name: api-key}}}}}}}}
routes:
  - name: apikey
    matches: [{{path: {{type: PathPrefix, value: /v1/chat/completions}}, model: "apikey-*"}}]
    backendRefs: [{{name: sim-apikey}}]
  - name: token
    matches: [{{path: {{type: PathPrefix, value: /v1/chat/completions}}}}]
    backendRefs: [{{name: sim-token}}]
"""


def test_no_secrets_in_trace_logs(stack, tmp_path):
    g = Gateway(TRACE, env={"BASALT_LOG": "trace"}, sim=stack.ports["sim"], tak=TOKEN_AK, tsk=TOKEN_SK,
                token=TOKEN, api_key=API_KEY, client_key=CLIENT_KEY)
    try:
        c = g.client(api_key=CLIENT_KEY)
        for model in ("apikey-m", "token-m"):
            assert c.chat.completions.create(model=model, messages=HI).choices[0].message.content
            assert list(c.chat.completions.create(model=model, stream=True, messages=HI))
        with pytest.raises(openai.AuthenticationError):
            g.client(api_key=CLIENT_KEY + "-wrong").chat.completions.create(model="token-m", messages=HI)
        logs = g.logs()
    finally:
        g.close()
    assert len(logs) > 1000, "trace logging produced (almost) nothing: the check would be vacuous"
    secrets = {"client API key": CLIENT_KEY, "Bedrock API key": API_KEY, "session token": TOKEN,
               "session token (escaped)": "session-token-value", "secret key": TOKEN_SK}
    leaked = sorted(name for name, value in secrets.items() if value in logs)
    assert not leaked, f"in the trace log: {leaked}"


# --- 9. memory amplification: caps on parts/messages, bounded peak RSS ------------------------

def parts_body(n, model="m"):
    part = '{"type":"text","text":"a"}'
    return ('{"model":"%s","messages":[{"role":"user","content":[' % model + ",".join([part] * n) + "]}]}").encode()


def test_too_many_content_parts_is_a_named_400(probe):
    g, _ = probe(standins.fixed(200, CONVERSE_OK))
    body = parts_body(200_000)
    assert len(body) < 16 * 1024 * 1024
    status, data = post(g.port, body, timeout=60)
    assert status == 400, data[:300]
    err = openai_error(data)
    assert err["type"] == "invalid_request_error" and "maxContentParts" in err["message"], err


def test_too_many_messages_is_a_named_400(probe):
    g, _ = probe(standins.fixed(200, CONVERSE_OK))
    body = json.dumps({"model": "m", "messages": [{"role": "user", "content": "a"}] * 20_000})
    status, data = post(g.port, body, timeout=60)
    assert status == 400, data[:300]
    err = openai_error(data)
    assert err["type"] == "invalid_request_error" and "maxMessages" in err["message"], err


# The bodies in flight are 4 x 8 MB = 32 MB; holding each body, its parsed form and the Converse
# bytes (~3x) plus the idle process (~15 MB) is ~110 MB. 160 MB leaves room for allocator slack
# while catching a per-part amplification: the old binary peaked at 246-312 MB here.
PEAK_RSS_LIMIT_MB = 160


def test_peak_memory_with_concurrent_bodies_of_tiny_parts(probe):
    """Four concurrent ~8 MB bodies of 300,000 tiny text parts each: whatever the answer (400 for
    the part cap, or a completion), the gateway's peak RSS (VmHWM) stays under the limit."""
    g, _ = probe(standins.fixed(200, CONVERSE_OK), max_concurrent=64)
    body = parts_body(300_000, model="standin-m")
    assert 7.5e6 < len(body) < 16 * 1024 * 1024
    before = g.vm_hwm_kib()
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: post(g.port, body, timeout=120)[0], range(4)))
    peak_mb = g.vm_hwm_kib() / 1024
    print(f"gateway VmHWM: {before / 1024:.0f} MB at start, {peak_mb:.0f} MB after 4 x "
          f"{len(body) / 1e6:.1f} MB bodies; statuses {results}")
    assert all(s in (200, 400) for s in results), results
    assert peak_mb < PEAK_RSS_LIMIT_MB, f"peak RSS {peak_mb:.0f} MB"


# --- 10. --check rejects configs that cannot work ----------------------------------------------

CHECK_BASE = """
listeners:
  - name: main
    address: 127.0.0.1:18080
    limits: {maxBodyBytes: 1048576}
admin: {address: "127.0.0.1:18081"}
metrics: {address: "127.0.0.1:18082"}
secrets: [{name: static, stringData: {accessKey: AKIDX, secretKey: sk}}]
backends:
  - name: b
    ai: {provider: {bedrock: {region: us-east-1, endpoint: "http://127.0.0.1:9000"}}}
    policies: {auth: {aws: {secretRef: {name: static}}}}
routes:
  - name: r1
    matches: [{path: {type: PathPrefix, value: /v1/chat/completions}, model: "a-*"}]
    backendRefs: [{name: b}]
    timeouts: {total: 60s}
  - name: r2
    matches: [{path: {type: PathPrefix, value: /v1/chat/completions}}]
    backendRefs: [{name: b}]
"""

CHECK_CASES = {
    # case: (replace, with, key paths the error must name)
    "admin-on-listener-address": ('admin: {address: "127.0.0.1:18081"}', 'admin: {address: "127.0.0.1:18080"}',
                                  ["admin.address", "listeners[0].address"]),
    "huge-duration": ("total: 60s", "total: 99999999999999999999h", ["routes[0].timeouts.total"]),
    "missing-ca-file": ("policies: {auth: {aws: {secretRef: {name: static}}}}",
                        "policies: {auth: {aws: {secretRef: {name: static}}}, tls: {caFile: /nonexistent/basalt-ca.pem}}",
                        ["backends[0].policies.tls.caFile"]),
    "endpoint-port-70000": ("http://127.0.0.1:9000", "http://127.0.0.1:70000", ["backends[0].ai.provider.bedrock.endpoint"]),
    "zero-max-body-bytes": ("maxBodyBytes: 1048576", "maxBodyBytes: 0", ["listeners[0].limits.maxBodyBytes"]),
    "duplicate-route-name": ("- name: r2", "- name: r1", ["routes[1].name"]),
}


def test_check_base_config_is_valid(tmp_path):
    path = tmp_path / "ok.yaml"
    path.write_text(CHECK_BASE)
    r = subprocess.run([BASALT, "--config", str(path), "--check"], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr


@pytest.mark.parametrize("case", sorted(CHECK_CASES))
def test_check_rejects_unworkable_config(tmp_path, case):
    old, new, keys = CHECK_CASES[case]
    assert old in CHECK_BASE
    path = tmp_path / "bad.yaml"
    path.write_text(CHECK_BASE.replace(old, new, 1))
    r = subprocess.run([BASALT, "--config", str(path), "--check"], capture_output=True, text=True, timeout=30)
    assert r.returncode not in (0, 101), (r.returncode, r.stdout, r.stderr)
    assert "panicked" not in r.stderr, r.stderr
    for key in keys:
        assert key in r.stderr, (key, r.stderr)
