"""Child entry point: `python -m app_under_test --variant NAME [--fd N | --host H --port P] [--workers N]`.

Settings are checked here, before uvicorn starts, so a bad value is one line and exit 2, not a traceback
from each worker.
"""

from __future__ import annotations

import argparse
import os
import sys

from app_under_test.settings import SettingsError, load_settings
from app_under_test.variants import VariantError, parse_variant


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m app_under_test")
    p.add_argument("--variant")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--fd", type=int)
    p.add_argument("--workers", type=int, default=1)
    args = p.parse_args(argv)
    if args.variant:
        os.environ["APP_VARIANT"] = args.variant  # uvicorn workers build the app from the environment
    try:
        settings = load_settings()
        parse_variant(settings.app_variant)
    except (SettingsError, VariantError) as exc:
        sys.stderr.write(f"app_under_test: {exc}\n")
        return 2
    from bench.servers.uvicorn_runner import run_uvicorn

    run_uvicorn("app_under_test.app:app_from_env", factory=True, host=args.host, port=args.port, fd=args.fd,
                workers=args.workers, log_level=settings.log_level.lower() if settings.log_level.upper() == "DEBUG"
                else "warning")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
