"""The rate limiter factory per kind, the shared limiter's window and its fail-open path (no Redis server needed:
a closed loopback port stands for a Redis that is down)."""

from __future__ import annotations

import asyncio
import socket
import time

import httpx
import pytest
from langchain_core.rate_limiters import InMemoryRateLimiter

from app_under_test import create_app
from app_under_test.errors import upstream_error
from app_under_test.limiters import KINDS, build_rate_limiter, check_limiter_settings, limiter_stats
from app_under_test.limiters.redis_limiter import RETRY_REDIS_AFTER_S, RedisRateLimiter
from app_under_test.limiters.window import Window, moving_window
from app_under_test.settings import SettingsError, load_settings
from app_under_test.variants import PRESET_DOCS, PRESETS, parse_variant

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def _closed_port() -> int:
    """A loopback port nobody listens on (bound, then released): connecting is refused at once."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_none_builds_nothing() -> None:
    assert build_rate_limiter(load_settings(), "none") is None


def test_memory_is_the_seeds_in_memory_limiter_with_the_settings_rate() -> None:
    s = load_settings(openai_rate_limit_requests_per_second=3, openai_rate_limit_check_every_n_seconds=0.05,
                      openai_rate_limit_max_bucket_size=4)
    lim = build_rate_limiter(s, "memory")
    assert isinstance(lim, InMemoryRateLimiter)
    assert (lim.requests_per_second, lim.check_every_n_seconds, lim.max_bucket_size) == (3, 0.05, 4)


def test_redis_without_url_is_one_line_naming_redis_url() -> None:
    with pytest.raises(SettingsError) as exc:
        build_rate_limiter(load_settings(redis_url=None), "redis")
    assert str(exc.value).startswith("REDIS_URL:") and "\n" not in str(exc.value)
    check_limiter_settings(load_settings(redis_url=None), "memory")  # only the redis kind needs it


def test_redis_url_with_a_foreign_scheme_is_refused() -> None:
    with pytest.raises(SettingsError, match="REDIS_URL: scheme 'http'"):
        build_rate_limiter(load_settings(redis_url="http://127.0.0.1:6379/0"), "redis")


def test_redis_builds_without_connecting_and_keeps_the_settings() -> None:
    s = load_settings(redis_url=f"redis://127.0.0.1:{_closed_port()}/0", app_rate_limit_key="k1")
    lim = build_rate_limiter(s, "redis")
    assert isinstance(lim, RedisRateLimiter)
    assert lim.key == "k1" and lim.window == Window(10, 1) and isinstance(lim.fallback, InMemoryRateLimiter)
    assert lim.stats()["mode"] == "redis" and lim.stats()["acquired"] == 0


def test_unknown_kind_lists_the_valid_ones() -> None:
    with pytest.raises(ValueError, match="unknown limiter 'disk'; valid: none, memory, redis"):
        build_rate_limiter(load_settings(), "disk")
    assert tuple(KINDS) == ("none", "memory", "redis")


@pytest.mark.parametrize(("rps", "bucket", "window"), [
    (10, 10, Window(10, 1)),  # the seed's settings
    (0.05, 10, Window(10, 200)),  # OpenAI tier 1: 3 RPM
    (1.5, 10, Window(9, 6)),  # W = 6.67 s rounded to the side whose rate is exact
    (7, 10, Window(7, 1)),
    (100000, 10, Window(100000, 1)),  # windows are >= 1 s: the burst is the rate
    (0.3, 1, Window(1, 4)),  # less than one permit per rounded window: one per ceil(1/r) s
])
def test_moving_window_rate_never_exceeds_the_setting(rps: float, bucket: float, window: Window) -> None:
    got = moving_window(rps, bucket)
    assert got == window and got.rate <= rps + 1e-9
    assert got.item().get_expiry() == window.seconds and got.item().amount == window.permits


def test_redis_down_fails_open_to_the_in_process_limiter_fast_and_counted() -> None:
    s = load_settings(redis_url=f"redis://127.0.0.1:{_closed_port()}/0", openai_rate_limit_requests_per_second=1000,
                      openai_rate_limit_check_every_n_seconds=0.01, openai_rate_limit_max_bucket_size=1000)
    lim = build_rate_limiter(s, "redis")
    assert isinstance(lim, RedisRateLimiter)
    start = time.monotonic()
    assert all(lim.acquire() for _ in range(5))
    assert time.monotonic() - start < 2.0  # bounded: a refused connection, then the fallback's own pace
    st = lim.stats()
    # One failure, then Redis is left alone for RETRY_REDIS_AFTER_S: the other four went straight to the fallback.
    assert (st["acquired"], st["fallback_acquired"], st["redis_errors"], st["mode"]) == (5, 5, 1, "fallback")
    assert "Error" in st["last_error"]
    assert limiter_stats()["mode"] == "fallback" and limiter_stats()["redis_errors"] >= 1


async def test_redis_down_async_path_fails_open_and_tries_redis_again_later() -> None:
    s = load_settings(redis_url=f"redis://127.0.0.1:{_closed_port()}/0", openai_rate_limit_requests_per_second=1000,
                      openai_rate_limit_check_every_n_seconds=0.01, openai_rate_limit_max_bucket_size=1000)
    lim = build_rate_limiter(s, "redis")
    assert isinstance(lim, RedisRateLimiter)
    assert await asyncio.wait_for(lim.aacquire(), timeout=2.0)
    assert lim.stats()["redis_errors"] == 1
    await asyncio.sleep(RETRY_REDIS_AFTER_S + 0.05)
    assert await asyncio.wait_for(lim.aacquire(), timeout=2.0)
    assert lim.stats()["redis_errors"] == 2  # it went back to Redis, which is still down


def test_async_redis_limited_preset_is_async_limited_with_the_shared_limiter() -> None:
    v = parse_variant("async-redis-limited")
    assert v.limiter == "redis" and PRESETS["async-limited"].axes() | {"limiter": "redis"} == v.axes()
    assert "Redis" in PRESET_DOCS["async-redis-limited"]


def test_a_limiter_misconfiguration_met_on_first_use_is_a_named_500() -> None:
    status, body, _ = upstream_error(SettingsError("REDIS_URL: not set"))
    assert status == 500 and body["error"] == {"type": "app_misconfigured", "message": "REDIS_URL: not set"}


async def test_the_app_with_the_redis_preset_and_no_url_answers_a_json_500() -> None:
    # The agent is built on the first request, in a dependency; Starlette answers the JSON 500 and then re-raises
    # for the server's log, which ASGITransport would turn into a test error unless told not to.
    app = create_app("async-redis-limited", load_settings(redis_url=None, openai_base_url="http://mock.test/v1"))
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://app.test") as client:
        resp = await client.post("/api/chat", json={"message": "hi"})
    assert resp.status_code == 500 and resp.json()["error"]["message"].startswith("REDIS_URL:")


async def test_the_app_with_the_redis_preset_answers_while_redis_is_down(app_client) -> None:
    async with app_client("async-redis-limited", redis_url=f"redis://127.0.0.1:{_closed_port()}/0") as client:
        resp = await client.post("/api/chat", json={"message": "hi"})
    assert resp.status_code == 200, resp.text
