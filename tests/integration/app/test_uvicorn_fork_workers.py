"""uvicorn workers forked from a pre-imported supervisor (BENCH_WORKER_START=fork, the overlapping schedule's way):
each is its own process that builds its own agent on its first request, as a spawned worker does, and none starts
as a fresh interpreter."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest

from bench.mock.config import MockConfig
from bench.mock.process import MockServer, running_mock
from bench.servers.app import running_app
from bench.servers.forkserver import forked_apps
from bench.servers.uvicorn_runner import WORKER_START_ENV


@pytest.fixture(scope="module")
def mock(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MockServer]:
    with running_mock(MockConfig(latency_ms=10), log_dir=str(tmp_path_factory.mktemp("mock"))) as server:
        yield server


@pytest.mark.parametrize("start", ["fork", "spawn"])
def test_each_worker_builds_its_own_agent_whether_forked_or_spawned(tmp_path: Path, mock: MockServer,
                                                                    start: str) -> None:
    env = {WORKER_START_ENV: "fork"} if start == "fork" else {}
    with forked_apps(), running_app("async", mock.api_base, workers=2, env=env, log_dir=str(tmp_path)) as app:
        before = app.per_worker()
        assert len({w["pid"] for w in before}) == 2
        assert [w["constructions"] for w in before] == [0, 0]  # nothing built before the first request
        children = [" ".join(p.cmdline()) for p in psutil.Process(app.pid).children()]
        spawned = [c for c in children if "resource_tracker" not in c]  # spawn's helper process is no worker
        assert len(spawned) == 2, children
        # A spawned worker is a fresh interpreter running multiprocessing's spawn_main; a forked one is not.
        assert all(("spawn_main" in c) is (start == "spawn") for c in spawned), spawned
        answered: set[int] = set()
        with httpx.Client(timeout=30.0, headers={"Connection": "close"}) as client:
            for _ in range(200):  # new connections land on whichever worker accepts first
                resp = client.post(app.url + "/api/chat", json={"message": "hi"})
                assert resp.status_code == 200
                answered.add(int(resp.json()["pid"]))
                if len(answered) == 2:
                    break
        assert answered == {w["pid"] for w in before}
        assert [w["constructions"] for w in app.per_worker()] == [1, 1]
