"""The load ceiling with the project's per-request recording against bare Locust, side by side on one mock.

    python -m tests.support.load_ceiling [--seconds 5] [--users 20] [--repetitions 5]

A benchmark, not a test: requests completed per second by (a) a plain locustfile written here into a temp dir (the
scenarios' user class, FastHttpUser, posting the same chat-completions body in a loop, no wait, nothing recorded)
and (b) the project's `concurrency` scenario (`ClosedLoopUser`: users in a closed loop, every request recorded to
JSONL), run through `run_locust`. Same users, same seconds, same Locust reporting flags, the same mock at 0 ms latency
(started here on a free loopback port), a and b alternating repetition by repetition. Each rate is completions
between the first and the last completion over that time: (a)'s from Locust's own JSON stats (`--json-file`: its
request count, its first and last request's times), (b)'s from the records (their count, first and last `t_end`),
cross-checked against (b)'s Locust count. Prints each median with its interval and the ratio b/a; the goal is at
least 95%.

From 5 repetitions on, the interval is a distribution-free confidence interval for the median (order statistics,
its coverage printed); under 5 it is the range of the repetitions, said so.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.mock.config import MockConfig
from bench.mock.process import MockServer, running_mock
from bench.run.locust_job import STARTUP_GRACE_S, LocustJob, run_locust
from bench.servers.lifeline import preexec_for_child
from bench.servers.process import child_env, stop_tree
from tests.support.burst_overhead import CHAT_PATH, chat_body, describe  # the same request and statistics

GOAL = 0.95  # the recording harness keeps at least this share of bare Locust's rate

# Written to a temp dir and run as Locust's locustfile. FastHttpUser like scenarios/users.py's ChatUser, and Locust's
# CSV interval as scenarios/hooks.py sets it, so that what differs from (b) is the scenario and its recording.
# The users keep their own deadline, as (b)'s do, rather than Locust's --run-time: that timer fired early here (Locust
# 2.47, gevent's libev loop: a 3 s run-time ended 0.95-1.66 s after it was set, 2 s ones after 0.35-0.85 s), so (a)
# would run for less than (b) and its warm-up weigh more.
PLAIN_LOCUSTFILE = '''"""Bare Locust: one POST in a loop, no records (written by tests/support/load_ceiling.py)."""

import json
import time

import gevent
from locust import FastHttpUser, constant, events, task
from locust import stats as locust_stats
from locust.exception import StopUser

locust_stats.CSV_STATS_INTERVAL_SEC = 0.25

PATH = {path!r}
BODY = json.loads({body!r})
SECONDS = {seconds!r}
state = {{"deadline": float("inf"), "done": 0}}


@events.test_start.add_listener
def start(environment, **_):
    state["deadline"] = time.time() + SECONDS


class PlainUser(FastHttpUser):
    wait_time = constant(0)

    @task
    def post(self):
        if time.time() >= state["deadline"]:
            state["done"] += 1
            if state["done"] >= self.environment.parsed_options.num_users:
                gevent.spawn(self.environment.runner.quit)
            raise StopUser()
        self.client.post(PATH, json=BODY)
'''


def _rate(count: int, first: float, last: float) -> float:
    """Completions per second between the first and the last completion (count - 1 intervals)."""
    if count < 2 or last <= first:
        raise SystemExit(f"too few completions to make a rate ({count})")
    return (count - 1) / (last - first)


def _plain(mock: MockServer, users: int, seconds: float, out_dir: Path) -> tuple[float, int]:
    """(rate, requests) of bare Locust for `seconds`, from its JSON stats."""
    out_dir.mkdir(parents=True)
    locustfile = out_dir / "plain_locustfile.py"
    locustfile.write_text(PLAIN_LOCUSTFILE.format(path=CHAT_PATH, body=chat_body(mock), seconds=float(seconds)),
                          encoding="utf-8")
    # The reporting flags of bench.run.locust_job.build_argv, so Locust's own work is the same as (b)'s.
    argv = [sys.executable, "-m", "locust", "-f", str(locustfile), "--headless", "--host", mock.url,
            "--users", str(users), "--spawn-rate", str(users),
            "--csv", str(out_dir / "locust"), "--html", str(out_dir / "locust_report.html"),
            "--json-file", str(out_dir / "locust_stats"), "--exit-code-on-error", "0", "--only-summary",
            "--loglevel", "INFO"]
    log_path = out_dir / "locust.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(argv, cwd=out_dir, env=child_env(), stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True, preexec_fn=preexec_for_child())
        overran = False
        try:
            proc.wait(timeout=seconds + STARTUP_GRACE_S)  # bounded like run_locust's runs
        except subprocess.TimeoutExpired:
            overran = True
        finally:
            if proc.poll() is None:  # overran, or interrupted: its tree goes with it
                stop_tree(proc, grace_s=10.0)
    if overran:
        raise SystemExit(f"bare Locust overran {seconds + STARTUP_GRACE_S:g} s and was stopped (log {log_path})")
    tail = log_path.read_text(encoding="utf-8", errors="replace")[-2000:]
    try:
        entries: list[dict[str, Any]] = json.loads((out_dir / "locust_stats.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SystemExit(f"bare Locust left no JSON stats ({exc}); exit {proc.returncode}:\n{tail}") from None
    count = sum(int(e["num_requests"]) for e in entries)
    failures = sum(int(e["num_failures"]) for e in entries)
    if proc.returncode != 0 or failures or len(entries) != 1:
        raise SystemExit(f"bare Locust: exit {proc.returncode}, {failures} failures of {count}:\n{tail}")
    # A stats entry is created by its first request's completion (Locust's StatsEntry.start_time) and keeps the
    # time of its last one: the same span as (b)'s first and last t_end.
    return _rate(count, float(entries[0]["start_time"]), float(entries[0]["last_request_timestamp"])), count


def _recorded(mock: MockServer, users: int, seconds: float, out_dir: Path, rep: int) -> tuple[float, int]:
    """(rate, requests) of the project's closed-loop scenario with its records, from the records."""
    job = LocustJob(scenario="concurrency", host=mock.url, out_dir=out_dir, users=users, duration_s=seconds,
                    variant="mock-direct", repetition=rep,
                    client_timeout_s=10.0,  # bounds the run: run_locust's hard limit counts it in
                    options={"chat_path": CHAT_PATH, "chat_body": chat_body(mock)})
    result = run_locust(job)
    failed = [r for r in result.records if r.get("error")]
    if not result.complete or failed or result.bad_lines:
        raise SystemExit(f"recorded run {rep}: exit {result.exit_code}, {len(failed)} failed, {result.bad_lines} bad "
                         f"lines, {result.recorded} records vs Locust's {result.locust_requests} (log "
                         f"{result.log_path}):\n{result.log_tail}")
    if result.locust_requests != result.recorded:  # `complete` allows a missing Locust count; this does not
        raise SystemExit(f"recorded run {rep}: {result.recorded} records but Locust counted {result.locust_requests}")
    ends = [float(r["t_end"]) for r in result.records]
    return _rate(len(ends), min(ends), max(ends)), result.recorded


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seconds", type=float, default=5.0, help="seconds of load per run (default 5)")
    p.add_argument("--users", type=int, default=20, help="closed-loop users (default 20)")
    p.add_argument("--repetitions", type=int, default=5, help="alternating repetitions (default 5)")
    args = p.parse_args()
    if args.seconds < 1 or args.users < 1 or args.repetitions < 1:
        p.error("--seconds, --users and --repetitions must be at least 1")
    rates: dict[str, list[float]] = {"plain": [], "recorded": []}
    counts: dict[str, list[int]] = {"plain": [], "recorded": []}
    config = MockConfig(latency_ms=0.0, jitter="none", jitter_ms=0.0)  # answers at once: the ceiling is the client's
    with tempfile.TemporaryDirectory(prefix="load-ceiling-") as tmp, running_mock(config, log_dir=tmp) as mock:
        for rep in range(args.repetitions):
            # Alternated, so drift in the machine's load falls on both.
            for kind in (("plain", "recorded") if rep % 2 == 0 else ("recorded", "plain")):
                out = Path(tmp) / f"{kind}-{rep}"
                rate, count = (_plain(mock, args.users, args.seconds, out) if kind == "plain"
                               else _recorded(mock, args.users, args.seconds, out, rep))
                rates[kind].append(rate)
                counts[kind].append(count)
    paired = [b / a for a, b in zip(rates["plain"], rates["recorded"], strict=True)]
    ratio = statistics.median(rates["recorded"]) / statistics.median(rates["plain"])
    print(f"load ceiling, {args.users} users x {args.seconds:g} s against the mock at 0 ms latency, {args.repetitions} "
          "repetitions, a and b alternated:")
    rows = [
        ("(a) bare Locust, FastHttpUser, nothing recorded", describe(rates["plain"], "req/s", 0)),
        ("(b) the concurrency scenario with its per-request records", describe(rates["recorded"], "req/s", 0)),
        ("b/a, per repetition", describe([100.0 * r for r in paired], "%")),
    ]
    for label, text in rows:
        print(f"  {label + ':':<60} {text}")
    verdict = "met" if ratio >= GOAL else "NOT met"
    print(f"  b/a of the medians: {ratio:.1%}; goal: at least {GOAL:.0%}: {verdict}")
    print(f"  requests per run: (a) {statistics.median(counts['plain']):.0f}, (b) "
          f"{statistics.median(counts['recorded']):.0f} (medians); every (b) run's records equal its Locust count")


if __name__ == "__main__":
    main()
