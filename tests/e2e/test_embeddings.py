"""POST /v1/embeddings end to end with the official openai SDK (`client.embeddings.create`):
a dedicated gateway in front of the session's simulator, whose vectors are deterministic (FNV-1a
of the text seeds a xorshift generator; see src/sim/invoke.rs), so every vector that comes back
is checked exactly against `sim_vector` below — for each model family, string and array input,
both encodings, dimensions, order with many inputs, batching, retries, errors and metrics."""

import base64
import json
import math
import struct
import uuid

import openai
import pytest
import standins
from conftest import AK, SK

TITAN = "amazon.titan-embed-text-v2:0"
COHERE3 = "cohere.embed-english-v3"
COHERE4 = "cohere.embed-v4:0"
NOVA = "amazon.nova-2-multimodal-embeddings-v1:0"
# (model, default dimension, a supported non-default dimension or None)
FAMILIES = [(TITAN, 1024, 256), (COHERE3, 1024, None), (COHERE4, 1536, 512), (NOVA, 3072, 384)]

CONFIG = """
listeners: [{{name: default, address: "127.0.0.1:{gw}"}}]
admin: {{address: "127.0.0.1:{admin}"}}
metrics: {{address: "127.0.0.1:{metrics}"}}
secrets: [{{name: static, stringData: {{accessKey: {ak}, secretKey: {sk}}}}}]
backends:
  - name: sim
    ai: {{provider: {{bedrock: {{region: us-east-1, endpoint: "http://127.0.0.1:{sim}"}}}}}}
    policies: {{auth: {{aws: {{secretRef: {{name: static}}}}}}}}
  - name: titan
    ai: {{provider: {{bedrock: {{model: "amazon.titan-embed-text-v2:0", region: us-east-1, endpoint: "http://127.0.0.1:{sim}"}}}}}}
    policies: {{auth: {{aws: {{secretRef: {{name: static}}}}}}}}
routes:
  - name: emb-metered
    matches: [{{path: {{type: PathPrefix, value: /v1/embeddings}}, model: metered}}]
    backendRefs: [{{name: titan}}]
  - name: emb-retry
    matches: [{{path: {{type: PathPrefix, value: /v1/embeddings}}, model: retry}}]
    backendRefs: [{{name: titan}}]
    retry: {{attempts: 3, backoff: 5ms, maxBackoff: 20ms}}
  - name: emb
    matches: [{{path: {{type: PathPrefix, value: /v1/embeddings}}, model: "*"}}]
    backendRefs: [{{name: sim}}]
"""

M64 = (1 << 64) - 1


def f32(x):
    return struct.unpack("<f", struct.pack("<f", x))[0]


def sim_vector(text, dims):
    """The simulator's vector for `text`, computed independently (as f32 values)."""
    h = 0xCBF29CE484222325
    for b in text.encode():
        h ^= b
        h = (h * 0x100000001B3) & M64
    s = h | 1
    v = []
    for _ in range(dims):
        s ^= (s << 13) & M64
        s ^= s >> 7
        s ^= (s << 17) & M64
        v.append((s >> 11) / float(1 << 52) - 1.0)
    norm = math.sqrt(sum(x * x for x in v))
    return [f32(x / norm) for x in v]


