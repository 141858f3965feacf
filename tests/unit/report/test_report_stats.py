"""Bootstrap intervals, ratio CIs, significance and the stability rule."""

from __future__ import annotations

import math

import numpy as np
import pytest

from bench.results.stats import bootstrap, ratio, reduction, significance, unstable


def test_bootstrap_is_deterministic_and_brackets_the_median() -> None:
    vals = [3.1, 3.3, 2.9, 3.0, 3.2]
    a, b = bootstrap(vals), bootstrap(vals)
    assert a == b
    assert a.low <= a.median == 3.1 <= a.high
    assert a.n == 5


def test_bootstrap_of_nothing_and_of_one() -> None:
    assert bootstrap([]).n == 0 and math.isnan(bootstrap([]).median)
    one = bootstrap([2.0, None])
    assert (one.median, one.low, one.high, one.n) == (2.0, 2.0, 2.0, 1)


def test_ratio_ci_contains_the_true_ratio_in_most_trials() -> None:
    # Sync-like makespans (true median 150) against async-like ones (true median 4): ratio 37.5.
    rng = np.random.default_rng(7)
    hits, trials = 0, 40
    for _ in range(trials):
        a = 150 * (1 + rng.normal(0, 0.03, 7))
        b = 4 * (1 + rng.normal(0, 0.03, 7))
        est = ratio(a, b)
        hits += est.low <= 37.5 <= est.high
    assert hits / trials >= 0.8, f"coverage {hits}/{trials}"


def test_ratio_of_exact_values() -> None:
    est = ratio([150.0, 150.0, 150.0], [4.0, 4.0, 4.0])
    assert est.median == est.low == est.high == 37.5


def test_reduction() -> None:
    assert reduction(1.0, 10.0) == 0.9
    assert math.isnan(reduction(1.0, 0.0))


def test_significance_flags_a_clear_change_with_the_u_test() -> None:
    rng = np.random.default_rng(1)
    a, b = 3.6 + rng.normal(0, 0.02, 5), 5.4 + rng.normal(0, 0.02, 5)
    sig = significance(a, b)
    assert sig.method == "mann-whitney" and sig.significant and sig.p_value is not None and sig.p_value < 0.05


def test_significance_does_not_flag_an_unchanged_metric() -> None:
    rng = np.random.default_rng(2)
    a, b = 3.6 + rng.normal(0, 0.05, 5), 3.6 + rng.normal(0, 0.05, 5)
    assert significance(a, b).significant is False


def test_three_repetitions_fall_back_to_bootstrap_cis() -> None:
    # An exact U test on 3 vs 3 cannot go below p = 0.1: the CIs decide instead.
    sig = significance([3.6, 3.61, 3.62], [5.4, 5.41, 5.42])
    assert sig.method == "bootstrap-ci" and sig.significant
    assert significance([3.6, 3.7, 3.8], [3.65, 3.75, 3.7]).significant is False


def test_significance_is_na_without_repetitions() -> None:
    assert significance([1.0], [2.0]).significant is None
    assert significance([], [2.0, 3.0]).label() == "n/a"


def test_stability_warning_above_ten_percent() -> None:
    assert unstable([10.0, 10.1, 9.9]) is None
    rel = unstable([10.0, 13.0, 7.0])
    assert rel is not None and rel > 0.1
    assert unstable([5.0]) is None


def test_under_five_repetitions_the_interval_is_the_range_and_says_so() -> None:
    est = bootstrap([3.3, 3.1, 3.2, 3.25])
    assert est.kind == "range" and (est.low, est.high) == (3.1, 3.3)
    assert est.fmt(".2f", " s") == "3.23 s [3.10, 3.30] (range of 4)"
    assert "CI" not in est.fmt()


def test_from_five_repetitions_a_bootstrap_ci_from_scipy() -> None:
    est = bootstrap([3.1, 3.3, 2.9, 3.0, 3.2])
    assert est.kind == "ci" and est.fmt().endswith("(95% CI, n=5)")
    values = 10 + np.random.default_rng(3).normal(0, 1, 12)
    wide = bootstrap(values)
    assert wide.kind == "ci" and wide.low < wide.median < wide.high
    assert values.min() < wide.low and wide.high < values.max()  # an interval of the median, not min..max


def test_identical_or_nearly_identical_values_do_not_break_the_ci() -> None:
    # scipy's BCa cannot be computed when the jackknife is degenerate (it warns and gives NaN): handled.
    same = bootstrap([40.0] * 10)
    assert (same.median, same.low, same.high, same.kind) == (40.0, 40.0, 40.0, "ci")
    ties = bootstrap([1.0] * 9 + [2.0])
    assert ties.kind == "ci" and not math.isnan(ties.low) and ties.low <= 1.0 <= ties.high


def test_a_ratio_with_few_repetitions_on_a_side_is_the_range_of_ratios() -> None:
    est = ratio([150.0, 151.0], [3.0, 3.2, 3.1, 3.05, 3.3, 3.15])
    assert est.kind == "range" and est.n == 2
    assert est.low == pytest.approx(150 / 3.3) and est.high == pytest.approx(151 / 3.0)
    assert "(range of 2)" in est.fmt()
    many = ratio([150.0 + i * 0.1 for i in range(6)], [3.0 + i * 0.05 for i in range(6)])
    assert many.kind == "ci" and many.low < many.median < many.high
