"""HTTPS to the backend, as with real Bedrock: basalt's own HTTP/1.1 client over TLS. A TLS
front (Python's ssl, a test CA made at test time) pipes to the simulator, which still checks
SigV4; the backend trusts the CA through `policies.tls.caFile`. Covers a JSON answer, a
streamed (chunked) answer, connection reuse over TLS, and a certificate the backend does not
trust (502, and the gateway keeps serving)."""

import socket
import ssl
import threading

import pytest

import standins
from conftest import AK, SK, free_port
from test_edge_tls import Pki

CONFIG = """
listeners:
  - name: api
    address: "127.0.0.1:{gw}"
admin: {{address: "127.0.0.1:{admin}"}}
metrics: {{address: "127.0.0.1:{metrics}"}}
secrets: [{{name: s, stringData: {{accessKey: {ak}, secretKey: {sk}}}}}]
backends:
  - name: sim
    ai: {{provider: {{bedrock: {{region: us-east-1, endpoint: "https://localhost:{front}"}}}}}}
    policies: {{auth: {{aws: {{secretRef: {{name: s}}}}}}, tls: {{caFile: "{ca}"}}}}
routes:
  - name: r
    matches: [{{path: {{type: PathPrefix, value: /v1/chat/completions}}}}]
    backendRefs: [{{name: sim}}]
"""


class TlsFront:
    """Accepts TLS on a free port and pipes each connection to the simulator; counts the TLS
    connections it accepted."""

    def __init__(self, cert, key, sim_port):
        self.ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.ctx.load_cert_chain(cert, key)
        self.sim_port = sim_port
        self.accepted = 0
        self.port = free_port()
        self.sock = socket.create_server(("127.0.0.1", self.port))
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                raw, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._pipe, args=(raw,), daemon=True).start()

    def _pipe(self, raw):
        try:
            tls = self.ctx.wrap_socket(raw, server_side=True)
        except (ssl.SSLError, OSError):
            raw.close()
            return
        self.accepted += 1
        sim = socket.create_connection(("127.0.0.1", self.sim_port))

        def pump(src, dst):
            try:
                while data := src.recv(65536):
                    dst.sendall(data)
            except OSError:
                pass
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

        threading.Thread(target=pump, args=(sim, tls), daemon=True).start()
        pump(tls, sim)

    def close(self):
        self.sock.close()


@pytest.fixture
def pki(tmp_path):
    return Pki(str(tmp_path))


@pytest.fixture
def front(stack, pki):
    f = TlsFront(*pki.leaf("upstream"), stack.ports["sim"])
    yield f
    f.close()


def gateway(front, ca):
    return standins.Gateway(CONFIG, ak=AK, sk=SK, front=front.port, ca=ca)


HI = [{"role": "user", "content": "hi"}]


def test_answers_and_streams_over_tls_on_one_pooled_connection(front, pki):
    g = gateway(front, pki.ca)
    try:
        c = g.client()
        for _ in range(3):
            assert c.chat.completions.create(model="m", messages=HI).choices[0].message.content
        chunks = list(c.chat.completions.create(model="m", stream=True, messages=HI))
        assert any(ch.choices and ch.choices[0].delta.content for ch in chunks)
        assert chunks[-1].choices == [] or chunks[-1].choices[0].finish_reason
        # Sequential requests reuse one TLS connection (the pool keeps it after each answer).
        assert front.accepted == 1, front.accepted
    finally:
        g.close()


def test_an_untrusted_backend_certificate_is_a_502_and_the_gateway_keeps_serving(
        front, tmp_path):
    (tmp_path / "other").mkdir()
    other = Pki(str(tmp_path / "other"))  # a CA that did not sign the backend's certificate
    g = gateway(front, other.ca)
    try:
        c = g.client()
        for _ in range(2):
            with pytest.raises(Exception) as e:
                c.chat.completions.create(model="m", messages=HI)
            assert getattr(e.value, "status_code", None) == 502, e.value
        assert front.accepted == 0
        assert g.proc.poll() is None
    finally:
        g.close()
