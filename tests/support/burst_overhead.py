"""What the harness itself adds to a burst: the project's Locust burst straight at the mock, without the app.

    python -m tests.support.burst_overhead [--users 50] [--latency-ms 100] [--repetitions 7]

A benchmark, not a test: each repetition runs the project's own `burst` scenario (`run_locust` with a `LocustJob`,
every user sending one request at one shared release time) against the mock backend's chat-completions endpoint
(the scenario's `chat_path` / `chat_body` options, as `bench run --app --request` uses them), the mock's latency
fixed (no jitter). The makespan from the per-request records (`summarize()`: last answer - first send) minus the
configured latency is the harness's overhead for the burst; the goal is at most 50 ms. As a floor, the same burst is
sent by a bare asyncio client (one raw HTTP/1.1 request per fresh connection, nothing recorded) from this process;
the two alternate repetition by repetition so machine noise falls on both. The mock, started here on a free
loopback port, is the same for all of them. Its request log (`/mock/requests`: when it had each request read) splits
makespan - latency into the first request's way in, the spread of the arrivals, and what follows the last arrival.

From 5 repetitions on, the interval printed is a distribution-free confidence interval for the median (order
statistics, its coverage computed exactly and printed); under 5 it is the range of the repetitions, said so.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import statistics
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.mock.config import MockConfig
from bench.mock.process import MockServer, running_mock
from bench.run.locust_job import LocustJob, run_locust, summarize
from scenarios.request_spec import MESSAGE

GOAL_MS = 50.0  # the harness may add at most this to a burst's makespan
CHAT_PATH = "/v1/chat/completions"  # the mock's OpenAI-compatible endpoint
MIN_FOR_CI = 5  # as bench/results/stats.py: below it an interval would be the range anyway, so say "range"
CONFIDENCE = 0.95
BARE_TIMEOUT_S = 30.0  # bounds a bare burst whatever the mock does


def chat_body(mock: MockServer) -> str:
    """The JSON body of one chat completion, as the scenarios' `chat_body` option takes it."""
    return json.dumps({"model": mock.config.model, "messages": [{"role": "user", "content": MESSAGE}]})


def median_interval(values: Sequence[float]) -> tuple[float, float, float | None]:
    """(low, high, coverage): the narrowest pair of order statistics x(k), x(n+1-k) that holds the median with at
    least 95% confidence, else the widest pair (min, max) with the coverage it has; coverage None: fewer than
    MIN_FOR_CI values, and (low, high) is their range."""
    xs = sorted(values)
    n = len(xs)
    if n < MIN_FOR_CI:
        return xs[0], xs[-1], None

    def coverage(k: int) -> float:  # P(x(k) <= median < x(n+1-k)) = 1 - 2 P(Binomial(n, 1/2) < k)
        return 1.0 - 2.0 * sum(math.comb(n, i) for i in range(k)) / 2**n

    k = 1
    while k + 1 <= n // 2 and coverage(k + 1) >= CONFIDENCE:
        k += 1
    return xs[k - 1], xs[n - k], coverage(k)


def describe(values: Sequence[float], unit: str, digits: int = 1) -> str:
    """'median X unit [lo, hi] (98% CI of the median, n=7)', or '... (range of 3)' under MIN_FOR_CI values."""
    low, high, cov = median_interval(values)
    what = f"range of {len(values)}" if cov is None else f"{cov:.0%} CI of the median, n={len(values)}"
    return f"{statistics.median(values):.{digits}f} {unit} [{low:.{digits}f}, {high:.{digits}f}] ({what})"


@dataclass(frozen=True)
class Burst:
    """One burst's times in seconds; makespan - latency = to_mock + arrivals + tail, all on the one system clock."""

    makespan: float  # last answer read - first send
    send_spread: float  # last send - first send (the client's own record of it)
    to_mock: float  # first send -> first arrival at the mock (a connect and a request)
    arrivals: float  # first -> last arrival at the mock
    tail: float  # last arrival -> last answer read, beyond the latency (the mock's answers and the client's reads)


def _burst(mock: MockServer, users: int, latency_s: float, sends: Sequence[float], ends: Sequence[float]) -> Burst:
    """The burst's times from the client's sends and ends (epoch seconds) and the mock's own request log."""
    first = min(sends)
    # The mock's log of this burst: its chat requests that arrived after the first send (the previous burst's are
    # answered by then). The mock's and the client's clocks are one: same machine, both time.time().
    arrivals = [r["arrival"] for r in mock.requests() if r.get("path") == CHAT_PATH and r["arrival"] >= first]
    if len(arrivals) != users:
        raise SystemExit(f"the mock logged {len(arrivals)} of the burst's {users} requests")
    return Burst(makespan=max(ends) - first, send_spread=max(sends) - first, to_mock=min(arrivals) - first,
                 arrivals=max(arrivals) - min(arrivals), tail=max(ends) - max(arrivals) - latency_s)


def _locust_burst(mock: MockServer, users: int, latency_s: float, out_dir: Path, rep: int) -> Burst:
    """One burst through the project's burst scenario."""
    job = LocustJob(scenario="burst", host=mock.url, out_dir=out_dir / f"locust-{rep}", users=users,
                    variant="mock-direct", repetition=rep,
                    # Bounds the run: run_locust kills Locust past the hard limit this sets (+ its start-up grace).
                    client_timeout_s=10.0 + latency_s,
                    options={"chat_path": CHAT_PATH, "chat_body": chat_body(mock)})
    result = run_locust(job)
    summary = summarize(result.records)
    if not result.complete or summary.ok != users or summary.makespan_s is None or summary.send_spread_s is None:
        raise SystemExit(f"repetition {rep}: the Locust burst did not complete cleanly (exit {result.exit_code}, "
                         f"{summary.ok} of {users} ok, errors {summary.errors}, Locust counted "
                         f"{result.locust_requests}; log {result.log_path}):\n{result.log_tail}")
    burst = _burst(mock, users, latency_s, [float(r["t_send"]) for r in result.records],
                   [float(r["t_end"]) for r in result.records])
    # summarize() is the project's reading of the records: the breakdown above must agree with it.
    if abs(burst.makespan - summary.makespan_s) > 1e-5 or abs(burst.send_spread - summary.send_spread_s) > 1e-5:
        raise SystemExit(f"repetition {rep}: records and summarize() disagree ({burst} vs {summary})")
    return burst


