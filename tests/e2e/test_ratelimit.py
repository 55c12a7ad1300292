"""Rate limits and token budgets (`policies[].rateLimit`): the 429 with Retry-After and no Bedrock
call, OpenAI's x-ratelimit-* headers, tokens charged after a stream, overrides, `ip` keys, the
in-process store, and the Redis store shared by two gateway processes, Redis stopped and
restarted (failMode open and closed), and GET /usage. Each test starts its own gateways (and a
real redis-server on a free loopback port, stopped by PID)."""

import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

import pytest

from conftest import AK, BASALT, SIM, SK, free_port, wait_http

KEYS = {"team-a": "key-a-secret-value", "team-b": "key-b-secret-value"}

CONFIG = """
listeners:
  - name: default
    address: 127.0.0.1:{gw}
{auth}
admin: {{address: 127.0.0.1:{admin}}}
metrics: {{address: 127.0.0.1:{metrics}}}
server: {{gracePeriod: 0s}}
secrets:
  - name: static
    stringData: {{accessKey: {ak}, secretKey: {sk}}}
  - name: client-keys
    stringData: {{team-a: {ka}, team-b: {kb}}}
backends:
  - name: sim
    ai: {{provider: {{bedrock: {{region: us-east-1, endpoint: "http://127.0.0.1:{sim}"}}}}}}
    policies: {{auth: {{aws: {{secretRef: {{name: static}}}}}}}}
routes:
  - name: limited
    matches:
      - {{path: {{type: PathPrefix, value: /v1/chat/completions}}}}
      - {{path: {{type: PathPrefix, value: /v1/embeddings}}}}
      - {{path: {{type: PathPrefix, value: /v1/messages}}}}
    backendRefs: [{{name: sim}}]
policies:
  - name: team-limits
    targetRefs: [{{kind: HTTPRoute, name: limited}}]
    rateLimit:
{rate_limit}
"""
AUTH = "    auth: {apiKeys: {secretRef: {name: client-keys}}}"


@pytest.fixture(scope="module")
def sim():
    port = free_port()
    p = subprocess.Popen([SIM, "--listen", f"127.0.0.1:{port}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_http(f"http://127.0.0.1:{port}/_sim/requests")
    yield port
    p.terminate()
    p.wait(timeout=10)


def sim_count(port):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/_sim/requests") as r:
        return len(json.loads(r.read()))


class Redis:
    """A redis-server of our own on a free loopback port, with a password (which must never
    show); stop() and start() keep the port."""

    PASSWORD = "rl-redis-pass-0451"

    def __init__(self, tmp):
        self.port, self.tmp, self.proc = free_port(), tmp, None
        self.url = f"redis://:{self.PASSWORD}@127.0.0.1:{self.port}/0"

    def start(self):
        exe = shutil.which("redis-server")
        assert exe, "redis-server is missing: run .ci/deps --python"
        self.proc = subprocess.Popen(
            [exe, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", self.tmp, "--requirepass", self.PASSWORD],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                import socket
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith((b"+PONG", b"-NOAUTH")):
                        return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self):
        if self.proc:
            self.proc.terminate()
            self.proc.wait(timeout=10)
            self.proc = None


@pytest.fixture
def redis():
    with tempfile.TemporaryDirectory() as tmp:
        r = Redis(tmp)
        r.start()
        try:
            yield r
        finally:
            r.stop()


class Gateway:
    def __init__(self, tmp, sim_port, rate_limit, auth=True, name="gw"):
        self.ports = {k: free_port() for k in ("gw", "admin", "metrics")}
        path = os.path.join(tmp, f"{name}.yaml")
        with open(path, "w") as f:
            f.write(CONFIG.format(auth=AUTH if auth else "", ak=AK, sk=SK, ka=KEYS["team-a"], kb=KEYS["team-b"],
                                  sim=sim_port, rate_limit=rate_limit, **self.ports))
        self.log = open(os.path.join(tmp, f"{name}.log"), "w+")
        self.proc = subprocess.Popen([BASALT, "--config", path], stdout=self.log, stderr=self.log)
        wait_http(f"http://127.0.0.1:{self.ports['admin']}/healthz/ready")

    def chat(self, client="team-a", stream=False, content="hi"):
        body = {"model": "amazon.nova-micro-v1:0", "messages": [{"role": "user", "content": content}]}
        if stream:
            body.update(stream=True, stream_options={"include_usage": True})
        req = urllib.request.Request(
            f"http://127.0.0.1:{self.ports['gw']}/v1/chat/completions", data=json.dumps(body).encode(),
            headers={"content-type": "application/json", "authorization": f"Bearer {KEYS[client]}"},
        )
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.status, dict(r.headers), r.read()
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers), e.read()

    def admin(self, path):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.ports['admin']}{path}") as r:
            return r.read().decode()

    def metric(self, name, **labels):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.ports['metrics']}/metrics") as r:
            text = r.read().decode()
        total = 0.0
        for line in text.splitlines():
            if line.startswith(name + "{") or line.startswith(name + " "):
                if all(f'{k}="{v}"' in line for k, v in labels.items()):
                    total += float(line.rsplit(" ", 1)[1])
        return total

    def usage(self):
        return json.loads(self.admin("/usage"))

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


