"""Operator policies end to end (issue: prompt caching, extended thinking, structured outputs):
the official `openai` SDK → basalt → basalt-sim, which validates each request with the rules of
the model it names (cache points only where the family accepts them, reasoning fields per
family, Claude's thinking constraints) and simulates Bedrock's prompt cache (a prefix marked by
a cache point is written once and read by later requests)."""

import json

import openai
import pytest

CLAUDE = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
SYSTEM = "You are the support assistant for Basalt Inc. Answer from the manual. " * 80  # ≈1,400 tokens
MANUAL = "The manual says many useful things about basalt. " * 30


def upstream_body(stack):
    return json.loads(stack.last_upstream()["body"])


def points(body):
    """Where the cache points are: ('system'|'tools'|message index)."""
    out = [("system", i) for i, b in enumerate(body.get("system", [])) if "cachePoint" in b]
    out += [("tools", i) for i, t in enumerate(body.get("toolConfig", {}).get("tools", [])) if "cachePoint" in t]
    for m, msg in enumerate(body["messages"]):
        out += [(m, i) for i, b in enumerate(msg["content"]) if "cachePoint" in b]
    return out


def test_growing_chat_reads_its_cached_prefix(stack, client):
    """Route `bedrock` has the guide's caching policy. Turn 1 writes the prefix; turn 2 (the same
    conversation, one exchange longer) reads it: cached_tokens > 0 and prompt_tokens includes it."""
    stack.clear()
    history = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": "Question one. " + MANUAL}]
    r1 = client.chat.completions.create(model=CLAUDE, messages=history)
    b1 = upstream_body(stack)
    assert points(b1) == [("system", 1), (0, 1)], points(b1)
    u1 = r1.usage
    assert u1.prompt_tokens_details.cached_tokens == 0
    written = u1.prompt_tokens_details.model_dump()["cache_write_tokens"]
    assert written >= 1024

    history += [{"role": "assistant", "content": r1.choices[0].message.content},
                {"role": "user", "content": "Question two?"}]
    r2 = client.chat.completions.create(model=CLAUDE, messages=history)
    b2 = upstream_body(stack)
    # System, the previous user turn (read now) and the last user turn (read by turn 3).
    assert points(b2) == [("system", 1), (0, 1), (2, 1)], points(b2)
    u2 = r2.usage
    assert u2.prompt_tokens_details.cached_tokens == written
    assert u2.prompt_tokens >= written + u2.prompt_tokens_details.model_dump()["cache_write_tokens"]

    # Streaming gets the same treatment, and reports the same cached usage.
    history += [{"role": "assistant", "content": r2.choices[0].message.content},
                {"role": "user", "content": "Question three?"}]
    chunks = list(client.chat.completions.create(model=CLAUDE, messages=history, stream=True,
                                                 stream_options={"include_usage": True}))
    assert points(upstream_body(stack))[-1] == (4, 1)
    usage = chunks[-1].usage
    assert usage.prompt_tokens_details.cached_tokens > written


def test_short_prompts_get_no_cache_points(stack, client):
    stack.clear()
    client.chat.completions.create(model=CLAUDE, messages=[{"role": "system", "content": "Be brief."},
                                                           {"role": "user", "content": "hi"}])
    assert points(upstream_body(stack)) == []


def test_models_without_caching_or_reasoning_get_neither(stack, client):
    """A client cache hint, a long prompt and reasoning_effort on Llama: Bedrock would 400 on a
    cache point or a thinking field; basalt sends none and the request succeeds."""
    stack.clear()
    r = client.chat.completions.create(
        model="meta.llama3-70b-instruct-v1:0", reasoning_effort="high",
        messages=[{"role": "system", "content": SYSTEM},
                  {"role": "user", "content": [{"type": "text", "text": "q", "cache_control": {"type": "ephemeral"}}]}])
    assert r.choices[0].message.content
    body = upstream_body(stack)
    assert points(body) == [] and "additionalModelRequestFields" not in body


def test_client_cache_hint_becomes_a_cache_point(stack, client):
    stack.clear()
    client.chat.completions.create(
        model="fixed", messages=[{"role": "user", "content": [
            {"type": "text", "text": "Reference text.", "cache_control": {"type": "ephemeral"}},
            {"type": "text", "text": "Question?"}]}])
    body = upstream_body(stack)  # route `fixed`: Nova micro, no policy
    assert body["messages"][0]["content"] == [{"text": "Reference text."}, {"cachePoint": {"type": "default"}},
                                              {"text": "Question?"}]


