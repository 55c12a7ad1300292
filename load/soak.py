"""Soak: a mix of streaming and non-streaming requests for several minutes against two simulator
backends of equal priority, with injected faults, to show what retries and failover absorb.

    python3 load/soak.py [--duration 180] [--concurrency 8]

Loopback only, bounded in time. Starts two `basalt-sim` (A and B) and `basalt` with one route
over both (retry attempts 4, failover after 3 failures for 5 s). Faults, by request text:
throttling (`[sim:fail=1:ThrottlingException]`, 5 % of requests), an exception as the first
stream event (`[sim:fail=1:ServiceUnavailableException] [sim:fail-in-stream]`), slow first bytes
(`[sim:latency=300ms]`); and backend B is killed at 1/3 of the run and restarted at 2/3.
Mid-stream exceptions (`[sim:stream-error=...]`, after the first byte reached the client) cannot
be absorbed and are counted apart as "expected".

Reports requests, client-visible errors by type, upstream attempts per request (from
`basalt_upstream_attempts_total`), and the gateway's RSS and open fds at start and end.
"""

import argparse
import http.client
import json
import os
import random
import subprocess
import tempfile
import threading
import time
import urllib.request
from collections import Counter

from lib import BASALT, SIM, free_port, machine, proc_rss_kib, wait_http

CONFIG = """
listeners: [{{name: default, address: "127.0.0.1:{gw}"}}]
admin: {{address: "127.0.0.1:{admin}"}}
metrics: {{address: "127.0.0.1:{metrics}"}}
secrets: [{{name: s, stringData: {{accessKey: AKIDBASALTLOCAL, secretKey: basalt-local-secret-key}}}}]
backends:
  - name: a
    ai: {{provider: {{bedrock: {{model: "amazon.nova-micro-v1:0", region: us-east-1, endpoint: "http://127.0.0.1:{a}"}}}}}}
    policies: {{auth: {{aws: {{secretRef: {{name: s}}}}}}}}
  - name: b
    ai: {{provider: {{bedrock: {{model: "amazon.nova-micro-v1:0", region: us-west-2, endpoint: "http://127.0.0.1:{b}"}}}}}}
    policies: {{auth: {{aws: {{secretRef: {{name: s}}}}}}}}
routes:
  - name: soak
    matches: [{{path: {{type: PathPrefix, value: /v1/chat/completions}}}}]
    backendRefs: [{{name: a, priority: 0}}, {{name: b, priority: 0}}]
    retry: {{attempts: 4, backoff: 20ms, maxBackoff: 200ms}}
    failover: {{consecutiveFailures: 3, ejectFor: 5s}}
    timeouts: {{firstByte: 10s, total: 30s}}
"""


