"""Apps forked by the fork server (bench/servers/forkserver.py) behave as cold-started ones: they answer, read the
environment and working directory they were given (not the fork server's), start with no ChatAgent built, serve with
several workers, report how they died, and die with the fork server and with the harness that owns it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import psutil
import pytest

from bench.errors import ServerStartError
from bench.mock.process import MockServer, running_mock
from bench.servers import forkserver, priority
from bench.servers.app import AppServer, running_app
from bench.servers.forkserver import ForkedProcess, ForkServer, forked_apps

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def mock() -> Iterator[MockServer]:
    with running_mock() as server:
        yield server


@pytest.fixture(scope="module")
def fork_server() -> Iterator[ForkServer]:
    with forked_apps() as server:
        assert server is not None, "the fork server should start (BENCH_FORK_SERVER unset)"
        yield server


def _chat(app: AppServer) -> dict[str, object]:
    reply = httpx.post(app.url + "/api/chat", json={"message": "hi"}, timeout=30)
    assert reply.status_code == 200, reply.text
    return dict(reply.json())


def _gone(pids: list[int], within_s: float) -> list[int]:
    """The pids still running (zombies count as gone) after waiting up to `within_s`."""
    end = time.monotonic() + within_s
    alive = pids
    while alive and time.monotonic() < end:
        alive = [p for p in alive if forkserver._alive(p)]
        time.sleep(0.05)
    return alive


def test_forked_app_answers_with_its_own_settings_and_no_agent_yet(mock: MockServer, fork_server: ForkServer) -> None:
    with running_app("lru_cache", mock.api_base, env={"OPENAI_MODEL": "forked-model"}) as app:
        assert isinstance(app.proc, ForkedProcess)
        assert psutil.Process(app.pid).ppid() == fork_server.proc.pid
        cmdline = psutil.Process(app.pid).cmdline()  # shown as what it runs, as a cold start shows it
        assert cmdline[1:4] == ["-m", "bench.servers.uvicorn_runner", "app_under_test.app:app_from_env"], cmdline
        stats = app.stats()
        assert stats["constructions"] == 0, "nothing built in the fork server may be inherited"
        assert stats["variant"] == "lru_cache" and stats["settings"]["OPENAI_MODEL"] == "forked-model"
        assert "APP_VARIANT" not in fork_server.env and "OPENAI_MODEL" not in fork_server.env
        assert _chat(app)["pid"] == app.pid  # read per reply, not the fork server's pid from import time
        assert app.stats()["constructions"] == 1
    assert app.proc.poll() is not None
    assert isinstance(mock.process.proc, subprocess.Popen), "only the reference app is forked"


def test_working_directory_and_its_dotenv_are_the_apps(mock: MockServer, fork_server: ForkServer,
                                                       tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("OPENAI_MODEL=from-dotenv\nOPENAI_MAX_RETRIES=7\n", encoding="utf-8")
    with running_app("async", mock.api_base, cwd=str(tmp_path)) as app:
        assert isinstance(app.proc, ForkedProcess)
        assert psutil.Process(app.pid).cwd() == str(tmp_path)
        settings = app.stats()["settings"]
    assert settings["OPENAI_MODEL"] == "from-dotenv" and settings["OPENAI_MAX_RETRIES"] == 7


def test_concurrent_starts_from_threads(mock: MockServer, fork_server: ForkServer) -> None:
    def one(variant: str) -> tuple[bool, int, int]:
        with running_app(variant, mock.api_base) as app:
            return isinstance(app.proc, ForkedProcess), app.pid, int(str(_chat(app)["pid"]))

    with ThreadPoolExecutor(max_workers=3) as pool:
        results = list(pool.map(one, ["async", "locked", "lru_cache"]))
    assert all(forked and pid == answered for forked, pid, answered in results)
    assert len({pid for _, pid, _ in results}) == 3


def test_two_workers_are_spawned_by_the_forked_supervisor(mock: MockServer, fork_server: ForkServer) -> None:
    with running_app("async", mock.api_base, workers=2) as app:
        assert isinstance(app.proc, ForkedProcess)
        assert len(app.worker_pids) == 2
        children = {p.pid for p in psutil.Process(app.pid).children(recursive=True)}
        assert set(app.worker_pids) <= children
        assert all(w["constructions"] == 0 for w in app.per_worker())
        _chat(app)
        tree = [app.pid, *children]
    assert _gone(tree, 10.0) == []


def test_an_app_forked_under_lowered_priority_runs_there_workers_and_all(mock: MockServer,
                                                                         fork_server: ForkServer) -> None:
    """The heavy lane's apps (bench/run/orchestrator.py) at idle priority, their workers too; the next app not."""
    base = os.getpriority(os.PRIO_PROCESS, 0)
    with priority.lowered(priority.IDLE_NICE), running_app("async", mock.api_base, workers=2) as app:
        assert isinstance(app.proc, ForkedProcess)
        tree = [psutil.Process(app.pid), *psutil.Process(app.pid).children(recursive=True)]
        assert len(tree) >= 3 and {p.nice() for p in tree} == {max(base, priority.IDLE_NICE)}
        _chat(app)
    with running_app("async", mock.api_base) as app:
        assert psutil.Process(app.pid).nice() == base


