"""`running_mock`: the mock backend in its own process on a free loopback port, for the harness and the
integration tests, built on `bench.servers.process.serve` (pre-bound socket, readiness probe, tree teardown).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.mock.config import KEY_ENV, MockConfig
from bench.servers.httpclient import get as http_get
from bench.servers.httpclient import post as http_post
from bench.servers.process import ChildServer, ServerProcess, python_argv, serve

_ROOT = str(Path(__file__).resolve().parents[2])  # so `python -m bench` imports without an install


@dataclass
class MockServer(ChildServer):
    """A running mock. Clients use `api_base` (`url + "/v1"`); `stats()` and `reset()` hit /mock/*."""

    process: ServerProcess
    config: MockConfig

    def stats(self) -> dict[str, Any]:
        return self._get("/mock/stats")

    def requests(self) -> list[dict[str, Any]]:
        """The most recent requests (arrival, end, outcome, retry count...), oldest first."""
        return self._get("/mock/requests")

    def reset(self) -> None:
        http_post(self.url + "/mock/reset", timeout=10.0).raise_for_status()

    def _get(self, path: str) -> Any:
        resp = http_get(self.url + path, timeout=10.0)
        resp.raise_for_status()
        return resp.json()


def mock_env(config: MockConfig) -> dict[str, str]:
    extra = os.environ.get("PYTHONPATH")
    env = {"PYTHONPATH": _ROOT + (os.pathsep + extra if extra else "")}
    if config.require_key:
        env[KEY_ENV] = config.require_key
    return env


@contextlib.contextmanager
def running_mock(config: MockConfig | None = None, *, log_dir: str | None = None, host: str = "127.0.0.1",
                 deadline_s: float = 30.0) -> Iterator[MockServer]:
    """Start `python -m bench.mock --fd N <flags>` (that is `bench mock`), wait until /mock/health answers,
    and stop it (and its process tree) on exit."""
    config = config or MockConfig()
    argv = python_argv("bench.mock", *config.to_argv())
    with serve("mock", argv, probe_path="/mock/health", env=mock_env(config), host=host,
               deadline_s=deadline_s, log_dir=log_dir) as proc:
        yield MockServer(proc, config)
