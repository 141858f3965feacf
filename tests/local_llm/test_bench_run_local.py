"""`bench run --backend local-llm` end to end: the run starts the model server once, drives a short burst of
`sync` and `async` against it, records the backend (kind, model, server version, one-at-a-time) in
results.json and the report, accounts for every request, and leaves no model server running."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil
import pytest

from bench.results.schema import load_results
from bench.servers.localllm import ALIAS

pytestmark = [pytest.mark.local_llm, pytest.mark.timeout(420)]
ROOT = Path(__file__).resolve().parents[2]
USERS = 4


def _model_servers_started_since(t0: float) -> list[int]:
    """Model servers (`python -m bench.servers.localllm`) started after t0 that are still running."""
    found = []
    for proc in psutil.process_iter(["cmdline", "create_time"]):
        cmd = proc.info.get("cmdline") or []
        if "bench.servers.localllm" in cmd and (proc.info.get("create_time") or 0) >= t0:
            found.append(proc.pid)
    return found


@pytest.fixture(scope="module")
def run(gguf: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, Path, float]:
    out = tmp_path_factory.mktemp("local-run")
    t0 = time.time()
    argv = [sys.executable, "-m", "bench", "run", "--backend", "local-llm", "--scenarios", "burst",
            "--variants", "sync,async", "--users", str(USERS), "--repeat", "1", "--out", str(out)]
    proc = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=360, check=False,
                          env={**os.environ, "BENCH_LOCAL_GGUF": str(gguf)})
    assert proc.returncode == 0, proc.stderr[-3000:]
    return load_results(out / "results.json"), out, t0


def test_results_name_the_local_backend(run: tuple[dict, Path, float]) -> None:
    results, out, _ = run
    backend = results["backend"]
    assert backend["kind"] == "local-llm" and backend["model"] == ALIAS
    assert backend["server"] == "llama-cpp-python" and backend["server_version"]
    assert backend["model_file"].endswith(".gguf") and backend["serializes"] is True
    assert backend["base_url"].startswith("http://127.0.0.1:") and backend["request_s_median"] > 0
    assert not backend["api_key_set"] and backend["mock_settings_apply"] is False
    assert "local-llm" in (out / "report.md").read_text(encoding="utf-8")


def test_every_request_is_accounted_for(run: tuple[dict, Path, float]) -> None:
    results, _, _ = run
    runs = results["runs"]
    assert {r["variant"] for r in runs} == {"sync", "async"} and not results["partial"]
    for r in runs:
        assert r["accounting"]["ok"], (r["id"], r["accounting"]["problems"])
        assert r["metrics"]["requests"] == r["metrics"]["ok"] == USERS, r["metrics"]
        assert r["upstream"] is None  # no mock: no upstream counters


def test_the_model_server_is_gone(run: tuple[dict, Path, float]) -> None:
    results, _, t0 = run
    assert not _model_servers_started_since(t0)
    with pytest.raises(httpx.ConnectError):
        httpx.get(results["backend"]["base_url"] + "/models", timeout=5)
