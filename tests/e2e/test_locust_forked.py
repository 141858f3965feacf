"""Locust runs forked from the Locust fork server (bench/run/locust_forkserver.py) against the mock backend: the
same complete results as a subprocess, runs at once from several threads, the hard limits, and no orphans."""

from __future__ import annotations

import contextlib
import csv
import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, cast

import psutil
import pytest

from bench.mock.config import MockConfig
from bench.mock.process import MockServer, running_mock
from bench.run import locust_forkserver as lfs
from bench.run import locust_job as loadgen
from bench.run.appwatch import AppWatch
from bench.run.locust_job import LocustJob, LocustResult, run_locust
from scenarios.records import RECORD_FIELDS

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
CHAT_PATH = "/v1/chat/completions"  # straight at the mock: no app needed to drive Locust

HUNG_LOCUSTFILE = """
import gevent
from locust import User, events, task

from scenarios.options import add_arguments

events.init_command_line_parser.add_listener(lambda parser, **_: add_arguments(parser))


class Hung(User):
    @task
    def hang(self):
        gevent.sleep(3600)
"""

# Prints what the process looks like when Locust loads its locustfile: a forked one must look like a fresh one.
PROBE_LOCUSTFILE = """
import gc, json, os, sys, threading

import gevent, greenlet
from locust import User, events, task
from locust.exception import StopUser

from scenarios.options import add_arguments

events.init_command_line_parser.add_listener(lambda parser, **_: add_arguments(parser))


def _fds():
    kinds = []
    for fd in os.listdir("/proc/self/fd"):
        with __import__("contextlib").suppress(OSError):
            target = os.readlink(f"/proc/self/fd/{fd}")
            kinds.append(target.split(":[")[0] if ":[" in target else os.path.basename(target))
    return sorted(kinds)


def _status(key):
    return next(line.split()[1] for line in open("/proc/self/status") if line.startswith(key))


print("PROBE " + json.dumps({
    "fds": _fds(), "greenlets": sum(isinstance(o, greenlet.greenlet) for o in gc.get_objects()),
    "threads": len(os.listdir("/proc/self/task")), "session_leader": os.getsid(0) == os.getpid(),
    "caught": _status("SigCgt"), "ignored": _status("SigIgn"), "blocked": _status("SigBlk"),
    "argv0": sys.argv[0], "path": sys.path[:2], "cwd": os.getcwd(), "env": sorted(os.environ),
    "main": sys.modules["__main__"].__spec__.name, "hooks_imported": "scenarios.hooks" in sys.modules,
    "listeners": {k: len(v._handlers) for k, v in vars(events).items() if getattr(v, "_handlers", None)},
}), flush=True)


class Quick(User):
    @task
    def done(self):
        gevent.spawn(self.environment.runner.quit)
        raise StopUser()
"""


# Ends with an exit code of its own, leaves a line buffered in a file object it never closes, and registers an atexit
# handler that writes a file: a forked run that skips the interpreter's finalization must still end like `python -m`.
EXIT_LOCUSTFILE = """
import atexit, os

import gevent
from locust import User, events, task
from locust.exception import StopUser

from scenarios.options import add_arguments

events.init_command_line_parser.add_listener(lambda parser, **_: add_arguments(parser))


@events.test_start.add_listener
def _started(environment, **_):
    environment.process_exit_code = 7
    out = os.path.dirname(environment.parsed_options.csv_prefix)
    atexit.register(lambda: open(os.path.join(out, "atexit.txt"), "w").write("ran"))


@events.quitting.add_listener
def _log(environment, **_):
    print("QUITTING LINE", flush=True)


class Quick(User):
    @task
    def done(self):
        gevent.spawn(self.environment.runner.quit)
        raise StopUser()
"""


@pytest.fixture(scope="module")
def mock(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MockServer]:
    config = MockConfig(latency_ms=100, jitter="none", jitter_ms=0.0)
    with running_mock(config, log_dir=str(tmp_path_factory.mktemp("mock"))) as server:
        yield server


