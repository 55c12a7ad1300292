"""End-to-end harness: starts the real `basalt` binary and the `basalt-sim` Bedrock simulator
(release builds) on free loopback ports with a generated config, and tears them down."""

import json
import os
import socket
import subprocess
import tempfile
import time
import urllib.request

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
BASALT = os.path.join(TARGET, "release", "basalt")
SIM = os.path.join(TARGET, "release", "basalt-sim")

AK, SK = "AKIDBASALTLOCAL", "basalt-local-secret-key"
TOKEN_AK, TOKEN_SK, TOKEN = "ASIATEMPORARY", "temporary-secret", "session-token-value+/="
API_KEY = "basalt-local-api-key"
CLIENT_KEY = "team-a-client-key"


_GIVEN = set()


def free_port():
    """A loopback port free now and never handed out before in this session: the kernel may
    return a just-closed port again, and two equal ports in one gateway's config (say `gw` and
    `admin`) make it fail to start (a rare flake, seen once in .ci/run)."""
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in _GIVEN:
            _GIVEN.add(port)
            return port


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


CONFIG = """
listeners:
  - name: default
    address: 127.0.0.1:{gw}
    limits: {{maxBodyBytes: 2097152}}
  - name: tight
    address: 127.0.0.1:{gw_tight}
    limits: {{maxConcurrentRequests: 1}}
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
  - name: with-token
    stringData: {{accessKey: {tak}, secretKey: {tsk}, sessionToken: "{token}"}}
  - name: api-key
    data: {{apiKey: {api_key_b64}}}
  - name: client-keys
    stringData: {{team-a: {client_key}}}
backends:
  - name: sim
    ai: {{provider: {{bedrock: {{region: us-east-1, endpoint: "http://127.0.0.1:{sim}"}}}}}}
    policies: {{auth: {{aws: {{secretRef: {{name: static}}}}}}}}
  - name: sim-fixed
    ai: {{provider: {{bedrock: {{model: "amazon.nova-micro-v1:0", region: eu-west-1, endpoint: "http://127.0.0.1:{sim}"}}}}}}
    policies: {{auth: {{aws: {{secretRef: {{name: static}}}}}}}}
  - name: sim-token
    ai: {{provider: {{bedrock: {{region: us-west-2, endpoint: "http://127.0.0.1:{sim}"}}}}}}
    policies: {{auth: {{aws: {{secretRef: {{name: with-token}}}}}}}}
  - name: sim-apikey
    ai: {{provider: {{bedrock: {{region: us-east-1, endpoint: "http://127.0.0.1:{sim}"}}}}}}
    policies: {{auth: {{apiKey: {{secretRef: {{name: api-key}}}}}}}}
  - name: sim-profile
    ai: {{provider: {{bedrock: {{model: "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc123", modelFamily: claude-adaptive, region: us-east-1, endpoint: "http://127.0.0.1:{sim}"}}}}}}
    policies: {{auth: {{aws: {{secretRef: {{name: static}}}}}}}}
  - name: dead
    ai: {{provider: {{bedrock: {{region: us-east-1, endpoint: "http://127.0.0.1:{dead}"}}}}}}
    policies: {{auth: {{aws: {{secretRef: {{name: static}}}}}}}}
routes:
  - name: fixed
    matches: [{{path: {{type: PathPrefix, value: /v1/chat/completions}}, model: fixed}}]
    backendRefs: [{{name: sim-fixed}}]
  - name: token
    matches: [{{path: {{type: PathPrefix, value: /v1/chat/completions}}, model: "token-*"}}]
    backendRefs: [{{name: sim-token}}]
  - name: apikey
    matches: [{{path: {{type: PathPrefix, value: /v1/chat/completions}}, model: "apikey-*"}}]
    backendRefs: [{{name: sim-apikey}}]
  - name: metered
    matches: [{{path: {{type: PathPrefix, value: /v1/chat/completions}}, model: "metered-*"}}]
    backendRefs: [{{name: sim}}]
  - name: profile
    matches: [{{path: {{type: PathPrefix, value: /v1/chat/completions}}, model: "profile-*"}}]
    backendRefs: [{{name: sim-profile}}]
  - name: dead
    matches: [{{path: {{type: PathPrefix, value: /v1/chat/completions}}, model: "dead-*"}}]
    backendRefs: [{{name: dead}}]
  - name: slow
    matches: [{{path: {{type: PathPrefix, value: /v1/chat/completions}}, model: "slow-*"}}]
    backendRefs: [{{name: sim}}]
    timeouts: {{firstByte: 1s, total: 2s}}
  - name: idle
    matches: [{{path: {{type: PathPrefix, value: /v1/chat/completions}}, model: "idle-*"}}]
    backendRefs: [{{name: sim}}]
    timeouts: {{streamIdle: 1s}}
  - name: budget
    matches: [{{path: {{type: PathPrefix, value: /v1/chat/completions}}, model: "budget-*"}}]
    backendRefs: [{{name: sim}}]
    timeouts: {{total: 2s}}
  - name: bedrock
    matches: [{{path: {{type: PathPrefix, value: /v1/chat/completions}}, model: "*"}}]
    backendRefs: [{{name: sim}}]
policies:
  - name: bedrock-caching-policy
    targetRefs: [{{kind: HTTPRoute, name: bedrock}}]
    backend: {{ai: {{promptCaching: {{cacheSystem: true, cacheMessages: true, cacheTools: false, minTokens: 1024}}}}}}
"""


