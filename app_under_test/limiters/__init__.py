"""ChatOpenAI's rate limiter by name: `none`, `memory` (the seed's InMemoryRateLimiter, one per ChatAgent, so one
per process) and `redis` (one rate shared by every process using the same REDIS_URL and APP_RATE_LIMIT_KEY).
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from app_under_test.settings import Settings, SettingsError

if TYPE_CHECKING:
    from langchain_core.rate_limiters import BaseRateLimiter, InMemoryRateLimiter

__all__ = ["KINDS", "REDIS_SCHEMES", "build_rate_limiter", "check_limiter_settings", "limiter_stats", "preload"]

REDIS_SCHEMES = ("redis", "rediss", "redis+unix")  # what limits' Redis storages accept


def _none(_: Settings) -> None:
    return None


def _memory(s: Settings) -> InMemoryRateLimiter:
    # Imported here, like redis_limiter below: a process's start check (check_limiter_settings) loads neither.
    from langchain_core.rate_limiters import InMemoryRateLimiter

    # The seed's InMemoryRateLimiter(requests_per_second=10, check_every_n_seconds=0.1, max_bucket_size=10).
    return InMemoryRateLimiter(
        requests_per_second=s.openai_rate_limit_requests_per_second,
        check_every_n_seconds=s.openai_rate_limit_check_every_n_seconds,
        max_bucket_size=s.openai_rate_limit_max_bucket_size,
    )


def check_limiter_settings(s: Settings, kind: str) -> None:
    """SettingsError in one line if `kind` cannot be built from `s`; for a process's start, before any agent."""
    if kind != "redis":
        return
    if not s.redis_url:
        raise SettingsError("REDIS_URL: the redis limiter needs the Redis shared by every worker "
                            "(e.g. redis://127.0.0.1:6379/0); it is not set")
    scheme = urlsplit(s.redis_url).scheme
    if scheme not in REDIS_SCHEMES:
        raise SettingsError(f"REDIS_URL: scheme {scheme!r} is not one of {', '.join(REDIS_SCHEMES)}")


def _redis(s: Settings) -> BaseRateLimiter:
    check_limiter_settings(s, "redis")
    assert s.redis_url is not None
    from app_under_test.limiters.redis_limiter import RedisRateLimiter
    from app_under_test.limiters.window import moving_window

    window = moving_window(s.openai_rate_limit_requests_per_second, s.openai_rate_limit_max_bucket_size)
    return RedisRateLimiter(s.redis_url, key=s.app_rate_limit_key, window=window, fallback=_memory(s))


KINDS: dict[str, Callable[[Settings], BaseRateLimiter | None]] = {"none": _none, "memory": _memory, "redis": _redis}


def build_rate_limiter(settings: Settings, kind: str) -> BaseRateLimiter | None:
    """The limiter for `kind` (a Variant's `limiter` axis) from the seed's rate settings; None for `none`."""
    try:
        factory = KINDS[kind]
    except KeyError:
        raise ValueError(f"unknown limiter {kind!r}; valid: {', '.join(KINDS)}") from None
    return factory(settings)


def preload(kind: str) -> None:
    """Import the `redis` limiter's module (limits, redis-py sync and asyncio: ~170 ms of imports) while the app
    is built, before it is ready. Left to the first request, that import runs inside the first agents'
    construction on every worker at once, holding the import lock while requests wait (the cold start's loop lag
    in the `workers` runs: up to seconds at 4-8 workers on 2 cores)."""
    if kind == "redis":
        importlib.import_module("app_under_test.limiters.redis_limiter")


def limiter_stats() -> dict[str, Any]:
    """This process's shared (redis) limiters, summed; see redis_limiter.limiter_stats. `mode` "none" if none."""
    name = "app_under_test.limiters.redis_limiter"
    # Only once an agent has imported it (a `redis` variant); import_module then waits for an import still
    # running in another thread (a worker thread building the first agent) instead of seeing half a module.
    module = importlib.import_module(name) if name in sys.modules else None
    if module is None:
        return {"limiters": 0, "acquired": 0, "fallback_acquired": 0, "refused": 0, "waited_ms": 0.0,
                "redis_errors": 0, "mode": "none", "last_error": None}
    stats: dict[str, Any] = module.limiter_stats()
    return stats
