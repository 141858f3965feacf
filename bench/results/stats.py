"""Statistics over repetitions: median, spread, confidence intervals (scipy's bootstrap, fixed seed, so reports are
reproducible), a ratio CI resampling both sides, significance of a change, and the stability warning.

Below MIN_FOR_CI repetitions no resampling gives a real interval (the percentile bootstrap of 3 values is their
min..max): `bootstrap` and `ratio` then return the range of the repetitions, marked as such (`Estimate.kind`), and
`fmt` says "range of 3", never "95% CI"."""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

SEED = 20240611  # fixed: the same results.json must give the same intervals, byte for byte
RESAMPLES = 4000
CONFIDENCE = 0.95
MIN_FOR_CI = 5  # repetitions below which an interval is the min..max range, said so
INTERVAL_NOTE = f"median [95% CI], or [min, max] under {MIN_FOR_CI} repetitions"  # what a table's figures are
Values = Sequence[float | int | None] | np.ndarray
STABILITY_LIMIT = 0.10  # pyperf's rule of thumb: warn when the spread exceeds 10% of the median
ALPHA = 0.05
Kind = Literal["ci", "range"]


@dataclass(frozen=True)
class Estimate:
    """A median over repetitions with its interval; `n` is the number of repetitions behind it. `kind`: "ci", a 95%
    bootstrap confidence interval (at least MIN_FOR_CI repetitions), or "range", the repetitions' min..max."""

    median: float
    low: float
    high: float
    n: int
    kind: Kind = "ci"

    @property
    def interval(self) -> str:
        """What [low, high] is: `range of 3` or `95% CI, n=10`."""
        return f"range of {self.n}" if self.kind == "range" else f"{CONFIDENCE:.0%} CI, n={self.n}"

    def fmt(self, spec: str = "auto", unit: str = "") -> str:
        if self.n == 0 or math.isnan(self.median):
            return "n/a"
        value = f"{num(self.median, spec)}{unit}"
        if self.n < 2 or self.low == self.high == self.median:
            return f"{value} (n={self.n})"
        return f"{value} [{num(self.low, spec)}, {num(self.high, spec)}] ({self.interval})"


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


def _median(a: np.ndarray, axis: int = -1) -> np.ndarray:
    return np.median(a, axis=axis)


def _scipy_interval(samples: tuple[np.ndarray, ...], statistic: Callable[..., np.ndarray], salt: int
                    ) -> tuple[float, float]:
    """scipy.stats.bootstrap's BCa interval; the percentile one where BCa cannot be computed (its jackknife is
    degenerate when most values are equal: it warns and returns NaN)."""
    from scipy.stats import bootstrap as scipy_bootstrap

    for method in ("BCa", "percentile"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # BCa's degenerate-sample warnings: handled by the fallback
            res = scipy_bootstrap(samples, statistic, n_resamples=RESAMPLES, confidence_level=CONFIDENCE,
                                  method=method, vectorized=True, paired=False, rng=_rng(salt))
        lo, hi = float(res.confidence_interval.low), float(res.confidence_interval.high)
        if math.isfinite(lo) and math.isfinite(hi):
            return lo, hi
    return math.nan, math.nan


def bootstrap(values: Values) -> Estimate:
    """Median with its 95% bootstrap CI over repetitions; under MIN_FOR_CI repetitions the min..max range instead
    (kind "range"); identical values give a zero-width interval."""
    arr = clean(values)
    if arr.size == 0:
        return Estimate(math.nan, math.nan, math.nan, 0)
    point = float(np.median(arr))
    if arr.size == 1 or np.all(arr == arr[0]):
        return Estimate(point, point, point, int(arr.size), "range" if arr.size < MIN_FOR_CI else "ci")
    if arr.size < MIN_FOR_CI:
        return Estimate(point, float(arr.min()), float(arr.max()), int(arr.size), "range")
    lo, hi = _scipy_interval((arr,), _median, 0)
    return Estimate(point, lo, hi, int(arr.size))


def ratio(numerator: Values, denominator: Values) -> Estimate:
    """median(numerator) / median(denominator), the CI from resampling both sides independently; with fewer than
    MIN_FOR_CI repetitions on either side the range of the ratios the repetitions allow (min / max .. max / min)."""
    a, b = clean(numerator), clean(denominator)
    if a.size == 0 or b.size == 0 or np.median(b) == 0:
        return Estimate(math.nan, math.nan, math.nan, 0)
    point = float(np.median(a) / np.median(b))
    n = int(min(a.size, b.size))
    if np.all(a == a[0]) and np.all(b == b[0]):
        return Estimate(point, point, point, n, "range" if n < MIN_FOR_CI else "ci")
    if n < MIN_FOR_CI:
        if b.min() <= 0:
            return Estimate(point, math.nan, math.nan, n, "range")
        return Estimate(point, float(a.min() / b.max()), float(a.max() / b.min()), n, "range")

    def stat(x: np.ndarray, y: np.ndarray, axis: int = -1) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.asarray(_median(x, axis) / _median(y, axis))

    lo, hi = _scipy_interval((a, b), stat, 1)
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
    anything at 0.05; there the intervals decide (under 5 values they are min..max: non-overlap = full separation).
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
        what = "95% CIs of the medians" if ea.kind == eb.kind == "ci" else "intervals (ranges under 5 repetitions)"
        return Significance("bootstrap-ci", apart, note=f"{what} do not overlap" if apart else f"{what} overlap")
    return Significance("n/a", None, note="fewer than 2 repetitions on a side")
