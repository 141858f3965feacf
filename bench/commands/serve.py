"""`bench serve`: run one variant of the app under uvicorn, against the embedded mock or a given backend
(`--backend openai` with OPENAI_API_KEY, or `--backend-url URL` / `--backend URL` for any OpenAI-compatible
server; `--model` names the model asked for)."""

from __future__ import annotations

import argparse
import math
import os
import signal
import sys
from contextlib import ExitStack
from dataclasses import replace

from app_under_test.settings import SettingsError, load_settings
from app_under_test.variants import VariantError, parse_variant
from bench.errors import UsageError
from bench.run.backends import Backend, add_backend_arguments, backend_from_args
from bench.servers.target import BOOTSTRAP, TargetSpec

HELP = ("run one variant of the app under test (uvicorn), against the embedded mock backend, OpenAI "
        "(--backend openai) or an OpenAI-compatible server (--backend-url)")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--variant", default="async", help="preset or axis spec (see `bench variants`)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--workers", type=int, default=1)
    add_backend_arguments(parser)
    parser.add_argument("--mock-latency-ms", type=float, default=1000.0, help="embedded mock's latency")
    parser.add_argument("--no-debug", action="store_true", help="do not mount /api/debug/*")
    parser.add_argument("--fd", type=int, help=argparse.SUPPRESS)
    from bench.commands.target_args import add_target_arguments

    add_target_arguments(parser, calls=False, workers=False)  # `--app`: your app, instrumented, instead of a variant


def _backend_url(backend: Backend, stack: ExitStack, latency_ms: float) -> str:
    """The base URL the app calls: the embedded mock (started here) or the backend's own."""
    if backend.kind == "mock":
        from bench.mock.config import MockConfig
        from bench.mock.process import running_mock

        mock = stack.enter_context(running_mock(MockConfig(latency_ms=latency_ms)))
        print(f"embedded mock backend: {mock.api_base} (latency {latency_ms:.0f} ms)", file=sys.stderr)
        return mock.api_base
    if not backend.base_url:
        # A backend the harness starts per run (e.g. a local model server): serve needs it already running.
        raise UsageError(f"bench serve does not start a {backend.kind} backend; start it and give its URL "
                         "with --backend-url")
    # Never the key: describe() says only whether one is set.
    shown = backend.describe()
    print(f"backend: {backend.kind} at {shown['base_url']}, model {shown['model'] or '(app default)'}, "
          f"API key {'set' if shown['api_key_set'] else 'not set'}", file=sys.stderr)
    return backend.base_url


def _serve_target(args: argparse.Namespace, spec: TargetSpec, backend: Backend) -> int:
    """`bench serve --app`: the user's app under uvicorn with the instrumentation injected (its figures at
    /__bench__/stats), its upstream the embedded mock or the given backend."""
    from bench.inject.bootstrap import check_target
    from bench.servers.uvicorn_runner import run_uvicorn

    with ExitStack() as stack:
        base_url = _backend_url(backend, stack, args.mock_latency_ms)
        os.environ.update(spec.child_env(base_url, api_key=backend.api_key, extra=backend.app_env()))
        if problem := check_target():  # imports it here, once: a bad app is one line, not a traceback per worker
            raise UsageError(problem.split(": ", 1)[1])
        where = f"http://{args.host}:{args.port}" if args.fd is None else f"the socket passed as fd {args.fd}"
        print(f"serving {spec.app} (instrumented: /__bench__/stats) on {where} with {args.workers} worker(s); "
              "Ctrl-C stops", file=sys.stderr)
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        run_uvicorn(BOOTSTRAP, factory=True, host=args.host, port=args.port, fd=args.fd, workers=args.workers)
    return 0


def _check_ranges(args: argparse.Namespace) -> None:
    """What argparse's types cannot say, refused before anything starts."""
    if not 0 <= args.port <= 65535:
        raise UsageError(f"--port must be within [0, 65535] (0: any free port), got {args.port}")
    if not (args.mock_latency_ms >= 0 and math.isfinite(args.mock_latency_ms)):  # NaN fails `>= 0`
        raise UsageError(f"--mock-latency-ms must be a finite number >= 0, got {args.mock_latency_ms}")


def run(args: argparse.Namespace) -> int:
    from bench.commands.target_args import target_from_args

    _check_ranges(args)
    target = target_from_args(args)
    if target is not None:
        if args.workers < 1:
            raise UsageError("--workers must be at least 1")
        return _serve_target(args, replace(target.spec, workers=args.workers), backend_from_args(args))
    try:
        variant = parse_variant(args.variant)
    except VariantError as exc:
        raise UsageError(str(exc)) from None
    if args.workers < 1:
        raise UsageError("--workers must be at least 1")
    backend = backend_from_args(args)  # a missing OPENAI_API_KEY fails here, before anything starts
    with ExitStack() as stack:
        base_url = _backend_url(backend, stack, args.mock_latency_ms)
        # The app (and uvicorn's workers) read these; the key, when there is one, is already in the environment
        # (resolve_backend read it from there) and travels no other way.
        os.environ.update({"APP_VARIANT": args.variant, "OPENAI_BASE_URL": base_url, **backend.app_env()})
        if not args.no_debug:
            os.environ["APP_DEBUG_ENDPOINTS"] = "1"
        try:
            settings = load_settings()
        except SettingsError as exc:
            raise UsageError(str(exc)) from None
        where = f"http://{args.host}:{args.port}" if args.fd is None else f"the socket passed as fd {args.fd}"
        print(f"serving variant {variant.name} ({variant.spec}) on {where} "
              f"with {args.workers} worker(s); Ctrl-C stops", file=sys.stderr)
        from bench.servers.uvicorn_runner import run_uvicorn

        # uvicorn re-raises the signal it stopped on once it has shut down; with the default SIGTERM action
        # that would end this process before the ExitStack stops the embedded mock. Exit through Python instead.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        run_uvicorn("app_under_test.app:app_from_env", factory=True, host=args.host, port=args.port, fd=args.fd,
                    workers=args.workers, log_level="info" if settings.log_level.upper() == "DEBUG" else "warning")
    return 0