def test_sigkilled_app_reports_its_signal(mock: MockServer, fork_server: ForkServer) -> None:
    with running_app("async", mock.api_base) as app:
        assert app.proc.poll() is None
        os.kill(app.pid, signal.SIGKILL)
        assert app.proc.wait(timeout=10) == -signal.SIGKILL
        assert app.proc.poll() == -signal.SIGKILL and app.proc.returncode == -signal.SIGKILL


def test_bad_setting_fails_the_start_with_the_checks_exit_code(mock: MockServer, fork_server: ForkServer) -> None:
    with pytest.raises(ServerStartError, match=r"(?s)exited with code 2 .*OPENAI_TEMPERATURE"), \
            running_app("async", mock.api_base, env={"OPENAI_TEMPERATURE": "9"}):
        pass


def test_environment_read_at_import_time_starts_cold(fork_server: ForkServer) -> None:
    env = dict(fork_server.env)
    assert fork_server.usable(env)
    assert not fork_server.usable({**env, "OPENAI_LOG": "debug"})
    assert not fork_server.usable({**env, "PYTHONHASHSEED": "0"})
    assert forkserver.forkable([sys.executable, "-m", "bench.servers.uvicorn_runner", "app_under_test.app:x"])
    assert not forkserver.forkable([sys.executable, "-m", "bench.servers.uvicorn_runner", "myapp:app"])
    assert forkserver.forkable([sys.executable, "-m", "bench.mock", "--latency-ms", "1"])
    assert forkserver.forkable([sys.executable, "-m", "bench.run.static_child", "--out", "x"])
    assert not forkserver.forkable(["python2", "-m", "bench.run.static_child"])


def test_the_project_root_on_pythonpath_changes_nothing_the_fork_server_imports(fork_server: ForkServer) -> None:
    env = dict(fork_server.env)
    before = env.get("PYTHONPATH")
    with_root = forkserver.PROJECT_ROOT + (os.pathsep + before if before else "")
    assert fork_server.usable({**env, "PYTHONPATH": with_root})  # what the mock's environment adds
    assert not fork_server.usable({**env, "PYTHONPATH": os.pathsep.join(filter(None, ["/elsewhere", before]))})


