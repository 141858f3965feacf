"""The app under test as a child server (`AppServer`, shaped like `MockServer`): one variant, its settings passed
through a whitelisted environment, and its debug endpoints read per worker process: stats, the seed's
agent-cache view, measurement-window resets."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx

from app_under_test.variants import parse_variant
from bench.errors import ServerStartError
from bench.servers import httpclient
from bench.servers.process import ChildServer, ServerProcess, python_argv, serve

APP_FACTORY = "app_under_test.app:app_from_env"  # each uvicorn worker builds the app from APP_VARIANT etc.
APP_CHECK = "app_under_test.__main__:check_settings"
PASSED_PREFIXES = ("APP_INJECT_", "APP_BLOCKWATCH")  # from the harness's environment to the app's


def app_env(variant: str, backend_url: str, *, api_key: str | None = None,
            extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {
        "APP_VARIANT": variant,
        "APP_DEBUG_ENDPOINTS": "1",
        "OPENAI_BASE_URL": backend_url,
        "LOG_LEVEL": "WARNING",
        "APP_BLOCKWATCH": "1",  # the app's default is off (its cost); the harness measures with it
    }
    if api_key:
        env["OPENAI_API_KEY"] = api_key
    # The regression knobs reach the app from the harness's own environment (`APP_INJECT_BLOCKING_MS=50 bench gate`),
    # and so do the blocked-loop sampler's settings (`APP_BLOCKWATCH=0 bench run ...` runs without it).
    env.update({k: v for k, v in os.environ.items() if k.startswith(PASSED_PREFIXES)})
    env.update(extra or {})
    # An empty value means "leave it unset", so the app falls back to its .env file or default.
    return {k: v for k, v in env.items() if v != ""}


@dataclass
class AppServer(ChildServer):
    """A running app. `per_worker()` and `reset()` reach every uvicorn worker process (new connections land on
    whichever worker accepts first, so they poll until each pid has answered)."""

    process: ServerProcess
    variant: str
    workers: int = 1
    worker_pids: list[int] = field(default_factory=list)

    @property
    def proc(self) -> Any:
        return self.process.proc

    def stats(self, *, measure: bool = False, collect: bool = False, timeout: float = 30.0) -> dict[str, Any]:
        """`GET /api/debug/stats` from whichever worker answers."""
        return _stats(self.url, measure=measure, collect=collect, timeout=timeout)

    def per_worker(self, *, measure: bool = False, deadline_s: float = 20.0, collect: bool = False,
                   blocks: int | None = None, sites: int | None = None) -> list[dict[str, Any]]:
        """One stats dict per worker pid (short if the deadline passed first: the caller says so); `blocks` and
        `sites`: how many of the blocked-loop sampler's blocks and call sites to list (None: the app's default)."""
        return _per_worker(self.url, self.workers, measure=measure, deadline_s=deadline_s, collect=collect,
                           blocked={"blocks": blocks, "sites": sites})

    def reset(self) -> None:
        """New peak window for loop lag, in-flight and live instances, on every worker."""
        _reset_window(self.url, self.workers)

    def agent_cache(self) -> dict[str, Any]:
        """The seed's `GET /api/debug/agent-cache`."""
        return _agent_cache(self.url)


def wait_workers(server: ServerProcess, workers: int, deadline_s: float = 60.0) -> list[int]:
    """With uvicorn --workers N the port answers before every worker has imported the app; poll /healthz
    until N distinct worker pids have answered."""
    pids: set[int] = set()
    end = time.monotonic() + deadline_s
    with httpclient.client(timeout=2.0) as client:
        while len(pids) < workers and time.monotonic() < end:
            # New connections spread over the workers; keep-alive would pin one.
            try:
                resp = client.get(server.url + "/healthz", headers={"Connection": "close"})
            except httpx.TimeoutException:
                # A worker still busy (8 cold ones at low priority beside the timed units once took over 2 s to
                # answer): asked again until the deadline, which is what decides.
                continue
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
) -> Iterator[AppServer]:
    parse_variant(variant)  # a bad name fails here, in one line, not in the child
    argv = python_argv("bench.servers.uvicorn_runner", APP_FACTORY, "--factory", "--check", APP_CHECK,
                       "--workers", str(workers))
    with serve(f"app-{variant.replace(':', '_').replace(',', '_').replace('=', '-')}", argv,
               probe_path="/healthz", env=app_env(variant, backend_url, api_key=api_key, extra=env),
               host=host, deadline_s=deadline_s, log_dir=log_dir, cwd=cwd) as server:
        pids = wait_workers(server, workers, deadline_s) if workers > 1 else [server.pid]
        yield AppServer(server, variant, workers, pids)


# The debug endpoints, over HTTP.

def _stats(url: str, *, measure: bool = False, collect: bool = False, timeout: float = 30.0) -> dict[str, Any]:
    params = {"measure": str(measure).lower(), "collect": str(collect).lower()}
    resp = httpclient.get(url + "/api/debug/stats", params=params, timeout=timeout)
    resp.raise_for_status()
    return dict(resp.json())


def _per_worker(url: str, workers: int, *, measure: bool = False, deadline_s: float = 20.0,
               collect: bool = False, blocked: dict[str, int | None] | None = None) -> list[dict[str, Any]]:
    """One stats dict per worker pid. New connections land on whichever worker accepts first, so poll
    until every worker has answered (or the deadline passes: then the list is short, and the caller says so)."""
    found: dict[int, dict[str, Any]] = {}
    end = time.monotonic() + deadline_s
    with httpclient.client(timeout=30.0, headers={"Connection": "close"}) as client:
        while len(found) < workers and time.monotonic() < end:
            params = {"measure": str(measure).lower(), "collect": str(collect).lower()}
            params.update({k: str(v) for k, v in (blocked or {}).items() if v is not None})
            resp = client.get(url + "/api/debug/stats", params=params)
            resp.raise_for_status()
            data = resp.json()
            found.setdefault(int(data["pid"]), data)
    return [found[pid] for pid in sorted(found)]


def _reset_window(url: str, workers: int = 1) -> None:
    """New peak window for loop lag, in-flight and live instances, on every worker."""
    seen: set[int] = set()
    end = time.monotonic() + 10.0
    with httpclient.client(timeout=10.0, headers={"Connection": "close"}) as client:
        while len(seen) < workers and time.monotonic() < end:
            resp = client.post(url + "/api/debug/stats/reset")
            resp.raise_for_status()
            seen.add(int(resp.json()["pid"]))


def _agent_cache(url: str) -> dict[str, Any]:
    resp = httpclient.get(url + "/api/debug/agent-cache", timeout=10.0)
    resp.raise_for_status()
    return dict(resp.json())
