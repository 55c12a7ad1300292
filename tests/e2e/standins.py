"""Loopback stand-ins for Bedrock (raw sockets, so they can misbehave in ways an HTTP framework
would not let them), and a helper that starts a dedicated `basalt` on a generated config.

Every stand-in listens on 127.0.0.1 only, serves each connection in its own daemon thread with
socket timeouts (no loop waits forever), and `close()` stops the accept loop, shuts every open
connection and joins the threads."""

import json
import os
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.request

from conftest import BASALT, free_port, wait_http

# A valid Converse answer (the shape `basalt-sim` sends, see src/sim/mod.rs `converse_answer`).
CONVERSE_OK = json.dumps({
    "output": {"message": {"role": "assistant", "content": [{"text": "hello from the stand-in"}]}},
    "stopReason": "end_turn",
    "usage": {"inputTokens": 3, "outputTokens": 5, "totalTokens": 8},
    "metrics": {"latencyMs": 1},
}).encode()

IO_TIMEOUT = 10.0  # per socket operation: a stuck peer frees its thread after this


class Request:
    def __init__(self, conn_no, line, headers, body):
        self.conn_no = conn_no  # which accepted connection (1-based) carried it
        self.line = line
        self.headers = headers  # [(name, value)] as received
        self.body = body

    def header(self, name):
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)


class Connection:
    """One accepted connection with a read buffer (requests may arrive back to back)."""

    def __init__(self, sock, no):
        self.sock, self.no, self.buf = sock, no, b""

    def read_request(self, max_bytes=256 * 1024 * 1024):
        """The next request (Content-Length framed), or None when the peer closed first."""
        while b"\r\n\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                return None
            self.buf += chunk
            if len(self.buf) > 1024 * 1024 and b"\r\n\r\n" not in self.buf:
                raise ValueError("request header too large")
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        headers = [tuple(x.strip() for x in l.split(":", 1)) for l in lines[1:] if ":" in l]
        length = int(next((v for k, v in headers if k.lower() == "content-length"), "0"))
        if length > max_bytes:
            raise ValueError("request body too large")
        while len(self.buf) < length:
            chunk = self.sock.recv(min(1024 * 1024, length - len(self.buf)))
            if not chunk:
                return None
            self.buf += chunk
        body, self.buf = self.buf[:length], self.buf[length:]
        return Request(self.no, lines[0], headers, body)

    def send(self, data):
        self.sock.sendall(data)


def http_response(status, body=b"", headers=(), reason="X", keep_alive=True):
    out = [f"HTTP/1.1 {status} {reason}"]
    out += [f"{k}: {v}" for k, v in headers]
    out.append(f"Content-Length: {len(body)}")
    out.append("Connection: keep-alive" if keep_alive else "Connection: close")
    return ("\r\n".join(out) + "\r\n\r\n").encode("latin-1") + body


def json_response(status, body, headers=(), keep_alive=True):
    return http_response(status, body, [("Content-Type", "application/json"), *headers],
                         keep_alive=keep_alive)


class StandIn:
    """A loopback server. `handler(standin, conn)` serves one connection (it may loop over
    several requests); received requests are recorded with `standin.record(req)`."""

    def __init__(self, handler):
        self.handler = handler
        self.lock = threading.Lock()
        self.requests = []
        self.connections = 0
        self.stopping = threading.Event()
        self.open_socks = []
        self.threads = []
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.listener.settimeout(0.2)
        self.port = self.listener.getsockname()[1]
        self.accept_thread = threading.Thread(target=self._accept_loop, daemon=True)
        self.accept_thread.start()

    @property
    def endpoint(self):
        return f"http://127.0.0.1:{self.port}"

    def record(self, req):
        with self.lock:
            self.requests.append(req)

    def count(self):
        with self.lock:
            return len(self.requests)

    def _accept_loop(self):
        while not self.stopping.is_set():
            try:
                sock, _ = self.listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            sock.settimeout(IO_TIMEOUT)
            with self.lock:
                self.connections += 1
                conn = Connection(sock, self.connections)
                self.open_socks.append(sock)
            t = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            with self.lock:
                self.threads = [x for x in self.threads if x.is_alive()] + [t]
            t.start()

    def _serve(self, conn):
        try:
            self.handler(self, conn)
        except (OSError, ValueError):
            pass
        finally:
            try:
                conn.sock.close()
            except OSError:
                pass

    def close(self):
        self.stopping.set()
        self.listener.close()
        self.accept_thread.join(timeout=5)
        with self.lock:
            socks, threads = list(self.open_socks), list(self.threads)
        for s in socks:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            try:
                s.close()
            except OSError:
                pass
        for t in threads:
            t.join(timeout=5)