def sim_tokens(text):
    return max(1, -(-len(text) // 4))


@pytest.fixture(scope="module")
def gw(stack):
    g = standins.Gateway(CONFIG, ak=AK, sk=SK, sim=stack.ports["sim"])
    try:
        yield g
    finally:
        g.close()


def invokes(stack, marker):
    """The InvokeModel requests the simulator received whose body carries `marker`."""
    return [r for r in stack.upstream_requests() if r["path"].endswith("/invoke") and marker in r["body"]]


def nonce():
    return uuid.uuid4().hex[:10]


@pytest.mark.parametrize("model,dims,_", FAMILIES)
def test_string_input_float(gw, model, dims, _):
    text = f"hello {nonce()}"
    r = gw.client().embeddings.create(model=model, input=text, encoding_format="float")
    assert r.object == "list" and r.model == model
    assert len(r.data) == 1 and r.data[0].index == 0 and r.data[0].object == "embedding"
    got = [f32(x) for x in r.data[0].embedding]
    assert got == sim_vector(text, dims)
    assert r.usage.prompt_tokens == r.usage.total_tokens == sim_tokens(text)


@pytest.mark.parametrize("model,dims,_", FAMILIES)
def test_array_input_in_order_and_sdk_default_base64(gw, stack, model, dims, _):
    n = nonce()
    texts = [f"{n} first", f"{n} second, longer text", f"{n} 3"]
    raw = gw.client().embeddings.with_raw_response.create(model=model, input=texts)
    # The SDK asks for base64 when the caller names no encoding, and decodes it itself.
    assert json.loads(raw.http_request.content)["encoding_format"] == "base64"
    wire = json.loads(raw.content)
    assert all(isinstance(d["embedding"], str) for d in wire["data"])
    r = raw.parse()
    assert [d.index for d in r.data] == [0, 1, 2]
    for d, t in zip(r.data, texts):
        assert list(d.embedding) == sim_vector(t, dims)
    assert r.usage.prompt_tokens == sum(sim_tokens(t) for t in texts)
    sent = invokes(stack, n)
    if model.startswith("cohere"):
        assert len(sent) == 1
        body = json.loads(sent[0]["body"])
        assert body["texts"] == texts and body["input_type"] == "search_document"
    else:
        assert len(sent) == 3


def test_base64_is_little_endian_f32_of_the_float_answer(gw):
    text = f"bytes {nonce()}"
    c = gw.client()
    floats = c.embeddings.create(model=TITAN, input=text, encoding_format="float").data[0].embedding
    raw = c.embeddings.with_raw_response.create(model=TITAN, input=text, encoding_format="base64")
    b64 = json.loads(raw.content)["data"][0]["embedding"]
    blob = base64.b64decode(b64)
    assert len(blob) == 4 * len(floats)
    decoded = list(struct.unpack(f"<{len(floats)}f", blob))
    assert decoded == [f32(x) for x in floats] == sim_vector(text, 1024)


@pytest.mark.parametrize("model,_,dims", [f for f in FAMILIES if f[2]])
def test_dimensions(gw, stack, model, _, dims):
    text = f"dims {nonce()}"
    r = gw.client().embeddings.create(model=model, input=[text], dimensions=dims, encoding_format="float")
    assert [f32(x) for x in r.data[0].embedding] == sim_vector(text, dims)
    body = json.loads(invokes(stack, text)[-1]["body"])
    assert dims in (body.get("dimensions"), body.get("output_dimension"),
                    body.get("singleEmbeddingParams", {}).get("embeddingDimension"))


def test_many_inputs_keep_their_order_across_calls_and_batches(gw, stack):
    n = nonce()
    texts = [f"{n} item {i}" for i in range(40)]
    r = gw.client().embeddings.create(model=TITAN, input=texts, dimensions=256)
    assert [d.index for d in r.data] == list(range(40))
    for d, t in zip(r.data, texts):
        assert list(d.embedding) == sim_vector(t, 256)
    assert len(invokes(stack, n)) == 40

    texts = [f"{n} doc {i}" for i in range(200)]
    r = gw.client().embeddings.create(model=COHERE4, input=texts, dimensions=256, extra_body={"input_type": "search_query"})
    assert [d.index for d in r.data] == list(range(200))
    for d, t in zip(r.data, texts):
        assert list(d.embedding) == sim_vector(t, 256)
    batches = [json.loads(x["body"]) for x in invokes(stack, f"{n} doc")]
    assert sorted(len(b["texts"]) for b in batches) == [8, 96, 96]
    assert {b["input_type"] for b in batches} == {"search_query"}


def test_nova_query_purpose(gw, stack):
    text = f"query {nonce()}"
    gw.client().embeddings.create(model=NOVA, input=text, extra_body={"input_type": "search_query"})
    body = json.loads(invokes(stack, text)[-1]["body"])
    assert body["taskType"] == "SINGLE_EMBEDDING"
    assert body["singleEmbeddingParams"]["embeddingPurpose"] == "GENERIC_RETRIEVAL"


@pytest.mark.parametrize("kwargs,param,needle", [
    ({"model": TITAN, "input": [[1, 2, 3]]}, "input", "token ids"),
    ({"model": TITAN, "input": [1, 2, 3]}, "input", "token ids"),
    ({"model": TITAN, "input": ""}, "input", "empty"),
    ({"model": TITAN, "input": []}, "input", "empty array"),
    ({"model": TITAN, "input": ["x"] * 2049}, "input", "2048"),
    ({"model": TITAN, "input": "x", "dimensions": 300}, "dimensions", "256, 512, 1024"),
    ({"model": COHERE3, "input": "x", "dimensions": 512}, "dimensions", "1024"),
    ({"model": NOVA, "input": "x", "encoding_format": "int8"}, "encoding_format", "int8"),
    ({"model": "amazon.nova-micro-v1:0", "input": "x"}, "model", "amazon.nova-micro-v1:0"),
])
def test_bad_requests_are_openai_400s(gw, kwargs, param, needle):
    with pytest.raises(openai.BadRequestError) as e:
        gw.client().embeddings.create(**kwargs)
    err = e.value.body
    assert err["param"] == param and err["type"] == "invalid_request_error"
    assert needle in err["message"], err


def test_a_throttled_call_is_retried_by_the_route_policy(gw, stack):
    text = f"[sim:fail=1:ThrottlingException] [sim:retry-after=0] {nonce()}"
    r = gw.client().embeddings.create(model="retry", input=["plain", text], encoding_format="float")
    assert [f32(x) for x in r.data[1].embedding] == sim_vector(text, 1024)
    assert len(invokes(stack, text)) == 2
    # Without a retry policy the client sees the throttling, in OpenAI's shape.
    text = f"[sim:fail=1:ThrottlingException] {nonce()}"
    with pytest.raises(openai.RateLimitError):
        gw.client().embeddings.create(model=TITAN, input=text)
    assert len(invokes(stack, text)) == 1


def test_metrics_label_embeddings_and_count_input_tokens(gw):
    texts = ["metered one", "metered two, a little longer"]
    c = gw.client()
    total = 0
    for t in texts:
        total += c.embeddings.create(model="metered", input=t).usage.prompt_tokens
    assert total == sum(sim_tokens(t) for t in texts)
    text = gw.metrics_text()
    lines = [l for l in text.splitlines() if 'route="emb-metered"' in l]
    tokens = [l for l in lines if l.startswith("gen_ai_client_token_usage_sum")]
    assert len(tokens) == 1, lines
    assert 'gen_ai_operation_name="embeddings"' in tokens[0]
    assert 'gen_ai_token_type="input"' in tokens[0]
    assert float(tokens[0].rsplit(" ", 1)[1]) == total
    durations = [l for l in lines if l.startswith("gen_ai_server_request_duration_seconds_count")]
    assert durations and all('gen_ai_operation_name="embeddings"' in l for l in durations)
    assert not any('gen_ai_operation_name="chat"' in l for l in lines)
