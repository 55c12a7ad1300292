"""AWS credential sources end to end, with local stand-ins on loopback (no network): the ECS/EKS
container-credentials endpoint, IMDSv2, web identity (IRSA) with an STS stand-in, a profile with
`credential_process`, static environment variables, assume-role on top, a mounted secret
directory, and refresh. Each test starts its own `basalt` with `auth: {aws: {}}` (the implicit
AWS chain through aws-config) and a controlled environment; the simulator verifies every
signature with the credentials the source handed out, session token included."""

import datetime
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import openai
import pytest

from conftest import BASALT, SIM, free_port, wait_http

ROT = "ASIAROT"  # the simulator accepts ROT keys until the expiry written in them


def iso(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class Minter:
    """Mints rotating temporary credentials: key ASIAROT<expiry><n>, secret sk-<key>, token tok-<key>."""

    def __init__(self, lifetime=3600):
        self.lifetime = lifetime
        self.n = 0
        self.fail = False
        self.calls = 0
        self.lock = threading.Lock()

    def mint(self):
        with self.lock:
            self.calls += 1
            self.n += 1
            expiry = int(time.time()) + self.lifetime
            ak = f"{ROT}{expiry:010d}X{self.n:05d}"
            return {"AccessKeyId": ak, "SecretAccessKey": f"sk-{ak}", "Token": f"tok-{ak}",
                    "Expiration": iso(expiry)}


def serve(handler_factory):
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler_factory)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def container_endpoint(minter, auth_token=None):
    class H(BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def do_GET(self):
            if auth_token and self.headers.get("Authorization") != auth_token:
                self.send_response(401)
                self.end_headers()
                return
            if minter.fail:
                minter.calls += 1
                self.send_response(500)
                self.end_headers()
                return
            body = json.dumps(minter.mint()).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return serve(H)


def imds_endpoint(minter):
    class H(BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def reply(self, status, body=b"", ctype="text/plain", extra=()):
            self.send_response(status)
            for k, v in extra:
                self.send_header(k, v)
            self.send_header("content-type", ctype)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_PUT(self):
            if self.path == "/latest/api/token" and self.headers.get("x-aws-ec2-metadata-token-ttl-seconds"):
                return self.reply(200, b"imds-session-token",
                                  extra=[("x-aws-ec2-metadata-token-ttl-seconds", "21600")])
            self.reply(400)

        def do_GET(self):
            if self.headers.get("x-aws-ec2-metadata-token") != "imds-session-token":
                return self.reply(401)
            for base in ("/latest/meta-data/iam/security-credentials/",
                         "/latest/meta-data/iam/security-credentials-extended/"):
                if self.path == base:
                    return self.reply(200, b"basalt-node-role")
                if self.path == base + "basalt-node-role":
                    c = minter.mint()
                    c.update(Code="Success", Type="AWS-HMAC", LastUpdated=iso(time.time()))
                    return self.reply(200, json.dumps(c).encode(), "application/json")
            self.reply(404)

    return serve(H)


def sts_endpoint(minter, seen):
    class H(BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def do_POST(self):
            n = int(self.headers.get("content-length", 0))
            form = dict(urllib.parse.parse_qsl(self.rfile.read(n).decode()))
            seen.append({"form": form, "authorization": self.headers.get("authorization")})
            action = form.get("Action")
            c = minter.mint()
            body = f"""<{action}Response xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <{action}Result>
    <Credentials><AccessKeyId>{c['AccessKeyId']}</AccessKeyId><SecretAccessKey>{c['SecretAccessKey']}</SecretAccessKey>
      <SessionToken>{c['Token']}</SessionToken><Expiration>{c['Expiration']}</Expiration></Credentials>
    <AssumedRoleUser><Arn>arn:aws:sts::123456789012:assumed-role/bedrock/basalt</Arn><AssumedRoleId>AROAEXAMPLE:basalt</AssumedRoleId></AssumedRoleUser>
  </{action}Result>
  <ResponseMetadata><RequestId>sts-standin</RequestId></ResponseMetadata>
</{action}Response>""".encode()
            self.send_response(200)
            self.send_header("content-type", "text/xml")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return serve(H)


STATIC_AK, STATIC_SK, STATIC_TOKEN = "AKIASTATICENV", "static-env-secret", "static-env-token"
DIR_KEYS = [("AKIADIRONE", "dir-secret-one"), ("AKIADIRTWO", "dir-secret-two")]


@pytest.fixture(scope="module")
def sim():
    port = free_port()
    creds = [f"{STATIC_AK}:{STATIC_SK}:{STATIC_TOKEN}"] + [f"{a}:{s}" for a, s in DIR_KEYS]
    args = [SIM, "--listen", f"127.0.0.1:{port}", "--rotating-prefix", ROT]
    for c in creds:
        args += ["--credential", c]
    p = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_http(f"http://127.0.0.1:{port}/_sim/requests")
    yield port
    p.terminate()
    p.wait(timeout=10)


class Gateway:
    """One basalt process with a controlled environment (nothing inherited from the host's AWS
    setup: HOME, config files and IMDS are pinned)."""

    def __init__(self, sim_port, auth="{aws: {}}", env=None, secrets=""):
        self.tmp = tempfile.TemporaryDirectory()
        self.port, admin, metrics = free_port(), free_port(), free_port()
        self.metrics_port = metrics
        config = f"""
listeners: [{{name: l, address: "127.0.0.1:{self.port}"}}]
admin: {{address: "127.0.0.1:{admin}"}}
metrics: {{address: "127.0.0.1:{metrics}"}}
{secrets}
backends:
  - name: chain
    ai: {{provider: {{bedrock: {{region: us-east-1, endpoint: "http://127.0.0.1:{sim_port}"}}}}}}
    policies: {{auth: {auth}}}
routes:
  - name: r
    matches: [{{path: {{type: PathPrefix, value: /v1/chat/completions}}}}]
    backendRefs: [{{name: chain}}]
"""
        path = os.path.join(self.tmp.name, "gw.yaml")
        with open(path, "w") as f:
            f.write(config)
        base = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        base.update(HOME=self.tmp.name, BASALT_LOG="info",
                    AWS_CONFIG_FILE=os.path.join(self.tmp.name, "no-config"),
                    AWS_SHARED_CREDENTIALS_FILE=os.path.join(self.tmp.name, "no-credentials"),
                    AWS_EC2_METADATA_DISABLED="true")
        base.update(env or {})
        self.log_path = os.path.join(self.tmp.name, "basalt.log")
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen([BASALT, "--config", path], stdout=self.log, stderr=self.log, env=base)
        wait_http(f"http://127.0.0.1:{admin}/healthz/ready")
        self.client = openai.OpenAI(base_url=f"http://127.0.0.1:{self.port}/v1", api_key="x", max_retries=0,
                                    timeout=30)

    def ask(self, text="hi"):
        return self.client.chat.completions.create(model="amazon.nova-micro-v1:0",
                                                   messages=[{"role": "user", "content": text}])

    def logs(self):
        self.log.flush()
        with open(self.log_path) as f:
            return f.read()

    def metric(self, name):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.metrics_port}/metrics") as r:
            for line in r.read().decode().splitlines():
                if line.startswith(name):
                    return float(line.rsplit(" ", 1)[1])
        return 0.0

    def close(self):
        self.proc.send_signal(signal.SIGINT)  # fast shutdown (SIGTERM waits the grace period)
        try:
            # Normally ~10 ms; the old binary sometimes never exits after SIGINT (its listener
            # spins on "Accept() failed ... being shutdown"): do not wait 10 s for the kill.
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()
        self.tmp.cleanup()


@pytest.fixture
def gateway(sim):
    made = []

    def make(**kw):
        g = Gateway(sim, **kw)
        made.append(g)
        return g

    yield make
    for g in made:
        g.close()


def last_access_key(sim_port):
    with urllib.request.urlopen(f"http://127.0.0.1:{sim_port}/_sim/requests") as r:
        reqs = json.loads(r.read())
    auth = dict((k.lower(), v) for k, v in reqs[-1]["headers"])["authorization"]
    return auth.split("Credential=")[1].split("/")[0]


def test_static_environment_variables(gateway, sim):
    g = gateway(env={"AWS_ACCESS_KEY_ID": STATIC_AK, "AWS_SECRET_ACCESS_KEY": STATIC_SK,
                     "AWS_SESSION_TOKEN": STATIC_TOKEN})
    assert g.ask().choices[0].message.content
    assert last_access_key(sim) == STATIC_AK
    logs = g.logs()
    assert "credentials resolved from Environment" in logs
    assert STATIC_SK not in logs and STATIC_TOKEN not in logs


def test_container_credentials_with_auth_token_file(gateway, sim, tmp_path):
    minter = Minter()
    server = container_endpoint(minter, auth_token="container-auth-token")
    token_file = tmp_path / "token"
    token_file.write_text("container-auth-token")
    g = gateway(env={"AWS_CONTAINER_CREDENTIALS_FULL_URI": f"http://127.0.0.1:{server.server_port}/creds",
                     "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": str(token_file)})
    for _ in range(3):
        assert g.ask().choices[0].message.content
    assert last_access_key(sim).startswith(ROT)
    assert minter.calls == 1, "fetched once, shared by every request"
    assert "credentials resolved from EcsContainer" in g.logs()
    server.shutdown()


def test_imdsv2(gateway, sim):
    minter = Minter()
    server = imds_endpoint(minter)
    g = gateway(env={"AWS_EC2_METADATA_DISABLED": "false",
                     "AWS_EC2_METADATA_SERVICE_ENDPOINT": f"http://127.0.0.1:{server.server_port}"})
    assert g.ask().choices[0].message.content
    assert last_access_key(sim).startswith(ROT)
    logs = g.logs()
    assert "credentials resolved from IMDSv2" in logs or "credentials resolved from Ec2InstanceMetadata" in logs
    server.shutdown()


def test_web_identity_irsa(gateway, sim, tmp_path):
    minter, seen = Minter(), []
    server = sts_endpoint(minter, seen)
    token_file = tmp_path / "web-identity-token"
    token_file.write_text("eyJ.oidc.token")
    g = gateway(env={"AWS_WEB_IDENTITY_TOKEN_FILE": str(token_file),
                     "AWS_ROLE_ARN": "arn:aws:iam::123456789012:role/irsa-bedrock",
                     "AWS_ROLE_SESSION_NAME": "basalt-pod",
                     "AWS_ENDPOINT_URL_STS": f"http://127.0.0.1:{server.server_port}"})
    assert g.ask().choices[0].message.content
    assert last_access_key(sim).startswith(ROT)
    form = seen[0]["form"]
    assert form["Action"] == "AssumeRoleWithWebIdentity"
    assert form["WebIdentityToken"] == "eyJ.oidc.token"
    assert form["RoleArn"] == "arn:aws:iam::123456789012:role/irsa-bedrock"
    assert "credentials resolved from WebIdentityToken" in g.logs()
    server.shutdown()


def test_profile_with_credential_process(gateway, sim, tmp_path):
    expiry = int(time.time()) + 3600
    ak = f"{ROT}{expiry:010d}PROC"
    script = tmp_path / "creds.py"
    script.write_text("import json\nprint(json.dumps(%r))\n" % {
        "Version": 1, "AccessKeyId": ak, "SecretAccessKey": f"sk-{ak}", "SessionToken": f"tok-{ak}",
        "Expiration": iso(expiry)})
    config = tmp_path / "config"
    config.write_text(f"[profile team]\ncredential_process = {sys.executable} {script}\n")
    g = gateway(env={"AWS_CONFIG_FILE": str(config), "AWS_PROFILE": "team"})
    assert g.ask().choices[0].message.content
    assert last_access_key(sim) == ak
    assert "credentials resolved from CredentialProcess" in g.logs()


def test_assume_role_on_top_of_the_chain(gateway, sim):
    minter, seen = Minter(), []
    server = sts_endpoint(minter, seen)
    g = gateway(auth='{aws: {roleArn: "arn:aws:iam::123456789012:role/bedrock", externalId: ext-42, sessionName: basalt-gw}}',
                env={"AWS_ACCESS_KEY_ID": STATIC_AK, "AWS_SECRET_ACCESS_KEY": STATIC_SK,
                     "AWS_SESSION_TOKEN": STATIC_TOKEN,
                     "AWS_ENDPOINT_URL_STS": f"http://127.0.0.1:{server.server_port}"})
    assert g.ask().choices[0].message.content
    assert last_access_key(sim).startswith(ROT), "signed with the assumed role, not the base keys"
    call = seen[0]
    assert call["form"]["Action"] == "AssumeRole"
    assert (call["form"]["RoleArn"], call["form"]["ExternalId"], call["form"]["RoleSessionName"]) == (
        "arn:aws:iam::123456789012:role/bedrock", "ext-42", "basalt-gw")
    assert f"Credential={STATIC_AK}/" in call["authorization"], "the STS call is signed by the base identity"
    server.shutdown()


def test_bedrock_api_key_from_environment(gateway, sim):
    g = gateway(env={"AWS_BEARER_TOKEN_BEDROCK": "basalt-local-api-key",
                     "AWS_ACCESS_KEY_ID": STATIC_AK, "AWS_SECRET_ACCESS_KEY": "wrong"})
    assert g.ask().choices[0].message.content
    with urllib.request.urlopen(f"http://127.0.0.1:{sim}/_sim/requests") as r:
        headers = dict((k.lower(), v) for k, v in json.loads(r.read())[-1]["headers"])
    assert headers["authorization"] == "Bearer basalt-local-api-key"
    assert "Bedrock API key from AWS_BEARER_TOKEN_BEDROCK" in g.logs()


def key_expiry(ak):
    """The expiry (Unix seconds) a Minter wrote into a rotating key: what the simulator checks."""
    return int(ak[len(ROT):len(ROT) + 10])


def test_short_lived_credentials_rotate_while_requests_flow(gateway, sim):
    """Credentials live 4 s; the cache refreshes them in the background at half-life (the
    schedule itself is unit-tested with exact waits in src/credentials.rs). Requests every 50 ms
    all succeed (the simulator rejects expired keys) until the gateway has used 3 identities (2
    rotations) and a request has been sent after the first identity expired: about 4 s.

    4 s is the shortest Minter lifetime that rotates in the background: its expiries are whole
    seconds, so a credential lives 3-4 s; the refresh comes at half of that (1.5-2 s), before
    the gateway stops using a key 1 s ahead of its expiry (2-3 s). At 3 s the two can coincide.
    The 12 s bound is three times the longest expected run (2 rotations of at most 2 s each),
    for a loaded machine; it only ends a failing run."""
    minter = Minter(lifetime=4)
    server = container_endpoint(minter)
    g = gateway(env={"AWS_CONTAINER_CREDENTIALS_FULL_URI": f"http://127.0.0.1:{server.server_port}/creds"})
    keys, deadline = set(), time.monotonic() + 12
    while True:
        sent = time.time()
        assert g.ask().choices[0].message.content
        keys.add(last_access_key(sim))
        if len(keys) >= 3 and sent >= min(map(key_expiry, keys)):
            break  # 2 rotations, and still served after the first identity expired
        if time.monotonic() > deadline:
            pytest.fail(f"only {len(keys)} identities in 12 s: {sorted(keys)}")
        time.sleep(0.05)
    assert g.metric('basalt_credentials_refresh_total{result="ok"}') >= 3
    server.shutdown()


def test_failed_refresh_keeps_valid_credentials_then_503(gateway, sim):
    minter = Minter(lifetime=5)
    server = container_endpoint(minter)
    g = gateway(env={"AWS_CONTAINER_CREDENTIALS_FULL_URI": f"http://127.0.0.1:{server.server_port}/creds"})
    assert g.ask().choices[0].message.content
    minter.fail = True
    deadline = time.monotonic() + 12
    ok_after_failure = 0
    while time.monotonic() < deadline:
        try:
            g.ask()
            ok_after_failure += 1
        except openai.APIStatusError as e:
            assert e.status_code == 503 and e.body["code"] == "credentials_unavailable", e.body
            assert "sk-" not in str(e.body) and "tok-" not in str(e.body)
            break
        time.sleep(0.1)
    else:
        pytest.fail("expired credentials were never reported")
    assert ok_after_failure > 0, "still-valid credentials kept being used after the refresh failed"
    assert g.metric('basalt_credentials_refresh_total{result="error"}') >= 1
    assert "credential refresh failed" in g.logs()
    # Failing fast: a request while the source is down does not hang.
    t = time.monotonic()
    with pytest.raises(openai.APIStatusError):
        g.ask()
    assert time.monotonic() - t < 11
    # The source comes back: so do the credentials.
    minter.fail = False
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            assert g.ask().choices[0].message.content
            break
        except openai.APIStatusError:
            time.sleep(0.2)
    else:
        pytest.fail("credentials did not recover")
    server.shutdown()


def test_no_credentials_anywhere_is_a_clear_503(gateway):
    g = gateway()
    t = time.monotonic()
    with pytest.raises(openai.APIStatusError) as e:
        g.ask()
    assert e.value.status_code == 503 and e.value.body["code"] == "credentials_unavailable"
    assert "no valid AWS credentials for backend `chain`" in e.value.body["message"]
    assert "IMDS" not in e.value.body["message"], "the reason stays in the gateway log"
    assert "credential refresh failed" in g.logs()
    assert time.monotonic() - t < 11
    # The gateway keeps serving.
    assert urllib.request.urlopen(f"http://127.0.0.1:{g.port}/v1/models").status == 200


def test_mounted_secret_directory_is_re_read(gateway, sim, tmp_path):
    d = tmp_path / "bedrock-secret"
    d.mkdir()
    (d / "accessKey").write_text(DIR_KEYS[0][0] + "\n")
    (d / "secretKey").write_text(DIR_KEYS[0][1] + "\n")
    g = gateway(auth="{aws: {secretRef: {name: mounted}}}",
                secrets=f"secrets: [{{name: mounted, path: \"{d}\"}}]")
    g.ask()
    assert last_access_key(sim) == DIR_KEYS[0][0]
    # Rotate the way kubelet does: new files appear, atomically.
    for name, value in (("secretKey", DIR_KEYS[1][1]), ("accessKey", DIR_KEYS[1][0])):
        tmp = d / f".{name}.tmp"
        tmp.write_text(value)
        os.replace(tmp, d / name)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            g.ask()
            if last_access_key(sim) == DIR_KEYS[1][0]:
                break
        except openai.APIStatusError:
            pass  # a request between the two file writes may carry a mismatched pair
        time.sleep(0.2)
    else:
        pytest.fail("the rotated keys were never used")
    assert DIR_KEYS[1][1] not in g.logs()
