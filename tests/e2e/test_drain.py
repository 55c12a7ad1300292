"""Graceful drain on SIGTERM: readiness turns 503 at once, an open stream finishes, the process
exits 0 as soon as nothing is in progress (at once when idle), and at the latest when
`server.gracePeriod` is over."""

import signal
import threading
import time
import urllib.error
import urllib.request

import standins
from conftest import AK, SK

CONFIG = """
listeners: [{{name: default, address: "127.0.0.1:{gw}"}}]
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
server: {{gracePeriod: {grace}}}
"""


def ready_status(g):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{g.admin_port}/healthz/ready", timeout=5) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


def start_stream(g, pace):
    """Open a paced stream in a thread; returns (first-chunk event, result dict, thread)."""
    first, out = threading.Event(), {"chunks": 0, "error": None}

    def run():
        try:
            for chunk in g.client().chat.completions.create(
                    model="m", stream=True,
                    messages=[{"role": "user", "content": f"drain me [sim:pace={pace}]"}]):
                out["chunks"] += 1
                first.set()
        except Exception as e:  # recorded for the assertion
            out["error"] = repr(e)
        first.set()

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return first, out, t


def test_idle_sigterm_exits_at_once(stack):
    g = standins.Gateway(CONFIG, ak=AK, sk=SK, sim=stack.ports["sim"], grace="30s")
    try:
        g.client().chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}])
        t0 = time.monotonic()
        g.proc.send_signal(signal.SIGTERM)
        rc = g.proc.wait(timeout=20)
        took = time.monotonic() - t0
        # Bound: 2 s (it takes ~50 ms; Pingora alone slept the whole 30 s grace period).
        assert rc == 0 and took < 2.0, (rc, took)
        assert "drained: no request in progress" in g.logs()
    finally:
        g.close()


def test_sigterm_lets_an_open_stream_finish_and_readiness_turns_503(stack):
    g = standins.Gateway(CONFIG, ak=AK, sk=SK, sim=stack.ports["sim"], grace="20s")
    try:
        assert ready_status(g) == 200
        first, out, t = start_stream(g, "300ms")
        assert first.wait(10), "no first chunk"
        t0 = time.monotonic()
        g.proc.send_signal(signal.SIGTERM)
        time.sleep(0.2)
        assert ready_status(g) == 503, "readiness must turn 503 at once"
        assert g.proc.poll() is None, "exited with a stream open"
        t.join(timeout=20)
        assert out["error"] is None, out
        assert out["chunks"] >= 3, out
        rc = g.proc.wait(timeout=20)
        took = time.monotonic() - t0
        # The stream needs ~1-2 s more; the exit follows it closely, far within the 20 s grace.
        assert rc == 0 and took < 10.0, (rc, took)
    finally:
        g.close()


def test_the_grace_period_bounds_the_drain(stack):
    g = standins.Gateway(CONFIG, ak=AK, sk=SK, sim=stack.ports["sim"], grace="1s")
    try:
        first, out, t = start_stream(g, "1500ms")
        assert first.wait(10)
        t0 = time.monotonic()
        g.proc.send_signal(signal.SIGTERM)
        rc = g.proc.wait(timeout=20)
        took = time.monotonic() - t0
        # Bound: 1 s grace + 2 s slack; the stream alone would need several seconds more.
        assert rc == 0 and 0.9 < took < 3.0, (rc, took)
        assert "grace period (1s) over with 1 request(s) in progress" in g.logs()
    finally:
        g.close()


def test_sigint_during_a_drain_exits_at_once(stack):
    g = standins.Gateway(CONFIG, ak=AK, sk=SK, sim=stack.ports["sim"], grace="30s")
    try:
        first, out, t = start_stream(g, "1500ms")
        assert first.wait(10)
        g.proc.send_signal(signal.SIGTERM)
        time.sleep(0.3)
        assert g.proc.poll() is None
        t0 = time.monotonic()
        g.proc.send_signal(signal.SIGINT)
        rc = g.proc.wait(timeout=20)
        assert rc == 0 and time.monotonic() - t0 < 2.0
    finally:
        g.close()
