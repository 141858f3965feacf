"""The mock backend's own command line: `python -m bench.mock [flags]`, which `bench mock` wraps.

It runs the mock in this process (one uvicorn worker: the rate-limit budgets, seeded RNGs and counters must
live in one place). Its arguments live here so the child that `running_mock` starts imports nothing of the
harness's CLI, and is up in a fraction of a second whatever else the CLI grows.
"""

from __future__ import annotations

import argparse
import os
import socket
import sys

from bench.errors import BenchError, OneLineParser, UsageError
from bench.mock.config import CONFIG_ENV, TIERS, add_config_arguments, config_from_args

HELP = "Run the mock OpenAI backend: chat completions, latency model, rate limits, faults, /mock/stats."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8001, help="port to listen on (default: 8001)")
    parser.add_argument("--fd", type=int, default=None, help=argparse.SUPPRESS)  # from bench.servers.process.serve
    parser.add_argument("--log-level", default="warning",
                        choices=("critical", "error", "warning", "info", "debug"))
    parser.add_argument("--list-tiers", action="store_true", help="print the rate-limit tiers and exit")
    add_config_arguments(parser)


def run(args: argparse.Namespace) -> int:
    if args.list_tiers:
        for name, tier in TIERS.items():
            budgets = ", ".join(f"{k.upper()} {getattr(tier, k):,}" for k in ("rps", "rpm", "rpd", "tpm", "tpd")
                                if getattr(tier, k) is not None)
            print(f"{name:14} {budgets:40} {tier.source}")
        return 0
    config = config_from_args(args)  # a bad value raises UsageError: one line, exit 2
    if not 0 <= args.port <= 65535:
        raise UsageError(f"--port must be within [0, 65535] (0: any free port), got {args.port}")
    from bench.servers.uvicorn_runner import run_uvicorn  # imported late: --list-tiers and errors stay fast

    # The factory reads the config from here; workers=1 keeps it (and the key) inside this process.
    os.environ[CONFIG_ENV] = config.to_json()
    if args.fd is not None:
        with socket.fromfd(args.fd, socket.AF_INET, socket.SOCK_STREAM) as dup:
            host, port = dup.getsockname()[:2]
    else:
        host, port = args.host, args.port
    sys.stderr.write(f"bench mock: OpenAI-compatible API on http://{host}:{port}/v1 "
                     f"(stats at /mock/stats), pid {os.getpid()}, flags: {' '.join(config.to_argv()) or 'defaults'}"
                     f"{', key required' if config.require_key else ''}\n")
    run_uvicorn("bench.mock.app:app_from_env", factory=True, host=args.host, port=args.port, fd=args.fd,
                log_level=args.log_level)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = OneLineParser(prog="bench mock", description=HELP)
    add_arguments(parser)
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    try:
        return run(args)
    except BenchError as exc:
        sys.stderr.write(f"bench mock: {exc}\n")
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
