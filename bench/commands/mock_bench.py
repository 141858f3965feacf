"""`bench mock-bench`: how fast and how accurate the mock backend is, beside a peer mock from PyPI, so that
the mock is known never to be what limits a benchmark. A benchmark, not a test: results go to JSON.
"""

from __future__ import annotations

import argparse
import json
import math
from typing import Any

from bench.commands.paths import check_writable
from bench.errors import SetupError, UsageError

HELP = "Measure the mock backend (req/s at zero latency, latency error at 1,000 in flight) beside a peer."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--duration", type=float, default=5.0, help="measured seconds per run (default 5)")
    parser.add_argument("--warmup", type=float, default=1.0, help="warm-up seconds per throughput run")
    parser.add_argument("--connections", type=int, default=64, help="connections for the throughput run")
    parser.add_argument("--latency-ms", type=float, default=1000.0, help="latency for the accuracy runs")
    parser.add_argument("--in-flight", type=int, default=1000, help="requests in flight in the accuracy runs")
    parser.add_argument("--repeat", type=int, default=3, help="repetitions of each measurement (default 3)")
    parser.add_argument("--peer-cmd", default=None, help=(
        "command starting the peer mock, with {host} {port} {latency_ms} placeholders "
        "(default: guidellm mock-server, if found on PATH or in ../peer-venv)"))
    parser.add_argument("--no-peer", action="store_true", help="measure this mock only")
    parser.add_argument("--realtime", action="store_true", help=(
        "run servers and generator under SCHED_FIFO in the accuracy runs, so other processes on a shared "
        "machine do not add scheduling delay to the figures (needs root or CAP_SYS_NICE)"))
    parser.add_argument("--out", default=None, help="write the results JSON here")


def run(args: argparse.Namespace) -> int:
    from bench.mock.benchmark import BenchConfig, run_benchmark  # numpy and uvloop only when measuring

    _check(args)
    cfg = BenchConfig(duration_s=args.duration, warmup_s=args.warmup, connections=args.connections,
                      latency_ms=args.latency_ms, in_flight=args.in_flight, repeat=args.repeat,
                      peer_cmd=args.peer_cmd, realtime=args.realtime)
    result = run_benchmark(cfg, include_peer=not args.no_peer, log=lambda line: print(line, flush=True))
    print()
    print(table(result))
    if args.out:
        try:
            with open(args.out, "w") as fh:
                json.dump(result, fh, indent=2)
        except OSError as exc:
            raise SetupError(f"cannot write the results to {args.out}: {exc.strerror or exc}") from None
        print(f"results: {args.out}")
    return 0


def _check(args: argparse.Namespace) -> None:
    """Every value before the first measurement (a benchmark takes minutes): one line naming the flag."""
    for flag, value in (("--repeat", args.repeat), ("--connections", args.connections),
                        ("--in-flight", args.in_flight)):
        if value < 1:
            raise UsageError(f"{flag} must be at least 1, got {value}")
    # `not x > 0` rather than `x <= 0`: NaN is refused too.
    if not (args.duration > 0 and math.isfinite(args.duration)):
        raise UsageError(f"--duration must be a finite number of seconds > 0, got {args.duration}")
    for flag, value in (("--warmup", args.warmup), ("--latency-ms", args.latency_ms)):
        if not (value >= 0 and math.isfinite(value)):
            raise UsageError(f"{flag} must be a finite number >= 0, got {value}")
    if args.peer_cmd is not None and "{port}" not in args.peer_cmd:
        raise UsageError("--peer-cmd must contain a {port} placeholder")
    if args.out:
        check_writable("--out", args.out, directory=False)


def table(result: dict[str, Any]) -> str:
    lat = result["config"]["latency_ms"]
    n = result["config"]["in_flight"]
    lines = [f"{'target':12} {'req/s @0ms':>12} {'server CPU':>10} {'req/s/core':>10} "
             f"{'steady err p50/p99 (ms)':>24} {'burst err p50/p99 (ms)':>23}   @{lat:g} ms, {n} in flight"]
    for name, t in result["targets"].items():
        if "skipped" in t:
            lines.append(f"{name:12} skipped: {t['skipped']}")
            continue
        tp, lt = t["throughput"], t["latency"]
        flag = " (unstable)" if tp["rps"]["unstable"] else ""
        lines.append(
            f"{name:12} {tp['rps']['median']:>12,.0f} {tp['server_cpu']['median']:>10.0%} "
            f"{tp['rps_per_core']['median']:>10,.0f} "
            f"{lt['steady']['p50_ms']['median']:>11.2f} / {lt['steady']['p99_ms']['median']:<10.2f} "
            f"{lt['burst']['p50_ms']['median']:>10.2f} / {lt['burst']['p99_ms']['median']:<10.2f}{flag}")
    lines.append("medians of the repetitions; spreads and every run are in the JSON"
                 + ("; accuracy runs under SCHED_FIFO" if result["config"]["realtime"] else ""))
    return "\n".join(lines)
