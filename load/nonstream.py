"""Non-streaming load: oha against the simulator directly and through basalt, same request, same
concurrency, back to back; prints req/s, p50/p99, what basalt adds, gateway CPU per request
(utime+stime from /proc ÷ 2xx responses) and the gateway's peak RSS.

    cargo build --release --bins && cargo install oha --locked   # once
    python3 load/nonstream.py [--duration 10] [--scenario small-c16 small-c1 large-c4] [--scale]

Scenarios: `small` is a 1.6 KB chat request (system prompt + a short multi-turn conversation),
`large` a 200 KB agentic request (20 tools with schemas, 70 turns of tool calls and results).
Direct requests carry the equivalent Converse body to `/model/{id}/converse`; the simulator
answers the same fixed reply either way (`--no-verify --no-record`, so it costs the same).
"""

import argparse
import json
import urllib.request
import os
import shutil
import subprocess
import tempfile
import time

from lib import Stack, machine, proc_cpu_seconds, proc_rss_kib

MODEL = "amazon.nova-micro-v1:0"


def small_request():
    filler = "Our gateway must be fast, exact and observable for every team that uses it. "
    messages = [{"role": "system", "content": "You are a precise assistant for the platform team. " + filler * 4}]
    for i in range(3):
        messages.append({"role": "user", "content": f"Question {i}: " + filler * 2})
        messages.append({"role": "assistant", "content": f"Answer {i}: " + filler})
    messages.append({"role": "user", "content": "Summarise the discussion in one sentence."})
    return {"model": MODEL, "max_tokens": 256, "temperature": 0.2, "messages": messages}


def large_request(turns=70):
    tools = [{"type": "function", "function": {
        "name": f"tool_{i}", "description": "Look things up in the internal knowledge base. " * 4,
        "parameters": {"type": "object", "properties": {
            "query": {"type": "string", "description": "What to look for, in plain words."},
            "limit": {"type": "integer", "minimum": 1, "maximum": 50},
            "filters": {"type": "object", "properties": {"team": {"type": "string"}, "since": {"type": "string"}}},
        }, "required": ["query"]}}} for i in range(20)]
    messages = [{"role": "system", "content": "You are an agent with tools. " * 40}]
    result = "Result line with details about the matching document and its metadata. " * 32
    for i in range(turns):
        messages.append({"role": "user", "content": f"Step {i}: find the next document. " * 4})
        messages.append({"role": "assistant", "content": None, "tool_calls": [{
            "id": f"call_{i}", "type": "function",
            "function": {"name": f"tool_{i % 20}", "arguments": json.dumps({"query": f"doc {i}", "limit": 5})}}]})
        messages.append({"role": "tool", "tool_call_id": f"call_{i}", "content": result})
    messages.append({"role": "user", "content": "Now write the final report."})
    return {"model": MODEL, "max_tokens": 1024, "messages": messages, "tools": tools}


def to_converse(req):
    """The Converse body basalt would send (close enough in size and shape for the baseline)."""
    system, msgs = [], []

    def push(role, block):
        if msgs and msgs[-1]["role"] == role:
            msgs[-1]["content"].append(block)
        else:
            msgs.append({"role": role, "content": [block]})

    for m in req["messages"]:
        if m["role"] == "system":
            system.append({"text": m["content"]})
        elif m["role"] == "tool":
            push("user", {"toolResult": {"toolUseId": m["tool_call_id"], "content": [{"text": m["content"]}]}})
        elif m.get("tool_calls"):
            for c in m["tool_calls"]:
                push("assistant", {"toolUse": {"toolUseId": c["id"], "name": c["function"]["name"],
                                               "input": json.loads(c["function"]["arguments"])}})
        else:
            push(m["role"], {"text": m["content"]})
    out = {"messages": msgs, "system": system, "inferenceConfig": {"maxTokens": req.get("max_tokens", 512)}}
    if "tools" in req:
        out["toolConfig"] = {"tools": [{"toolSpec": {"name": t["function"]["name"],
                                                     "description": t["function"]["description"],
                                                     "inputSchema": {"json": t["function"]["parameters"]}}}
                                       for t in req["tools"]]}
    return out


def oha(url, body_path, concurrency, duration):
    out = subprocess.run(
        ["oha", "--no-tui", "--output-format", "json", "-z", f"{duration}s", "-c", str(concurrency),
         "-m", "POST", "-T", "application/json", "-D", body_path, url],
        capture_output=True, text=True, check=True).stdout
    d = json.loads(out)
    ok = sum(n for code, n in d["statusCodeDistribution"].items() if code.startswith("2"))
    total = sum(d["statusCodeDistribution"].values())
    return {"rps": d["summary"]["requestsPerSec"], "p50": d["latencyPercentiles"]["p50"] * 1e3,
            "p99": d["latencyPercentiles"]["p99"] * 1e3, "ok": ok, "total": total}


SCENARIOS = {"small-c16": ("small", 16), "small-c1": ("small", 1), "large-c4": ("large", 4)}

