"""The per-run metrics that compare and the stability check read: name, unit, direction, where it lives."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bench.results import runs as R


@dataclass(frozen=True)
class Metric:
    name: str
    unit: str
    read: Callable[[R.Run], float | None]
    lower_is_better: bool = True
    timing: bool = False  # timings get the stability check; counts (constructions, errors) vary by nature


def _path(path: str) -> Callable[[R.Run], float | None]:
    def read(run: R.Run) -> float | None:
        v = R.get(run, path)
        return float(v) if isinstance(v, int | float) and not isinstance(v, bool) else None
    return read


METRICS: tuple[Metric, ...] = (
    Metric("makespan", "s", _path("metrics.makespan_s"), timing=True),
    Metric("latency p50", "ms", _path("metrics.latency_ms.p50"), timing=True),
    Metric("latency p95", "ms", _path("metrics.latency_ms.p95"), timing=True),
    Metric("latency p99", "ms", _path("metrics.latency_ms.p99"), timing=True),
    Metric("throughput", "req/s", _path("metrics.throughput_rps"), lower_is_better=False, timing=True),
    Metric("ttft p50", "ms", _path("metrics.ttft_ms.p50"), timing=True),
    Metric("errors", "requests", R.user_errors),
    Metric("timeouts", "requests", R.timeouts),
    Metric("429s upstream", "responses", _path("upstream.rate_limited")),
    Metric("constructions", "agents", _path("app.constructions")),
    Metric("rss peak", "MB", _path("process.rss_peak_mb"), timing=True),
    Metric("loop lag max", "ms", _path("app.loop_lag_max_ms")),
)


def group_key(run: R.Run) -> tuple[str, str, str]:
    """(scenario, variant, set-up label): the unit compare and the stability check work on."""
    return str(run.get("scenario")), str(run.get("variant")), R.setup_label(run.get("params"))


def grouped(results: dict) -> dict[tuple[str, str, str], list[R.Run]]:
    out: dict[tuple[str, str, str], list[R.Run]] = {}
    for run in results.get("runs", []):
        out.setdefault(group_key(run), []).append(run)
    return out


def series(runs: list[R.Run], metric: Metric) -> list[float]:
    return [v for v in (metric.read(r) for r in runs) if v is not None]
