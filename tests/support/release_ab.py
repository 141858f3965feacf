"""What releasing a local burst once its users are spawned saves, against the fixed delay it replaced.

    python -m tests.support.release_ab [--users 50] [--latency-ms 100] [--repetitions 7]

A benchmark, not a test: the project's `burst` scenario straight at the mock (as tests/support/burst_overhead.py),
alternating repetition by repetition between (a) the fixed delay from test start that the release used to wait
(`release_delay` 0.35 s for 50 users: scenarios/schedule.py) and (b) the default: released RELEASE_AFTER_SPAWN_S
after Locust's last user is spawned (scenarios/hooks.py). Printed for each: the Locust run's wall time (fork to
exit, as the orchestrator waits for it), the burst's makespan and its send spread (did every user still wait for
the release?), medians with a distribution-free interval (the range under 5 repetitions, said so).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from bench.mock.config import MockConfig
from bench.mock.process import MockServer, running_mock
from bench.run.locust_job import LocustJob, run_locust, summarize
from scenarios.schedule import release_delay
from tests.support.burst_overhead import CHAT_PATH, chat_body, describe


def _run(mock: MockServer, users: int, latency_s: float, out: Path, rep: int, fixed: bool) -> tuple[float, ...]:
    job = LocustJob(scenario="burst", host=mock.url, out_dir=out / f"{'fixed' if fixed else 'spawned'}-{rep}",
                    users=users, variant="mock-direct", repetition=rep, client_timeout_s=10.0 + latency_s,
                    release_delay_s=release_delay(users, users) if fixed else None,
                    options={"chat_path": CHAT_PATH, "chat_body": chat_body(mock)})
    result = run_locust(job)
    s = summarize(result.records)
    if not result.complete or s.ok != users or s.makespan_s is None or s.send_spread_s is None:
        raise SystemExit(f"repetition {rep}: the burst did not complete (exit {result.exit_code}, {s.ok} ok; "
                         f"log {result.log_path})")
    return result.wall_s, s.makespan_s, s.send_spread_s


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--users", type=int, default=50)
    p.add_argument("--latency-ms", type=float, default=100.0)
    p.add_argument("--repetitions", type=int, default=7)
    args = p.parse_args()
    latency_s = args.latency_ms / 1000
    got: dict[bool, list[tuple[float, ...]]] = {True: [], False: []}
    with tempfile.TemporaryDirectory(prefix="release-ab-") as tmp, \
            running_mock(MockConfig(latency_ms=args.latency_ms), log_dir=tmp) as mock:
        for rep in range(args.repetitions):
            for fixed in (rep % 2 == 0, rep % 2 == 1):  # which goes first alternates
                got[fixed].append(_run(mock, args.users, latency_s, Path(tmp), rep, fixed))
    for fixed, label in ((True, f"(a) fixed delay {release_delay(args.users, args.users):g} s"),
                         (False, "(b) released once spawned")):
        rows = got[fixed]
        spread = describe([r[2] * 1000 for r in rows], "ms")
        print(f"{label}: Locust run {describe([r[0] for r in rows], 's', 3)}; makespan "
              f"{describe([r[1] * 1000 for r in rows], 'ms')}; send spread {spread}")
    saved = [a[0] - b[0] for a, b in zip(got[True], got[False], strict=True)]
    print(f"saved a run (a - b, paired): {describe(saved, 's', 3)}")


if __name__ == "__main__":
    main()
