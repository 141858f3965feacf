"""The `--app MODULE:ATTR` flags shared by `bench run`, `bench gate` and `bench serve` (spelled as uvicorn spells
them where uvicorn has them), and the UserTarget they make."""

from __future__ import annotations

import argparse
import os
import sys

from bench.errors import UsageError
from bench.run.target import DEFAULT_TIER, UserTarget, check_tier
from bench.servers.target import TargetSpec, parse_env_pairs, read_env_file
from scenarios.request_spec import parse_headers, parse_request

_NEEDS_APP = ("factory", "app_dir", "watch", "env", "env_file", "request", "stream_request", "header", "tier")


def add_target_arguments(parser: argparse.ArgumentParser, *, calls: bool = True, workers: bool = True,
                         scenarios: bool = False) -> None:
    """`calls`: the flags that say how to call the app (run and gate); `workers`: --workers (serve has its own);
    `scenarios`: --scenarios (the gate's, with --app; `bench run` has its own)."""
    g = parser.add_argument_group("your own app (instead of the reference app's variants)")
    g.add_argument("--app", metavar="MODULE:ATTR", help="your ASGI app, e.g. myapp.main:app: started under uvicorn "
                   "with the instrumentation injected, its upstream pointed at the embedded mock")
    g.add_argument("--factory", action="store_true", help="MODULE:ATTR is a factory returning the app")
    g.add_argument("--app-dir", metavar="DIR", help="put DIR first on the app's module search path (default: the "
                   "current directory)")
    g.add_argument("--watch", action="append", default=[], metavar="MODULE:CLASS",
                   help="count constructions and live instances of this class per process, and where each was "
                   "built (repeatable; e.g. openai:OpenAI, myapp.agent:ChatAgent)")
    if workers:
        g.add_argument("--workers", type=int, default=1, help="uvicorn workers of your app (default 1)")
    g.add_argument("--env", action="append", default=[], metavar="KEY=VALUE", help="set in the app's environment "
                   "(repeatable; wins over --env-file and over the upstream redirect)")
    g.add_argument("--env-file", metavar="FILE", help="KEY=VALUE lines for the app's environment")
    if calls:
        g.add_argument("--request", metavar="'METHOD /path JSON'",
                       help="the request every user sends, e.g. 'POST /chat {\"message\": \"hi\"}' (default: "
                       "derived from the app's OpenAPI schema: its one POST route with a JSON body)")
        g.add_argument("--stream-request", metavar="'METHOD /path JSON'",
                       help="an SSE route to time (time to first event): adds the stream scenario")
        g.add_argument("--header", action="append", default=[], metavar="'Name: value'",
                       help="a header on every request to the app (repeatable)")
        g.add_argument("--tier", default=DEFAULT_TIER, metavar="NAME",
                       help=f"rate-limit tier of the mock in the steady scenario (default {DEFAULT_TIER})")
    if scenarios:
        g.add_argument("--scenarios", default="", help="with --app: comma-separated scenarios to run (default all: "
                       "cold-burst, burst, steady, concurrency, workers); a concern whose scenario is left out is "
                       "not measured, in the baseline and in the gate alike")


def target_from_args(args: argparse.Namespace) -> UserTarget | None:
    """The UserTarget of `--app` (None without it; a flag that needs --app without it is a usage error)."""
    if not getattr(args, "app", None):
        given = [f"--{name.replace('_', '-')}" for name in _NEEDS_APP
                 if getattr(args, name, None) not in (None, False, [], DEFAULT_TIER)]
        if given:
            raise UsageError(f"{given[0]} applies to your own app: give --app MODULE:ATTR")
        return None
    module, sep, attr = args.app.partition(":")
    if not sep or not module or not attr:
        raise UsageError(f"--app {args.app!r}: expected MODULE:ATTR (e.g. myapp.main:app)")
    workers = getattr(args, "workers", 1)
    if workers < 1:
        raise UsageError("--workers must be at least 1")
    app_dir = ""
    if args.app_dir:
        if not os.path.isdir(args.app_dir):
            raise UsageError(f"--app-dir {args.app_dir}: no such directory")
        app_dir = os.path.abspath(args.app_dir)
    env = (read_env_file(args.env_file) if args.env_file else ()) + parse_env_pairs(args.env)
    for spec in args.watch:
        mod, sep, cls = spec.partition(":")
        if not sep or not mod or not cls:
            raise UsageError(f"--watch {spec!r}: expected MODULE:CLASS (e.g. openai:OpenAI)")
    headers = parse_headers(getattr(args, "header", []) or [])
    request = parse_request(args.request, headers) if getattr(args, "request", None) else None
    stream = (parse_request(args.stream_request, headers, flag="--stream-request")
              if getattr(args, "stream_request", None) else None)
    return UserTarget(TargetSpec(args.app, factory=args.factory, app_dir=app_dir, watch=tuple(args.watch), env=env,
                                 workers=workers),
                      request=request, stream_request=stream, tier=check_tier(getattr(args, "tier", DEFAULT_TIER)))


def refuse_reference_flags(args: argparse.Namespace, **defaults: object) -> None:
    """Flags that choose among the reference app's variants mean nothing with --app: one line, exit 2."""
    for name, default in defaults.items():
        if getattr(args, name, default) != default:
            raise UsageError(f"--{name.replace('_', '-')} selects the reference app's runs; with --app your app "
                             "is the only variant")


def say(text: str) -> None:
    print(text, file=sys.stderr)