async def _bare_request(host: str, port: int, request: bytes) -> tuple[float, float]:
    t_send = time.time()  # before the connect, as the scenario's t_send (FastHttpUser connects on demand)
    reader, writer = await asyncio.open_connection(host, port)
    try:
        writer.write(request)
        answer = await reader.read()  # to EOF: the request says Connection: close
    finally:
        writer.close()
    t_end = time.time()  # epoch, as the mock's log: the breakdown compares them
    if not answer.startswith(b"HTTP/1.1 200"):
        raise SystemExit(f"the bare client got {answer[:60]!r}")
    return t_send, t_end


async def _bare_burst_async(mock: MockServer, users: int) -> list[tuple[float, float]]:
    body = chat_body(mock).encode()
    request = (f"POST {CHAT_PATH} HTTP/1.1\r\nHost: 127.0.0.1:{mock.port}\r\nContent-Type: application/json\r\n"
               f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode() + body
    times = await asyncio.wait_for(
        asyncio.gather(*(_bare_request("127.0.0.1", mock.port, request) for _ in range(users))), BARE_TIMEOUT_S)
    return list(times)


def _bare_burst(mock: MockServer, users: int, latency_s: float) -> Burst:
    """The same burst from a bare asyncio client: the floor the mock and the OS allow."""
    times = asyncio.run(_bare_burst_async(mock, users))
    return _burst(mock, users, latency_s, [send for send, _ in times], [end for _, end in times])


def _ms(bursts: Sequence[Burst], field: str, minus_s: float = 0.0) -> list[float]:
    return [(getattr(b, field) - minus_s) * 1000.0 for b in bursts]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--users", type=int, default=50, help="users in the burst (default 50)")
    p.add_argument("--latency-ms", type=float, default=100.0, help="the mock's fixed latency (default 100)")
    p.add_argument("--repetitions", type=int, default=7, help="alternating repetitions (default 7)")
    args = p.parse_args()
    if args.users < 1 or args.repetitions < 1 or args.latency_ms < 0:
        p.error("--users and --repetitions must be at least 1, --latency-ms at least 0")
    latency_s = args.latency_ms / 1000.0
    runs: dict[str, list[Burst]] = {"locust": [], "bare": []}
    config = MockConfig(latency_ms=args.latency_ms, jitter="none", jitter_ms=0.0)  # the latency exact, every time
    with tempfile.TemporaryDirectory(prefix="burst-overhead-") as tmp, running_mock(config, log_dir=tmp) as mock:
        _bare_burst(mock, args.users, latency_s)  # warm-up: the mock's first requests run cold code paths
        for rep in range(args.repetitions):
            # Alternated, so drift in the machine's load falls on both.
            for kind in (("locust", "bare") if rep % 2 == 0 else ("bare", "locust")):
                runs[kind].append(_locust_burst(mock, args.users, latency_s, Path(tmp), rep) if kind == "locust"
                                  else _bare_burst(mock, args.users, latency_s))
    locust_ms, bare_ms = _ms(runs["locust"], "makespan", latency_s), _ms(runs["bare"], "makespan", latency_s)
    beyond = [a - b for a, b in zip(locust_ms, bare_ms, strict=True)]
    ratio = [a.makespan / b.makespan for a, b in zip(runs["locust"], runs["bare"], strict=True)]
    verdict = "met" if statistics.median(locust_ms) <= GOAL_MS else "NOT met"
    within = sum(1 for v in locust_ms if v <= GOAL_MS)
    print(f"burst of {args.users} straight at the mock's {CHAT_PATH} ({args.latency_ms:g} ms fixed latency, no "
          f"jitter), {args.repetitions} repetitions, Locust and a bare client alternated:")
    rows = [
        ("harness overhead, makespan - latency (Locust burst scenario)", describe(locust_ms, "ms")),
        ("send spread, last send - first send (its records)", describe(_ms(runs["locust"], "send_spread"), "ms")),
        ("bare asyncio client (the floor: mock + OS), makespan - latency", describe(bare_ms, "ms")),
        ("Locust beyond the bare client, per repetition", describe(beyond, "ms")),
        ("makespan ratio Locust / bare, per repetition", describe(ratio, "x", 3)),
    ]
    for i, (label, text) in enumerate(rows):
        print(f"  {label + ':':<64} {text}")
        if i == 0:
            print(f"    goal: at most {GOAL_MS:g} ms: {verdict} (median); {within} of {len(locust_ms)} repetitions "
                  "within it")
    print("  where makespan - latency goes (medians, ms): first send -> first request read by the mock | spread "
          "of the mock's reads | last read -> last answer in the client, beyond the latency")
    for kind, bursts in runs.items():
        parts = [statistics.median(_ms(bursts, f)) for f in ("to_mock", "arrivals", "tail")]
        print(f"    {kind:>6}: {parts[0]:6.1f} | {parts[1]:6.1f} | {parts[2]:6.1f}")


if __name__ == "__main__":
    main()
