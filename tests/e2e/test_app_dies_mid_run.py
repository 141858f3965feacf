"""The app dies mid-run: `bench run` notices within a second or two, stops that run's Locust, keeps the finished run
and the cut one (marked partial, the cause named, the requests in flight counted), says so in one line and exits 1,
with nothing left running. The test kills only the app child the harness itself recorded in results.json, after
checking it descends from the `bench run` this test started."""

from __future__ import annotations

import contextlib
import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psutil
import pytest

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
NOTICE_LIMIT_S = 2.0  # the "within a second or two"; the watcher polls every 0.1 s


def _results(path: Path) -> dict[str, Any] | None:
    with contextlib.suppress(OSError, ValueError):
        return json.loads(path.read_text(encoding="utf-8"))
    return None


def _wait(what: str, check: Any, deadline_s: float) -> Any:
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        if (found := check()) is not None:
            return found
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def _live_locust(bench: psutil.Process) -> psutil.Process | None:
    """A Locust of this `bench run` still running. Once the first run is in results.json its Locust has ended (a run
    is read after its Locust exits), so this is the second run's, whether it started before that write or after."""
    for p in bench.children(recursive=True):
        with contextlib.suppress(psutil.Error):
            if "locust" in p.cmdline() and p.status() != psutil.STATUS_ZOMBIE:
                return p
    return None


@pytest.mark.timeout(300)
def test_bench_run_notices_the_app_dying_keeps_partial_results_and_exits_1(tmp_path: Path) -> None:
    out = tmp_path / "run"
    # Steady arrivals for 2 s whose answers take 2 s each: the second repetition's Locust runs ~4 s with requests
    # in flight all along, on the same warm app as the first (whose pid results.json records).
    argv = [sys.executable, "-m", "bench", "run", "--profile", "quick", "--scenarios", "steady", "--variants", "async",
            "--latency", "2000", "--repeat", "2", "--no-report", "--out", str(out)]
    stderr_path = tmp_path / "stderr.txt"
    with open(stderr_path, "w", encoding="utf-8") as stderr:
        proc = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=stderr)
    descendants: set[psutil.Process] = set()
    try:
        bench = psutil.Process(proc.pid)
        first = _wait("the first run in results.json",
                      lambda: ((r := _results(out / "results.json")) and r["runs"] and r) or None, 180.0)
        app_pid = int(first["runs"][0]["app"]["before"]["pid"])
        descendants = set(bench.children(recursive=True))
        assert app_pid in {p.pid for p in descendants}, "results.json names no app this bench run started"
        locust = _wait("the second run's Locust", lambda: _live_locust(bench), 60.0)
        descendants |= set(bench.children(recursive=True))
        _wait("its load under way", lambda: time.time() - locust.create_time() >= 2.5 or None, 30.0)
        killed = time.time()
        psutil.Process(app_pid).send_signal(signal.SIGKILL)
        code = proc.wait(timeout=120)
        ended = time.time()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
    err = stderr_path.read_text(encoding="utf-8")
    assert code == 1, err[-2000:]
    assert "Traceback" not in err, err[-3000:]
    lines = [line for line in err.splitlines() if "was killed by signal 9" in line]
    assert len(lines) == 1 and lines[0].startswith("bench run: the app (async) was killed by signal 9"), err[-2000:]
    assert "partial results kept in" in lines[0]
    results = _results(out / "results.json")
    assert results is not None and results["partial"] is True and "killed by signal 9" in results["interrupted"]
    done, cut = results["runs"]
    assert done["accounting"]["ok"] and "partial" not in done
    died = cut["app_died"]
    assert cut["partial"] is True and died["exit_code"] == -9 and died["locust_stopped"] == 1
    assert 0 <= died["noticed_utc"] - killed < NOTICE_LIMIT_S, died["noticed_utc"] - killed
    assert died["in_flight"] > 0  # answers take 2 s: the death cut some off
    assert not cut["accounting"]["ok"] and cut["accounting"]["problems"][0].startswith("the app (async) was killed")
    # Locust was stopped, not left to its planned end, and nothing hung: the whole exit took seconds.
    assert ended - killed < 30.0, ended - killed
    time.sleep(1.0)
    alive = [p for p in descendants if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    assert alive == [], f"left running: {alive}"
    print(f"noticed {died['noticed_utc'] - killed:.3f} s after the kill; bench run exited {ended - killed:.1f} s "
          f"after it; {died['in_flight']} request(s) cut off")
