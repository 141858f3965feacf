"""The gate against real short runs and the committed baseline: it passes on unchanged code and fails, naming
the metric, with each of the app's regression knobs. Each case runs only the scenario its metric reads."""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[3]
BASELINE = ROOT / "reports" / "baseline.json"


def _gate(out: Path, metrics: str, knobs: dict[str, str]) -> tuple[int, str, list[str]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("APP_INJECT_") and k != "GITHUB_STEP_SUMMARY"}
    proc = subprocess.run([sys.executable, "-m", "bench", "gate", "--baseline", str(BASELINE), "--metrics", metrics,
                           "--out", str(out)], cwd=ROOT, env=env | knobs, capture_output=True, text=True, timeout=280)
    junit = out / "gate-junit.xml"
    failing = ([str(c.get("name")) for c in ET.parse(junit).getroot().iter("testcase") if c.find("failure") is not None]
               if junit.exists() else [])
    return proc.returncode, proc.stdout + proc.stderr, failing


@pytest.mark.parametrize(("knobs", "metrics", "failing"), [
    pytest.param({}, "burst.async_makespan,cold.locked_agents", [], id="unchanged-code-passes"),
    # 50 ms of time.sleep per request on the loop: a burst of 10 at 1 s upstream takes ~0.5 s longer.
    pytest.param({"APP_INJECT_BLOCKING_MS": "50"}, "burst.async_makespan", ["burst.async_makespan"],
                 id="blocking-call"),
    # The blocked-loop line: unchanged code keeps the app's own blocking far under 10% of the burst; the 50 ms
    # time.sleep per request puts it at ~30%, whatever the ratios say.
    pytest.param({}, "burst.async_blocked_share", [], id="blocked-share-unchanged-passes"),
    pytest.param({"APP_INJECT_BLOCKING_MS": "50"}, "burst.async_blocked_share", ["burst.async_blocked_share"],
                 id="blocked-share-blocking-call"),
    # An awaited 200 ms: every request 20% slower than the 1 s upstream.
    pytest.param({"APP_INJECT_LATENCY_MS": "200"}, "burst.async_makespan", ["burst.async_makespan"],
                 id="slower-path-20pct"),
    # `locked` without its lock is the naive singleton: the cold burst builds many agents.
    pytest.param({"APP_INJECT_SKIP_LOCK": "1"}, "cold.locked_agents", ["cold.locked_agents"], id="racy-singleton"),
])
def test_gate_on_real_runs(tmp_path: Path, knobs: dict[str, str], metrics: str, failing: list[str]) -> None:
    if not BASELINE.exists():
        pytest.fail(f"{BASELINE} is missing: the committed baseline is part of the gate")
    rc, output, failed = _gate(tmp_path, metrics, knobs)
    assert rc == (1 if failing else 0), output
    assert failed == failing, output
    if failing:  # the one line CI logs end with names what regressed
        verdict = next(line for line in output.splitlines() if line.startswith("bench gate: FAIL"))
        assert all(metric in verdict for metric in failing), verdict