class Stack:
    def __init__(self, tmp):
        import base64

        self.ports = {k: free_port() for k in ("gw", "gw_tight", "gw_auth", "admin", "metrics", "sim", "dead")}
        self.config_path = os.path.join(tmp, "gateway.yaml")
        with open(self.config_path, "w") as f:
            f.write(
                CONFIG.format(
                    ak=AK, sk=SK, tak=TOKEN_AK, tsk=TOKEN_SK, token=TOKEN,
                    api_key_b64=base64.b64encode(API_KEY.encode()).decode(),
                    client_key=CLIENT_KEY, **self.ports,
                )
            )
        self.log = open(os.path.join(tmp, "basalt.log"), "w+")
        env = dict(os.environ, BASALT_LOG="info")
        self.sim = subprocess.Popen(
            [SIM, "--listen", f"127.0.0.1:{self.ports['sim']}", "--credential", f"{TOKEN_AK}:{TOKEN_SK}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
        )
        self.gw = subprocess.Popen([BASALT, "--config", self.config_path], stdout=self.log, stderr=self.log, env=env)
        wait_http(f"http://127.0.0.1:{self.ports['admin']}/healthz/ready")
        wait_http(f"http://127.0.0.1:{self.ports['sim']}/_sim/requests")

    @property
    def base_url(self):
        return f"http://127.0.0.1:{self.ports['gw']}/v1"

    def sim_url(self, path):
        return f"http://127.0.0.1:{self.ports['sim']}{path}"

    def clear(self):
        urllib.request.urlopen(urllib.request.Request(self.sim_url("/_sim/requests"), method="DELETE")).read()

    def upstream_requests(self):
        with urllib.request.urlopen(self.sim_url("/_sim/requests")) as r:
            return json.loads(r.read())

    def last_upstream(self):
        reqs = self.upstream_requests()
        assert reqs, "the simulator received no request"
        return reqs[-1]

    def log_text(self):
        self.log.flush()
        self.log.seek(0)
        return self.log.read()

    def access_lines(self):
        return [json.loads(line.split("] ", 1)[1]) for line in self.log_text().splitlines()
                if "basalt::access]" in line]

    def access_line(self, match, timeout=3.0):
        """The first access line for which `match(line)` holds, waiting for it: the line is
        written in the logging phase, after the client already has its answer."""
        deadline = time.monotonic() + timeout
        while True:
            line = next((a for a in self.access_lines() if match(a)), None)
            if line is not None or time.monotonic() > deadline:
                return line
            time.sleep(0.05)

    def stop(self):
        for p in (self.gw, self.sim):
            p.terminate()
        for p in (self.gw, self.sim):
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()


@pytest.fixture(scope="session")
def stack():
    with tempfile.TemporaryDirectory() as tmp:
        s = Stack(tmp)
        try:
            yield s
        finally:
            s.stop()


@pytest.fixture
def client(stack):
    import openai

    return openai.OpenAI(base_url=stack.base_url, api_key="unused-by-basalt", max_retries=0, timeout=30)
