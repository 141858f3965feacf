"""Stand-in chat servers (tests/support/standin_app.py) on loopback, one per module, for the Locust runs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.servers.process import ServerProcess, python_argv, serve

ROOT = Path(__file__).resolve().parents[2]


def _standin(mode: str, latency_s: float, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    env = {"STANDIN_MODE": mode, "STANDIN_LATENCY_S": str(latency_s), "PYTHONPATH": str(ROOT)}
    with serve(f"standin-{mode}", python_argv("tests.support.standin_app"), probe_path="/healthz", env=env,
               log_dir=str(tmp_path_factory.mktemp("standin")), deadline_s=30) as server:
        yield server


@pytest.fixture(scope="module")
def async_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """`async def` endpoints sleeping 0.5 s: a burst of N overlaps completely."""
    yield from _standin("async", 0.5, tmp_path_factory)


@pytest.fixture(scope="module")
def sync_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A `def` endpoint with time.sleep(0.5): FastAPI's 40 threads serve a burst of 50 in two waves."""
    yield from _standin("sync", 0.5, tmp_path_factory)
