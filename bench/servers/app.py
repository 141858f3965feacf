"""The app under test as a child server: one variant, its settings passed through a whitelisted environment."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import httpx

from app_under_test.variants import parse_variant
from bench.errors import ServerStartError
from bench.servers.process import ServerProcess, python_argv, serve

APP_FACTORY = "app_under_test.app:app_from_env"  # each uvicorn worker builds the app from APP_VARIANT etc.
APP_CHECK = "app_under_test.__main__:check_settings"


def app_env(variant: str, backend_url: str, *, api_key: str | None = None,
            extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {
        "APP_VARIANT": variant,
        "APP_DEBUG_ENDPOINTS": "1",
        "OPENAI_BASE_URL": backend_url,
        "LOG_LEVEL": "WARNING",
    }
    if api_key:
        env["OPENAI_API_KEY"] = api_key
    # The regression knobs reach the app from the harness's own environment (`APP_INJECT_BLOCKING_MS=50 bench gate`).
    env.update({k: v for k, v in os.environ.items() if k.startswith("APP_INJECT_")})
    env.update(extra or {})
    # An empty value means "leave it unset", so the app falls back to its .env file or default.
    return {k: v for k, v in env.items() if v != ""}


def wait_workers(server: ServerProcess, workers: int, deadline_s: float = 60.0) -> list[int]:
    """With uvicorn --workers N the port answers before every worker has imported the app; poll /healthz
    until N distinct worker pids have answered."""
    pids: set[int] = set()
    end = time.monotonic() + deadline_s
    with httpx.Client(timeout=2.0) as client:
        while len(pids) < workers and time.monotonic() < end:
            # New connections spread over the workers; keep-alive would pin one.
            resp = client.get(server.url + "/healthz", headers={"Connection": "close"})
            pids.add(int(resp.json()["pid"]))
            time.sleep(0.01)
    if len(pids) < workers:
        raise ServerStartError(f"only {len(pids)} of {workers} workers answered within {deadline_s:.0f}s")
    return sorted(pids)


@contextmanager
def running_app(
    variant: str,
    backend_url: str,
    *,
    workers: int = 1,
    api_key: str | None = None,
    env: Mapping[str, str] | None = None,
    host: str = "127.0.0.1",
    log_dir: str | None = None,
    deadline_s: float = 90.0,
    cwd: str | None = None,
) -> Iterator[ServerProcess]:
    parse_variant(variant)  # a bad name fails here, in one line, not in the child
    argv = python_argv("bench.servers.uvicorn_runner", APP_FACTORY, "--factory", "--check", APP_CHECK,
                       "--workers", str(workers))
    with serve(f"app-{variant.replace(':', '_').replace(',', '_').replace('=', '-')}", argv,
               probe_path="/healthz", env=app_env(variant, backend_url, api_key=api_key, extra=env),
               host=host, deadline_s=deadline_s, log_dir=log_dir, cwd=cwd) as server:
        if workers > 1:
            server.extra["worker_pids"] = wait_workers(server, workers, deadline_s)
        yield server
