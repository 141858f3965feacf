"""What the fuzzers found, pinned one case each so a regression names itself without a fuzzing run."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest

from app_under_test import create_app
from app_under_test.settings import load_settings
from bench.errors import UsageError
from bench.mock import protocol
from bench.mock.config import MockConfig
from bench.mock.openapi import DESCRIPTION
from bench.mock.twin import MockTwin

CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}


def _app_request(method: str, path: str, **kwargs: Any) -> httpx.Response:
    app = create_app("async", load_settings(app_debug_endpoints=True))

    async def send() -> httpx.Response:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://app.test") as client:
            return await client.request(method, path, **kwargs)

    return asyncio.run(send())


@pytest.mark.parametrize(("method", "path", "allowed"), [
    ("TRACE", "/api/chat", "POST"), ("DELETE", "/api/chat/stream", "POST"), ("POST", "/healthz", "GET")])
def test_405_names_the_allowed_methods(method: str, path: str, allowed: str) -> None:
    resp = _app_request(method, path)
    assert resp.status_code == 405 and allowed in resp.headers["allow"]
    assert resp.json()["error"]["type"] == "http_error"


def test_a_body_that_is_not_utf8_is_the_documented_422() -> None:
    resp = _app_request("POST", "/api/chat", content=b'{"message": "\x8d\xff"}',
                        headers={"content-type": "application/json"})
    assert resp.status_code == 422
    assert resp.json()["error"] == {"type": "invalid_request", "message": "request body is not valid JSON"}


def test_the_openapi_documents_the_stream_and_the_errors() -> None:
    paths = create_app("threadpool", load_settings()).openapi()["paths"]
    for path in ("/api/chat", "/api/chat/stream"):
        responses = paths[path]["post"]["responses"]
        assert {"422", "502", "503", "504"} <= set(responses)
        assert responses["422"]["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorResponse")
    assert list(paths["/api/chat/stream"]["post"]["responses"]["200"]["content"]) == ["text/event-stream"]


def _mock(path: str, *, method: str = "POST", body: Any = CHAT, headers: dict[str, str] | None = None,
          raw: bytes | None = None) -> httpx.Response:
    twin = MockTwin(MockConfig(latency_ms=0), sleep=False)
    with httpx.Client(transport=twin.transport(httpx), base_url="http://mock.test") as client:
        content = raw if raw is not None else json.dumps(body).encode()
        return client.request(method, path, content=content if method == "POST" else None, headers=headers)


def test_the_mock_serves_its_description() -> None:
    resp = _mock("/mock/openapi.json", method="GET")
    assert resp.status_code == 200 and resp.json() == json.loads(json.dumps(DESCRIPTION))


@pytest.mark.parametrize(("header", "value"), [
    ("x-mock-latency-ms", "nan"), ("x-mock-latency-ms", "inf"), ("x-mock-ttft-ms", "-1"),
    ("x-mock-itl-ms", "1e12"), ("x-mock-output-tokens", "1e12"), ("x-mock-output-tokens", "2.5"),
    ("x-mock-output-tokens", "0"), ("x-mock-fault", "nope"), ("x-mock-latency-ms", "soon")])
def test_a_mock_header_that_would_hang_or_crash_it_is_a_400(header: str, value: str) -> None:
    resp = _mock("/v1/chat/completions", headers={header: value})
    assert resp.status_code == 400 and header in resp.json()["error"]["message"]


@pytest.mark.parametrize(("body", "param"), [
    ({**CHAT, "max_tokens": protocol.MAX_COMPLETION_TOKENS + 1}, "max_tokens"),
    ({**CHAT, "messages": [{"role": "user", "content": [{"type": "text", "text": 5}]}]}, "messages[0].content[0].text"),
    ({**CHAT, "messages": [{"role": "user", "content": ["hi"]}]}, "messages[0].content[0]"),
    ({**CHAT, "stream": True, "stream_options": {"include_usage": "yes"}}, "stream_options.include_usage"),
])
def test_what_openai_refuses_the_mock_refuses(body: dict[str, Any], param: str) -> None:
    resp = _mock("/v1/chat/completions", body=body)
    assert resp.status_code == 400 and resp.json()["error"]["param"] == param


def test_deep_nesting_is_a_400_not_a_crash() -> None:
    assert _mock("/v1/chat/completions", raw=b"[" * 100_000).status_code == 400


def test_an_integral_float_is_an_integer() -> None:
    resp = _mock("/v1/chat/completions", body={**CHAT, "max_tokens": 3.0})
    assert resp.status_code == 200 and resp.json()["usage"]["completion_tokens"] == 3


def test_a_mock_config_with_nan_is_refused() -> None:
    with pytest.raises(UsageError, match="--latency-ms must be a finite number >= 0"):
        MockConfig(latency_ms=float("nan"))
    with pytest.raises(UsageError, match="--recent-requests must be >= 1"):
        MockConfig(recent_requests=0)
