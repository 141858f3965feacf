"""Two runs side by side: per scenario x variant x set-up and metric, medians with CIs, the change, and
whether it is significant (Mann-Whitney U, else non-overlapping bootstrap CIs, else n/a)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from bench.report.metrics import METRICS, Metric, grouped, series
from bench.results.stats import Estimate, Significance, bootstrap, significance

# A change smaller than this is not reported as one, however small its p-value: with tight repetitions a
# 0.1% drift is "significant" and useless to the reader.
MIN_EFFECT = 0.02


@dataclass(frozen=True)
class CompareRow:
    scenario: str
    variant: str
    setup: str
    metric: Metric
    a: Estimate
    b: Estimate
    sig: Significance
    min_effect: float = MIN_EFFECT

    @property
    def changed(self) -> bool:
        """Significant and at least `min_effect` of the median."""
        return bool(self.sig.significant) and abs(self.change) >= self.min_effect

    def sig_text(self) -> str:
        if self.sig.significant and not self.changed:
            return f"negligible (< {self.min_effect:.0%}; {self.sig.label()})"
        return self.sig.label()

    @property
    def change(self) -> float:
        """Relative change of the median, B vs A (nan when A is 0 or missing)."""
        if self.a.n == 0 or self.b.n == 0:
            return math.nan
        if self.a.median == 0:
            return 0.0 if self.b.median == 0 else math.inf
        return (self.b.median - self.a.median) / abs(self.a.median)

    @property
    def direction(self) -> str:
        """"better", "worse" or "same" for the reader (throughput up is better, latency up is worse)."""
        c = self.change
        if math.isnan(c) or c == 0:
            return "same"
        up = c > 0
        return "worse" if up == self.metric.lower_is_better else "better"

    def change_text(self) -> str:
        c = self.change
        if math.isnan(c):
            return "n/a"
        if math.isinf(c):
            return f"{self.a.median:g} -> {self.b.median:g}"
        return f"{c:+.1%}"

    @property
    def regression(self) -> bool:
        return self.changed and self.direction == "worse"


@dataclass(frozen=True)
class Comparison:
    rows: list[CompareRow]
    only_a: list[tuple[str, str, str]]
    only_b: list[tuple[str, str, str]]

    @property
    def significant(self) -> list[CompareRow]:
        return [r for r in self.rows if r.changed]


def compare_results(a: dict[str, Any], b: dict[str, Any], min_effect: float = MIN_EFFECT) -> Comparison:
    ga, gb = grouped(a), grouped(b)
    rows: list[CompareRow] = []
    for key in ga:
        if key not in gb:
            continue
        for metric in METRICS:
            xa, xb = series(ga[key], metric), series(gb[key], metric)
            if not xa and not xb:
                continue
            rows.append(CompareRow(*key, metric, bootstrap(xa), bootstrap(xb), significance(xa, xb), min_effect))
    return Comparison(rows, [k for k in ga if k not in gb], [k for k in gb if k not in ga])
