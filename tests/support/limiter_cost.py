"""What one permit costs, per limiter: the seed's InMemoryRateLimiter against the Redis-shared one, side by side.

    python -m tests.support.limiter_cost [--acquires 2000] [--repetitions 5]

A benchmark, not a test: each repetition times `--acquires` awaited `aacquire()` calls of each limiter on one
event loop, the two limiters alternating repetition by repetition so that machine noise falls on both; the rate is
set far above what the loop can take (1e9 per second, a bucket as large), so no acquire ever waits for a permit
and what is timed is the limiter's own work (for Redis: one round trip to a local redis-server started here on a
free loopback port, running limits' moving-window script). Prints the median per acquire and the range over the
repetitions, and the ratio of the medians.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from typing import Any

from app_under_test.limiters import build_rate_limiter
from app_under_test.settings import load_settings
from bench.servers.redis import running_redis

FAST = 1e9  # permits per second: never the limit, so no acquire sleeps


async def _time_acquires(limiter: Any, n: int) -> float:
    """Seconds per acquire, averaged over n awaited acquires."""
    start = time.perf_counter()
    for _ in range(n):
        await limiter.aacquire()
    return (time.perf_counter() - start) / n


async def _measure(url: str, acquires: int, repetitions: int) -> dict[str, list[float]]:
    settings = load_settings(redis_url=url, app_rate_limit_key="llm-bench:cost",
                             openai_rate_limit_requests_per_second=FAST, openai_rate_limit_max_bucket_size=FAST,
                             openai_rate_limit_check_every_n_seconds=0.001)
    limiters = {kind: build_rate_limiter(settings, kind) for kind in ("memory", "redis")}
    for limiter in limiters.values():  # connections open, scripts loaded, code warm: not part of a permit's cost
        await _time_acquires(limiter, 50)
    out: dict[str, list[float]] = {kind: [] for kind in limiters}
    for rep in range(repetitions):
        order = list(limiters) if rep % 2 == 0 else list(reversed(limiters))
        for kind in order:
            out[kind].append(await _time_acquires(limiters[kind], acquires))
    redis_stats = limiters["redis"].stats()  # type: ignore[union-attr]
    if redis_stats["fallback_acquired"]:
        raise SystemExit(f"{redis_stats['fallback_acquired']} permits came from the fallback: Redis was not "
                         f"measured ({redis_stats['last_error']})")
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--acquires", type=int, default=2000, help="acquires per limiter per repetition (default 2000)")
    p.add_argument("--repetitions", type=int, default=5, help="alternating repetitions (default 5)")
    args = p.parse_args()
    if args.acquires < 1 or args.repetitions < 1:
        p.error("--acquires and --repetitions must be at least 1")
    with running_redis() as server:
        times = asyncio.run(_measure(server.url, args.acquires, args.repetitions))
    for kind, values in times.items():
        us = [v * 1e6 for v in values]
        print(f"{kind:>6}: {statistics.median(us):9.1f} us per acquire (median of {len(us)} repetitions; range "
              f"{min(us):.1f}-{max(us):.1f})")
    ratio = statistics.median(times["redis"]) / statistics.median(times["memory"])
    print(f"redis / memory: {ratio:.0f}x per acquire; {args.acquires} acquires x {args.repetitions} repetitions")


if __name__ == "__main__":
    main()