@pytest.fixture
def server() -> Iterator[lfs.LocustForkServer]:
    with lfs.locust_fork_server() as started:
        assert started is not None, "no fork server (BENCH_FORK_SERVER=0 in the environment?)"
        yield started


@pytest.fixture
def forked(monkeypatch: pytest.MonkeyPatch) -> list[lfs.ForkedLocust | None]:
    """What run_locust got from the fork server, run by run (None: it started a subprocess)."""
    seen: list[lfs.ForkedLocust | None] = []
    real = loadgen.start_locust

    def spy(*args: Any, **kw: Any) -> lfs.ForkedLocust | None:
        handle = real(*args, **kw)
        seen.append(handle)
        return handle

    monkeypatch.setattr(loadgen, "start_locust", spy)
    return seen


def _job(mock: MockServer, out: Path, scenario: str = "burst", **kw: Any) -> LocustJob:
    body = json.dumps({"model": mock.config.model, "messages": [{"role": "user", "content": "hi"}]})
    kw.setdefault("client_timeout_s", 10.0)
    return LocustJob(scenario=scenario, host=mock.url, out_dir=out, options={"chat_path": CHAT_PATH,
                                                                             "chat_body": body}, **kw)


def _assert_complete(result: LocustResult, requests: int) -> None:
    assert not result.timed_out and result.exit_code == 0, result.log_tail
    assert result.complete and result.bad_lines == 0, result.log_tail
    assert result.recorded == result.locust_requests == requests  # Locust's own count agrees with the records
    assert all(r["status"] == 200 and r["error"] is None for r in result.records)


def _shape(result: LocustResult) -> dict[str, Any]:
    """What a run wrote, without its values: file names, CSV headers and row names, JSON keys, record keys."""
    out = Path(result.job.out_dir)
    csvs = {}
    for path in sorted(out.glob("locust_*.csv")):
        with open(path, newline="", encoding="utf-8") as fh:
            rows = list(csv.reader(fh))
        name = rows[0].index("Name") if "Name" in rows[0] else None
        csvs[path.name] = (rows[0], sorted({row[name] for row in rows[1:]} if name is not None else set()))
    stats = json.loads(result.json_path.read_text(encoding="utf-8"))
    return {
        "files": sorted(p.name for p in out.iterdir()),
        "csv": csvs,
        "json": sorted((e["name"], sorted(e)) for e in stats),
        "html": result.html_path.read_text(encoding="utf-8").startswith("<!DOCTYPE html>"),
        "records": sorted({tuple(r) for r in result.records}),
    }


def _gone(pid: int, created: float) -> bool:
    with contextlib.suppress(psutil.Error):
        proc = psutil.Process(pid)
        return proc.create_time() != created or proc.status() == psutil.STATUS_ZOMBIE
    return True


def _says(log: Path, text: str) -> bool | None:
    with contextlib.suppress(OSError):
        return text in log.read_text(encoding="utf-8") or None
    return None


def _at_least(procs: list[psutil.Process], n: int) -> list[psutil.Process] | None:
    return procs if len(procs) >= n else None


def _wait_for(what: str, check: Any, deadline_s: float = 30.0) -> Any:
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        if (found := check()) is not None:
            return found
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_forked_burst_and_steady_run_are_complete_and_write_what_a_subprocess_writes(
        tmp_path: Path, mock: MockServer, forked: list[lfs.ForkedLocust | None]) -> None:
    plain = run_locust(_job(mock, tmp_path / "plain", users=50))
    assert forked == [None]  # no server yet: a subprocess
    _assert_complete(plain, 50)
    with lfs.locust_fork_server():
        burst = run_locust(_job(mock, tmp_path / "burst", users=50))
        steady = run_locust(_job(mock, tmp_path / "steady", "steady", rate=20, duration_s=1.0))
    assert all(isinstance(h, lfs.ForkedLocust) for h in forked[1:]) and len(forked) == 3
    _assert_complete(burst, 50)
    assert len({r["t_planned"] for r in burst.records}) == 1  # one release time for all
    _assert_complete(steady, 20)
    assert _shape(burst) == _shape(plain)
    assert tuple(burst.records[0]) == RECORD_FIELDS
    assert "Traceback" not in burst.log_path.read_text(encoding="utf-8")


