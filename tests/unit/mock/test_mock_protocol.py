"""OpenAI's wire format: validation errors, completion bodies and SSE chunks."""

from __future__ import annotations

import json

import pytest

from bench.mock import protocol
from bench.mock.protocol import ApiError, ChatRequest, parse_chat_request

GOOD = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hello there"}]}


def _with(**changes: object) -> bytes:
    return json.dumps({**GOOD, **changes}).encode()


def test_a_good_request_parses() -> None:
    req = parse_chat_request(_with(max_completion_tokens=7, stream=True, stream_options={"include_usage": True}))
    assert isinstance(req, ChatRequest)
    assert (req.model, req.max_tokens, req.stream, req.include_usage) == ("gpt-4o-mini", 7, True, True)
    assert req.prompt_tokens > 0


@pytest.mark.parametrize(("body", "param", "code", "needle"), [
    (b"{not json", None, None, "could not parse the JSON body"),
    (b"[1, 2]", None, None, "could not parse the JSON body"),
    (json.dumps({"messages": GOOD["messages"]}).encode(), None, None, "you must provide a model parameter"),
    (json.dumps({"model": "m"}).encode(), "messages", "missing_required_parameter", "'messages'"),
    (_with(model=5), "model", "invalid_type", "expected a string, but got an integer"),
    (_with(messages="hi"), "messages", "invalid_type", "expected an array, but got a string"),
    (_with(messages=[]), "messages", "empty_array", "empty array"),
    (_with(messages=["hi"]), "messages[0]", "invalid_type", "expected an object"),
    (_with(messages=[{"content": "x"}]), "messages[0].role", "missing_required_parameter", "role"),
    (_with(messages=[{"role": "robot", "content": "x"}]), "messages[0].role", "invalid_value", "'robot'"),
    (_with(messages=[{"role": "user"}]), "messages[0].content", "missing_required_parameter", "content"),
    (_with(max_tokens="5"), "max_tokens", "invalid_type", "expected an integer, but got a string"),
    (_with(max_completion_tokens=0), "max_completion_tokens", "integer_below_min_value", ">= 1"),
    (_with(stream="yes"), "stream", "invalid_type", "expected a boolean"),
    (_with(stream_options={"include_usage": True}), "stream_options", None, "only allowed when 'stream'"),
    (_with(temperature="hot"), "temperature", "invalid_type", "expected a number"),
])
def test_bad_requests_get_openais_400(body: bytes, param: str | None, code: str | None, needle: str) -> None:
    err = parse_chat_request(body)
    assert isinstance(err, ApiError)
    assert err.status == 400
    assert (err.type, err.param, err.code) == ("invalid_request_error", param, code)
    assert needle in err.message
    assert json.loads(err.body()) == {"error": {"message": err.message, "type": "invalid_request_error",
                                                "param": param, "code": code}}


def test_completion_body_is_openais_shape() -> None:
    body = json.loads(protocol.completion_body(b"chatcmpl-1", 123, b'"m"', prompt=9, completion=4))
    assert body["object"] == "chat.completion"
    assert body["choices"][0]["message"] == {"role": "assistant", "content": "Lorem ipsum dolor sit",
                                             "refusal": None, "annotations": []}
    assert body["choices"][0]["finish_reason"] == "stop"
    assert body["usage"]["prompt_tokens"] == 9
    assert body["usage"]["completion_tokens"] == 4
    assert body["usage"]["total_tokens"] == 13


@pytest.mark.parametrize("include_usage", [False, True])
def test_stream_events_role_first_then_content_finish_usage_done(include_usage: bool) -> None:
    events = protocol.stream_events(b"c1", 1, b'"m"', prompt=5, completion=3, include_usage=include_usage)
    raw = b"".join(events).decode()
    assert raw.endswith("data: [DONE]\n\n")
    chunks = [json.loads(line[6:]) for line in raw.split("\n\n") if line.startswith("data: {")]
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    assert "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"]) == (
        "Lorem ipsum dolor")
    finish = [c for c in chunks if c["choices"] and c["choices"][0]["finish_reason"]]
    assert len(finish) == 1 and finish[0]["choices"][0]["finish_reason"] == "stop"
    usage = [c for c in chunks if not c["choices"]]
    if include_usage:
        assert len(usage) == 1 and chunks[-1] is usage[0]
        assert usage[0]["usage"]["completion_tokens"] == 3
        assert all(c["usage"] is None for c in chunks[:-1])
    else:
        assert usage == [] and all("usage" not in c for c in chunks)
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)


def test_errors_for_auth_paths_and_rate_limits() -> None:
    assert protocol.auth_error(False).code is None
    assert protocol.auth_error(True).code == "invalid_api_key"
    assert protocol.not_found("GET", "/v1/nope").message == "Invalid URL (GET /v1/nope)"
    err = protocol.rate_limit_error("Rate limit reached", "requests")
    assert (err.status, err.type, err.code) == (429, "requests", "rate_limit_exceeded")
