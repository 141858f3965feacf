"""The gate's decisions on small dicts: thresholds, direction, significance, report-only, invariants."""

from __future__ import annotations

import math

import pytest

from bench.errors import SetupError
from bench.gate.baseline import BaselineMetric, load_baseline
from bench.gate.compare import IMPROVED, NO_DATA, PASS, REGRESSION, check_setups, compare, decide
from bench.gate.metrics import Measurement, extract_all


def spec(kind: str = "ratio", direction: str = "lower", threshold: float = 0.10, values: tuple = (1.0,) * 5,
         report_only: bool = False, expected: float | None = None) -> BaselineMetric:
    return BaselineMetric("x", kind, direction, threshold, list(values), report_only, expected)


BASE = (1.00, 1.01, 1.02, 1.03, 1.04)


def test_within_threshold_passes() -> None:
    d = decide("x", spec(values=BASE), Measurement([1.06, 1.07, 1.08]))
    assert d.verdict == PASS and not d.fails
    assert d.change == pytest.approx(1.07 / 1.02 - 1)


def test_past_threshold_and_significant_is_a_regression() -> None:
    d = decide("x", spec(values=BASE), Measurement([1.30, 1.31, 1.35]))
    assert d.verdict == REGRESSION and d.fails and d.beyond
    assert d.sig is not None and d.sig.method == "mann-whitney" and d.sig.p_value is not None
    assert d.sig.p_value < 0.05


def test_one_baseline_outlier_does_not_hide_a_real_shift() -> None:
    # 10 baseline repetitions, one of them hit by a load spike; an awaited 200 ms moves every gate repetition.
    base = (1.05, 1.06, 1.047, 1.546, 1.1, 1.05, 1.055, 1.06, 1.045, 1.07)
    d = decide("x", spec(threshold=0.12, values=base), Measurement([1.263, 1.274, 1.271]))
    assert d.verdict == REGRESSION
    assert d.sig is not None and d.sig.note == "one-sided" and d.sig.p_value is not None and d.sig.p_value < 0.05


def test_past_threshold_but_not_significant_passes() -> None:
    # One wild repetition drags the median over the factor, but the samples overlap: noise, not a change.
    d = decide("x", spec(values=BASE), Measurement([0.99, 1.13, 1.40]))
    assert d.beyond and d.verdict == PASS and not d.fails
    assert "not significant" in d.note


def test_significant_but_small_change_passes() -> None:
    d = decide("x", spec(values=BASE), Measurement([1.08, 1.09, 1.10]))
    assert d.sig is not None and d.sig.significant
    assert d.verdict == PASS


def test_higher_is_better_uses_the_factor_the_other_way() -> None:
    base = (9.4, 9.5, 9.5, 9.6, 9.6)
    assert decide("x", spec(direction="higher", threshold=0.25, values=base), Measurement([8.0, 8.1, 8.2])
                  ).verdict == PASS  # 9.5 / 8.1 = x1.17 < x1.25
    d = decide("x", spec(direction="higher", threshold=0.25, values=base), Measurement([6.3, 6.4, 6.5]))
    assert d.verdict == REGRESSION  # x1.48 smaller
    up = decide("x", spec(direction="higher", threshold=0.25, values=base), Measurement([14.0, 14.1, 14.2]))
    assert up.verdict == IMPROVED and not up.fails


def test_improvement_on_a_lower_is_better_metric() -> None:
    d = decide("x", spec(values=BASE), Measurement([0.5, 0.5, 0.51]))
    assert d.verdict == IMPROVED and not d.fails and "update-baseline" in d.note


def test_report_only_never_fails() -> None:
    d = decide("x", spec(values=BASE, report_only=True), Measurement([3.0, 3.1, 3.2]))
    assert d.verdict == REGRESSION and not d.fails


def test_rate_threshold_is_absolute() -> None:
    zero = spec(kind="rate", threshold=0.02, values=(0.0,) * 5)
    assert decide("x", zero, Measurement([0.0, 0.0, 0.0])).verdict == PASS
    assert decide("x", zero, Measurement([0.0, 0.0, 0.0167])).verdict == PASS  # one error in 60: CIs overlap
    d = decide("x", zero, Measurement([0.40, 0.42, 0.45]))
    assert d.verdict == REGRESSION and d.change == pytest.approx(0.42)


def test_exact_invariant_fails_on_any_repetition() -> None:
    inv = spec(kind="exact", direction="equal", threshold=0, values=(1,) * 5, expected=1)
    assert decide("x", inv, Measurement([1, 1, 1])).verdict == PASS
    d = decide("x", inv, Measurement([1, 7, 1]))
    assert d.verdict == REGRESSION and d.fails and d.change == 6 and "repetition 2: 7" in d.note


def test_a_line_fails_only_the_repetitions_past_it() -> None:
    line = spec(kind="exact", direction="lower", threshold=0, values=(0.0, 2.0, 1.0), expected=10)
    d = decide("x", line, Measurement([0.0, 9.9, 10.0]))
    assert d.verdict == PASS and d.change == 0
    d = decide("x", line, Measurement([0.5, 31.0, 1.0]))
    assert d.verdict == REGRESSION and d.fails and d.change == pytest.approx(21.0) and "repetition 2: 31" in d.note


def test_no_values_fails_unless_report_only() -> None:
    d = decide("x", spec(values=BASE), Measurement([None, None, None]))
    assert d.verdict == NO_DATA and d.fails and math.isnan(d.change)
    assert not decide("x", spec(values=BASE, report_only=True), Measurement([])).fails


def test_one_repetition_decides_on_the_threshold_alone() -> None:
    d = decide("x", spec(values=(1.0,)), Measurement([1.5]))
    assert d.verdict == REGRESSION and "too few repetitions" in d.note


def test_gate_results_pass_against_their_own_baseline(baseline_file: str, results: dict) -> None:
    result = compare(load_baseline(baseline_file), extract_all(results))
    assert result.passed, [(d.id, d.verdict, d.note) for d in result.decisions]
    assert {d.id for d in result.decisions} >= {"burst.speedup", "cold.locked_agents", "accounting.failures"}


def test_only_restricts_the_decisions(baseline_file: str, results: dict) -> None:
    result = compare(load_baseline(baseline_file), extract_all(results), only={"burst.speedup"})
    assert [d.id for d in result.decisions] == ["burst.speedup"]


def test_a_set_up_change_is_an_error_not_a_verdict(baseline_file: str, results: dict) -> None:
    for run in results["runs"]:
        if run["scenario"] == "burst":
            run["params"]["latency_ms"] = 100.0
    with pytest.raises(SetupError, match=r"burst\.speedup .*latency_ms: baseline 1000.0, now 100.0"):
        check_setups(load_baseline(baseline_file), extract_all(results))