def test_a_forked_locust_starts_as_a_fresh_one_would(tmp_path: Path) -> None:
    locustfile = tmp_path / "probe_locustfile.py"
    locustfile.write_text(textwrap.dedent(PROBE_LOCUSTFILE))

    def probe(name: str) -> dict[str, Any]:
        result = run_locust(LocustJob(scenario="burst", host="http://127.0.0.1:9", out_dir=tmp_path / name, users=1,
                                      hard_limit_s=10.0, locustfile=locustfile))
        assert result.exit_code == 0, result.log_tail
        lines = [line for line in result.log_path.read_text().splitlines() if line.startswith("PROBE ")]
        return cast(dict[str, Any], json.loads(lines[0].removeprefix("PROBE ")))

    fresh = probe("fresh")
    with lfs.locust_fork_server():
        first, second = probe("forked-1"), probe("forked-2")
    # No socket, pidfd or pipe of the server's, no greenlet or thread of it; the same signals, argv, path, cwd,
    # environment and __main__; no listener registered by a module the server imported.
    assert first == fresh and second == fresh
    assert fresh["greenlets"] == 2 and fresh["threads"] == 1 and not fresh["hooks_imported"]


def test_two_forked_runs_at_once_from_two_threads(tmp_path: Path, mock: MockServer, server: lfs.LocustForkServer,
                                                  forked: list[lfs.ForkedLocust | None]) -> None:
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda i: run_locust(_job(mock, tmp_path / f"run{i}", users=20, repetition=i)),
                                range(2)))
    for result in results:
        _assert_complete(result, 20)
    pids = {h.pid for h in forked if h is not None}
    assert len(forked) == 2 and len(pids) == 2
    assert {r["pid"] for r in results[0].records} != {r["pid"] for r in results[1].records}
    assert server.dead is None


def test_a_forked_run_past_its_hard_limit_is_stopped_as_before(tmp_path: Path, mock: MockServer,
                                                               server: lfs.LocustForkServer,
                                                               monkeypatch: pytest.MonkeyPatch,
                                                               forked: list[lfs.ForkedLocust | None]) -> None:
    # Locust's own limit: users mid-request are cancelled and recorded, exit code 3.
    cut = run_locust(_job(mock, tmp_path / "cut", "concurrency", users=3, duration_s=30, hard_limit_s=1.0))
    assert cut.exit_code == loadgen.HARD_LIMIT_EXIT_CODE and cut.hit_hard_limit and not cut.complete
    assert cut.locust_requests == cut.recorded > 0
    # A Locust that never ends: the harness's timeout, then stop_tree.
    locustfile = tmp_path / "hung_locustfile.py"
    locustfile.write_text(textwrap.dedent(HUNG_LOCUSTFILE))
    monkeypatch.setattr(loadgen, "STARTUP_GRACE_S", 3.0)
    hung = run_locust(LocustJob(scenario="burst", host="http://127.0.0.1:9", out_dir=tmp_path / "hung", users=1,
                                hard_limit_s=0.5, locustfile=locustfile))
    assert hung.timed_out and hung.hit_hard_limit and not hung.complete
    assert hung.wall_s < 20 and hung.records == []
    handle = forked[-1]
    assert handle is not None and handle.returncode is not None
    assert not psutil.pid_exists(handle.pid)  # reaped by the server
    assert "Got SIGTERM signal" in hung.log_path.read_text(encoding="utf-8")  # Locust's own clean stop


