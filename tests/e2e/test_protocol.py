"""HTTP details real clients hit: a streamed answer is chunk-framed so the connection stays
alive for the next request, and request bodies may be gzip-encoded."""

import gzip
import http.client
import json


def stream_body(text):
    return json.dumps({"model": "m", "stream": True, "messages": [{"role": "user", "content": text}]})


def test_a_streamed_answer_keeps_the_connection_alive(stack):
    conn = http.client.HTTPConnection("127.0.0.1", stack.ports["gw"], timeout=30)
    try:
        socks = []
        for i in range(2):
            conn.request("POST", "/v1/chat/completions", stream_body(f"hello {i}"),
                         {"content-type": "application/json"})
            r = conn.getresponse()
            assert r.status == 200
            assert r.getheader("transfer-encoding") == "chunked"
            assert r.getheader("connection", "").lower() != "close"
            assert r.read().rstrip().endswith(b"data: [DONE]")
            socks.append(conn.sock)
        assert socks[0] is not None and socks[0] is socks[1], "the second request reused the connection"
    finally:
        conn.close()


def test_a_gzip_request_body_is_decoded(stack):
    body = gzip.compress(json.dumps({"model": "m", "messages": [{"role": "user", "content": "zipped"}]}).encode())
    conn = http.client.HTTPConnection("127.0.0.1", stack.ports["gw"], timeout=30)
    conn.request("POST", "/v1/chat/completions", body,
                 {"content-type": "application/json", "content-encoding": "gzip"})
    r = conn.getresponse()
    answer = json.loads(r.read())
    assert r.status == 200, answer
    assert answer["choices"][0]["message"]["content"]


def test_other_encodings_and_corrupt_gzip_are_clear_errors(stack):
    cases = [("br", b"\x8b\x00", 415, "unsupported_content_encoding"),
             ("gzip", b"definitely not gzip", 400, "invalid_request")]
    for encoding, body, status, code in cases:
        conn = http.client.HTTPConnection("127.0.0.1", stack.ports["gw"], timeout=30)
        conn.request("POST", "/v1/chat/completions", body,
                     {"content-type": "application/json", "content-encoding": encoding})
        r = conn.getresponse()
        err = json.loads(r.read())["error"]
        assert (r.status, err["code"]) == (status, code), (encoding, err)
        conn.close()


def test_a_model_can_be_looked_up_by_id(stack, client):
    import openai
    import pytest

    m = client.models.retrieve("amazon.nova-micro-v1:0")
    assert (m.id, m.object, m.owned_by) == ("amazon.nova-micro-v1:0", "model", "amazon")
    # A model a route accepts by glob is found too (the catch-all route accepts any id).
    assert client.models.retrieve("us.anthropic.claude-sonnet-4-5-20250929-v1:0").id.startswith("us.anthropic")
    conn = http.client.HTTPConnection("127.0.0.1", stack.ports["gw"], timeout=30)
    conn.request("POST", "/v1/models/x")
    r = conn.getresponse()
    assert r.status == 405 and json.loads(r.read())["error"]["code"] == "method_not_allowed"
