"""The gate's decisions, as asv makes them: a ratio or rate counts as a regression only when its median moved
past the metric's threshold in the bad direction AND the move is real (Mann-Whitney U over repetitions, or
non-overlapping bootstrap CIs where U cannot reach significance); an invariant fails on any repetition off.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from bench.errors import SetupError
from bench.gate.baseline import Baseline, BaselineMetric
from bench.gate.metrics import REGISTRY, Measurement, breaks
from bench.results.stats import ALPHA, Estimate, Significance, bootstrap, clean, significance

PASS, REGRESSION, IMPROVED, NO_DATA = "pass", "REGRESSION", "improved", "no data"
FAILING = (REGRESSION, NO_DATA)


@dataclass(frozen=True)
class Decision:
    id: str
    title: str
    unit: str
    spec: BaselineMetric  # kind, direction, threshold, report_only: from the baseline file
    base: Estimate
    now: Estimate
    now_values: list[float | None]
    change: float  # relative for ratios, absolute for rates and invariants (worst repetition's deviation)
    beyond: bool  # past the threshold in the bad direction
    sig: Significance | None
    verdict: str
    note: str = ""

    @property
    def fails(self) -> bool:
        """Does this decision fail the gate? Report-only metrics never do."""
        return self.verdict in FAILING and not self.spec.report_only


@dataclass(frozen=True)
class GateResult:
    decisions: list[Decision]

    @property
    def failures(self) -> list[Decision]:
        return [d for d in self.decisions if d.fails]

    @property
    def passed(self) -> bool:
        return not self.failures


def factor(spec: BaselineMetric) -> float:
    """A ratio's threshold as asv's factor: 0.25 means 1.25x worse."""
    return 1.0 + spec.threshold


def _ratio_change(spec: BaselineMetric, base: float, now: float) -> tuple[float, bool, bool]:
    """(relative change, worse past the factor, better past the factor)."""
    if base == 0 or math.isnan(base) or math.isnan(now):
        return math.nan, False, False
    change = now / base - 1.0
    if now == 0:
        up, down = 0.0, math.inf
    else:
        up, down = now / base, base / now
    worse, better = (up, down) if spec.direction == "lower" else (down, up)
    return change, worse > factor(spec), better > factor(spec)


def _rate_change(spec: BaselineMetric, base: float, now: float) -> tuple[float, bool, bool]:
    change = now - base
    bad = change if spec.direction == "lower" else -change
    return change, bad > spec.threshold, -bad > spec.threshold


def directed_significance(base: list[float], now: list[float], alpha: float = ALPHA) -> Significance:
    """Did `now` move away from `base` in the direction its median moved? A one-sided Mann-Whitney U test: the
    gate asks a directional question, and one-sided a single baseline outlier on the far side does not mask a
    real shift (with 10 baseline and 3 gate repetitions). Where U cannot reach `alpha` (3 vs 3: p >= 0.05),
    bench.results.stats' non-overlapping bootstrap CIs decide."""
    xb, xn = clean(base), clean(now)
    if xb.size and xn.size and np.unique(np.concatenate([xb, xn])).size == 1:
        return Significance("identical", False, note="same constant value on both sides")
    if xb.size >= 2 and xn.size >= 2 and 1 / math.comb(xb.size + xn.size, xn.size) < alpha:
        from scipy.stats import mannwhitneyu

        alternative = "greater" if np.median(xn) >= np.median(xb) else "less"
        p = float(mannwhitneyu(xn, xb, alternative=alternative).pvalue)
        return Significance("mann-whitney", p < alpha, p_value=p, note="one-sided")
    return significance(xb, xn, alpha)


def _exact(mid: str, spec: BaselineMetric, m: Measurement, title: str, unit: str) -> Decision:
    expected = float(spec.expected if spec.expected is not None else 0.0)
    values = m.present
    off = [(i, v) for i, v in enumerate(m.values) if v is not None and breaks(spec.direction, expected, v)]
    worst = max((abs(v - expected) for _, v in off), default=0.0)
    est, base = bootstrap(values), Estimate(expected, expected, expected, len(spec.present))
    sig = Significance("exact", bool(off), note="an invariant: any repetition off (or past the line) fails")
    note = "; ".join(f"repetition {i + 1}: {v:g}" for i, v in off)
    return Decision(mid, title, unit, spec, base, est, m.values, worst, bool(off), sig,
                    REGRESSION if off else PASS, note)