def test_the_mock_is_forked_once_the_server_is_ready_and_cold_before(fork_server: ForkServer,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    with running_mock() as forked:
        assert isinstance(forked.process.proc, ForkedProcess)
        assert forked.stats()["received"] == 0
        reply = httpx.post(forked.api_base + "/chat/completions", timeout=10,
                           json={"model": "m", "messages": [{"role": "user", "content": "hi"}]})
        assert reply.status_code == 200 and forked.stats()["received"] == 1
    # Still importing (the backend probe's mock at the start of a run): a cold start, not a wait for the imports.
    monkeypatch.setattr(fork_server, "_ready", False)
    with running_mock() as cold:
        assert isinstance(cold.process.proc, subprocess.Popen)
        assert cold.stats()["received"] == 0


def test_static_measurements_come_from_a_forked_child(fork_server: ForkServer, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from bench.run import static_child
    from bench.run.static import provider_lines

    def not_here() -> dict[str, object]:
        raise AssertionError("measured in the harness, not in the fork server's child")

    monkeypatch.setattr(static_child, "measure", not_here)  # the child runs its own copy of the module
    found = static_child.static_measurements(str(tmp_path))
    assert found["provider_lines"] == provider_lines()
    calls = found["provider_call_ns"]
    assert set(calls) == {"naive-global", "lru-cache", "locked", "asyncio-lock"}
    assert all(0 < c["median_ns"] < 1e6 and c["rounds"] == 5 for c in calls.values())


def test_static_measurements_without_a_fork_server_are_made_here(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from bench.run import static_child

    monkeypatch.setattr(forkserver, "_active", None)
    monkeypatch.setattr(static_child, "measure", lambda: {"provider_lines": {}, "provider_call_ns": {}, "here": 1})
    assert static_child.static_measurements(str(tmp_path))["here"] == 1


def test_switched_off_starts_nothing_and_forks_nothing(fork_server: ForkServer, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(forkserver.SWITCH_ENV, "0")
    argv = [sys.executable, "-m", "bench.servers.uvicorn_runner", "app_under_test.app:app_from_env"]
    with forked_apps() as server, open(tmp_path / "log", "wb") as log:
        assert server is None
        assert forkserver.spawn_if_active(argv, env=fork_server.env, cwd=None, log=log, pass_fds=()) is None


def test_killed_fork_server_takes_its_apps_down_and_later_starts_go_cold(
        mock: MockServer, capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    server = ForkServer.start()  # its own, not the module's: this one is killed
    monkeypatch.setattr(forkserver, "_active", server)
    monkeypatch.setattr(forkserver, "_warned", False)
    try:
        with running_app("async", mock.api_base, workers=2) as app:
            tree = [app.pid, *(p.pid for p in psutil.Process(app.pid).children(recursive=True))]
            assert len(tree) >= 3
            server.proc.kill()
            # Not "still running", not a hang: the apps died with it (parent-death signal).
            assert app.proc.wait(timeout=10) == -signal.SIGKILL
            assert _gone(tree, 10.0) == []
        with running_app("async", mock.api_base) as cold:
            assert isinstance(cold.proc, subprocess.Popen)
            _chat(cold)
    finally:
        server.close()
    assert "fork server is unavailable" in capfd.readouterr().err


HARNESS = textwrap.dedent("""
    import json, sys, time
    import psutil
    from bench.mock.process import running_mock
    from bench.servers.app import running_app
    from bench.servers.forkserver import forked_apps
    with running_mock() as mock, forked_apps() as fs, running_app("async", mock.api_base, workers=2) as app:
        tree = [app.pid, *(p.pid for p in psutil.Process(app.pid).children(recursive=True))]
        print(json.dumps({"fork_server": fs.proc.pid, "mock": mock.pid, "app": tree}), flush=True)
        time.sleep(120)
""")


@pytest.mark.timeout(240)
def test_killed_harness_leaves_no_fork_server_and_no_app() -> None:
    proc = subprocess.Popen([sys.executable, "-c", HARNESS], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line, "the harness exited before its app was up"
        started = json.loads(line)
        pids = [started["fork_server"], started["mock"], *started["app"]]
        assert all(forkserver._alive(p) for p in pids)
        proc.kill()
        proc.wait(timeout=10)
        assert _gone(pids, 15.0) == [], "survived the harness's SIGKILL"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
