"""The guide's Kubernetes resources, unchanged, as basalt's config: a directory with the guide's
AgentgatewayBackend, HTTPRoute and AgentgatewayPolicy (copied from conf/guide), the Secret as
`kubectl create secret generic ... --dry-run=client -o yaml` prints it, and a Gateway on a free
port; Bedrock's endpoint comes from AWS_ENDPOINT_URL_BEDROCK_RUNTIME (the simulator). Also: the
deploy manifests in conf/kubernetes/ pass kubernetes-validate."""

import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import urllib.request

import pytest

from conftest import BASALT, ROOT, SIM, free_port, wait_http

GUIDE = os.path.join(ROOT, "conf", "guide")
AK, SK, TOKEN = "AKIDGUIDEEXAMPLE", "guide-secret-key", "guide-session-token"
# The guide's chat request (curl ... -d '{...}'), verbatim.
GUIDE_BODY = {
    "model": "",
    "messages": [{
        "role": "user",
        "content": "You are a cloud native solutions architect, skilled in explaining complex technical "
                   "concepts such as API Gateway, microservices, LLM operations, kubernetes, and advanced "
                   "networking patterns. Write me a 20-word pitch on why I should use an AI gateway in my "
                   "Kubernetes cluster.",
    }],
}
GUIDE_QUERY = ('.policies[] | select(.name.name == "bedrock-caching-policy" and '
               '.policy.backend.aI.promptCaching != null)')
# The guide's example output of that query.
GUIDE_OBJECT = {
    "key": "backend/agentgateway-system/bedrock-caching-policy:ai:agentgateway-system/bedrock",
    "name": {"kind": "AgentgatewayPolicy", "name": "bedrock-caching-policy", "namespace": "agentgateway-system"},
    "target": {"route": {"name": "bedrock", "namespace": "agentgateway-system", "kind": "HTTPRoute"}},
    "policy": {"backend": {"aI": {"defaults": {}, "overrides": {}, "promptCaching": {
        "cacheSystem": True, "cacheMessages": True, "cacheTools": False, "minTokens": 1024}}}},
}


def b64(s):
    return base64.b64encode(s.encode()).decode()


def write_guide_dir(d, port):
    """The guide's files unchanged, the kubectl-printed Secret, and a Gateway on `port`."""
    for name in ("2-backend.yaml", "3-httproute.yaml", "4-policy.yaml"):
        shutil.copy(os.path.join(GUIDE, name), d)
    with open(os.path.join(d, "1-secret.yaml"), "w") as f:
        f.write(f"""apiVersion: v1
data:
  accessKey: {b64(AK)}
  secretKey: {b64(SK)}
  sessionToken: {b64(TOKEN)}
kind: Secret
metadata:
  creationTimestamp: null
  name: bedrock-secret
  namespace: agentgateway-system
type: Opaque
""")
    with open(os.path.join(d, "5-gateway.yaml"), "w") as f:
        f.write(f"""apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: agentgateway-proxy
  namespace: agentgateway-system
spec:
  gatewayClassName: agentgateway
  listeners:
  - name: http
    port: {port}
    protocol: HTTP
""")


class Guide:
    def __init__(self, sim_port, env):
        self.sim = sim_port
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = os.path.join(self.tmp.name, "manifests")
        os.mkdir(self.dir)
        self.port, self.admin, self.metrics = free_port(), free_port(), free_port()
        write_guide_dir(self.dir, self.port)
        self.log = open(os.path.join(self.tmp.name, "basalt.log"), "w+")
        full_env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_ENDPOINT_URL")}
        full_env.update(env, BASALT_LOG="info")
        self.proc = subprocess.Popen(
            [BASALT, "--config", self.dir, "--admin", f"127.0.0.1:{self.admin}",
             "--metrics", f"127.0.0.1:{self.metrics}"],
            stdout=self.log, stderr=self.log, env=full_env)
        try:
            wait_http(f"http://127.0.0.1:{self.admin}/healthz/ready")
        except Exception:
            self.close()
            raise

    def chat(self, body):
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}/v1/chat/completions",
                                     data=json.dumps(body).encode(),
                                     headers={"content-type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as r:
            return json.loads(r.read())

    def admin_get(self, path):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.admin}{path}", timeout=10) as r:
            return r.status, r.read()

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self.log.close()
        self.tmp.cleanup()