@pytest.fixture
def gateways(sim):
    started = []
    with tempfile.TemporaryDirectory() as tmp:
        def start(rate_limit, **kw):
            g = Gateway(tmp, sim, rate_limit, name=f"gw{len(started)}", **kw)
            started.append(g)
            return g
        try:
            yield start
        finally:
            for g in started:
                g.stop()


def limits(*entries, key="client", overrides="", store=""):
    out = f"      key: {key}\n      limits:\n"
    out += "".join(f"        - {e}\n" for e in entries)
    return out + overrides + store


def redis_store(url, mode="open", timeout="50ms"):
    return f"      store:\n        redis: {{url: '{url}', failMode: {mode}, timeout: {timeout}}}\n"


GO_DURATION = re.compile(r"^(\d+ms|(\d+h)?(\d+m)?\d+(\.\d+)?s)$")


def test_request_limit_429_with_retry_after_and_no_bedrock_call(gateways, sim):
    g = gateways(limits("{requests: 3, window: 1m}", "{tokens: 1000000, window: 1h}"))
    # The first answer opens the request window (its reset is the whole window); the token
    # window opens with the first charge, so its reset is still the whole window.
    status, h, _ = g.chat()
    assert status == 200
    assert {k: v for k, v in h.items() if k.startswith("x-ratelimit-")} == {
        "x-ratelimit-limit-requests": "3", "x-ratelimit-remaining-requests": "2",
        "x-ratelimit-reset-requests": "1m0s", "x-ratelimit-limit-tokens": "1000000",
        "x-ratelimit-remaining-tokens": "1000000", "x-ratelimit-reset-tokens": "1h0m0s",
    }
    for remaining in (1, 0):
        status, h, _ = g.chat()
        assert status == 200
        assert h["x-ratelimit-limit-requests"] == "3"
        assert h["x-ratelimit-remaining-requests"] == str(remaining)
        assert h["x-ratelimit-limit-tokens"] == "1000000"
        assert GO_DURATION.match(h["x-ratelimit-reset-requests"]), h["x-ratelimit-reset-requests"]
        assert GO_DURATION.match(h["x-ratelimit-reset-tokens"]), h["x-ratelimit-reset-tokens"]
    before = sim_count(sim)
    status, h, body = g.chat()
    assert status == 429
    assert 1 <= int(h["retry-after"]) <= 60
    err = json.loads(body)["error"]
    assert (err["type"], err["code"]) == ("requests", "rate_limit_exceeded"), err
    assert sim_count(sim) == before, "a refused request never reaches Bedrock"
    assert g.metric("basalt_ratelimit_rejected_total", route="limited", key="team-a", limit="requests_per_60s") == 1
    # Another key has its own count.
    assert g.chat("team-b")[0] == 200