# --- handlers ---------------------------------------------------------------------------------

def answering(make_answer):
    """Serve every request of a connection with `make_answer(standin, req)` → bytes; a `None`
    answer closes the connection without answering."""

    def handler(standin, conn):
        while not standin.stopping.is_set():
            req = conn.read_request()
            if req is None:
                return
            standin.record(req)
            data = make_answer(standin, req)
            if data is None:
                return
            conn.send(data)

    return handler


def informational_then_ok(interim):
    """`interim` (a 1xx head, e.g. b"HTTP/1.1 100 Continue\\r\\n\\r\\n") before a normal 200."""
    return answering(lambda s, req: interim + json_response(200, CONVERSE_OK))


def fixed(status, body, headers=()):
    return answering(lambda s, req: json_response(status, body, headers))


def first_answered_then_silent_close():
    """The first request (of the whole stand-in) is answered 200 with keep-alive; every later
    request is read whole and its connection closed without an answer."""

    def answer(standin, req):
        return json_response(200, CONVERSE_OK) if standin.count() == 1 else None

    return answering(answer)


# --- raw client side ------------------------------------------------------------------------

def raw_exchange(port, data, responses=1, timeout=10.0):
    """Send `data` in one write; read until `responses` complete answers arrived, the gateway
    closed, or `timeout`. Returns the complete answers parsed."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        s.sendall(data)
        got, deadline = b"", time.monotonic() + timeout
        while time.monotonic() < deadline and len(parse_responses(got)) < responses:
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break
            if not chunk:
                break
            got += chunk
        return parse_responses(got)
    finally:
        s.close()


def parse_responses(data):
    """The complete HTTP/1.1 answers at the start of `data` (Content-Length or chunked framing):
    [(status, headers, body)]."""
    out = []
    while b"\r\n\r\n" in data:
        head, rest = data.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {k.strip().lower(): v.strip() for k, v in (l.split(":", 1) for l in lines[1:] if ":" in l)}
        if "content-length" in headers:
            n = int(headers["content-length"])
            if len(rest) < n:
                break
            body, data = rest[:n], rest[n:]
        elif headers.get("transfer-encoding") == "chunked":
            body, done = b"", False
            while b"\r\n" in rest:
                size_line, after = rest.split(b"\r\n", 1)
                size = int(size_line.split(b";")[0], 16)
                if len(after) < size + 2:
                    break
                body, rest = body + after[:size], after[size + 2:]
                if size == 0:
                    done = True
                    break
            if not done:
                break
            data = rest
        else:
            break  # framed by the connection close: not needed here
        out.append((status, headers, body))
    return out


# --- a dedicated gateway ----------------------------------------------------------------------

class Gateway:
    """One `basalt` process on a config written from `config` (a str.format template; it gets
    {gw}, {admin}, {metrics} and every keyword of `ports`)."""

    def __init__(self, config, env=None, **fmt):
        self.tmp = tempfile.TemporaryDirectory()
        self.port, self.admin_port, self.metrics_port = free_port(), free_port(), free_port()
        text = config.format(gw=self.port, admin=self.admin_port, metrics=self.metrics_port, **fmt)
        self.config_path = os.path.join(self.tmp.name, "gateway.yaml")
        with open(self.config_path, "w") as f:
            f.write(text)
        self.log_path = os.path.join(self.tmp.name, "basalt.log")
        self.log = open(self.log_path, "wb")
        base = dict(os.environ, BASALT_LOG="info")
        base.update(env or {})
        self.proc = subprocess.Popen([BASALT, "--config", self.config_path], stdout=self.log,
                                     stderr=self.log, env=base)
        try:
            wait_http(f"http://127.0.0.1:{self.admin_port}/healthz/ready")
        except Exception:
            self.close()
            raise

    @property
    def base_url(self):
        return f"http://127.0.0.1:{self.port}/v1"

    def client(self, **kw):
        import openai

        kw.setdefault("api_key", "unused")
        return openai.OpenAI(base_url=self.base_url, max_retries=0, timeout=30, **kw)

    def logs(self):
        self.log.flush()
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def metrics_text(self):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=30) as r:
            return r.read().decode("utf-8", "replace")

    def vm_hwm_kib(self):
        """Peak resident set size of the gateway process (VmHWM), in KiB."""
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
        raise RuntimeError("no VmHWM")

    def close(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)  # fast shutdown (SIGTERM waits the grace period)
            try:
                # Normally ~10 ms; the old binary sometimes never exits (its listener spins on
                # "Accept() failed ... Tokio context being shutdown"), so do not wait long.
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.log.close()
        self.tmp.cleanup()


def wait_until(predicate, timeout, interval=0.05):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)
