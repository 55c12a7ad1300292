"""Downstream TLS (`listeners[].tls`) with a test CA made at test time (openssl CLI): the
OpenAI SDK over HTTPS, HTTP/2 over TLS (curl --http2, ALPN h2), certificate rotation while a
stream is open, and a bad new certificate refused while the old one keeps serving."""

import json
import os
import shutil
import socket
import ssl
import subprocess
import threading
import time

import pytest

import standins
from conftest import AK, SK

CONFIG = """
listeners:
  - name: tls
    address: "127.0.0.1:{gw}"
    tls: {{certFile: "{cert}", keyFile: "{key}"}}
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


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


class Pki:
    """A CA and leaf certificates for localhost/127.0.0.1 signed by it."""

    def __init__(self, d):
        self.dir = d
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-days", "2",
                "-subj", "/CN=basalt test CA",
                "-addext", "basicConstraints=critical,CA:TRUE",
                "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=d)
        with open(os.path.join(d, "leaf.ext"), "w") as f:
            f.write("basicConstraints=CA:FALSE\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n"
                    "extendedKeyUsage=serverAuth\n")
        self.ca = os.path.join(d, "ca.crt")

    def leaf(self, name):
        """Issue leaf `name`: returns (cert path, key path)."""
        openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", f"/CN={name}", cwd=self.dir)
        openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
                "-CAcreateserial", "-out", f"{name}.crt", "-days", "2", "-extfile", "leaf.ext",
                cwd=self.dir)
        return os.path.join(self.dir, f"{name}.crt"), os.path.join(self.dir, f"{name}.key")


def install(src, dst):
    """Replace `dst` atomically (as kubelet's symlink swap or cert-manager's write+rename)."""
    tmp = dst + ".tmp"
    shutil.copyfile(src, tmp)
    os.replace(tmp, dst)


@pytest.fixture
def tls_gw(stack, tmp_path):
    pki = Pki(str(tmp_path))
    first = pki.leaf("first")
    cert, key = str(tmp_path / "tls.crt"), str(tmp_path / "tls.key")
    install(first[0], cert)
    install(first[1], key)
    g = standins.Gateway(CONFIG, ak=AK, sk=SK, sim=stack.ports["sim"], cert=cert, key=key)
    g.pki, g.cert, g.key = pki, cert, key
    yield g
    g.close()


def served_cn(g):
    """The common name of the certificate a new TLS connection is served."""
    ctx = ssl.create_default_context(cafile=g.pki.ca)
    with socket.create_connection(("127.0.0.1", g.port), timeout=10) as raw:
        with ctx.wrap_socket(raw, server_hostname="localhost") as s:
            subject = dict(x[0] for x in s.getpeercert()["subject"])
            return subject["commonName"]


def sdk(g):
    import httpx2
    import openai

    http = httpx2.Client(verify=ssl.create_default_context(cafile=g.pki.ca), timeout=30)
    return openai.OpenAI(base_url=f"https://localhost:{g.port}/v1", api_key="unused",
                         max_retries=0, http_client=http)


def test_openai_sdk_over_https(tls_gw):
    r = sdk(tls_gw).chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}])
    assert r.choices[0].message.content
    chunks = list(sdk(tls_gw).chat.completions.create(
        model="m", stream=True, messages=[{"role": "user", "content": "hi"}]))
    assert any(c.choices and c.choices[0].delta.content for c in chunks)


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl not installed (.ci/deps)")
def test_http2_over_tls(tls_gw):
    body = json.dumps({"model": "m", "messages": [{"role": "user", "content": "hi"}]})
    url = f"https://localhost:{tls_gw.port}/v1/chat/completions"
    base = ["curl", "-sS", "--http2", "--cacert", tls_gw.pki.ca, "-H", "content-type: application/json"]
    out = subprocess.run(base + ["-d", body, "-w", "\n%{http_version} %{http_code}", url],
                         capture_output=True, text=True, timeout=30)
    text, _, meta = out.stdout.rpartition("\n")
    assert meta == "2 200", (meta, text, out.stderr)
    assert json.loads(text)["choices"][0]["message"]["content"]
    stream = json.dumps({"model": "m", "stream": True,
                         "messages": [{"role": "user", "content": "hi"}]})
    out = subprocess.run(base + ["-N", "-d", stream, "-w", "\n%{http_version} %{http_code}", url],
                         capture_output=True, text=True, timeout=30)
    assert out.stdout.endswith("2 200"), out.stdout[-300:]
    assert "data: [DONE]" in out.stdout
    models = subprocess.run(base + ["-w", "\n%{http_version}", f"https://localhost:{tls_gw.port}/v1/models"],
                            capture_output=True, text=True, timeout=30)
    assert models.stdout.endswith("\n2") and '"object":"list"' in models.stdout.replace(" ", "")


def wait_for_cn(g, cn, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if served_cn(g) == cn:
            return True
        time.sleep(0.2)
    return False


def test_rotation_while_a_stream_is_open(tls_gw):
    assert served_cn(tls_gw) == "first"
    first, out = threading.Event(), {"chunks": 0, "error": None}

    def run():
        try:
            for _ in sdk(tls_gw).chat.completions.create(
                    model="m", stream=True,
                    messages=[{"role": "user", "content": "rotate [sim:pace=300ms]"}]):
                out["chunks"] += 1
                first.set()
        except Exception as e:
            out["error"] = repr(e)
        first.set()

    t = threading.Thread(target=run, daemon=True)
    t.start()
    assert first.wait(10)
    second = tls_gw.pki.leaf("second")
    install(second[1], tls_gw.key)
    install(second[0], tls_gw.cert)
    # Checked every second: bound 10 s for a loaded machine.
    assert wait_for_cn(tls_gw, "second"), "the new certificate was not picked up"
    t.join(timeout=30)
    assert out["error"] is None and out["chunks"] >= 3, out
    assert "TLS certificate reloaded" in tls_gw.logs()
    r = sdk(tls_gw).chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}])
    assert r.choices[0].message.content


def test_a_bad_new_certificate_is_refused_and_the_old_one_serves(tls_gw):
    other = tls_gw.pki.leaf("other")
    install(other[1], tls_gw.key)  # a key that does not belong to the served certificate
    deadline = time.monotonic() + 10
    while "new TLS certificate refused" not in tls_gw.logs() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert "does not belong to the first certificate" in tls_gw.logs()
    assert served_cn(tls_gw) == "first"
    r = sdk(tls_gw).chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}])
    assert r.choices[0].message.content
    with open(tls_gw.cert, "w") as f:
        f.write("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
    time.sleep(2.5)
    assert served_cn(tls_gw) == "first"
