"""The gated metrics: each read out of a results dict as one value per repetition (so the comparison can test
significance), with the set-up it was measured at. Ratios divide by a figure from the same run or by the
configured upstream latency, so machine speed largely cancels; invariants are counts that must hold exactly.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from bench.results.blocked import own_share_of_makespan
from bench.results.runs import get

Kind = Literal["ratio", "rate", "exact"]
Direction = Literal["lower", "higher", "equal"]
Run = dict[str, Any]

# The params that define a measurement: a baseline taken at other values is not comparable.
SETUP_KEYS = ("users", "latency_ms", "duration_s", "rate", "workers", "upstream_limit_rps", "app_env")


@dataclass(frozen=True)
class Measurement:
    """One value per repetition (None where that repetition lacks it) and the set-up per variant read."""

    values: list[float | None]
    setup: dict[str, dict[str, Any]] = field(default_factory=dict)
    missing: str = ""  # why the results hold no runs for this metric; empty when they do

    @property
    def present(self) -> list[float]:
        return [v for v in self.values if v is not None and math.isfinite(v)]


@dataclass(frozen=True)
class GatedMetric:
    """A metric the gate checks. `threshold` is a factor for ratios (0.25: 1.25x worse, as asv's factor), absolute
    for rates (0.02: two percentage points) and unused for exact invariants, which must equal `expected` (direction
    "equal") or stay at or under it ("lower": a fixed line from the design, not from a measurement)."""

    id: str
    title: str
    kind: Kind
    direction: Direction
    unit: str
    threshold: float
    extract: Callable[[dict[str, Any]], Measurement]
    needs: tuple[tuple[str, str], ...]  # (scenario, variant) runs the metric reads
    catches: str
    expected: float | None = None
    report_only: bool = False


def _runs(results: dict[str, Any], scenario: str, variant: str) -> list[Run]:
    runs = [r for r in results.get("runs", []) if r.get("scenario") == scenario and r.get("variant") == variant]
    return sorted(runs, key=lambda r: int(r.get("repetition") or 0))


def _setup(runs: list[Run]) -> dict[str, Any]:
    params = (runs[0].get("params") or {}) if runs else {}
    return {k: params.get(k) for k in SETUP_KEYS if params.get(k) not in (None, {}, [])}


def _number(run: Run, path: str) -> float | None:
    v = get(run, path)
    return float(v) if isinstance(v, int | float) and not isinstance(v, bool) else None


def _div(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None or b == 0 else a / b


def _missing(results: dict[str, Any], needs: tuple[tuple[str, str], ...]) -> str:
    lacking = [f"{s} {v}" for s, v in needs if not _runs(results, s, v)]
    return f"no runs of {', '.join(lacking)}" if lacking else ""


def paired(scenario: str, top: str, bottom: str, read: Callable[[Run], float | None]
           ) -> Callable[[dict[str, Any]], Measurement]:
    """read(top) / read(bottom) per repetition: both sides of a ratio come from the same gate run."""
    def extract(results: dict[str, Any]) -> Measurement:
        if why := _missing(results, ((scenario, top), (scenario, bottom))):
            return Measurement([], missing=why)
        a = {int(r.get("repetition") or 0): r for r in _runs(results, scenario, top)}
        b = {int(r.get("repetition") or 0): r for r in _runs(results, scenario, bottom)}
        values = [_div(read(a[i]), read(b[i])) for i in sorted(a) if i in b]
        return Measurement(values, {top: _setup(list(a.values())), bottom: _setup(list(b.values()))})
    return extract


def field_of(path: str) -> Callable[[Run], float | None]:
    return lambda run: _number(run, path)


def per_run(scenario: str, variant: str, read: Callable[[Run], float | None]
            ) -> Callable[[dict[str, Any]], Measurement]:
    def extract(results: dict[str, Any]) -> Measurement:
        runs = _runs(results, scenario, variant)
        if not runs:
            return Measurement([], missing=f"no runs of {scenario} {variant}")
        return Measurement([read(r) for r in runs], {variant: _setup(runs)})
    return extract


def makespan_per_latency(run: Run) -> float | None:
    return _div(_number(run, "metrics.makespan_s"), (_number(run, "params.latency_ms") or 0) / 1000)


def agent_memory(run: Run) -> float | None:
    """Agent-attributed bytes: peak live ChatAgents x tracemalloc bytes per instance."""
    live, per = _number(run, "app.live_peak"), _number(run, "app.bytes_per_instance")
    return None if live is None or per is None else live * per


def error_rate(run: Run) -> float | None:
    sent, ok = _number(run, "metrics.requests"), _number(run, "metrics.ok")
    return None if not sent or ok is None else (sent - ok) / sent


def upstream_429_rate(run: Run) -> float | None:
    return _div(_number(run, "upstream.rate_limited"), _number(run, "upstream.received"))


def accounting_failures(results: dict[str, Any]) -> Measurement:
    """Runs per repetition whose requests were not all accounted for (sent = recorded = answered upstream)."""
    runs = results.get("runs", [])
    if not runs:
        return Measurement([], missing="no runs")
    by_rep: dict[int, float] = {}
    for r in runs:
        rep = int(r.get("repetition") or 0)
        by_rep[rep] = by_rep.get(rep, 0.0) + (0.0 if get(r, "accounting.ok") is True else 1.0)
    return Measurement([by_rep[k] for k in sorted(by_rep)])


def breaks(direction: str, expected: float | None, value: float) -> bool:
    """Does one repetition break an invariant? "equal": any other value; "lower": above the line."""
    line = float(expected if expected is not None else 0.0)
    return value > line if direction == "lower" else value < line if direction == "higher" else value != line


def own_blocked_percent(run: Run) -> float | None:
    """Blocked time at the app's own call sites, % of the burst's makespan (bench/results/blocked.py)."""
    share = own_share_of_makespan(run)
    return None if share is None else 100 * share


def blocked_share(scenario: str, variant: str) -> Callable[[dict[str, Any]], Measurement]:
    """Like per_run, but runs without the sampler's figures (APP_BLOCKWATCH=0, an app without it) are a set-up
    problem, not a regression."""
    def extract(results: dict[str, Any]) -> Measurement:
        m = per_run(scenario, variant, own_blocked_percent)(results)
        if not m.missing and not m.present:
            return Measurement(m.values, m.setup, missing="no blocked-loop figures: the app's sampler was off "
                                                          "(APP_BLOCKWATCH=0)")
        return m
    return extract


def constructions(variant: str) -> Callable[[dict[str, Any]], Measurement]:
    return per_run("cold-burst", variant, field_of("app.constructions"))


METRICS: tuple[GatedMetric, ...] = (
    GatedMetric("burst.speedup", "burst makespan sync / async (lru_cache)", "ratio", "higher", "x", 0.25,
                paired("burst", "sync", "lru_cache", field_of("metrics.makespan_s")),
                (("burst", "sync"), ("burst", "lru_cache")),
                "a blocking call back in the async path: the async burst serializes and the ratio collapses"),
    GatedMetric("burst.async_makespan", "async (lru_cache) burst makespan / upstream latency", "ratio", "lower", "x",
                0.15, per_run("burst", "lru_cache", makespan_per_latency), (("burst", "lru_cache"),),
                "a slower async path: an added await, a blocking call, more work per request"),
    # The line is what `async` means: awaiting, the loop is never held by the app's own code. Measured at 0-4% (a
    # busy box descheduling the loop mid-callback); a 50 ms time.sleep per request takes it to ~30%.
    GatedMetric("burst.async_blocked_share", "async (lru_cache) burst: loop blocked at the app's own call sites, "
                "% of the makespan", "exact", "lower", "%", 0.0, blocked_share("burst", "lru_cache"),
                (("burst", "lru_cache"),), "a blocking call in the async path, even one the burst ratio hides: "
                "the blocked-loop sampler names its file and line in the report", expected=10.0),
    GatedMetric("memory.agent_ratio", "agent memory per-request / singleton (10 users)", "ratio", "higher", "x",
                4.0, paired("concurrency", "per-request", "lru_cache", agent_memory),
                (("concurrency", "per-request"), ("concurrency", "lru_cache")),
                "the shared agent no longer shared: the singleton's agent memory grows toward per-request's"),
    GatedMetric("memory.rss_ratio", "peak RSS per-request / singleton (10 users)", "ratio", "higher", "x", 0.10,
                paired("concurrency", "per-request", "lru_cache", field_of("process.rss_peak_mb")),
                (("concurrency", "per-request"), ("concurrency", "lru_cache")),
                "whole-process memory; garbage-collector timing moves it, so it is reported, not gated",
                report_only=True),
    GatedMetric("limiter.error_rate", "users' error rate, limiter on, rate-limited upstream", "rate", "lower", "",
                0.02, per_run("steady", "async-limited", error_rate), (("steady", "async-limited"),),
                "the limiter or the retries gone or mis-set: users get the upstream's 429s as errors"),
    GatedMetric("limiter.upstream_429_rate", "upstream 429s / calls, limiter on", "rate", "lower", "", 0.10,
                per_run("steady", "async-limited", upstream_429_rate), (("steady", "async-limited"),),
                "the limiter letting more through than the upstream allows (the retries hide it from users)",
                report_only=True),
    GatedMetric("cold.locked_agents", "ChatAgents built by `locked` in a cold burst", "exact", "equal", "", 0.0,
                constructions("locked"), (("cold-burst", "locked"),),
                "the double-checked lock skipped or broken: concurrent first requests each build an agent",
                expected=1),
    GatedMetric("cold.async_dependency_agents", "ChatAgents built by `async-dependency` in a cold burst", "exact",
                "equal", "", 0.0, constructions("async-dependency"), (("cold-burst", "async-dependency"),),
                "the async dependency moved off the loop (e.g. made a plain `def`): the singleton races",
                expected=1),
    GatedMetric("accounting.failures", "runs whose requests do not all add up", "exact", "equal", "", 0.0,
                accounting_failures, (), "lost or duplicated requests between load generator, app and upstream",
                expected=0),
)

REGISTRY: dict[str, GatedMetric] = {m.id: m for m in METRICS}


def rounded(v: float | None) -> float | None:
    """6 significant digits, as the baseline stores them: the same run must compare as identical."""
    return None if v is None or not math.isfinite(v) else float(f"{v:.6g}")


def extract_all(results: dict[str, Any]) -> dict[str, Measurement]:
    out = {}
    for metric in METRICS:
        m = metric.extract(results)
        out[metric.id] = Measurement([rounded(v) for v in m.values], m.setup, m.missing)
    return out