def test_overrides_replace_the_limits_of_their_key(gateways):
    g = gateways(limits("{requests: 1, window: 1m}",
                        overrides="      overrides:\n        team-b: [{requests: 4, window: 1m}]\n"))
    assert [g.chat("team-a")[0] for _ in range(2)] == [200, 429]
    statuses = [g.chat("team-b")[0] for _ in range(5)]
    assert statuses == [200, 200, 200, 200, 429]


def test_ip_keys_count_the_peer_address(gateways):
    g = gateways(limits("{requests: 2, window: 1m}", key="ip"), auth=False)
    assert [g.chat()[0] for _ in range(3)] == [200, 200, 429]
    u = g.usage()["policies"][0]
    assert u["keys"][0]["key"] == "127.0.0.1"


def wait_for(fn, timeout=5.0):
    deadline = time.time() + timeout
    while True:
        v = fn()
        if v or time.time() > deadline:
            return v
        time.sleep(0.05)


def streamed_tokens(body):
    usage = None
    for line in body.decode().splitlines():
        if line.startswith("data: {"):
            chunk = json.loads(line[6:])
            if chunk.get("usage"):
                usage = chunk["usage"]
    assert usage, "the stream carried no usage"
    return usage["prompt_tokens"] + usage["completion_tokens"]


def test_tokens_are_charged_after_a_stream_and_stop_the_key(gateways):
    g = gateways(limits("{requests: 100, window: 1m}", "{tokens: 5, window: 1m}"))
    status, h, body = g.chat(stream=True)
    assert status == 200 and h["x-ratelimit-remaining-tokens"] == "5"
    tokens = streamed_tokens(body)
    assert tokens >= 5, "the simulator's answer is larger than the budget"

    def used():
        rows = [r for k in g.usage()["policies"][0]["keys"] for r in k["limits"] if r["kind"] == "tokens"]
        return rows and rows[0]["used"]
    assert wait_for(used) == tokens, "charged exactly Bedrock's input + output tokens"
    assert g.metric("basalt_client_tokens_total", client="team-a") == tokens
    status, h, body = g.chat()
    assert status == 429
    assert json.loads(body)["error"]["type"] == "tokens"
    assert 1 <= int(h["retry-after"]) <= 60


def test_a_stream_the_client_abandons_is_charged_for_what_was_produced(gateways):
    """The client reads the first events of a slow stream and hangs up: Bedrock's usage never
    arrives, so the key is charged an estimate (4 bytes of the Converse request, 4 characters
    of output, per token) — never nothing."""
    import http.client
    g = gateways(limits("{requests: 100, window: 1m}", "{tokens: 1000000, window: 1m}"))
    body = {"model": "amazon.nova-micro-v1:0", "stream": True,
            "messages": [{"role": "user", "content": "[sim:pace=300ms] tell me a long story"}]}
    c = http.client.HTTPConnection("127.0.0.1", g.ports["gw"], timeout=30)
    c.request("POST", "/v1/chat/completions", json.dumps(body),
              {"content-type": "application/json", "authorization": f"Bearer {KEYS['team-a']}"})
    r = c.getresponse()
    assert r.status == 200
    first = r.read(6)  # http.client undoes the chunked framing
    assert first == b"data: ", first
    # Hang up mid-stream, long before the simulator's metadata event (shutdown: the response's
    # file object still holds the socket, so close() alone would not end the connection).
    import socket
    c.sock.shutdown(socket.SHUT_RDWR)
    c.sock.close()

    def used():
        rows = [r for k in g.usage()["policies"][0]["keys"] for r in k["limits"] if r["kind"] == "tokens"]
        return rows and rows[0]["used"]
    charged = wait_for(used)
    # At least the input estimate (the Converse body is > 40 bytes); far below a whole answer's
    # worth of a 1M budget.
    assert charged and 10 <= charged < 10_000, charged
    assert g.metric("basalt_client_tokens_total", client="team-a") == charged


