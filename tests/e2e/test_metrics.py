"""Metrics end to end: a known sequence of requests on the `metered` route (used by no other
test), then exact counter and histogram-sum values from `GET /metrics`, parsed with
`prometheus_client`'s parser, and `promtool check metrics` on the raw text."""

import json
import shutil
import subprocess
import urllib.request

import openai
import pytest
from prometheus_client.parser import text_string_to_metric_families


def scrape(stack):
    with urllib.request.urlopen(f"http://127.0.0.1:{stack.ports['metrics']}/metrics") as r:
        assert r.headers["content-type"].startswith("text/plain")
        return r.read().decode()


def samples(text):
    out = {}
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def value(all_samples, name, **labels):
    """Sum of the samples of `name` whose labels include `labels`."""
    want = set(labels.items())
    return sum(v for (n, ls), v in all_samples.items() if n == name and want <= set(ls))


@pytest.fixture(scope="module")
def metered(stack):
    """Run the sequence once; return (responses' usages, scrape text)."""
    c = openai.OpenAI(base_url=stack.base_url, api_key="x", max_retries=0)
    usages = []
    r = c.chat.completions.create(model="metered-a", messages=[
        {"role": "user", "content": "count me [sim:cache=read:100,write:50]"}])
    usages.append(r.usage)
    chunks = list(c.chat.completions.create(model="metered-a", stream=True, stream_options={"include_usage": True},
                                            messages=[{"role": "user", "content": "stream me"}]))
    usages.append(chunks[-1].usage)
    # Without include_usage the client sees no usage, but the tokens are still counted (the same
    # request as above, so the same usage).
    list(c.chat.completions.create(model="metered-a", stream=True,
                                   messages=[{"role": "user", "content": "stream me"}]))
    usages.append(chunks[-1].usage)
    with pytest.raises(openai.RateLimitError):
        c.chat.completions.create(model="metered-zzz", messages=[
            {"role": "user", "content": "[sim:error=ThrottlingException]"}])
    with pytest.raises(openai.BadRequestError):
        c.chat.completions.create(model="metered-a", temperature=5, messages=[{"role": "user", "content": "x"}])
    return usages, scrape(stack)


def test_request_counter_by_status_and_error_type(metered):
    s = samples(metered[1])
    assert value(s, "basalt_requests_total", route="metered", status="200", error_type="") == 3
    assert value(s, "basalt_requests_total", route="metered", status="429", error_type="bedrock_throttling") == 1
    assert value(s, "basalt_requests_total", route="metered", status="400", error_type="invalid_request") == 1
    assert value(s, "basalt_requests_total", route="metered") == 5


def test_token_usage_recorded_once_per_request(metered):
    usages, text = metered
    s = samples(text)
    base = dict(route="metered", gen_ai_operation_name="chat", gen_ai_system="aws.bedrock")
    assert value(s, "gen_ai_client_token_usage_count", gen_ai_token_type="input", **base) == 3
    assert value(s, "gen_ai_client_token_usage_sum", gen_ai_token_type="input", **base) == sum(u.prompt_tokens for u in usages)
    assert value(s, "gen_ai_client_token_usage_sum", gen_ai_token_type="output", **base) == sum(u.completion_tokens for u in usages)
    assert value(s, "gen_ai_client_token_usage_sum", gen_ai_token_type="input_cache_read", **base) == 100
    assert value(s, "gen_ai_client_token_usage_sum", gen_ai_token_type="input_cache_write", **base) == 50
    assert value(s, "gen_ai_client_token_usage_count", gen_ai_token_type="input_cache_read", **base) == 1


def test_model_labels_are_bounded(metered):
    s = samples(metered[1])
    # A model Bedrock answered becomes a label value; one that only failed does not.
    assert value(s, "gen_ai_server_request_duration_seconds_count", route="metered", gen_ai_request_model="metered-a") == 4
    assert value(s, "gen_ai_server_request_duration_seconds_count", route="metered", gen_ai_request_model="other") == 1
    assert "metered-zzz" not in metered[1]


def test_latency_histograms(metered):
    s = samples(metered[1])
    assert value(s, "gen_ai_server_request_duration_seconds_count", route="metered") == 5
    assert value(s, "gen_ai_server_time_to_first_token_seconds_count", route="metered") == 3
    assert value(s, "gen_ai_server_time_per_output_token_seconds_count", route="metered") == 2  # streams only
    assert value(s, "basalt_upstream_duration_seconds_count", route="metered", backend="sim") == 4
    assert value(s, "basalt_requests_in_flight") == 0
    assert value(s, "basalt_open_streams") == 0
    assert value(s, "basalt_build_info") == 1


def test_promtool_accepts_the_exposition(metered):
    promtool = shutil.which("promtool")
    assert promtool, "promtool is installed by .ci/deps"
    r = subprocess.run([promtool, "check", "metrics"], input=metered[1], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_access_log_line_has_request_id_and_usage(stack):
    status = None
    req = urllib.request.Request(stack.base_url + "/chat/completions", method="POST",
                                 data=json.dumps({"model": "metered-a", "messages": [{"role": "user", "content": "log me"}]}).encode(),
                                 headers={"content-type": "application/json", "x-request-id": "trace-abc-123"})
    with urllib.request.urlopen(req) as r:
        status, rid = r.status, r.headers["x-request-id"]
    assert (status, rid) == (200, "trace-abc-123")
    line = stack.access_line(lambda a: a["request_id"] == "trace-abc-123")
    assert line is not None
    for k in ("time", "route", "backend", "model", "status", "duration_ms", "ttft_ms", "prompt_tokens",
              "completion_tokens", "cached_tokens", "error_type", "upstream_request_id"):
        assert k in line, k
    assert line["route"] == "metered" and line["upstream_request_id"].startswith("sim-")
    assert "log me" not in json.dumps(line)


def test_request_id_generated_when_absent(stack):
    req = urllib.request.Request(stack.base_url + "/chat/completions", method="POST", data=b"{bad json",
                                 headers={"content-type": "application/json"})
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(req)
    rid = e.value.headers["x-request-id"]
    assert len(rid) == 32 and int(rid, 16) >= 0
