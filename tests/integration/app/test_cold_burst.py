"""A cold burst of 50 concurrent first requests against a real uvicorn: how many ChatAgents get built.

Shown, not assumed: the racy providers behind a `def` dependency (FastAPI's threadpool) build several;
the locked ones and any provider behind an `async def` dependency build exactly one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest

from bench.mock.config import MockConfig
from bench.mock.process import MockServer, running_mock
from bench.servers.app import running_app

pytestmark = pytest.mark.integration
BURST = 50


@pytest.fixture(scope="module")
def slow_mock() -> Iterator[MockServer]:
    with running_mock(MockConfig(latency_ms=300)) as mock:
        yield mock


async def _cold_burst(url: str, n: int) -> tuple[list[int], dict]:
    limits = httpx.Limits(max_connections=n, max_keepalive_connections=n)
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as client:
        # Open every connection first (healthz does not touch the agent) so the burst is not paced by connects.
        await asyncio.gather(*[client.get("/healthz") for _ in range(n)])
        replies = await asyncio.gather(*[client.post("/api/chat", json={"message": "hi"}) for _ in range(n)])
        stats = (await client.get("/api/debug/stats")).json()
    return [r.status_code for r in replies], stats


@pytest.mark.parametrize(("variant", "expect_many"), [
    ("naive-global", True),
    ("lru_cache", True),
    ("locked", False),
    ("async-dependency", False),
    ("naive-global:dependency=async", False),
    ("asyncio-lock", False),
])
def test_cold_burst_constructions(slow_mock: MockServer, variant: str, expect_many: bool) -> None:
    # A 50 ms constructor widens the race window the way a slower real constructor would.
    with running_app(variant, slow_mock.api_base, env={"APP_AGENT_INIT_DELAY_MS": "50"}) as app:
        codes, stats = asyncio.run(_cold_burst(app.url, BURST))
    assert codes == [200] * BURST
    assert stats["provider_calls"] == BURST
    if expect_many:
        assert stats["constructions"] > 1, stats
    else:
        assert stats["constructions"] == 1, stats


def test_workers_each_build_their_own_agent(slow_mock: MockServer) -> None:

    with running_app("locked", slow_mock.api_base, workers=2) as app:
        with httpx.Client(timeout=30, headers={"Connection": "close"}) as client:
            for _ in range(20):
                assert client.post(app.url + "/api/chat", json={"message": "hi"}).status_code == 200
        per_worker = app.per_worker()
    assert sorted(s["pid"] for s in per_worker) == sorted(app.worker_pids)
    assert [s["constructions"] for s in per_worker if s["requests_total"]] == [1] * sum(
        1 for s in per_worker if s["requests_total"])