def test_embeddings_and_count_tokens_are_limited_like_chat(gateways, sim):
    """The same route's limit covers every API on it: embeddings (billed: their input tokens are
    charged) and count_tokens (a Bedrock call) are admitted, counted and refused like chat."""
    g = gateways(limits("{requests: 3, window: 1m}", "{tokens: 1000000, window: 1m}"))
    auth = {"content-type": "application/json", "authorization": f"Bearer {KEYS['team-a']}"}

    def post(path, body):
        req = urllib.request.Request(f"http://127.0.0.1:{g.ports['gw']}{path}",
                                     data=json.dumps(body).encode(), headers=auth)
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.status, dict(r.headers), r.read()
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers), e.read()

    emb = {"model": "amazon.titan-embed-text-v2:0", "input": "hello there"}
    ct = {"model": "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
          "messages": [{"role": "user", "content": "hi"}]}
    status, h, _ = post("/v1/embeddings", emb)
    assert status == 200 and h["x-ratelimit-remaining-requests"] == "2", (status, h)
    status, h, _ = post("/v1/messages/count_tokens", ct)
    assert status == 200 and h["x-ratelimit-remaining-requests"] == "1", (status, h)
    assert g.chat()[0] == 200
    before = sim_count(sim)
    status, h, body = post("/v1/embeddings", emb)
    assert status == 429 and json.loads(body)["error"]["code"] == "rate_limit_exceeded", body
    status, h, body = post("/v1/messages/count_tokens", ct)
    # Anthropic's shape on /messages paths.
    assert status == 429 and json.loads(body) == {"type": "error", "error": {
        "type": "rate_limit_error", "message": json.loads(body)["error"]["message"]}}, body
    assert h["retry-after"] and h["x-ratelimit-remaining-requests"] == "0", h
    assert sim_count(sim) == before, "refused before any Bedrock call"

    def used():
        rows = [r for k in g.usage()["policies"][0]["keys"] for r in k["limits"] if r["kind"] == "tokens"]
        return rows and rows[0]["used"]
    assert wait_for(used), "the embeddings' and chat's tokens were charged"


def test_usage_shows_key_names_and_numbers_never_keys(gateways):
    g = gateways(limits("{requests: 10, window: 1m}", "{tokens: 1000000, window: 30d}"))
    g.chat()
    text = g.admin("/usage")
    assert KEYS["team-a"] not in text
    p = json.loads(text)["policies"][0]
    assert (p["policy"], p["key"], p["store"]) == ("default/team-limits", "client", "memory")
    [k] = p["keys"]
    assert k["key"] == "team-a"
    req = next(r for r in k["limits"] if r["kind"] == "requests")
    assert (req["limit"], req["used"], req["remaining"]) == (10, 1, 9)
    assert 50 <= req["resetSeconds"] <= 60
    dump = g.admin("/config_dump")
    assert '"rateLimit"' in dump and KEYS["team-a"] not in dump


def test_two_replicas_share_one_redis_count(gateways, redis):
    rl = limits("{requests: 100, window: 1m}", "{tokens: 5, window: 1m}",
                overrides="      overrides:\n        team-b: [{requests: 6, window: 1m}]\n", store=redis_store(redis.url))
    a, b = gateways(rl), gateways(rl)
    statuses = [(a if i % 2 == 0 else b).chat("team-b")[0] for i in range(10)]
    assert statuses.count(200) == 6 and statuses[6:] == [429] * 4, statuses
    # Tokens charged through one replica stop the key on the other.
    status, _, body = a.chat(stream=True)
    assert status == 200
    streamed_tokens(body)
    assert wait_for(lambda: b.chat()[0] == 429), "b sees the tokens a charged"
    p = b.usage()["policies"][0]
    assert p["store"] == "redis"
    assert {k["key"] for k in p["keys"]} == {"team-a", "team-b"}
    dump = b.admin("/config_dump")
    assert redis.PASSWORD not in dump and f"redis://***@127.0.0.1:{redis.port}/0" in dump


