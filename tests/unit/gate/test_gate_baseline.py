"""The baseline file: written from a run, loaded strictly, thresholds kept across updates."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from gatedata import gate_results

from bench.errors import SetupError
from bench.gate.baseline import build_baseline, load_baseline, write_baseline
from bench.gate.metrics import METRICS, extract_all


def test_round_trip(baseline_file: str) -> None:
    b = load_baseline(baseline_file)
    assert b.profile == "quick" and b.repeat == 5 and b.host["cpu_model"] == "Test CPU"
    assert set(b.metrics) == {m.id for m in METRICS}
    speedup = b.metrics["burst.speedup"]
    assert speedup.kind == "ratio" and speedup.direction == "higher" and len(speedup.values) == 5
    assert speedup.setup["sync"]["users"] == 10
    assert b.metrics["cold.locked_agents"].expected == 1
    assert b.metrics["memory.rss_ratio"].report_only


def test_small_and_without_per_request_arrays(baseline_file: str) -> None:
    text = Path(baseline_file).read_text()
    assert len(text) < 20_000 and "t_send" not in text


def test_missing_baseline_is_a_setup_error(tmp_path: Path) -> None:
    with pytest.raises(SetupError, match=r"no baseline at .*--update-baseline"):
        load_baseline(tmp_path / "nope.json")


@pytest.mark.parametrize(("edit", "message"), [
    (lambda d: d.update(schema_version=99), "schema_version 99"),
    (lambda d: d.update(kind="results"), "not a gate baseline"),
    (lambda d: d["metrics"].update(bogus={}), "unknown metric.*bogus"),
    (lambda d: d["metrics"]["burst.speedup"].update(threshold=-1), "threshold must be a number >= 0"),
    (lambda d: d["metrics"]["burst.speedup"].update(direction="up"), "direction 'up'"),
    (lambda d: d["metrics"]["burst.speedup"].update(values="1,2"), "'values' must be a list"),
    (lambda d: d["metrics"]["cold.locked_agents"].pop("expected"), "needs a numeric 'expected'"),
    (lambda d: d["metrics"]["burst.speedup"].update(report_only="yes"), "report_only must be true or false"),
])
def test_invalid_baselines_are_rejected_with_the_reason(baseline_file: str, edit, message: str) -> None:
    data = json.loads(Path(baseline_file).read_text())
    edit(data)
    Path(baseline_file).write_text(json.dumps(data))
    with pytest.raises(SetupError, match=message):
        load_baseline(baseline_file)


def test_not_json_is_rejected(tmp_path: Path) -> None:
    p = tmp_path / "b.json"
    p.write_text("{not json")
    with pytest.raises(SetupError, match="not valid JSON"):
        load_baseline(p)


def test_update_keeps_tuned_thresholds_and_report_only(baseline_file: str) -> None:
    data = json.loads(Path(baseline_file).read_text())
    data["metrics"]["burst.speedup"]["threshold"] = 0.5
    data["metrics"]["burst.async_makespan"]["report_only"] = True
    data["notes"] = ["why we chose these"]
    Path(baseline_file).write_text(json.dumps(data))
    previous = load_baseline(baseline_file)
    res = gate_results(lru=(1.2, 1.2, 1.2))
    new = build_baseline(res, extract_all(res), profile="quick", notes=["default"], previous=previous)
    assert new["metrics"]["burst.speedup"]["threshold"] == 0.5
    assert new["metrics"]["burst.async_makespan"]["report_only"] is True
    assert new["metrics"]["burst.async_makespan"]["median"] == pytest.approx(1.2)
    assert new["notes"] == ["why we chose these"]


def test_metrics_absent_from_the_run_are_left_out(tmp_path: Path) -> None:
    res = gate_results()
    res["runs"] = [r for r in res["runs"] if r["scenario"] != "steady"]
    data = build_baseline(res, extract_all(res), profile="quick", notes=[])
    assert "limiter.error_rate" not in data["metrics"] and "burst.speedup" in data["metrics"]
    load_baseline(write_baseline(data, tmp_path / "sub" / "b.json"))


def test_update_with_some_metrics_keeps_the_others(baseline_file: str) -> None:
    previous = load_baseline(baseline_file)
    res = gate_results(lru=(1.3, 1.3, 1.3))
    res["runs"] = [r for r in res["runs"] if r["scenario"] == "burst"]
    new = build_baseline(res, extract_all(res), profile="quick", notes=[], previous=previous)
    assert new["metrics"]["burst.async_makespan"]["median"] == pytest.approx(1.3)
    kept = new["metrics"]["cold.locked_agents"]
    assert kept["values"] == previous.metrics["cold.locked_agents"].values and kept["expected"] == 1
    assert set(new["metrics"]) == set(previous.metrics)
