"""HTTP hygiene limits on a listener (`listeners[].limits`): a whole-head deadline
(slowloris → 408 and close), head size (431), header count (431), request-line length (414),
keep-alive idle close, and the cap on open connections (503 and close) — each without
disturbing a normal client on the same listener."""

import socket
import time

import pytest

import standins
from conftest import AK, SK

CONFIG = """
listeners:
  - name: default
    address: "127.0.0.1:{gw}"
    limits: {{headerTimeout: 1s, idleTimeout: 1500ms, maxConnections: 20, maxHeaderBytes: 4096}}
admin: {{address: "127.0.0.1:{admin}"}}
metrics: {{address: "127.0.0.1:{metrics}"}}
secrets: [{{name: s, stringData: {{accessKey: {ak}, secretKey: {sk}}}}}]
backends:
  - name: sim
    ai: {{provider: {{bedrock: {{region: us-east-1, endpoint: "http://127.0.0.1:{sim}"}}}}}}
    policies: {{auth: {{aws: {{secretRef: {{name: s}}}}}}}}
routes:
  - name: r
    matches: [{{path: {{type: PathPrefix, value: /v1/chat/completions}}}}]
    backendRefs: [{{name: sim}}]
"""


@pytest.fixture(scope="module")
def gw(stack):
    g = standins.Gateway(CONFIG, ak=AK, sk=SK, sim=stack.ports["sim"])
    yield g
    g.close()


def connect(gw):
    s = socket.create_connection(("127.0.0.1", gw.port), timeout=10)
    return s


def read_all(s, limit=10.0):
    """Everything until the peer closes (or `limit` seconds)."""
    s.settimeout(limit)
    out = b""
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return out, True
            out += chunk
    except socket.timeout:
        return out, False


def normal_request_ok(gw):
    r = gw.client().chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}])
    return bool(r.choices[0].message.content)


def test_slowloris_head_is_cut_at_the_header_timeout(gw):
    s = connect(gw)
    t0 = time.monotonic()
    head = b"GET /v1/models HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 50
    closed_at = None
    for b in head:  # ~1 byte per 50 ms: 3 s for the whole head, past the 1 s deadline
        try:
            s.sendall(bytes([b]))
        except OSError:
            break
        time.sleep(0.05)
        if time.monotonic() - t0 > 4:
            break
    answer, closed = read_all(s, 5)
    took = time.monotonic() - t0
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
    assert closed
    assert normal_request_ok(gw)
    # Bound: the 1 s deadline, with slack for a loaded machine.
    assert took < 6, took


def test_a_connection_that_never_sends_is_closed(gw):
    s = connect(gw)
    t0 = time.monotonic()
    answer, closed = read_all(s, 6)
    assert closed and answer == b"", answer
    assert 0.8 < time.monotonic() - t0 < 5


def test_oversized_head_is_431(gw):
    s = connect(gw)
    s.sendall(b"GET /v1/models HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 5000 + b"\r\n\r\n")
    answer, closed = read_all(s)
    assert answer.startswith(b"HTTP/1.1 431"), answer[:200]
    assert b"request_header_fields_too_large" in answer
    assert closed
    assert normal_request_ok(gw)


def test_too_many_headers_is_431(gw):
    s = connect(gw)
    headers = b"".join(b"X-H%d: 1\r\n" % i for i in range(150))
    s.sendall(b"GET /v1/models HTTP/1.1\r\nHost: x\r\n" + headers + b"\r\n")
    answer, closed = read_all(s)
    assert answer.startswith(b"HTTP/1.1 431"), answer[:200]
    assert closed


def test_long_url_is_414(gw):
    s = connect(gw)
    s.sendall(b"GET /v1/models?q=" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
    answer, closed = read_all(s)
    assert answer.startswith(b"HTTP/1.1 414"), answer[:200]
    assert closed


def test_a_head_within_the_limits_is_served_and_kept_alive_until_idle(gw):
    # One model, not the list: the answer fits one recv (the list outgrew a TCP segment).
    s = connect(gw)
    s.sendall(b"GET /v1/models/amazon.nova-micro-v1:0 HTTP/1.1\r\nHost: x\r\nX-Ok: " + b"a" * 3000 + b"\r\n\r\n")
    s.settimeout(5)
    first = s.recv(65536)
    assert first.startswith(b"HTTP/1.1 200"), first[:200]
    t0 = time.monotonic()
    time.sleep(0.5)  # within idleTimeout: the connection is reused
    s.sendall(b"GET /v1/models/amazon.nova-micro-v1:0 HTTP/1.1\r\nHost: x\r\n\r\n")
    second = s.recv(65536)
    assert second.startswith(b"HTTP/1.1 200"), second[:200]
    t0 = time.monotonic()
    rest, closed = read_all(s, 6)
    assert closed and rest == b""
    # idleTimeout 1.5 s; bound 5 s for a loaded machine.
    assert 1.2 < time.monotonic() - t0 < 5


def test_connections_past_the_cap_are_refused_with_503(gw):
    held = [connect(gw) for _ in range(20)]
    try:
        time.sleep(0.3)
        extra = connect(gw)
        answer, closed = read_all(extra, 5)
        assert answer.startswith(b"HTTP/1.1 503"), answer[:200]
        assert closed
    finally:
        for s in held:
            s.close()
    time.sleep(0.3)
    assert normal_request_ok(gw)
    assert "limits.maxConnections" in gw.logs()
