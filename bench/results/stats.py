"""Statistics over repetitions: median, spread, bootstrap confidence intervals (fixed seed, so reports are
reproducible), a ratio CI resampling both sides, significance of a change, and the stability warning."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

SEED = 20240611  # fixed: the same results.json must give the same intervals, byte for byte
RESAMPLES = 4000
CONFIDENCE = 0.95
Values = Sequence[float | int | None] | np.ndarray
STABILITY_LIMIT = 0.10  # pyperf's rule of thumb: warn when the spread exceeds 10% of the median
ALPHA = 0.05


@dataclass(frozen=True)
class Estimate:
    """A median over repetitions with its bootstrap CI; `n` is the number of repetitions behind it."""

    median: float
    low: float
    high: float
    n: int

    def fmt(self, spec: str = "auto", unit: str = "") -> str:
        if self.n == 0 or math.isnan(self.median):
            return "n/a"
        value = f"{num(self.median, spec)}{unit}"
        if self.n < 2 or self.low == self.high == self.median:
            return f"{value} (n={self.n})"
        return f"{value} [{num(self.low, spec)}, {num(self.high, spec)}] (n={self.n})"


def num(x: float, spec: str = "auto") -> str:
    """`auto`: thousands without exponent (76,700 not 7.67e+04), 4 significant digits below."""
    if spec != "auto":
        return format(x, spec)
    if math.isnan(x) or math.isinf(x):
        return str(x)
    return f"{x:,.0f}" if abs(x) >= 1000 else f"{x:.4g}"


def clean(values: Values) -> np.ndarray:
    """The finite values as floats: a missing metric in one repetition must not poison the others."""
    arr = np.array([float(v) for v in values if v is not None], dtype=float)
    return arr[np.isfinite(arr)]


def median(values: Values) -> float:
    arr = clean(values)
    return float(np.median(arr)) if arr.size else math.nan


def spread(values: Values) -> float:
    """Sample standard deviation (0 for a single value)."""
    arr = clean(values)
    return float(np.std(arr, ddof=1)) if arr.size > 1 else 0.0


def _rng(salt: int = 0) -> np.random.Generator:
    return np.random.default_rng(SEED + salt)


def _percentile_interval(samples: np.ndarray) -> tuple[float, float]:
    tail = (1 - CONFIDENCE) / 2 * 100
    lo, hi = np.percentile(samples, [tail, 100 - tail])
    return float(lo), float(hi)


def bootstrap(values: Values,
              statistic: Callable[[np.ndarray], np.ndarray] | None = None) -> Estimate:
    """Median (or `statistic` applied along axis 1) with a percentile-bootstrap CI over repetitions."""
    arr = clean(values)
    if arr.size == 0:
        return Estimate(math.nan, math.nan, math.nan, 0)
    stat = statistic or (lambda a: np.median(a, axis=1))
    point = float(stat(arr[None, :])[0])
    if arr.size == 1:
        return Estimate(point, point, point, 1)
    idx = _rng().integers(0, arr.size, size=(RESAMPLES, arr.size))
    lo, hi = _percentile_interval(stat(arr[idx]))
    return Estimate(point, lo, hi, int(arr.size))


def ratio(numerator: Values, denominator: Values) -> Estimate:
    """median(numerator) / median(denominator), the CI from resampling both sides independently."""
    a, b = clean(numerator), clean(denominator)
    if a.size == 0 or b.size == 0 or np.median(b) == 0:
        return Estimate(math.nan, math.nan, math.nan, 0)
    point = float(np.median(a) / np.median(b))
    n = int(min(a.size, b.size))
    if a.size == 1 and b.size == 1:
        return Estimate(point, point, point, 1)
    rng = _rng(1)
    ma = np.median(a[rng.integers(0, a.size, size=(RESAMPLES, a.size))], axis=1)
    mb = np.median(b[rng.integers(0, b.size, size=(RESAMPLES, b.size))], axis=1)
    ok = mb != 0
    lo, hi = _percentile_interval(ma[ok] / mb[ok])
    return Estimate(point, lo, hi, n)


def reduction(shared: float, baseline: float) -> float:
    """1 - shared/baseline: the fraction saved by the shared variant (nan when the baseline is 0)."""
    if baseline == 0 or math.isnan(baseline) or math.isnan(shared):
        return math.nan
    return 1.0 - shared / baseline


def unstable(values: Values, limit: float = STABILITY_LIMIT) -> float | None:
    """The relative spread (stdev / |median|) when it exceeds `limit`, else None."""
    arr = clean(values)
    if arr.size < 2:
        return None
    mid = abs(float(np.median(arr)))
    sd = float(np.std(arr, ddof=1))
    if mid == 0:
        return None if sd == 0 else math.inf
    rel = sd / mid
    return rel if rel > limit else None


@dataclass(frozen=True)
class Significance:
    method: str  # "mann-whitney", "bootstrap-ci" or "n/a"
    significant: bool | None
    p_value: float | None = None
    note: str = ""

    def label(self) -> str:
        if self.significant is None:
            return "n/a"
        word = "significant" if self.significant else "not significant"
        if self.p_value is not None:
            return f"{word} (U test p={self.p_value:.3g})"
        return f"{word} ({self.method})"


def _min_mwu_p(n_a: int, n_b: int) -> float:
    """Smallest two-sided p an exact U test can give: 2 / C(n_a + n_b, n_a)."""
    return 2.0 / math.comb(n_a + n_b, n_a)


def significance(a: Values, b: Values, alpha: float = ALPHA
                 ) -> Significance:
    """Is b different from a? Mann-Whitney U where it can reach `alpha`, else non-overlapping bootstrap CIs.

    With 3 repetitions per side an exact two-sided U test cannot go below p = 0.1, so it could never flag
    anything at 0.05; there the CIs decide (for 3 values they span min..max: non-overlap = full separation).
    """
    xa, xb = clean(a), clean(b)
    if xa.size == 0 or xb.size == 0:
        return Significance("n/a", None, note="missing on one side")
    if np.array_equal(np.unique(xa), np.unique(xb)) and np.unique(xa).size == 1:
        return Significance("identical", False, note="same constant value on both sides")
    if xa.size >= 3 and xb.size >= 3 and _min_mwu_p(xa.size, xb.size) < alpha:
        from scipy.stats import mannwhitneyu

        p = float(mannwhitneyu(xa, xb, alternative="two-sided").pvalue)
        return Significance("mann-whitney", p < alpha, p_value=p)
    if xa.size >= 2 and xb.size >= 2:
        ea, eb = bootstrap(xa), bootstrap(xb)
        apart = ea.high < eb.low or eb.high < ea.low
        return Significance("bootstrap-ci", apart, note="95% CIs of the medians do not overlap" if apart
                            else "95% CIs of the medians overlap")
    return Significance("n/a", None, note="fewer than 2 repetitions on a side")
