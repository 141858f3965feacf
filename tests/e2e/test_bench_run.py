"""A short real `bench run`: real mock, real app variants under uvicorn, real Locust. Its results.json must load,
account for every request, and show the seed's effects: a blocking burst serializes, an async one does not, and
a racy singleton builds more than one agent where a locked one builds one."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bench.results.schema import load_results, runs_of
from tests.support.sigstate import signal_states

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
USERS, LATENCY_MS = 20, 100.0


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict:
    out = tmp_path_factory.mktemp("run")
    argv = [sys.executable, "-m", "bench", "run", "--profile", "quick", "--scenarios", "burst,cold-burst",
            "--variants", "sync,lru_cache,naive-global,locked", "--users", str(USERS), "--latency", str(LATENCY_MS),
            "--repeat", "2", "--init-delay-ms", "50", "--no-report", "--out", str(out)]
    proc = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return load_results(out / "results.json")


def test_every_request_is_accounted_for(results: dict) -> None:
    assert results["runs"] and not results["partial"]
    for run in results["runs"]:
        assert run["accounting"]["ok"], (run["id"], run["accounting"]["problems"])
        assert run["metrics"]["requests"] == USERS == len(run["requests"]["t_send"])


def test_blocking_burst_serializes_and_async_does_not(results: dict) -> None:
    serial = USERS * LATENCY_MS / 1000
    for run in runs_of(results, "burst", "sync"):
        assert run["metrics"]["makespan_s"] >= 0.9 * serial, run["metrics"]
        assert run["app"]["loop_lag_max_ms"] >= LATENCY_MS * 0.9  # each invoke held the loop
    for run in runs_of(results, "burst", "lru_cache"):
        assert run["metrics"]["makespan_s"] <= LATENCY_MS / 1000 + 1.0, run["metrics"]


def test_cold_burst_constructions(results: dict) -> None:
    naive = [r["app"]["constructions"] for r in runs_of(results, "cold-burst", "naive-global")]
    locked = [r["app"]["constructions"] for r in runs_of(results, "cold-burst", "locked")]
    assert naive and min(naive) > 1, naive
    assert locked == [1] * len(locked), locked


def test_results_carry_config_host_and_static_counts(results: dict) -> None:
    assert results["config"]["repeat"] == 2 and results["host"]["logical_cores"] >= 1
    assert results["static"]["provider_lines"]["naive-global"] == 6
    assert results["probes"]["settings_echo"]["ok"] and results["probes"]["tier_limits"]["tier-1"]["ok"]


def _orphan_server_pids() -> set[int]:
    """Servers and Locust processes whose parent is gone: what an interrupted run would leave behind."""
    import psutil

    found = set()
    for proc in psutil.process_iter(["cmdline", "ppid"]):
        if proc.info.get("ppid") not in (0, 1):
            continue
        cmd = " ".join(proc.info.get("cmdline") or [])
        server = "--fd" in cmd and ("app_under_test" in cmd or "bench mock" in cmd)
        if server or ("locustfile.py" in cmd and "--headless" in cmd):
            found.add(proc.pid)
    return found


def test_ctrl_c_keeps_finished_runs_and_stops_every_server(tmp_path: Path) -> None:
    import json
    import signal
    import time

    before = _orphan_server_pids()
    # At 500 ms the blocking bursts (side by side, first) take 5 s each and the async ones after them about 1.5 s
    # each: the Ctrl-C below lands with seconds of work left, not at the last run's end on a loaded machine.
    argv = [sys.executable, "-m", "bench", "run", "--scenarios", "burst", "--variants", "lru_cache,sync",
            "--latency", "500", "--users", "10", "--repeat", "5", "--no-report", "--out", str(tmp_path)]
    proc = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:  # interrupt once at least one run has landed
            path = tmp_path / "results.json"
            if path.exists() and json.loads(path.read_text() or "{}").get("runs"):
                break
            time.sleep(0.2)
        state = signal_states(proc.pid)  # said below if the Ctrl-C does not count
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, f"{state}\n{err[-2000:]}"
    results = load_results(tmp_path / "results.json")
    assert results["partial"] and results["runs"]
    assert all(r["accounting"]["ok"] for r in results["runs"])
    time.sleep(1)
    assert _orphan_server_pids() - before == set(), "a server outlived the interrupted run"
