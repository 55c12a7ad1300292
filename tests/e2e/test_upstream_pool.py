"""The gateway's own upstream keep-alive pool: a pooled connection that Bedrock closed while it
sat idle must not fail the next request — it is retried on a fresh connection — and a busy
backend reuses its connections instead of reconnecting."""

import json
import subprocess
import time
import urllib.request

import pytest

from conftest import SIM, free_port, wait_http
from test_credentials import Gateway

AK, SK = "AKIAPOOLTEST", "pool-test-secret"


@pytest.fixture(scope="module")
def short_keepalive_sim():
    """A simulator that closes idle keep-alive connections after 1 s."""
    port = free_port()
    p = subprocess.Popen([SIM, "--listen", f"127.0.0.1:{port}", "--keepalive", "1", "--credential", f"{AK}:{SK}"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_http(f"http://127.0.0.1:{port}/_sim/requests")
    yield port
    p.terminate()
    p.wait(timeout=10)


def test_connection_closed_by_the_server_while_idle_is_retried(short_keepalive_sim):
    """Each round: two back-to-back requests share one upstream connection (so pooling is on
    and the pool holds that connection), then a 1.6 s pause lets the simulator close it. The
    next round's first request takes the dead pooled connection and must still succeed, on a new
    connection. Without pooling the same-connection assertion fails; without the retry, the
    request after each pause does."""
    g = Gateway(short_keepalive_sim, auth="{aws: {secretRef: {name: keys}}}",
                secrets=f"secrets: [{{name: keys, stringData: {{accessKey: {AK}, secretKey: {SK}}}}}]")
    try:
        clear(short_keepalive_sim)
        for _ in range(3):
            assert g.ask().choices[0].message.content
            assert g.ask().choices[0].message.content
            time.sleep(1.6)  # the simulator closes connections idle for 1 s
        # Streaming takes the same path.
        chunks = list(g.client.chat.completions.create(
            model="amazon.nova-micro-v1:0", stream=True, messages=[{"role": "user", "content": "hi"}]))
        assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        assert chunks[-1].choices[0].finish_reason == "stop"
        peers = upstream_peers(short_keepalive_sim)
        assert len(peers) == 7, peers  # each request reached the simulator once
        rounds = [peers[i:i + 2] for i in range(0, 6, 2)]
        assert all(a == b for a, b in rounds), f"no connection reuse within a round: {rounds}"
        firsts = [r[0] for r in rounds] + [peers[6]]
        assert len(set(firsts)) == 4, f"a connection survived the server closing it? {firsts}"
    finally:
        g.close()


def clear(sim_port):
    urllib.request.urlopen(urllib.request.Request(
        f"http://127.0.0.1:{sim_port}/_sim/requests", method="DELETE")).read()


def upstream_peers(sim_port):
    with urllib.request.urlopen(f"http://127.0.0.1:{sim_port}/_sim/requests") as r:
        return [req["peer"] for req in json.loads(r.read())]


def test_busy_backend_reuses_connections(short_keepalive_sim):
    """50 sequential requests reach the simulator over one or two connections, not fifty (the
    simulator records each request's client address; distinct ports = distinct connections)."""
    g = Gateway(short_keepalive_sim, auth="{aws: {secretRef: {name: keys}}}",
                secrets=f"secrets: [{{name: keys, stringData: {{accessKey: {AK}, secretKey: {SK}}}}}]")
    try:
        clear(short_keepalive_sim)
        for _ in range(50):
            g.ask()
        peers = upstream_peers(short_keepalive_sim)
        assert len(peers) == 50
        assert len(set(peers)) <= 2, sorted(set(peers))
    finally:
        g.close()
