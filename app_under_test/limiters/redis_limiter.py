"""RedisRateLimiter: one request rate shared by every process that uses the same Redis and key (C7's remedy).

The rule is limits' moving window (window.py) kept in Redis by atomic Lua scripts: the sync path uses redis-py's
client, the async path redis-py's asyncio client (one per event loop), so `aacquire` never blocks the loop. A
refused permit sleeps until the window's reset time (the oldest entry leaving it), then tries again. (limits rather
than pyrate-limiter: one atomic script per permit, sync and asyncio storages on the same key, wrapped storage
errors, and no background leak thread or per-process lock serializing the acquires.)

When Redis fails (down, hung, restarting) the limiter FAILS OPEN TO THE IN-PROCESS LIMITER: each acquire that
cannot reach Redis is served by an InMemoryRateLimiter with the same rate, so the app neither hangs nor refuses
anyone, and the upstream sees at most (processes x rate): exactly the `memory` variant, never unlimited. Why not
fail closed: the limiter exists to spare the upstream 429s; answering every user 503 because an auxiliary store
is down turns a degraded limit into an outage, while the upstream still enforces its own limit (and the client
retries its 429s). Each Redis call is bounded by 2 s socket timeouts and no client-side retries; after a
failure Redis is left alone for 1 s (acquires go straight to the fallback), then tried again, so recovery is
automatic. Every failure and every fallback permit is counted: `stats()` per limiter, `limiter_stats()` per
process.
"""

from __future__ import annotations

import asyncio
import threading
import time
import weakref
from dataclasses import asdict, dataclass
from typing import Any

import redis
from langchain_core.rate_limiters import BaseRateLimiter
from limits.aio.storage import RedisStorage as AsyncRedisStorage
from limits.aio.strategies import MovingWindowRateLimiter as AsyncMovingWindow
from limits.errors import StorageError
from limits.storage import RedisStorage
from limits.strategies import MovingWindowRateLimiter
from limits.util import WindowStats
from redis.asyncio.retry import Retry as AsyncRetry
from redis.backoff import NoBackoff
from redis.retry import Retry

from app_under_test.limiters.window import Window

# Long enough that a process whose own event loop stalled (a cold start builds its agents while requests wait:
# stalls of 1-2 s measured at 4-8 workers on 2 cores) does not take a late answer for a Redis failure and fall
# back (0.5 s let 14 fallback permits through one cold start at 4 workers); short enough to bound a hung Redis.
SOCKET_TIMEOUT_S = 2.0
RETRY_REDIS_AFTER_S = 1.0
MIN_PAUSE_S = 0.001  # a freed slot raced away between `hit` and the stats: try again, but never spin
# What a Redis outage raises: limits wraps the client's errors; the rest can escape from connection setup.
REDIS_ERRORS: tuple[type[BaseException], ...] = (StorageError, redis.RedisError, OSError)


@dataclass
class LimiterStats:
    acquired: int = 0  # permits granted, by Redis or by the fallback
    fallback_acquired: int = 0  # of which by the in-process fallback while Redis was unreachable
    refused: int = 0  # non-blocking acquires answered False
    waited_ms: float = 0.0  # total time spent in acquire, Redis round trips and sleeps included
    redis_errors: int = 0
    mode: str = "redis"  # "redis", or "fallback" while Redis is being left alone after a failure
    last_error: str | None = None


def _client_options(retry: object) -> dict[str, Any]:
    # redis-py retries a failed command by default (10 times with backoff in 8.x): seconds per call while Redis is down.
    return {"socket_timeout": SOCKET_TIMEOUT_S, "socket_connect_timeout": SOCKET_TIMEOUT_S, "retry": retry}