def test_reasoning_effort_on_claude_budget_thinking(stack, client):
    stack.clear()
    raw = client.chat.completions.with_raw_response.create(
        model=CLAUDE, reasoning_effort="high", temperature=0.3, max_tokens=500,
        messages=[{"role": "user", "content": "Prove that 2 + 2 = 4."}])
    r = raw.parse()
    body = upstream_body(stack)
    assert body["additionalModelRequestFields"] == {"thinking": {"type": "enabled", "budget_tokens": 4096}}
    assert body["inferenceConfig"] == {"maxTokens": 4596}
    assert raw.headers["x-basalt-adjusted"] == "temperature,max_tokens"
    m = r.choices[0].message
    assert m.model_extra["reasoning_content"] and m.model_extra["reasoning_details"][0]["signature"]


@pytest.mark.parametrize("effort,budget", [("minimal", 1024), ("low", 1024), ("medium", 2048), ("xhigh", 4096)])
def test_claude_budget_table(stack, client, effort, budget):
    stack.clear()
    client.chat.completions.create(model="anthropic.claude-haiku-4-5-20251001-v1:0", reasoning_effort=effort,
                                   messages=[{"role": "user", "content": "hi"}])
    body = upstream_body(stack)
    assert body["additionalModelRequestFields"]["thinking"]["budget_tokens"] == budget
    assert body["inferenceConfig"]["maxTokens"] > budget


def test_adaptive_only_claude_gets_adaptive_thinking(stack, client):
    stack.clear()
    chunks = list(client.chat.completions.create(
        model="us.anthropic.claude-opus-4-7", reasoning_effort="medium", stream=True,
        messages=[{"role": "user", "content": "Plan it."}]))
    body = upstream_body(stack)
    assert body["additionalModelRequestFields"] == {"thinking": {"type": "adaptive"}}
    assert body["outputConfig"] == {"effort": "medium"}
    reasoning = "".join(c.choices[0].delta.model_extra.get("reasoning_content") or ""
                        for c in chunks if c.choices)
    assert reasoning == "Let me think about this step by step."


def test_backend_family_override_for_an_opaque_arn(stack, client):
    """An application inference profile says nothing about its model: the backend's
    `modelFamily: claude-adaptive` decides."""
    stack.clear()
    client.chat.completions.create(model="profile-x", reasoning_effort="high",
                                   messages=[{"role": "user", "content": "hi"}])
    up = stack.last_upstream()
    assert "application-inference-profile%2Fabc123/converse" in up["path"]
    assert json.loads(up["body"])["additionalModelRequestFields"] == {"thinking": {"type": "adaptive"}}


@pytest.mark.parametrize("model,fields", [
    ("us.amazon.nova-2-lite-v1:0", {"reasoningConfig": {"type": "enabled", "maxReasoningEffort": "high"}}),
    ("openai.gpt-oss-120b-1:0", {"reasoning_effort": "high"}),
])
def test_reasoning_effort_on_nova2_and_gpt_oss(stack, client, model, fields):
    stack.clear()
    r = client.chat.completions.create(model=model, reasoning_effort="xhigh",
                                       messages=[{"role": "user", "content": "hi"}])
    assert upstream_body(stack)["additionalModelRequestFields"] == fields
    assert r.choices[0].message.model_extra["reasoning_content"]


def test_forced_tool_choice_wins_over_thinking(stack, client):
    stack.clear()
    raw = client.chat.completions.with_raw_response.create(
        model=CLAUDE, reasoning_effort="high", tool_choice="required",
        tools=[{"type": "function", "function": {"name": "lookup", "parameters": {"type": "object", "properties": {"id": {"type": "string"}}}}}],
        messages=[{"role": "user", "content": "Look up order 7 [sim:tool]"}])
    r = raw.parse()
    assert r.choices[0].message.tool_calls[0].function.name == "lookup"
    assert "additionalModelRequestFields" not in upstream_body(stack)
    assert raw.headers["x-basalt-adjusted"] == "reasoning_effort"


def test_unknown_reasoning_effort_is_a_named_400(stack, client):
    with pytest.raises(openai.BadRequestError) as e:
        client.chat.completions.create(model=CLAUDE, reasoning_effort="extreme",
                                       messages=[{"role": "user", "content": "hi"}])
    assert e.value.body["param"] == "reasoning_effort"


def test_structured_output_with_reasoning(stack, client):
    stack.clear()
    r = client.chat.completions.create(
        model="us.anthropic.claude-opus-4-7", reasoning_effort="low",
        response_format={"type": "json_schema", "json_schema": {"name": "answer", "strict": True, "schema": {
            "type": "object", "properties": {"value": {"type": "integer"}}, "required": ["value"]}}},
        messages=[{"role": "user", "content": "2+2?"}])
    oc = upstream_body(stack)["outputConfig"]
    assert oc["effort"] == "low" and json.loads(oc["textFormat"]["structure"]["jsonSchema"]["schema"])["required"] == ["value"]
    assert isinstance(json.loads(r.choices[0].message.content)["value"], int)
