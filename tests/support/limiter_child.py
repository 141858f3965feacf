"""A process that takes permits from one rate limiter for a fixed spell and prints their wall-clock times as JSON.

    python -m tests.support.limiter_child --kind redis --url URL --start-at EPOCH --seconds 3 [--mode async --users 5]

Every child of a test starts at the same `--start-at`, so their permits can be merged on one time line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time

from app_under_test.limiters import build_rate_limiter
from app_under_test.settings import load_settings


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--kind", choices=("memory", "redis"), required=True)
    p.add_argument("--url")
    p.add_argument("--key", default="llm-bench:test")
    p.add_argument("--rps", type=float, default=10.0)
    p.add_argument("--start-at", type=float, required=True)
    p.add_argument("--seconds", type=float, default=3.0)
    p.add_argument("--mode", choices=("sync", "async"), default="sync")
    p.add_argument("--users", type=int, default=1)
    args = p.parse_args()
    settings = load_settings(redis_url=args.url, app_rate_limit_key=args.key,
                             openai_rate_limit_requests_per_second=args.rps)
    limiter = build_rate_limiter(settings, args.kind)
    assert limiter is not None
    end = args.start_at + args.seconds
    granted: list[float] = []
    time.sleep(max(0.0, args.start_at - time.time()))
    if args.mode == "sync":
        while time.time() < end:
            limiter.acquire()
            granted.append(time.time())
    else:
        async def user() -> None:
            while time.time() < end:
                await limiter.aacquire()
                granted.append(time.time())

        async def users() -> None:
            await asyncio.gather(*(user() for _ in range(args.users)))

        asyncio.run(users())
    stats: dict[str, object] = getattr(limiter, "stats", dict)()
    print(json.dumps({"granted": sorted(granted), "stats": stats}))


if __name__ == "__main__":
    main()