def start_sim(port):
    return subprocess.Popen([SIM, "--listen", f"127.0.0.1:{port}", "--no-record"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def pick_fault(rng, stream):
    """(text, expected_error): what this request asks of the simulator."""
    tag = f"{rng.getrandbits(64):016x}"
    r = rng.random()
    # Each simulator counts a text's failures itself: a retry that moves to the other backend
    # fails there once too, so each of these faults costs two retries. 5 % + 2 % of requests,
    # plus the outage, stay inside the retry budget (20 % of a backend's requests).
    if r < 0.05:
        return f"[sim:fail=1:ThrottlingException] {tag}", False
    if r < 0.07 and stream:
        return f"[sim:fail=1:ServiceUnavailableException] [sim:fail-in-stream] {tag}", False
    if r < 0.12:
        return f"[sim:latency=300ms] {tag}", False
    if r < 0.14 and stream:
        return f"[sim:stream-error=throttlingException] {tag}", True
    return f"Tell me something about basalt {tag}", False


def one_request(port, rng):
    stream = rng.random() < 0.5
    text, expected = pick_fault(rng, stream)
    body = json.dumps({"model": "m", "stream": stream, "messages": [{"role": "user", "content": text}]})
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request("POST", "/v1/chat/completions", body, {"content-type": "application/json"})
        r = conn.getresponse()
        data = r.read()
    except Exception as e:  # a transport failure is a client-visible error too
        return f"transport:{type(e).__name__}", expected
    finally:
        conn.close()
    if r.status != 200:
        try:
            code = json.loads(data)["error"]["code"]
        except Exception:
            code = "unparsable"
        return f"{r.status}:{code}", expected
    if stream and b'"error"' in data:
        return "stream-error-event", expected
    if stream and not data.rstrip().endswith(b"data: [DONE]"):
        return "stream-truncated", expected
    return None, expected


def metric_sum(port, name):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=30) as r:
        text = r.read().decode()
    return sum(float(l.rsplit(" ", 1)[1]) for l in text.splitlines() if l.startswith(name + "{"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--duration", type=int, default=180)
    ap.add_argument("--concurrency", type=int, default=8)
    args = ap.parse_args()
    ports = {k: free_port() for k in ("gw", "admin", "metrics", "a", "b")}
    tmp = tempfile.TemporaryDirectory()
    cfg = os.path.join(tmp.name, "soak.yaml")
    with open(cfg, "w") as f:
        f.write(CONFIG.format(**ports))
    sims = {"a": start_sim(ports["a"]), "b": start_sim(ports["b"])}
    gw = subprocess.Popen([BASALT, "--config", cfg], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                          env=dict(os.environ, BASALT_LOG="warn"))
    try:
        wait_http(f"http://127.0.0.1:{ports['admin']}/healthz/ready")
        for k in ("a", "b"):
            wait_http(f"http://127.0.0.1:{ports[k]}/_sim/requests")
        start = {"rss_kib": proc_rss_kib(gw.pid), "fds": fds(gw.pid)}
        results, lock = Counter(), threading.Lock()
        stop_at = time.monotonic() + args.duration

        def worker(seed):
            rng = random.Random(seed)
            while time.monotonic() < stop_at:
                err, expected = one_request(ports["gw"], rng)
                with lock:
                    results["requests"] += 1
                    if err:
                        results[("expected " if expected else "") + err] += 1

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(args.concurrency)]
        for t in threads:
            t.start()
        t0 = time.monotonic()
        time.sleep(args.duration / 3)
        sims["b"].kill()
        sims["b"].wait()
        print(f"[{time.monotonic() - t0:5.1f}s] backend b down", flush=True)
        time.sleep(args.duration / 3)
        sims["b"] = start_sim(ports["b"])
        print(f"[{time.monotonic() - t0:5.1f}s] backend b back", flush=True)
        for t in threads:
            t.join()
        time.sleep(1)
        end = {"rss_kib": proc_rss_kib(gw.pid), "fds": fds(gw.pid)}
        attempts = metric_sum(ports["metrics"], "basalt_upstream_attempts_total")
        retries = metric_sum(ports["metrics"], "basalt_retries_total")
        n = results.pop("requests", 0)
        unexpected = {k: v for k, v in results.items() if not k.startswith("expected")}
        expected = {k: v for k, v in results.items() if k.startswith("expected")}
        print(f"machine: {machine()}")
        print(f"duration {args.duration} s, concurrency {args.concurrency}: {n} requests, "
              f"{n / args.duration:.1f} req/s")
        print(f"client-visible errors a retry or failover can absorb: {sum(unexpected.values())} {unexpected}")
        print(f"mid-stream errors (after the first byte; expected): {sum(expected.values())} {expected}")
        print(f"upstream attempts per request: {attempts / max(n, 1):.3f} ({int(attempts)} attempts, "
              f"{int(retries)} retries)")
        print(f"gateway RSS: {start['rss_kib'] / 1024:.1f} MiB -> {end['rss_kib'] / 1024:.1f} MiB; "
              f"open fds: {start['fds']} -> {end['fds']}")
    finally:
        gw.terminate()
        for p in sims.values():
            p.terminate()
        for p in [gw, *sims.values()]:
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
        tmp.cleanup()


if __name__ == "__main__":
    main()
