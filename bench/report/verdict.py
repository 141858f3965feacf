"""The Verdict record every claim rule returns, the rule registry's entry type, and the small helpers the
rules share (runs of a named variant, counts with their CI, percentages)."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from app_under_test.variants import parse_variant
from bench.results import runs as R
from bench.results.stats import Estimate, bootstrap

Status = Literal["reproduced", "partial", "not reproduced", "not measured"]
STATUSES: tuple[Status, ...] = ("reproduced", "partial", "not reproduced", "not measured")


@dataclass(frozen=True)
class Verdict:
    """One claim's outcome. `verdict` is the phrase shown (e.g. "reproduced only when ..."); `status` its kind."""

    id: str
    claim: str
    measured: str
    verdict: str
    status: Status
    rule: str
    setup: str = ""
    details: tuple[str, ...] = ()
    measured_by: str = ""
    numbers: dict[str, Any] = field(default_factory=dict)  # the figures behind it, for tests and tooling


@dataclass(frozen=True)
class ClaimRule:
    """A claim, the rule that decides it (shown verbatim in the report) and the function applying it."""

    id: str
    claim: str
    rule: str
    measured_by: str
    evaluate: Callable[[dict[str, Any], ClaimRule], Verdict]

    def verdict(self, status: Status, verdict: str, measured: str, *, setup: str = "",
                details: list[str] | tuple[str, ...] = (), **numbers: Any) -> Verdict:
        return Verdict(self.id, self.claim, measured, verdict, status, self.rule, setup, tuple(details),
                       self.measured_by, dict(numbers))

    def not_measured(self, why: str = "", **numbers: Any) -> Verdict:
        reason = why or f"scenario `{self.measured_by}` did not run"
        return self.verdict("not measured", "not measured", f"nothing: {reason}",
                            details=[f"Measured by: {self.measured_by}."], **numbers)


def variant_runs(results: dict[str, Any], scenario: str, spec: str) -> list[R.Run]:
    """Runs of `scenario` whose axes equal those of the variant `spec` (a preset or PRESET:axis=value)."""
    return R.select(results, scenario, **parse_variant(spec).axes())


def count(runs: list[R.Run], path: str) -> tuple[Estimate, list[float]]:
    vals = R.values(runs, path)
    return bootstrap(vals), vals


def fmt_count(est: Estimate, vals: list[float]) -> str:
    if not vals:
        return "n/a"
    if len(set(vals)) == 1:
        return f"{vals[0]:g} in all {len(vals)} repetitions"
    return f"median {est.median:g} [{est.low:g}, {est.high:g}], max {max(vals):g} over {len(vals)} repetitions"


def pct(x: float) -> str:
    return "n/a" if math.isnan(x) else f"{x * 100:.1f}%"


def ms(seconds: float) -> str:
    return "n/a" if math.isnan(seconds) else f"{seconds * 1000:.0f} ms"


def secs(seconds: float) -> str:
    if math.isnan(seconds):
        return "n/a"
    return f"{seconds:.3g} s" if seconds < 100 else f"{seconds:.0f} s"


def first_params(runs: list[R.Run]) -> dict[str, Any]:
    return dict(runs[0].get("params") or {}) if runs else {}


def limiter_rps(params: dict[str, Any], default: float = 10.0) -> float:
    """The in-memory limiter's rate: the run's own figure, else the app env override, else the seed's 10."""
    for path in ("limiter_rps", "app_env.OPENAI_RATE_LIMIT_REQUESTS_PER_SECOND"):
        v = R.get(params, path)
        if v is not None:
            return float(v)
    return default


def limiter_bucket(params: dict[str, Any], default: float = 10.0) -> float:
    for path in ("limiter_bucket", "app_env.OPENAI_RATE_LIMIT_MAX_BUCKET_SIZE"):
        v = R.get(params, path)
        if v is not None:
            return float(v)
    return default