def test_the_app_watch_stops_a_forked_locust(tmp_path: Path, server: lfs.LocustForkServer) -> None:
    locustfile = tmp_path / "hung_locustfile.py"
    locustfile.write_text(textwrap.dedent(HUNG_LOCUSTFILE))
    watches: list[AppWatch] = []

    def watched_run() -> Any:
        # A watch belongs to the thread that runs its Locust: only its creating thread's run is stopped.
        watches.append(AppWatch(cast(subprocess.Popen[bytes], None)))  # only its Locust-stopping half is exercised
        return run_locust(LocustJob(scenario="burst", host="http://127.0.0.1:9", users=1, out_dir=tmp_path / "out",
                                    hard_limit_s=60.0, locustfile=locustfile))

    with ThreadPoolExecutor(max_workers=1) as pool:
        future = pool.submit(watched_run)
        # Its test under way: a SIGTERM before Locust installs its handler would end it with no reports.
        _wait_for("Locust's test start", lambda: _says(tmp_path / "out" / "locust.log", "Ramping to"))
        (child,) = psutil.Process(server.proc.pid).children()
        try:
            assert "-m locust" in " ".join(child.cmdline())  # its title: ps and the tests find Locust by it
            # Another run's watch (here the main thread's) leaves this Locust alone: runs go side by side.
            assert AppWatch(cast(subprocess.Popen[bytes], None))._stop_locust() == []
            assert watches[0]._stop_locust() == [child.pid]
            result = future.result(timeout=30)
        finally:
            with contextlib.suppress(psutil.Error):
                child.kill()  # a failure above must not wait for the run's hard limit
    assert result.exit_code == 0 and not result.timed_out


def test_stop_running_locusts_ends_every_run_under_way_at_once(tmp_path: Path, server: lfs.LocustForkServer) -> None:
    """A failed unit or Ctrl-C under the overlapping schedule: every Locust run under way stops now, writing its
    reports, instead of at its hard limit."""
    locustfile = tmp_path / "hung_locustfile.py"
    locustfile.write_text(textwrap.dedent(HUNG_LOCUSTFILE))
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = [pool.submit(run_locust, LocustJob(scenario="burst", host="http://127.0.0.1:9", users=1,
                                                     out_dir=tmp_path / f"out{i}", hard_limit_s=120.0,
                                                     locustfile=locustfile)) for i in range(2)]
        for i in range(2):
            # Its test under way, not only "Starting Locust": Locust installs its SIGTERM handler after that line, and
            # a SIGTERM before it ends the process with no reports (seen under the full suite's load).
            _wait_for("Locust's test start", lambda i=i: _says(tmp_path / f"out{i}" / "locust.log", "Ramping to"))
        started = time.perf_counter()
        assert loadgen.stop_running_locusts() == 2
        results = [f.result(timeout=30) for f in futures]
    assert time.perf_counter() - started < 20  # not the 120 s hard limit
    assert all(r.exit_code == 0 and not r.timed_out for r in results)  # Locust's own clean stop on SIGTERM
    assert loadgen.stop_running_locusts() == 0  # nothing left registered


@pytest.fixture
def silent_host() -> Iterator[str]:
    """A loopback port whose connections are never accepted: every request waits for its client timeout."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"


def test_the_fork_servers_death_takes_its_locusts_and_later_runs_fall_back(
        tmp_path: Path, mock: MockServer, server: lfs.LocustForkServer, silent_host: str,
        capfd: pytest.CaptureFixture[str]) -> None:
    # The project's locustfile, a master and two --processes workers, their requests unanswered.
    job = LocustJob(scenario="burst", host=silent_host, users=2, processes=2, out_dir=tmp_path / "out",
                    client_timeout_s=60.0)
    root = psutil.Process(server.proc.pid)
    with ThreadPoolExecutor(max_workers=1) as pool:
        future = pool.submit(run_locust, job)
        tree = _wait_for("Locust and its workers", lambda: _at_least(root.children(recursive=True), 3))
        seen = {p.pid: p.create_time() for p in tree}
        root.send_signal(signal.SIGKILL)
        result = future.result(timeout=30)
    assert result.exit_code == -signal.SIGKILL and not result.timed_out
    _wait_for("no survivor", lambda: all(_gone(pid, t) for pid, t in seen.items()) or None, 10.0)
    assert server.dead is not None
    after = run_locust(_job(mock, tmp_path / "after", users=5))  # a subprocess now
    _assert_complete(after, 5)
    err = capfd.readouterr().err
    assert err.count("the Locust fork server is not used any more") == 1, err


HARNESS = """
import sys, time
from pathlib import Path
from bench.run.locust_forkserver import locust_fork_server
from bench.run.locust_job import LocustJob, run_locust

