"""Configuration reload: an edit of the config file is applied without a restart (a new route
is served), a stream open on the old configuration completes, an invalid edit is refused with
its key path and the old configuration keeps serving, and SIGHUP reloads instead of killing."""

import os
import re
import signal
import threading
import time

import openai
import pytest

import standins
from conftest import AK, SK

BASE = """
listeners: [{{name: default, address: "127.0.0.1:{gw}"}}]
admin: {{address: "127.0.0.1:{admin}"}}
metrics: {{address: "127.0.0.1:{metrics}"}}
secrets: [{{name: s, stringData: {{accessKey: {ak}, secretKey: {sk}}}}}]
backends:
  - name: sim
    ai: {{provider: {{bedrock: {{region: us-east-1, endpoint: "http://127.0.0.1:{sim}"}}}}}}
    policies: {{auth: {{aws: {{secretRef: {{name: s}}}}}}}}
routes:
  - name: a
    matches: [{{path: {{type: PathPrefix, value: /v1/chat/completions}}, model: "a-*"}}]
    backendRefs: [{{name: sim}}]
"""

ROUTE_B = """
  - name: b
    matches: [{{path: {{type: PathPrefix, value: /v1/chat/completions}}, model: "b-*"}}]
    backendRefs: [{{name: sim}}]
"""


@pytest.fixture
def gw(stack):
    g = standins.Gateway(BASE, ak=AK, sk=SK, sim=stack.ports["sim"])
    g.fmt = dict(gw=g.port, admin=g.admin_port, metrics=g.metrics_port, ak=AK, sk=SK,
                 sim=stack.ports["sim"])
    yield g
    g.close()


def write(g, text):
    tmp = g.config_path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text.format(**g.fmt))
    os.replace(tmp, g.config_path)


def ask(g, model):
    return g.client().chat.completions.create(model=model, messages=[{"role": "user", "content": "hi"}])


def served(g, model):
    try:
        ask(g, model)
        return True
    except openai.NotFoundError:
        return False


def wait(cond, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.2)
    return False


def reloads(g, result):
    m = re.search(r'basalt_config_reload_total\{result="%s"\} (\d+)' % result, g.metrics_text())
    return int(m.group(1)) if m else None


def test_a_route_added_to_the_file_is_served_without_restart(gw):
    pid = gw.proc.pid
    assert not served(gw, "b-1")
    assert reloads(gw, "ok") == 0
    write(gw, BASE + ROUTE_B)
    # The file is checked every second: bound 10 s for a loaded machine.
    assert wait(lambda: served(gw, "b-1")), gw.logs()[-2000:]
    assert served(gw, "a-1")
    assert gw.proc.pid == pid and gw.proc.poll() is None
    assert reloads(gw, "ok") == 1
    assert "config file changed" in gw.logs()
    # The admin answers from the new configuration too.
    import json
    import urllib.request
    with urllib.request.urlopen(f"http://127.0.0.1:{gw.admin_port}/config_dump") as r:
        dump = json.loads(r.read())
    assert {h["route"] for h in dump["health"]} == {"a", "b"}, dump["health"]


def test_a_stream_open_on_the_old_config_completes(gw):
    first, out = threading.Event(), {"chunks": 0, "error": None}

    def run():
        try:
            for _ in gw.client().chat.completions.create(
                    model="a-1", stream=True,
                    messages=[{"role": "user", "content": "old config [sim:pace=300ms]"}]):
                out["chunks"] += 1
                first.set()
        except Exception as e:
            out["error"] = repr(e)
        first.set()

    t = threading.Thread(target=run, daemon=True)
    t.start()
    assert first.wait(10)
    # The new config no longer has route `a`: the open stream still finishes on the old one.
    write(gw, BASE.replace('"a-*"', '"c-*"'))
    assert wait(lambda: not served(gw, "a-1"))
    t.join(timeout=30)
    assert out["error"] is None and out["chunks"] >= 3, out
    assert served(gw, "c-1")


def test_an_invalid_edit_is_refused_and_the_old_config_serves(gw):
    write(gw, BASE.replace("region: us-east-1", "regoin: us-east-1") + ROUTE_B)
    assert wait(lambda: reloads(gw, "invalid") == 1)
    logs = gw.logs()
    assert "backends[0].ai.provider.bedrock.regoin: unknown key" in logs
    assert "the previous configuration keeps serving" in logs
    assert served(gw, "a-1") and not served(gw, "b-1")
    assert gw.proc.poll() is None


def test_sighup_reloads_and_does_not_kill(gw):
    with open(gw.config_path, "w") as f:  # written in place, then SIGHUP
        f.write((BASE + ROUTE_B).format(**gw.fmt))
    gw.proc.send_signal(signal.SIGHUP)
    assert wait(lambda: served(gw, "b-1"))
    gw.proc.send_signal(signal.SIGHUP)
    time.sleep(0.5)
    assert gw.proc.poll() is None
    assert "config reload (SIGHUP)" in gw.logs()
    assert served(gw, "a-1")


def test_an_address_change_is_logged_as_needing_a_restart(gw):
    other = standins.free_port()
    write(gw, BASE.replace('address: "127.0.0.1:{gw}"', f'address: "127.0.0.1:{other}"') + ROUTE_B)
    assert wait(lambda: served(gw, "b-1"))
    assert "needs a restart; still listening on" in gw.logs()


POLICY = """
policies:
  - name: limits
    targetRefs: [{{kind: HTTPRoute, name: a}}]
    rateLimit:
      key: ip
      limits: [{{requests: {n}, window: 1h}}]
"""


def test_a_reload_keeps_the_counts_of_an_unchanged_rate_limit(gw):
    """A reload that does not change a policy's `rateLimit` keeps its limiter and counts (a
    monthly budget must not restart at every config edit); one that changes it starts anew."""
    write(gw, BASE + POLICY.replace("{n}", "2"))
    assert wait(lambda: reloads(gw, "ok") == 1)
    assert served(gw, "a-1") and served(gw, "a-2")
    with pytest.raises(openai.RateLimitError):
        ask(gw, "a-3")
    write(gw, BASE + ROUTE_B + POLICY.replace("{n}", "2"))  # a route added; the policy unchanged
    assert wait(lambda: served(gw, "b-1"))
    with pytest.raises(openai.RateLimitError):
        ask(gw, "a-4")
    write(gw, BASE + POLICY.replace("{n}", "3"))  # the limit changed: counted anew
    assert wait(lambda: reloads(gw, "ok") == 3)
    assert served(gw, "a-5")
