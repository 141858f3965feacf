"""C7's chart: the upstream rate W worker processes let through, per-process limiters against one shared in Redis.

The rate is the one C7 judges: arrivals upstream beyond the limiter's first bucket, per second of their span
(bench/report/claims/c07_per_process_cache.py: `sustained_rps`): at each W the median over the warm repetitions
(after the first, on the same app) as the line, and the first repetition, which meets the app cold, as a hollow
marker beside it, as C7 judges them apart.
"""

from __future__ import annotations

import math
from typing import Any

from bench.report.chartkit import Chart, Colors, figure, suptitle
from bench.report.claims._common import limiter_rps
from bench.report.claims.c07_per_process_cache import split_cold, sustained_rps
from bench.results import runs as R
from bench.results.stats import Estimate, bootstrap

# The variants C7 sets side by side: each worker's own in-memory limiter, and one shared in Redis.
SERIES = {"memory": "per-process limiters (async-limited)",
          "redis": "one limiter shared in Redis (async-redis-limited)"}


def workers(results: dict[str, Any], colors: Colors) -> Chart | None:
    runs = R.select(results, "workers")
    lines: dict[str, dict[int, Any]] = {}
    for run in runs:
        limiter = (run.get("axes") or {}).get("limiter")
        if limiter in SERIES:
            lines.setdefault(str(limiter), {}).setdefault(int(R.get(run, "params.workers") or 1), []).append(run)
    points: dict[str, dict[int, Estimate]] = {}
    colds: dict[str, dict[int, list[float]]] = {}
    for key, by_w in lines.items():
        for w, rs in by_w.items():
            cold, warm = split_cold(rs)
            est = bootstrap([x for x in map(sustained_rps, warm or cold) if not math.isnan(x)])
            if est.n:
                points.setdefault(key, {})[w] = est
            if warm:
                colds.setdefault(key, {})[w] = [x for x in map(sustained_rps, cold) if not math.isnan(x)]
    if not any(points.values()):
        return None
    rps = limiter_rps(dict(runs[0].get("params") or {}))
    fig = figure(7.0, 4.0)
    ax = fig.subplots()
    all_w = sorted({w for p in points.values() for w in p})
    handles: list[Any] = [*ax.plot(all_w, [w * rps for w in all_w], ":", color="grey",
                        label=f"W x {rps:g} req/s (limiters adding up)"),
               ax.axhline(1.1 * rps, ls="--", color="grey", lw=1,
                          label=f"1.1 x {rps:g} req/s (the shared limit's line)")]
    for key, p in points.items():
        ws = sorted(p)
        med = [p[w].median for w in ws]
        err = [[p[w].median - p[w].low for w in ws], [p[w].high - p[w].median for w in ws]]
        variant = "async-limited" if key == "memory" else "async-redis-limited"
        once_warm = " once warm" if colds.get(key) else ""
        handles.append(ax.errorbar(ws, med, yerr=err, marker="o", capsize=3, color=colors(variant),
                                   label=SERIES[key] + once_warm))
        cold_pts = [(w, x) for w, xs in sorted(colds.get(key, {}).items()) for x in xs]
        if cold_pts:
            handles += ax.plot([w for w, _ in cold_pts], [x for _, x in cold_pts], ls="none", marker="o",
                               mfc="none", color=colors(variant), label="  the same, cold start (first repetition)")
    ax.set_xticks(all_w)
    ax.set_xlabel("uvicorn worker processes (W)")
    ax.set_ylabel("upstream req/s beyond the first bucket")
    ax.legend(handles=handles, fontsize=8)
    top_w = max(all_w)
    mem, red = points.get("memory", {}).get(top_w), points.get("redis", {}).get(top_w)
    if mem is not None and red is not None:
        cold_rates = colds.get("redis", {}).get(top_w)
        cold_text = f" ({max(cold_rates):.3g} through its cold start)" if cold_rates else ""
        title = (f"{top_w} workers: per-process limiters let {mem.median:.3g} req/s upstream, "
                 f"a shared one {red.median:.3g}{' once warm' if cold_rates else ''}{cold_text} (one limiter: {rps:g})")
    else:
        key, est = next((k, p[top_w]) for k, p in points.items() if top_w in p)
        title = f"{top_w} workers, {SERIES[key]}: {est.median:.3g} req/s upstream (one limiter: {rps:g})"
    suptitle(fig, title)
    return Chart("workers", title, fig, f"Workers scenario: {R.setup_label(runs[0].get('params'))}; whiskers: "
                 "95% CI, min..max under 5 runs; hollow: the first repetition, on a cold app.")
