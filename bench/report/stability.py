"""Warnings a reader needs before trusting a figure: unstable timings (spread over 10% of the median),
runs whose request accounting failed, the warnings runs recorded themselves, and makespans the load workers'
clocks blur (bench/report/clocks.py)."""

from __future__ import annotations

from typing import Any

from bench.report.clocks import clock_warnings
from bench.report.metrics import METRICS, grouped, series
from bench.results.stats import STABILITY_LIMIT, median, unstable


def stability_warnings(results: dict[str, Any]) -> list[str]:
    out: list[str] = []
    for (scenario, variant, setup), runs in grouped(results).items():
        for metric in METRICS:
            if not metric.timing:
                continue
            vals = series(runs, metric)
            rel = unstable(vals, STABILITY_LIMIT)
            if rel is not None:
                out.append(f"{scenario} / {variant} ({setup}): {metric.name} spread {rel:.0%} of its median "
                           f"{median(vals):.4g} {metric.unit} over {len(vals)} repetitions "
                           f"({', '.join(f'{v:.4g}' for v in vals)})")
    return out


def run_problems(results: dict[str, Any]) -> list[str]:
    out: list[str] = []
    if results.get("partial"):
        out.append("The run was interrupted: results are partial.")
    for run in results.get("runs", []):
        name = f"{run.get('scenario')} / {run.get('variant')} #{run.get('repetition')}"
        acc = run.get("accounting") or {}
        if acc and not acc.get("ok", True):
            out.append(f"{name}: requests not all accounted for: {'; '.join(acc.get('problems') or []) or acc}")
        out += [f"{name}: {w}" for w in run.get("warnings") or []]
    return out + clock_warnings(results)
