"""The chart registry: each chart's name, what data it needs, and the function drawing it. A chart whose
data is absent is skipped, with the reason kept for the report, never drawn empty."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from bench.report import charts_app, charts_timing, charts_workers
from bench.report.chartkit import Chart, Colors, style
from bench.results import runs as R


@dataclass(frozen=True)
class ChartSpec:
    name: str
    needs: str  # shown when the chart is skipped
    draw: Callable[[dict[str, Any], Colors], Chart | None]


@dataclass(frozen=True)
class Skipped:
    name: str
    reason: str


CHARTS: dict[str, ChartSpec] = {c.name: c for c in (
    ChartSpec("timeline", "scenario `burst` with per-request records", charts_timing.timeline),
    ChartSpec("makespan", "scenario `burst`", charts_timing.makespan),
    ChartSpec("latency-burst", "scenario `burst` with per-request records",
              partial(charts_timing.latency, scenario="burst")),
    ChartSpec("latency-steady", "scenario `steady` with per-request records",
              partial(charts_timing.latency, scenario="steady")),
    ChartSpec("constructions", "scenario `cold-burst`", charts_app.constructions),
    ChartSpec("memory", "scenario `concurrency` with RSS samples or agent bytes", charts_app.memory),
    ChartSpec("rate-limits", "scenario `steady` with upstream counts", charts_app.rate_limits),
    ChartSpec("workers", "scenario `workers` with the mock's arrival times", charts_workers.workers),
    ChartSpec("loop-lag", "any scenario with app.loop_lag_max_ms (burst preferred)", charts_app.loop_lag),
    ChartSpec("sweep", "scenario `sweep`", charts_timing.sweep),
    ChartSpec("ttft", "scenario `stream` with metrics.ttft_ms", charts_timing.ttft),
)}


def build_charts(results: dict[str, Any]) -> tuple[list[Chart], list[Skipped]]:
    """Every chart the data allows, in registry order, and the ones skipped with why."""
    colors = Colors(R.variant_names(results.get("runs", [])))
    drawn: list[Chart] = []
    skipped: list[Skipped] = []
    with style():
        for spec in CHARTS.values():
            chart = spec.draw(results, colors)
            if chart is None:
                skipped.append(Skipped(spec.name, f"no data: needs {spec.needs}"))
            else:
                drawn.append(chart)
    return drawn, skipped