def decide(mid: str, spec: BaselineMetric, m: Measurement) -> Decision:
    known = REGISTRY.get(mid)
    title, unit = spec.title or (known.title if known else mid), spec.unit or (known.unit if known else "")
    base_est = bootstrap(spec.present) if spec.kind != "exact" else Estimate(math.nan, math.nan, math.nan, 0)
    if not m.present:
        why = m.missing or "no repetition produced a value"
        return Decision(mid, title, unit, spec, base_est, bootstrap([]), m.values, math.nan, False, None, NO_DATA,
                        why)
    if spec.kind == "exact":
        return _exact(mid, spec, m, title, unit)
    now_est = bootstrap(m.present)
    change_of = _ratio_change if spec.kind == "ratio" else _rate_change
    change, worse, better = change_of(spec, base_est.median, now_est.median)
    sig = directed_significance(spec.present, m.present)
    note = ""
    if sig.significant is None and (worse or better):
        # Too few repetitions to test: the threshold alone decides, and the table says so.
        note = "too few repetitions for a significance test; decided on the threshold alone"
        real = True
    else:
        real = bool(sig.significant)
    if worse and real:
        verdict = REGRESSION
    elif better and real:
        verdict, note = IMPROVED, note or "better than the baseline: consider `bench gate --update-baseline`"
    else:
        verdict = PASS
        if worse:
            note = "past the threshold but not significant: noise, not a regression"
    return Decision(mid, title, unit, spec, base_est, now_est, m.values, change, worse, sig, verdict, note)


def check_setups(baseline: Baseline, measurements: dict[str, Measurement], only: set[str] | None = None) -> None:
    """A metric measured at another set-up (users, latency, ...) than its baseline cannot be compared."""
    problems = []
    for mid, spec in baseline.metrics.items():
        m = measurements.get(mid)
        if m is None or m.missing or (only and mid not in only) or not spec.setup:
            continue
        if m.setup != spec.setup:
            diff = _first_difference(spec.setup, m.setup)
            problems.append(f"{mid} ({diff})")
    if problems:
        raise SetupError("the run's set-up differs from the baseline's for " + "; ".join(problems)
                         + ": run `bench gate` without --results, or refresh the baseline with --update-baseline")


def _first_difference(base: dict[str, Any], now: dict[str, Any]) -> str:
    for variant in sorted(set(base) | set(now)):
        a, b = base.get(variant) or {}, now.get(variant) or {}
        for key in sorted(set(a) | set(b)):
            if a.get(key) != b.get(key):
                return f"{variant} {key}: baseline {a.get(key)!r}, now {b.get(key)!r}"
    return "set-up differs"


def compare(baseline: Baseline, measurements: dict[str, Measurement], only: set[str] | None = None) -> GateResult:
    """One decision per metric in the baseline (restricted to `only` when given), in registry order."""
    order = [mid for mid in REGISTRY if mid in baseline.metrics] + [m for m in baseline.metrics if m not in REGISTRY]
    decisions = [decide(mid, baseline.metrics[mid], measurements.get(mid, Measurement([], missing="not measured")))
                 for mid in order if not only or mid in only]
    return GateResult(decisions)


def missing_from_run(baseline: Baseline, measurements: dict[str, Measurement], only: set[str] | None = None
                     ) -> list[str]:
    """Gated metrics the results hold no runs for: a results file from another plan, not a regression."""
    return [f"{mid} ({measurements[mid].missing})" for mid in baseline.metrics
            if (not only or mid in only) and mid in measurements and measurements[mid].missing]


def not_in_baseline(baseline: Baseline, measurements: dict[str, Measurement]) -> list[str]:
    return [mid for mid, m in measurements.items() if mid not in baseline.metrics and not m.missing]
