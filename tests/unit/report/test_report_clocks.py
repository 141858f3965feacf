"""The load workers' clocks in the report: their offsets stated, and a makespan they blur not judged (C4)."""

from __future__ import annotations

from typing import Any

from bench.report import RULES
from bench.report.clocks import SIZEABLE, clock_facts, clock_warnings, too_uncertain
from tests.support.synthetic_results import edit_runs, synthetic_results


def _workers(run: dict[str, Any], uncertainty_s: float) -> None:
    run["metrics"]["makespan_uncertainty_s"] = uncertainty_s
    run["load_workers"] = [
        {"index": 0, "host": "ns1", "clock": {"offset_s": 0.0001, "uncertainty_s": uncertainty_s / 2}, "lost": None},
        {"index": 1, "host": "ns2", "clock": {"offset_s": -0.7501, "uncertainty_s": uncertainty_s / 2},
         "lost": None}]


def test_offsets_are_stated_and_a_small_uncertainty_is_no_warning() -> None:
    results = synthetic_results()
    edit_runs(results, "burst", "async", lambda run: _workers(run, 0.0006))
    (name, text), = clock_facts(results)
    assert name == "load workers' clocks" and "ns2 -750.100 ms" in text and "uncertainty up to 0.3 ms" in text
    assert clock_warnings(results) == [] and too_uncertain(results["runs"]) is None


def test_c4_does_not_judge_a_makespan_the_clocks_blur() -> None:
    results = synthetic_results()
    assert RULES["C4"].evaluate(results, RULES["C4"]).status == "partial"  # judged: `async` reproduces it
    makespan = next(r for r in results["runs"] if r["scenario"] == "burst" and r["variant"] == "async")[
        "metrics"]["makespan_s"]
    edit_runs(results, "burst", "async", lambda run: _workers(run, makespan * SIZEABLE * 2))
    v = RULES["C4"].evaluate(results, RULES["C4"])
    assert v.status == "not measured" and "clocks are known only within" in v.verdict, v.verdict
    assert any("makespan not judged" in w for w in clock_warnings(results))


def test_no_workers_no_clock_line() -> None:
    assert clock_facts(synthetic_results()) == []