# Bodies for the scaling table (OpenAI body sizes ≈ 1.5 KB, 20 KB, 200 KB, 1 MB), all at c=4.
SCALE = {"1.5 KB": small_request, "20 KB": lambda: large_request(4), "200 KB": large_request,
         "1 MB": lambda: large_request(380)}


def sim_calls(stack):
    """Model calls the simulator has answered so far."""
    with urllib.request.urlopen(f"http://127.0.0.1:{stack.ports['sim']}/_sim/streams") as r:
        return json.load(r)["calls"]


def verify(url, path):
    """One request before the load: a 200 with an assistant answer, or the run stops."""
    with open(path, "rb") as f:
        req = urllib.request.Request(url, f.read(), {"content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        answer = json.load(r)
    assert r.status == 200 and answer["choices"][0]["message"]["content"], answer


def measure(stack, gw, sim, paths, c, duration):
    """Direct then through basalt, same body and concurrency; the gateway's CPU per 2xx and
    the simulator's calls per 2xx (must be 1: no retries, no lost calls)."""
    verify(gw, paths["openai"])
    oha(gw, paths["openai"], c, 1)  # warm the pool and the caches
    direct = oha(sim, paths["converse"], c, duration)
    calls0, cpu0 = sim_calls(stack), proc_cpu_seconds(stack.gw.pid)
    via = oha(gw, paths["openai"], c, duration)
    cpu, calls = proc_cpu_seconds(stack.gw.pid) - cpu0, sim_calls(stack) - calls0
    via["cpu_us"] = cpu * 1e6 / max(via["ok"], 1)
    via["calls_per_ok"] = calls / max(via["ok"], 1)
    return direct, via


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--scenario", nargs="*", default=list(SCENARIOS))
    ap.add_argument("--scale", action="store_true",
                    help="also the scaling table: CPU per request against body size, c=4")
    args = ap.parse_args()
    if not shutil.which("oha"):
        raise SystemExit("oha not found: cargo install oha --locked")

    tmp = tempfile.mkdtemp()
    bodies = {}
    scale = [(f"scale {k}", f()) for k, f in SCALE.items()] if args.scale else []
    for name, req in [("small", small_request()), ("large", large_request())] + scale:
        paths = {}
        for kind, body in (("openai", req), ("converse", to_converse(req))):
            p = os.path.join(tmp, f"{name}-{kind}.json")
            with open(p, "w") as f:
                json.dump(body, f)
            paths[kind] = p
        bodies[name] = paths

    print(f"# {time.strftime('%Y-%m-%d')} · {machine()} · oha -z {args.duration}s")
    print("| scenario | body | direct req/s | via req/s | direct p50 | via p50 | added p50 | direct p99 | via p99 "
          "| gateway CPU/req | non-2xx | upstream calls per 2xx |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    with Stack() as stack:
        gw = f"http://127.0.0.1:{stack.ports['gw']}/v1/chat/completions"
        sim = f"http://127.0.0.1:{stack.ports['sim']}/model/{MODEL.replace(':', '%3A')}/converse"
        for name in args.scenario:
            body, c = SCENARIOS[name]
            size = os.path.getsize(bodies[body]["openai"])
            direct, via = measure(stack, gw, sim, bodies[body], c, args.duration)
            print(f"| {name} | {size / 1024:.1f} KB | {direct['rps']:,.0f} | {via['rps']:,.0f} | "
                  f"{direct['p50']:.3f} ms | {via['p50']:.3f} ms | {via['p50'] - direct['p50']:+.3f} ms | "
                  f"{direct['p99']:.3f} ms | {via['p99']:.3f} ms | {via['cpu_us']:.1f} µs | "
                  f"{via['total'] - via['ok']} | {via['calls_per_ok']:.3f} |", flush=True)
        if scale:
            print("\n| body (OpenAI / Converse) | direct p50 | via p50 | added p50 | gateway CPU/req "
                  "| gateway CPU per KB | upstream calls per 2xx |")
            print("|---|---|---|---|---|---|---|")
        for name, _ in scale:
            kb = os.path.getsize(bodies[name]["openai"]) / 1024
            ckb = os.path.getsize(bodies[name]["converse"]) / 1024
            direct, via = measure(stack, gw, sim, bodies[name], 4, args.duration)
            print(f"| {kb:,.1f} KB / {ckb:,.1f} KB | {direct['p50']:.3f} ms | {via['p50']:.3f} ms | "
                  f"{via['p50'] - direct['p50']:+.3f} ms | {via['cpu_us']:.1f} µs | "
                  f"{via['cpu_us'] / kb:.2f} µs | {via['calls_per_ok']:.3f} |", flush=True)
        print(f"\ngateway RSS now {proc_rss_kib(stack.gw.pid) / 1024:.1f} MiB, "
              f"peak {proc_rss_kib(stack.gw.pid, 'VmHWM') / 1024:.1f} MiB")


if __name__ == "__main__":
    main()
