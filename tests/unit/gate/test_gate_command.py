"""`bench gate --results ...` end to end through the CLI: exit codes, the table, Markdown, JUnit XML, the step
summary and `--update-baseline`, on small results files (no servers)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from gatedata import gate_results

from bench.cli import main


def _results_file(tmp_path: Path, results: dict[str, Any], name: str = "results.json") -> str:
    path = tmp_path / name
    path.write_text(json.dumps(results))
    return str(path)


def _gate(tmp_path: Path, baseline: str, results: dict[str, Any], *extra: str) -> int:
    return main(["gate", "--baseline", baseline, "--results", _results_file(tmp_path, results),
                 "--out", str(tmp_path / "out"), *extra])


@pytest.fixture(autouse=True)
def _no_knobs_or_summary(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("APP_INJECT_BLOCKING_MS", "APP_INJECT_LATENCY_MS", "APP_INJECT_SKIP_LOCK", "GITHUB_STEP_SUMMARY"):
        monkeypatch.delenv(name, raising=False)


def test_pass_exits_0_and_writes_the_reports(tmp_path: Path, baseline_file: str, results: dict,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    assert _gate(tmp_path, baseline_file, results) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split() == ["metric", "baseline", "now", "change", "threshold", "significant?",
                                           "verdict"]
    assert "PASS:" in out
    md = (tmp_path / "out" / "gate.md").read_text()
    assert md.startswith("## bench gate: PASS") and "| burst.speedup |" in md
    suite = ET.parse(tmp_path / "out" / "gate-junit.xml").getroot().find("testsuite")
    assert suite is not None and suite.get("failures") == "0" and len(suite.findall("testcase")) >= 8


def test_a_regression_exits_1_and_names_the_metric(tmp_path: Path, baseline_file: str,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    slow = gate_results(lru=(1.55, 1.56, 1.58))  # what a 50 ms blocking call per request does at N=10, 1 s
    assert _gate(tmp_path, baseline_file, slow) == 1
    captured = capsys.readouterr()
    assert "burst.async_makespan" in captured.err and "REGRESSION" in captured.out
    root = ET.parse(tmp_path / "out" / "gate-junit.xml").getroot()
    failed = [c.get("name") for c in root.iter("testcase") if c.find("failure") is not None]
    assert "burst.async_makespan" in failed and "burst.speedup" in failed
    assert "## bench gate: FAIL" in (tmp_path / "out" / "gate.md").read_text()


def test_a_broken_invariant_exits_1(tmp_path: Path, baseline_file: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert _gate(tmp_path, baseline_file, gate_results(locked=(1, 12, 9))) == 1
    assert "cold.locked_agents" in capsys.readouterr().err


def test_blocking_past_the_line_exits_1_even_with_the_ratios_inside(tmp_path: Path, baseline_file: str,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    # 110-130 ms of own-code blocking in a ~1.06 s burst: 10-12%, over the 10% line; makespan within x1.15.
    assert _gate(tmp_path, baseline_file, gate_results(own_blocked_ms=(5.0, 110.0, 130.0))) == 1
    captured = capsys.readouterr()
    assert "burst.async_blocked_share" in captured.err and "burst.async_makespan" not in captured.err
    row = next(line for line in captured.out.splitlines() if line.startswith("burst.async_blocked_share"))
    assert "<= 10% every rep" in row and "past it by" in row and "REGRESSION" in row


def test_update_accepts_a_run_within_the_line_and_refuses_one_past_it(tmp_path: Path) -> None:
    ok, past = gate_results(own_blocked_ms=(0.0, 50.0, 0.0)), gate_results(own_blocked_ms=(0.0, 150.0, 0.0))
    assert main(["gate", "--update-baseline", "--baseline", str(tmp_path / "ok.json"),
                 "--results", _results_file(tmp_path, ok)]) == 0
    assert json.loads((tmp_path / "ok.json").read_text())["metrics"]["burst.async_blocked_share"]["expected"] == 10
    assert main(["gate", "--update-baseline", "--baseline", str(tmp_path / "past.json"),
                 "--results", _results_file(tmp_path, past, "past.json")]) == 2


def test_accounting_failure_exits_1(tmp_path: Path, baseline_file: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert _gate(tmp_path, baseline_file, gate_results(accounting_ok=False)) == 1
    assert "accounting.failures" in capsys.readouterr().err


def test_report_only_regression_still_passes(tmp_path: Path, baseline_file: str) -> None:
    res = gate_results()
    for run in res["runs"]:
        if run["variant"] == "per-request":
            run["process"]["rss_peak_mb"] = 100.0  # per-request below the singleton: report-only
    assert _gate(tmp_path, baseline_file, res) == 0
    assert "report-only (would be REGRESSION)" in (tmp_path / "out" / "gate.md").read_text()


def test_missing_baseline_exits_2(tmp_path: Path, results: dict, capsys: pytest.CaptureFixture[str]) -> None:
    assert _gate(tmp_path, str(tmp_path / "absent.json"), results) == 2
    assert "no baseline at" in capsys.readouterr().err


def test_results_lacking_a_gated_scenario_exit_2(tmp_path: Path, baseline_file: str, results: dict,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    results["runs"] = [r for r in results["runs"] if r["scenario"] != "cold-burst"]
    assert _gate(tmp_path, baseline_file, results) == 2
    assert "no runs for gated metric(s) cold.locked_agents" in capsys.readouterr().err


def test_other_set_up_exits_2(tmp_path: Path, baseline_file: str, results: dict) -> None:
    for run in results["runs"]:
        if run["scenario"] == "burst":
            run["params"]["users"] = 50
    assert _gate(tmp_path, baseline_file, results) == 2


def test_unknown_metric_exits_2(tmp_path: Path, baseline_file: str, results: dict,
                                capsys: pytest.CaptureFixture[str]) -> None:
    assert _gate(tmp_path, baseline_file, results, "--metrics", "burst.nope") == 2
    assert "unknown metric 'burst.nope'; valid: burst.speedup" in capsys.readouterr().err


def test_metrics_option_gates_only_those(tmp_path: Path, baseline_file: str) -> None:
    res = gate_results(locked=(3, 3, 3))
    assert _gate(tmp_path, baseline_file, res, "--metrics", "burst.speedup,burst.async_makespan") == 0


def test_step_summary_is_appended(tmp_path: Path, baseline_file: str, results: dict,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    assert _gate(tmp_path, baseline_file, results) == 0
    text = summary.read_text()
    assert text.startswith("earlier step\n") and "## bench gate: PASS" in text


def test_update_baseline_from_results(tmp_path: Path, results: dict, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "new" / "baseline.json"
    assert main(["gate", "--update-baseline", "--baseline", str(target),
                 "--results", _results_file(tmp_path, results)]) == 0
    data = json.loads(target.read_text())
    assert data["kind"] == "bench-gate-baseline" and data["host"]["cpu_model"] == "Test CPU"
    assert "baseline written" in capsys.readouterr().out
    assert _gate(tmp_path, str(target), results) == 0


def test_update_refuses_a_run_that_breaks_an_invariant(tmp_path: Path) -> None:
    target = tmp_path / "baseline.json"
    bad = gate_results(locked=(1, 4, 1))
    assert main(["gate", "--update-baseline", "--baseline", str(target),
                 "--results", _results_file(tmp_path, bad)]) == 2
    assert not target.exists()


def test_update_refuses_with_knobs_set(tmp_path: Path, results: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APP_INJECT_BLOCKING_MS", "50")
    assert main(["gate", "--update-baseline", "--baseline", str(tmp_path / "b.json"),
                 "--results", _results_file(tmp_path, results)]) == 2
