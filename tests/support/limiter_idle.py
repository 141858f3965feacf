"""How an async-limited burst's makespan depends on how long the app sat idle after its warm-up.

    python -m tests.support.limiter_idle [--idle 0,0.3,0.6,1,2] [--repetitions 3]

A benchmark, not a test: for each idle time and repetition, a fresh `async-limited` app (forked from the app fork
server) in front of the mock at 100 ms, the harness's two warm-up requests, the pause, then 50 requests at once
from one asyncio client; the makespan is first send to last answer. The limiter's bucket fills while the app waits,
so a burst released sooner meets fewer tokens: the reason bench/run/execute.py lets it refill before every run.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time

import httpx

from bench.mock.config import MockConfig
from bench.mock.process import running_mock
from bench.run.profiles import WARM_UP_MESSAGE, WARM_UP_REQUESTS
from bench.servers.app import running_app
from bench.servers.forkserver import forked_apps
from tests.support.burst_overhead import describe


async def _burst(url: str, n: int) -> float:
    async with httpx.AsyncClient(timeout=60, limits=httpx.Limits(max_connections=n)) as client:
        t0 = time.perf_counter()
        await asyncio.gather(*(client.post(url, json={"message": "hi"}) for _ in range(n)))
        return time.perf_counter() - t0


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--idle", default="0,0.3,0.6,1,2", help="seconds idle after the warm-up, comma-separated")
    p.add_argument("--repetitions", type=int, default=3)
    p.add_argument("--users", type=int, default=50)
    args = p.parse_args()
    idles = [float(x) for x in args.idle.split(",")]
    got: dict[float, list[float]] = {i: [] for i in idles}
    with tempfile.TemporaryDirectory(prefix="limiter-idle-") as tmp, forked_apps(), \
            running_mock(MockConfig(latency_ms=100.0), log_dir=tmp) as mock:
        for _ in range(args.repetitions):
            for idle in idles:
                with running_app("async-limited", mock.api_base, log_dir=tmp) as app, \
                        httpx.Client(timeout=30) as client:
                    for _ in range(WARM_UP_REQUESTS):
                        client.post(app.url + "/api/chat", json={"message": WARM_UP_MESSAGE})
                    time.sleep(idle)
                    got[idle].append(asyncio.run(_burst(app.url + "/api/chat", args.users)))
    for idle, values in got.items():
        print(f"idle {idle:g} s: makespan {describe(values, 's', 3)}; mean {statistics.mean(values):.3f} s")


if __name__ == "__main__":
    main()
