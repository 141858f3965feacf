"""`bench worker --master HOST:PORT`: a Locust load worker for `bench run --locust-workers N`, on any machine
with the project installed. It serves run after run (one Locust worker per run, `bench/run/load_worker.py`)
and stops when no master has come for about 5 minutes, after `--runs`, or on Ctrl-C."""

from __future__ import annotations

import argparse
import sys

from bench.errors import UsageError

HELP = "a Locust load worker for `bench run --locust-workers N`, on this or another machine; serves run after run"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--master", default="", metavar="HOST:PORT",
                        help="the Locust master's address, as `bench run` printed it")
    parser.add_argument("--processes", type=int, default=1,
                        help="Locust worker processes on this machine; each counts as one of bench run's N")
    parser.add_argument("--runs", type=int, default=0, help="stop after serving this many runs (default: no limit)")


def run(args: argparse.Namespace) -> int:
    from bench.run.load_worker import parse_address, serve_runs

    if args.processes < 1:
        raise UsageError("--processes must be at least 1")
    if args.runs < 0:
        raise UsageError("--runs must be >= 0")
    if not args.master:
        raise UsageError("--master HOST:PORT is required: the address `bench run --locust-workers` printed")
    host, port = parse_address(args.master)
    return serve_runs(host, port, processes=args.processes, runs=args.runs,
                      say=lambda line: print(line, file=sys.stderr, flush=True))