@pytest.fixture(scope="module")
def sim():
    port = free_port()
    proc = subprocess.Popen([SIM, "--listen", f"127.0.0.1:{port}", "--credential", f"{AK}:{SK}:{TOKEN}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_http(f"http://127.0.0.1:{port}/_sim/requests")
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture(scope="module")
def guide(sim):
    # AWS_ENDPOINT_URL points nowhere: the service-specific variable must win.
    g = Guide(sim, {"AWS_ENDPOINT_URL_BEDROCK_RUNTIME": f"http://127.0.0.1:{sim}",
                    "AWS_ENDPOINT_URL": "http://127.0.0.1:9"})
    yield g
    g.close()


def sim_requests(port):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/_sim/requests") as r:
        return json.loads(r.read())


def header(req, name):
    return next((v for k, v in req["headers"] if k.lower() == name), None)


def test_the_guide_chat_request_answers(guide, sim):
    answer = guide.chat(GUIDE_BODY)
    assert answer["object"] == "chat.completion"
    assert answer["model"] == "amazon.nova-micro-v1:0"
    assert answer["choices"][0]["message"]["role"] == "assistant"
    assert answer["choices"][0]["message"]["content"]
    assert answer["choices"][0]["finish_reason"] == "stop"
    u = answer["usage"]
    assert u["prompt_tokens"] > 0 and u["total_tokens"] == u["prompt_tokens"] + u["completion_tokens"]
    up = sim_requests(sim)[-1]
    assert up["path"] == "/model/amazon.nova-micro-v1%3A0/converse"
    # Signed with the Secret's keys, its session token included (the simulator requires it
    # for this key and checks the signature).
    assert f"Credential={AK}/" in header(up, "authorization")
    assert header(up, "x-amz-security-token") == TOKEN


def test_the_caching_policy_applies_to_the_route(guide, sim):
    system = "Reference manual. " + "The gateway signs every request with SigV4. " * 400
    guide.chat({"model": "", "messages": [{"role": "system", "content": system},
                                          {"role": "user", "content": "Summarize."}]})
    body = json.loads(sim_requests(sim)[-1]["body"])
    assert {"cachePoint": {"type": "default"}} in body["system"], body["system"]


def test_the_guide_jq_query_returns_the_guide_object(guide):
    status, dump = guide.admin_get("/config_dump")
    assert status == 200
    jq = shutil.which("jq")
    assert jq, "jq is required (installed by .ci/deps)"
    out = subprocess.run([jq, GUIDE_QUERY], input=dump, capture_output=True, check=True).stdout
    assert json.loads(out) == GUIDE_OBJECT
    parsed = json.loads(dump)
    for secret in (SK, TOKEN):
        assert secret.encode() not in dump
    backend = parsed["backends"][0]
    assert backend["name"] == {"kind": "AgentgatewayBackend", "name": "bedrock", "namespace": "agentgateway-system"}
    assert backend["backend"]["ai"]["provider"]["bedrock"]["endpoint"] == f"http://127.0.0.1:{guide.sim}"
    assert parsed["listeners"][0]["address"] == f"0.0.0.0:{guide.port}"
    assert parsed["admin"]["address"] == f"127.0.0.1:{guide.admin}", "--admin overrides"
    assert parsed["metrics"]["address"] == f"127.0.0.1:{guide.metrics}", "--metrics overrides"


def test_health_endpoints(guide):
    assert guide.admin_get("/healthz/live") == (200, b"live\n")
    assert guide.admin_get("/healthz/ready")[0] == 200
    with urllib.request.urlopen(f"http://127.0.0.1:{guide.metrics}/metrics", timeout=10) as r:
        assert r.status == 200


def test_aws_endpoint_url_is_the_fallback(sim):
    g = Guide(sim, {"AWS_ENDPOINT_URL": f"http://127.0.0.1:{sim}"})
    try:
        assert g.chat(GUIDE_BODY)["object"] == "chat.completion"
    finally:
        g.close()


def check(path, *args):
    return subprocess.run([BASALT, "--check", "--config", path, *args], capture_output=True, text=True,
                          env={k: v for k, v in os.environ.items() if not k.startswith("AWS_ENDPOINT_URL")})


def test_check_on_manifests(tmp_path):
    d = tmp_path / "m"
    d.mkdir()
    write_guide_dir(str(d), 8080)
    r = check(str(d))
    assert r.returncode == 0, r.stderr
    assert "configuration is valid" in r.stdout
    # A kind basalt does not serve is a warning naming it.
    (d / "6-extra.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, namespace: y}\n")
    r = check(str(d))
    assert r.returncode == 0, r.stderr
    assert f"warning: {d}/6-extra.yaml: document 1 (ConfigMap y/x): v1 ConfigMap is not served by basalt" in r.stderr
    # An unknown field: document, kind/name and key path.
    backend = (d / "2-backend.yaml").read_text()
    (d / "2-backend.yaml").write_text(backend.replace('region: "us-east-1"', 'regoin: "us-east-1"'))
    r = check(str(d))
    assert r.returncode != 0
    assert (f"{d}/2-backend.yaml: document 1 (AgentgatewayBackend agentgateway-system/bedrock): "
            "spec.ai.provider.bedrock.regoin: unknown key") in r.stderr, r.stderr
    # A dangling reference.
    (d / "2-backend.yaml").write_text(backend)
    route = (d / "3-httproute.yaml").read_text()
    (d / "3-httproute.yaml").write_text(route.replace("  - name: bedrock\n", "  - name: bedrok\n"))
    r = check(str(d))
    assert r.returncode != 0
    assert (f"{d}/3-httproute.yaml: document 1 (HTTPRoute agentgateway-system/bedrock): "
            "spec.rules[0].backendRefs[0].name: no backend named `bedrok`") in r.stderr, r.stderr
    # One file of all the documents works as the directory does; --admin is checked.
    (d / "3-httproute.yaml").write_text(route)
    one = tmp_path / "all.yaml"
    one.write_text("---\n".join((d / n).read_text() for n in sorted(os.listdir(d))))
    assert check(str(one)).returncode == 0
    r = check(str(one), "--admin", "nowhere")
    assert r.returncode != 0 and "--admin: " in r.stderr, r.stderr


def test_conf_guide_passes_check():
    r = check(GUIDE)
    assert r.returncode == 0, r.stderr


def kustomize_resources():
    import yaml  # kubernetes-validate depends on PyYAML

    with open(os.path.join(ROOT, "conf", "kubernetes", "kustomization.yaml")) as f:
        return yaml.safe_load(f)["resources"]


def test_deploy_manifests_validate():
    """Every resource of conf/kubernetes/ against the Kubernetes schemas (offline), and the
    ServiceMonitor (a CRD, no bundled schema) for the keys the Prometheus Operator reads."""
    import yaml

    kv = os.path.join(os.path.dirname(sys.executable), "kubernetes-validate")  # the venv's
    kdir = os.path.join(ROOT, "conf", "kubernetes")
    files = [os.path.join(kdir, f) for f in kustomize_resources() if f != "servicemonitor.yaml"]
    assert len(files) == 8
    r = subprocess.run([kv, "--strict", "--kubernetes-version", "1.31", *files], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    with open(os.path.join(kdir, "servicemonitor.yaml")) as f:
        sm = yaml.safe_load(f)
    assert (sm["apiVersion"], sm["kind"]) == ("monitoring.coreos.com/v1", "ServiceMonitor")
    assert sm["spec"]["endpoints"][0]["port"] == "metrics"
    docs = {}
    for name in kustomize_resources():
        with open(os.path.join(kdir, name)) as f:
            doc = yaml.safe_load(f)
            docs[doc["kind"]] = doc
    # The pieces fit together: the probes' admin port, the grace periods, the mounted config.
    pod = docs["Deployment"]["spec"]["template"]["spec"]
    c = pod["containers"][0]
    assert "--admin=0.0.0.0:15000" in c["args"] and "--metrics=0.0.0.0:15020" in c["args"]
    assert c["livenessProbe"]["httpGet"]["path"] == "/healthz/live"
    assert c["readinessProbe"]["httpGet"]["path"] == "/healthz/ready"
    pre_stop = c["lifecycle"]["preStop"]["sleep"]["seconds"]
    assert pod["terminationGracePeriodSeconds"] >= pre_stop + 10 + 5, "preStop + gracePeriod + shutdown"
    assert c["securityContext"]["readOnlyRootFilesystem"] and pod["securityContext"]["runAsNonRoot"]
    assert c["securityContext"]["capabilities"]["drop"] == ["ALL"]
    assert docs["Service"]["spec"]["selector"] == docs["Deployment"]["spec"]["selector"]["matchLabels"]
    assert docs["PodDisruptionBudget"]["spec"]["selector"]["matchLabels"] == docs["Service"]["spec"]["selector"]


def test_the_deploy_configmap_is_a_valid_config(tmp_path):
    """The ConfigMap's documents, mounted as the Deployment mounts them, with the Secret
    mounted under --secrets-dir, pass --check."""
    import yaml

    with open(os.path.join(ROOT, "conf", "kubernetes", "configmap.yaml")) as f:
        cm = yaml.safe_load(f)
    conf = tmp_path / "config"
    conf.mkdir()
    for name, text in cm["data"].items():
        (conf / name).write_text(text)
    secret = tmp_path / "secrets" / "agentgateway-system" / "bedrock-secret"
    secret.mkdir(parents=True)
    (secret / "accessKey").write_text("AK")
    (secret / "secretKey").write_text("SK")
    r = check(str(conf), "--secrets-dir", str(tmp_path / "secrets"), "--admin", "0.0.0.0:15000")
    assert r.returncode == 0, r.stderr
    r = check(str(conf))
    assert r.returncode != 0 and "no secret named `bedrock-secret`" in r.stderr, r.stderr


def test_https_gateway_listener_with_a_tls_secret(sim):
    """A Gateway HTTPS listener whose certificateRefs name a kubernetes.io/tls Secret."""
    import ssl

    testdata = os.path.join(ROOT, "src", "config", "testdata")
    crt, key = (open(os.path.join(testdata, n)).read() for n in ("cert.pem", "key.pem"))
    with tempfile.TemporaryDirectory() as tmp:
        port, admin = free_port(), free_port()
        write_guide_dir(tmp, 1)
        with open(os.path.join(tmp, "6-tls.yaml"), "w") as f:
            f.write(f"""apiVersion: v1
kind: Secret
metadata: {{name: gateway-tls, namespace: agentgateway-system}}
type: kubernetes.io/tls
data:
  tls.crt: {b64(crt)}
  tls.key: {b64(key)}
""")
        with open(os.path.join(tmp, "5-gateway.yaml"), "w") as f:
            f.write(f"""apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {{name: agentgateway-proxy, namespace: agentgateway-system}}
spec:
  gatewayClassName: agentgateway
  addresses: [{{type: IPAddress, value: 127.0.0.1}}]
  listeners:
  - name: https
    port: {port}
    protocol: HTTPS
    tls:
      mode: Terminate
      certificateRefs: [{{kind: Secret, name: gateway-tls}}]
""")
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_ENDPOINT_URL")}
        env["AWS_ENDPOINT_URL_BEDROCK_RUNTIME"] = f"http://127.0.0.1:{sim}"
        log = open(os.path.join(tmp, "basalt.log"), "w+")
        proc = subprocess.Popen([BASALT, "--config", tmp, "--admin", f"127.0.0.1:{admin}",
                                 "--metrics", f"127.0.0.1:{free_port()}"], stdout=log, stderr=log, env=env)
        try:
            wait_http(f"http://127.0.0.1:{admin}/healthz/ready")
            ctx = ssl.create_default_context(cafile=os.path.join(testdata, "cert.pem"))
            req = urllib.request.Request(f"https://localhost:{port}/v1/chat/completions",
                                         data=json.dumps(GUIDE_BODY).encode(),
                                         headers={"content-type": "application/json"})
            with urllib.request.urlopen(req, context=ctx, timeout=30) as r:
                assert json.loads(r.read())["object"] == "chat.completion"
        finally:
            proc.kill()
            proc.wait(timeout=10)
            log.close()
