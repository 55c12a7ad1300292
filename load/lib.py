"""Shared helpers for the load scripts: start `basalt-sim` (fast mode) and `basalt` on free loopback
ports with a generated config, read a process's CPU time and RSS from /proc, and tear down."""

import os
import platform
import socket
import subprocess
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
BASALT = os.environ.get("BASALT_BIN", os.path.join(TARGET, "release", "basalt"))
SIM = os.path.join(TARGET, "release", "basalt-sim")
CLK_TCK = os.sysconf("SC_CLK_TCK")

CONFIG = """
server: {{threads: {threads}}}
listeners:
  - name: default
    address: 127.0.0.1:{gw}
    limits: {{maxBodyBytes: 8388608, maxConcurrentRequests: 100000}}
admin: {{address: 127.0.0.1:{admin}}}
metrics: {{address: 127.0.0.1:{metrics}}}
secrets:
  - name: static
    stringData: {{accessKey: AKIDBASALTLOCAL, secretKey: basalt-local-secret-key}}
backends:
  - name: sim
    ai: {{provider: {{bedrock: {{region: us-east-1, endpoint: "http://127.0.0.1:{sim}"}}}}}}
    policies: {{auth: {{aws: {{secretRef: {{name: static}}}}}}}}
routes:
  - name: bedrock
    matches: [{{path: {{type: PathPrefix, value: /v1/chat/completions}}, model: "*"}}]
    backendRefs: [{{name: sim}}]
    timeouts: {{total: 600s, streamIdle: 60s}}
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url, timeout=20.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1) as r:
                if r.status == 200:
                    return
        except Exception:
            time.sleep(0.05)
    raise RuntimeError(f"{url} not ready after {timeout}s")


def proc_cpu_seconds(pid):
    """utime + stime of a process, in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def proc_rss_kib(pid, key="VmRSS"):
    """VmRSS (or VmHWM, the peak) of a process, in KiB."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def machine():
    cpu = "unknown cpu"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(l.split(":", 1)[1].strip() for l in f if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{os.cpu_count()} cores, {cpu}, {platform.system()} {platform.release()}"


class Stack:
    """`basalt-sim --no-verify --no-record` plus `basalt` in front of it."""

    def __init__(self, sim_latency="0ms", threads=None, sim_threads=1):
        self.tmp = tempfile.TemporaryDirectory()
        self.ports = {k: free_port() for k in ("gw", "admin", "metrics", "sim")}
        path = os.path.join(self.tmp.name, "load.yaml")
        with open(path, "w") as f:
            f.write(CONFIG.format(threads=threads or os.cpu_count(), **self.ports))
        env = dict(os.environ, BASALT_LOG="warn")
        # The gateway keeps its access log on (`info`, one JSON line per request, written to
        # stderr sent to /dev/null) so no measured figure comes from a feature switched off.
        gw_env = dict(os.environ, BASALT_LOG=os.environ.get("BASALT_LOG", "info"))
        self.sim = subprocess.Popen(
            [SIM, "--listen", f"127.0.0.1:{self.ports['sim']}", "--no-verify", "--no-record",
             "--latency", sim_latency, "--threads", str(sim_threads)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        self.gw = subprocess.Popen([BASALT, "--config", path], stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL, env=gw_env)
        wait_http(f"http://127.0.0.1:{self.ports['admin']}/healthz/ready")
        wait_http(f"http://127.0.0.1:{self.ports['sim']}/_sim/streams")

    @property
    def gw_addr(self):
        return ("127.0.0.1", self.ports["gw"])

    @property
    def sim_addr(self):
        return ("127.0.0.1", self.ports["sim"])

    def stop(self):
        for p in (self.gw, self.sim):
            p.terminate()
        for p in (self.gw, self.sim):
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
        self.tmp.cleanup()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def chat_body(text, model="amazon.nova-micro-v1:0", stream=False, **extra):
    import json

    return json.dumps({"model": model, "stream": stream,
                       "messages": [{"role": "user", "content": text}], **extra}).encode()


def converse_body(text):
    import json

    return json.dumps({"messages": [{"role": "user", "content": [{"text": text}]}]}).encode()


def median(xs):
    xs = sorted(xs)
    n = len(xs)
    return (xs[n // 2] + xs[(n - 1) // 2]) / 2 if n else float("nan")


def percentile(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * p / 100))] if xs else float("nan")