def test_redis_down_fail_open_admits_and_counts_then_recovers(gateways, redis):
    g = gateways(limits("{requests: 100, window: 1m}", store=redis_store(redis.url, "open")))
    status, h, _ = g.chat()
    assert status == 200 and h["x-ratelimit-remaining-requests"] == "99"
    redis.stop()
    t0 = time.monotonic()
    statuses = [g.chat() for _ in range(3)]
    assert [s for s, _, _ in statuses] == [200] * 3
    assert all("x-ratelimit-limit-requests" not in h for _, h, _ in statuses), "no numbers without a store"
    assert time.monotonic() - t0 < 10, "each request waits at most the store timeout (plus Bedrock)"
    assert g.metric("basalt_ratelimit_store_errors_total", policy="default/team-limits") >= 3
    redis.start()  # empty: a fresh Redis holds no counts

    def counted():
        s, h, _ = g.chat()
        return s == 200 and h.get("x-ratelimit-remaining-requests")
    assert wait_for(counted, timeout=10), "counting resumes by itself when Redis is back"
    g.log.flush()
    g.log.seek(0)
    log = g.log.read()
    assert "rate limit store of policy default/team-limits unavailable" in log
    assert log.count("rate limit store of policy") == 1, "logged once per interval"
    assert Redis.PASSWORD not in log


def test_redis_down_fail_closed_answers_503_then_recovers(gateways, redis, sim):
    g = gateways(limits("{requests: 100, window: 1m}", store=redis_store(redis.url, "closed")))
    assert g.chat()[0] == 200
    redis.stop()
    before = sim_count(sim)
    status, _, body = g.chat()
    assert status == 503
    assert json.loads(body)["error"]["code"] == "rate_limit_store_unavailable"
    assert sim_count(sim) == before
    redis.start()
    assert wait_for(lambda: g.chat()[0] == 200, timeout=10), "recovers by itself"


def test_redis_round_trip_cost_is_small(gateways, redis):
    """Bounded load check: p50 latency with the Redis store minus p50 with the in-process store,
    200 sequential requests each on loopback. The issue's target is < 0.2 ms; this shared 2-core
    VM gets a generous 2 ms bound (the measured figure is printed)."""
    mem = gateways(limits("{requests: 100000, window: 1m}"))
    red = gateways(limits("{requests: 100000, window: 1m}", store=redis_store(redis.url, timeout="500ms")))

    def p50(g):
        for _ in range(20):
            g.chat()
        times = []
        for _ in range(200):
            t = time.perf_counter()
            assert g.chat()[0] == 200
            times.append(time.perf_counter() - t)
        return statistics.median(times)
    d = (p50(red) - p50(mem)) * 1000
    print(f"redis store adds {d:.3f} ms p50")
    assert d < 2.0


def test_concurrent_requests_on_two_replicas_admit_exactly_the_limit(gateways, redis):
    from concurrent.futures import ThreadPoolExecutor

    rl = limits("{requests: 20, window: 1m}", store=redis_store(redis.url, timeout="1s"))
    a, b = gateways(rl), gateways(rl)
    with ThreadPoolExecutor(max_workers=16) as pool:
        statuses = list(pool.map(lambda i: (a if i % 2 else b).chat()[0], range(60)))
    assert statuses.count(200) == 20 and statuses.count(429) == 40, statuses


def test_a_hung_redis_delays_no_request_past_the_timeout(gateways, redis):
    """Redis stopped with SIGSTOP: connections stay open but nothing answers. With failMode open
    and timeout 50ms each request is admitted after at most the timeout (bound: 1 s each,
    generous for this shared VM; the simulator answers in milliseconds)."""
    g = gateways(limits("{requests: 100, window: 1m}", store=redis_store(redis.url, "open", "50ms")))
    assert g.chat()[1].get("x-ratelimit-remaining-requests") == "99"
    redis.proc.send_signal(signal.SIGSTOP)
    try:
        for _ in range(3):
            t = time.perf_counter()
            status, h, _ = g.chat()
            assert status == 200 and "x-ratelimit-remaining-requests" not in h
            assert time.perf_counter() - t < 1.0
    finally:
        redis.proc.send_signal(signal.SIGCONT)
    assert wait_for(lambda: g.chat()[1].get("x-ratelimit-remaining-requests"), timeout=10)
