"""`bench serve`: run one variant of the app under uvicorn, against the embedded mock or a given backend."""

from __future__ import annotations

import argparse
import os
import signal
import sys
from contextlib import ExitStack

from app_under_test.settings import SettingsError, load_settings
from app_under_test.variants import VariantError, parse_variant
from bench.errors import UsageError

HELP = "run one variant of the app under test (uvicorn), against the embedded mock backend or --backend-url"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--variant", default="async", help="preset or axis spec (see `bench variants`)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--backend-url", help="OpenAI-compatible base URL (e.g. http://127.0.0.1:8080/v1); "
                        "default: start the embedded mock backend")
    parser.add_argument("--mock-latency-ms", type=float, default=1000.0, help="embedded mock's latency")
    parser.add_argument("--no-debug", action="store_true", help="do not mount /api/debug/*")
    parser.add_argument("--fd", type=int, help=argparse.SUPPRESS)


def run(args: argparse.Namespace) -> int:
    try:
        variant = parse_variant(args.variant)
    except VariantError as exc:
        raise UsageError(str(exc)) from None
    if args.workers < 1:
        raise UsageError("--workers must be at least 1")
    with ExitStack() as stack:
        backend = args.backend_url
        if backend is None:
            from bench.mock.config import MockConfig
            from bench.mock.process import running_mock

            mock = stack.enter_context(running_mock(MockConfig(latency_ms=args.mock_latency_ms)))
            backend = mock.url + "/v1"
            print(f"embedded mock backend: {backend} (latency {args.mock_latency_ms:.0f} ms)", file=sys.stderr)
        os.environ.update({"APP_VARIANT": args.variant, "OPENAI_BASE_URL": backend})
        if not args.no_debug:
            os.environ["APP_DEBUG_ENDPOINTS"] = "1"
        try:
            settings = load_settings()
        except SettingsError as exc:
            raise UsageError(str(exc)) from None
        print(f"serving variant {variant.name} ({variant.spec}) on http://{args.host}:{args.port} "
              f"with {args.workers} worker(s); Ctrl-C stops", file=sys.stderr)
        from bench.uvicorn_runner import run_uvicorn

        # uvicorn re-raises the signal it stopped on once it has shut down; with the default SIGTERM action
        # that would end this process before the ExitStack stops the embedded mock. Exit through Python instead.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        run_uvicorn("app_under_test.app:app_from_env", factory=True, host=args.host, port=args.port, fd=args.fd,
                    workers=args.workers, log_level="info" if settings.log_level.upper() == "DEBUG" else "warning")
    return 0