class RedisRateLimiter(BaseRateLimiter):
    """`window.permits` per `window.seconds` across processes; `fallback` serves while Redis is unreachable."""

    def __init__(self, url: str, *, key: str, window: Window, fallback: BaseRateLimiter) -> None:
        self.url = url
        self.key = key
        self.window = window
        self.item = window.item()
        self.fallback = fallback
        # limits takes `redis://` for both; the asyncio client is chosen by `implementation`, not the scheme.
        self._sync = MovingWindowRateLimiter(
            RedisStorage(url, wrap_exceptions=True, **_client_options(Retry(NoBackoff(), 0))))
        self._async: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, AsyncMovingWindow] = (
            weakref.WeakKeyDictionary())
        self._lock = threading.Lock()
        self._down_until = 0.0
        self._stats = LimiterStats()
        _LIVE.add(self)

    # -- BaseRateLimiter ----------------------------------------------------------------------------------------

    def acquire(self, *, blocking: bool = True) -> bool:
        start = time.perf_counter()
        if self._redis_usable():
            try:
                return self._done(self._acquire_redis(blocking), start)
            except REDIS_ERRORS as exc:
                self._failed(exc)
        return self._done(self.fallback.acquire(blocking=blocking), start, fallback=True)

    async def aacquire(self, *, blocking: bool = True) -> bool:
        start = time.perf_counter()
        if self._redis_usable():
            try:
                return self._done(await self._aacquire_redis(blocking), start)
            except REDIS_ERRORS as exc:
                self._failed(exc)
        return self._done(await self.fallback.aacquire(blocking=blocking), start, fallback=True)

    # -- the Redis paths ----------------------------------------------------------------------------------------

    def _acquire_redis(self, blocking: bool) -> bool:
        while not self._sync.hit(self.item, self.key):
            if not blocking:
                return False
            time.sleep(self._pause(self._sync.get_window_stats(self.item, self.key)))
        return True

    async def _aacquire_redis(self, blocking: bool) -> bool:
        limiter = self._async_limiter()
        while not await limiter.hit(self.item, self.key):
            if not blocking:
                return False
            await asyncio.sleep(self._pause(await limiter.get_window_stats(self.item, self.key)))
        return True

    def _pause(self, stats: WindowStats) -> float:
        """Until the oldest permit leaves the window (limits' reset time), at most one window."""
        if stats.remaining > 0:
            return MIN_PAUSE_S
        return min(max(stats.reset_time - time.time(), MIN_PAUSE_S), float(self.window.seconds))

    def _async_limiter(self) -> AsyncMovingWindow:
        # An asyncio connection belongs to the loop that opened it: one client per loop (tests run a loop each).
        loop = asyncio.get_running_loop()
        limiter = self._async.get(loop)
        if limiter is None:
            storage = AsyncRedisStorage(self.url, wrap_exceptions=True, implementation="redispy",
                                        **_client_options(AsyncRetry(NoBackoff(), 0)))
            limiter = self._async[loop] = AsyncMovingWindow(storage)
        return limiter

    # -- failure handling and counts ------------------------------------------------------------------------

    def _redis_usable(self) -> bool:
        return time.monotonic() >= self._down_until

    def _failed(self, exc: BaseException) -> None:
        with self._lock:
            self._down_until = time.monotonic() + RETRY_REDIS_AFTER_S
            self._stats.redis_errors += 1
            self._stats.mode = "fallback"
            self._stats.last_error = f"{type(exc).__name__}: {exc}"[:200]

    def _done(self, granted: bool, start: float, *, fallback: bool = False) -> bool:
        elapsed_ms = (time.perf_counter() - start) * 1000
        with self._lock:
            self._stats.waited_ms += elapsed_ms
            if not fallback:
                self._stats.mode = "redis"
            if granted:
                self._stats.acquired += 1
                self._stats.fallback_acquired += int(fallback)
            else:
                self._stats.refused += 1
        return granted

    def stats(self) -> dict[str, Any]:
        with self._lock:
            out = asdict(self._stats)
        out.update(key=self.key, permits=self.window.permits, window_s=self.window.seconds)
        return out


_LIVE: weakref.WeakSet[RedisRateLimiter] = weakref.WeakSet()


def limiter_stats() -> dict[str, Any]:
    """This process's shared limiters, summed: {limiters, acquired, fallback_acquired, refused, waited_ms,
    redis_errors, mode}; mode is "fallback" if any of them is on its fallback, "redis" if any exists, else "none"."""
    each = [lim.stats() for lim in list(_LIVE)]
    out: dict[str, Any] = {"limiters": len(each)}
    for name in ("acquired", "fallback_acquired", "refused", "waited_ms", "redis_errors"):
        out[name] = sum(s[name] for s in each)
    out["waited_ms"] = round(out["waited_ms"], 3)
    modes = {s["mode"] for s in each}
    out["mode"] = "fallback" if "fallback" in modes else "redis" if each else "none"
    out["last_error"] = next((s["last_error"] for s in each if s["last_error"]), None)
    return out
