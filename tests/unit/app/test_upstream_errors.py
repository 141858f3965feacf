"""Upstream trouble becomes a JSON 502 / 503 / 504 naming the cause: never a hang, never a bare 500."""

from __future__ import annotations

import json

import pytest

from bench.mock.config import MockConfig
from bench.mock.twin import MockTwin

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.mark.parametrize(("variant", "mock", "status", "kind"), [
    ("async", MockConfig(latency_ms=0, fault_5xx_rate=1.0), 502, "upstream_error"),
    ("threadpool", MockConfig(latency_ms=0, fault_5xx_rate=1.0), 502, "upstream_error"),
    ("async", MockConfig(latency_ms=0, fault_malformed_rate=1.0), 502, "upstream"),
    ("async", MockConfig(latency_ms=0, fault_drop_rate=1.0), 502, "upstream_unreachable"),
    ("sync", MockConfig(latency_ms=0, fault_drop_rate=1.0), 502, "upstream_unreachable"),
    ("async", MockConfig(latency_ms=0, fault_hang_rate=1.0, hang_seconds=30), 504, "upstream_timeout"),
    ("async", MockConfig(latency_ms=0, rpm=1), 503, "upstream_rate_limited"),
])
async def test_upstream_failure_maps_to_gateway_status(app_client, variant, mock, status, kind) -> None:
    twin = MockTwin(mock)
    async with app_client(variant, twin=twin, openai_max_retries=0, openai_timeout=0.5) as client:
        if mock.rpm:  # use up the one request the minute allows
            assert (await client.post("/api/chat", json={"message": "first"})).status_code == 200
        resp = await client.post("/api/chat", json={"message": "hi"})
    assert resp.status_code == status, resp.text
    err = resp.json()["error"]
    assert err["type"].startswith(kind) and err["message"], err
    if status == 503:
        assert int(resp.headers["retry-after"]) > 0


@pytest.mark.parametrize("variant", ["async", "threadpool", "sync"])
async def test_stream_failure_before_the_first_token_gets_a_status(app_client, variant: str) -> None:
    twin = MockTwin(MockConfig(latency_ms=0, fault_5xx_rate=1.0))
    async with app_client(variant, twin=twin, openai_max_retries=0) as client:
        resp = await client.post("/api/chat/stream", json={"message": "hi"})
    assert resp.status_code == 502 and resp.json()["error"]["type"] == "upstream_error"


async def test_stream_cut_mid_way_ends_with_an_error_event(app_client) -> None:
    twin = MockTwin(MockConfig(latency_ms=0, fault_cut_rate=1.0, output_tokens=40))
    async with app_client("async", twin=twin, openai_max_retries=0) as client:
        resp = await client.post("/api/chat/stream", json={"message": "hi"})
    events = [json.loads(line[6:]) for line in resp.text.splitlines() if line.startswith("data: ")]
    assert resp.status_code in (200, 502), resp.text
    if resp.status_code == 200:  # the cut came after the first token: headers were already sent
        assert events[0]["type"] == "token" and events[-1]["type"] == "error", events


async def test_retries_recover_from_a_transient_5xx(app_client) -> None:
    twin = MockTwin(MockConfig(latency_ms=0, fault_5xx_rate=0.5, seed=3))
    async with app_client("async", twin=twin, openai_max_retries=5) as client:
        codes = [(await client.post("/api/chat", json={"message": "hi"})).status_code for _ in range(10)]
    assert codes.count(200) == 10
    assert twin.stats()["received"] > 10  # some answers took more than one upstream call
