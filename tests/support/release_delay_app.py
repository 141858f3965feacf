"""Does the burst's release delay move its makespan against the app? Locust and the app from the fork servers.

    python -m tests.support.release_delay_app [--delays 0.35,0.2,0.1,0.05] [--repetitions 10]

A benchmark, not a test: one warm `async` app (forked) in front of the mock at 100 ms; bursts of 50 through the
project's `burst` scenario (Locust forked, as `bench run` starts it), each with an explicit `release_delay` from
Locust's test start, the delays taken in turn (reversed every other repetition). A forked Locust may still be
settling just after its start; if a short delay slowed the burst, the makespans would rise as the delay falls.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import httpx

from bench.mock.config import MockConfig
from bench.mock.process import running_mock
from bench.run.locust_forkserver import locust_fork_server
from bench.run.locust_job import LocustJob, run_locust, summarize
from bench.run.profiles import WARM_UP_MESSAGE, WARM_UP_REQUESTS
from bench.servers.app import running_app
from bench.servers.forkserver import forked_apps
from tests.support.burst_overhead import describe


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--delays", default="0.35,0.2,0.1,0.05", help="release delays in seconds, comma-separated")
    p.add_argument("--repetitions", type=int, default=10)
    args = p.parse_args()
    delays = [float(x) for x in args.delays.split(",")]
    got: dict[float, list[float]] = {d: [] for d in delays}
    with tempfile.TemporaryDirectory(prefix="release-delay-") as tmp, forked_apps(), locust_fork_server(), \
            running_mock(MockConfig(latency_ms=100.0), log_dir=tmp) as mock, \
            running_app("async", mock.api_base, log_dir=tmp) as app:
        with httpx.Client(timeout=30) as client:
            for _ in range(WARM_UP_REQUESTS):
                client.post(app.url + "/api/chat", json={"message": WARM_UP_MESSAGE})
        for rep in range(args.repetitions):
            for d in delays if rep % 2 == 0 else delays[::-1]:
                result = run_locust(LocustJob(scenario="burst", host=app.url, out_dir=Path(tmp) / f"{d}-{rep}",
                                              users=50, variant="async", repetition=rep, client_timeout_s=30.0,
                                              release_delay_s=d))
                s = summarize(result.records)
                if s.ok != 50 or s.makespan_s is None:
                    raise SystemExit(f"delay {d} repetition {rep}: {s.ok} of 50 ok (log {result.log_path})")
                got[d].append(s.makespan_s)
    for d, values in got.items():
        print(f"release delay {d:g} s: makespan {describe(values, 's', 3)}")


if __name__ == "__main__":
    main()
