"""`bench run --scenarios faults`: each upstream fault kind driven through the real app by real Locust against the
real mock. Every request ends as one answer with a status its kind allows, the app's own count agrees, each error
names its cause, the upstream's tries are first tries + the SDK's retries, and every kind fired."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bench.results import shape
from bench.results.schema import load_results
from bench.run import faults
from tests.unit.report.test_results_schema import problems

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.timeout(420)
def test_every_fault_kind_is_accounted_for_on_the_async_variant(tmp_path: Path) -> None:
    out = tmp_path / "run"
    argv = [sys.executable, "-m", "bench", "run", "--scenarios", "faults", "--variants", "async", "--out", str(out)]
    proc = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=400, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = load_results(out / "results.json")
    runs = results["runs"]
    assert [r["faults"]["kind"] for r in runs] == list(faults.KINDS)
    for run in runs:
        f = run["faults"]
        kind = faults.KINDS[f["kind"]]
        assert problems(f, shape.FaultRun, run["id"]) == []
        assert run["accounting"]["ok"], (run["id"], run["accounting"]["problems"])
        assert f["shortfall"] == [] and f["accounted_pct"] == 100.0 and f["sent"] == 30, (run["id"], f)
        assert set(map(int, f["statuses"])) <= set(kind.statuses) and f["app_statuses"] == f["statuses"]
        assert set(f["error_types"] or {}) <= set(kind.error_types)
        up = f["upstream"]
        assert up["fired"] > 0 and up["attempts"] == up["first_tries"] + up["retries"] and up["first_tries"] == 30
        if not kind.retried:
            assert up["retries"] == 0
        # The async variant overlaps its waits: no request takes longer than its retry budget.
        assert f["over_bound"] == 0 and f["latency_max_ms"] < f["bound_ms"]
    # The storm, 10x over its limit with no limiter in the app, reaches users as 503s; the report prints the table.
    assert runs[-1]["faults"]["statuses"].get("503", 0) > 0
    assert "Faults: every request accounted for?" in proc.stdout and "429-storm" in proc.stdout
    assert "## Faults: every request accounted for" in (out / "report.md").read_text(encoding="utf-8")
