"""`python -m app_under_test --variant NAME [--host H --port P] [--workers N]`: the app on its own, under uvicorn.

Settings are checked here, before uvicorn starts, so a bad value is one line and exit 2, not a traceback
from each worker. (The harness starts the app through `bench.servers.uvicorn_runner` with `check_settings`.)
"""

from __future__ import annotations

import argparse
import os
import sys

from app_under_test.limiters import check_limiter_settings
from app_under_test.settings import SettingsError, load_settings
from app_under_test.variants import VariantError, parse_variant


def check_settings() -> str | None:
    """The environment's settings and variant, checked: None when good, else one line saying what is wrong."""
    try:
        settings = load_settings()
        check_limiter_settings(settings, parse_variant(settings.app_variant).limiter)
    except (SettingsError, VariantError) as exc:
        return f"app_under_test: {exc}"
    return None


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m app_under_test")
    p.add_argument("--variant")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--workers", type=int, default=1)
    args = p.parse_args(argv)
    if args.variant:
        os.environ["APP_VARIANT"] = args.variant  # uvicorn workers build the app from the environment
    if problem := check_settings():
        sys.stderr.write(problem + "\n")
        return 2
    import uvicorn

    level = load_settings().log_level.lower()
    uvicorn.run("app_under_test.app:app_from_env", factory=True, host=args.host, port=args.port,
                workers=args.workers, log_level="debug" if level == "debug" else "warning", access_log=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