with locust_fork_server():
    run_locust(LocustJob(scenario="burst", host="http://127.0.0.1:9", users=1, out_dir=Path(sys.argv[1]),
                         hard_limit_s=120.0, locustfile=Path(sys.argv[2])))
"""


def test_a_killed_harness_leaves_neither_server_nor_locust(tmp_path: Path) -> None:
    locustfile = tmp_path / "hung_locustfile.py"
    locustfile.write_text(textwrap.dedent(HUNG_LOCUSTFILE))
    out = tmp_path / "out"
    harness = subprocess.Popen([sys.executable, "-c", HARNESS, str(out), str(locustfile)], cwd=ROOT,
                               env={**os.environ, "PYTHONPATH": str(ROOT)}, stdin=subprocess.DEVNULL)
    try:
        root = psutil.Process(harness.pid)
        _wait_for("Locust's start", lambda: _says(out / "locust.log", "Starting Locust"), 60.0)
        seen = {p.pid: p.create_time() for p in root.children(recursive=True)}
        assert len(seen) == 2  # the server and its Locust
        harness.send_signal(signal.SIGKILL)
        harness.wait(timeout=10)
        _wait_for("no survivor", lambda: all(_gone(pid, t) for pid, t in seen.items()) or None, 15.0)
    finally:
        if harness.poll() is None:
            harness.kill()
            harness.wait(timeout=10)


def test_switched_off_or_off_the_main_thread_there_is_no_server(monkeypatch: pytest.MonkeyPatch,
                                                                capfd: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv(lfs.ENV_SWITCH, "0")
    with lfs.locust_fork_server() as off:
        assert off is None and lfs.active() is None
    monkeypatch.delenv(lfs.ENV_SWITCH)
    found: list[lfs.LocustForkServer | None] = []

    def in_thread() -> None:
        with lfs.locust_fork_server() as srv:
            found.append(srv)

    thread = threading.Thread(target=in_thread)
    thread.start()
    thread.join(timeout=10)
    assert found == [None]
    assert "must be started from the main thread" in capfd.readouterr().err


def test_a_forked_local_run_ends_as_python_m_would_without_its_finalization(tmp_path: Path) -> None:
    """Forked local runs end with `os._exit` after atexit (Locust's and gevent's teardown cost ~150 ms a run): the
    exit code, the atexit handlers and the log are those of a subprocess."""
    locustfile = tmp_path / "exit_locustfile.py"
    locustfile.write_text(textwrap.dedent(EXIT_LOCUSTFILE))

    def run(name: str) -> tuple[int | None, str, str]:
        out = tmp_path / name
        result = run_locust(LocustJob(scenario="burst", host="http://127.0.0.1:9", out_dir=out, users=1,
                                      hard_limit_s=10.0, locustfile=locustfile))
        atexit_file = out / "atexit.txt"
        log = result.log_path.read_text(encoding="utf-8")
        return result.exit_code, atexit_file.read_text() if atexit_file.exists() else "", \
            "QUITTING LINE" if "QUITTING LINE" in log else log[-500:]

    fresh = run("fresh")
    assert fresh == (7, "ran", "QUITTING LINE")
    with lfs.locust_fork_server():
        assert run("forked") == fresh


@pytest.mark.parametrize(("argv", "expected"), [
    (["-f", "x.py", "--headless", "--users", "5"], False),
    (["-f", "x.py", "--processes", "2"], True),
    (["-f", "x.py", "--processes=2"], True),
    (["-f", "x.py", "--master", "--expect-workers", "2"], True),
    (["-f", "x.py", "--worker"], True),
])
def test_only_distributed_runs_keep_their_finalization(argv: list[str], expected: bool) -> None:
    assert lfs._distributed(argv) is expected
