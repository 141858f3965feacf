"""Timing charts: the burst's request timeline, burst makespan with CIs and the ideal, latency ECDFs, the
concurrency sweep with its fitted model, time to first token. Each returns a Chart, or None without data."""

from __future__ import annotations

from typing import Any

import numpy as np

from bench.report.chartkit import Chart, Colors, barh_with_ci, figure, fmt_seconds, spans_decades, suptitle
from bench.results import runs as R
from bench.results.stats import bootstrap


def _finish_pattern(end: np.ndarray) -> tuple[float, str]:
    """Median gap between consecutive responses, and the shape they draw: a wall when they land together,
    a staircase when they come one at a time at an even pace, waves when they come in clusters."""
    ends = np.sort(end)
    if ends.size < 2:
        return 0.0, "a single request"
    gap = float(np.median(np.diff(ends)))
    spread = float(ends[-1] - ends[0])
    if spread < 0.5 * float(ends[-1]):
        return gap, "a wall"
    return gap, "a staircase" if gap * (ends.size - 1) >= 0.5 * spread else "waves"


def timeline(results: dict[str, Any], colors: Colors) -> Chart | None:
    runs = R.main_setup(R.select(results, "burst"))
    picked: dict[str, R.Run] = {}
    for v, rs in R.by_variant(runs).items():
        run = R.median_run(rs)
        if run is not None and R.get(run, "requests.t_send"):
            picked[v] = run
    if not picked:
        return None
    fig = figure(9.0, 1.2 + 1.9 * ((len(picked) + 1) // 2))
    axes = fig.subplots((len(picked) + 1) // 2, min(2, len(picked)), squeeze=False).ravel()
    summary: dict[str, tuple[float, str, float, int]] = {}
    for ax, (variant, run) in zip(axes, picked.items(), strict=False):
        req = run["requests"]
        order = np.argsort(req["t_send"], kind="stable")
        send = np.asarray(req["t_send"], dtype=float)[order]
        end = np.asarray(req["t_end"], dtype=float)[order]
        ax.barh(np.arange(len(send)), end - send, left=send, height=0.8, color=colors(variant))
        ax.invert_yaxis()
        gap, shape = _finish_pattern(end - send.min())
        span = float(end.max() - send.min())
        summary[variant] = (span, shape, gap, len(send))
        ax.set_title(f"{variant}: {shape}, makespan {fmt_seconds(span)}, median gap {fmt_seconds(gap)}")
        ax.set_xlabel("time since first send (s)")
        ax.set_ylabel("request (by send time)")
    for ax in axes[len(picked):]:
        ax.set_visible(False)
    slow = max(summary, key=lambda v: summary[v][0])
    fast = min(summary, key=lambda v: summary[v][0])

    def say(v: str) -> str:
        span, shape, gap, n = summary[v]
        if shape == "a staircase":
            return f"{v} answers one request every {fmt_seconds(gap)} ({shape}, {fmt_seconds(span)})"
        if shape == "waves":
            return f"{v} answers in waves ({fmt_seconds(span)})"
        return f"{v} answers all {n} together ({shape}, {fmt_seconds(span)})"

    title = say(slow) if slow == fast else f"{say(slow)}; {say(fast)}"
    suptitle(fig, title)
    params = runs[0].get("params") or {}
    return Chart("timeline", title, fig, f"Burst at {R.setup_label(params)}; one bar per request from send to "
                 "end, the median-makespan repetition of each variant.")


def makespan(results: dict[str, Any], colors: Colors) -> Chart | None:
    runs = R.main_setup(R.select(results, "burst"))
    groups = R.by_variant(runs)
    if not groups:
        return None
    ests = {v: bootstrap(R.values(rs, "metrics.makespan_s")) for v, rs in groups.items()}
    ests = {v: e for v, e in ests.items() if e.n}
    if not ests:
        return None
    params = runs[0].get("params") or {}
    n, lat = int(params.get("users") or 0), float(params.get("latency_ms") or 0) / 1000
    fig = figure(8.0, 1.6 + 0.45 * len(ests))
    ax = fig.subplots()
    names = list(ests)
    barh_with_ci(ax, names, [ests[v].median for v in names], [ests[v].low for v in names],
                 [ests[v].high for v in names], [colors(v) for v in names])
    if lat:
        ax.axvline(lat, color="#2ca02c", ls="--", lw=1, label=f"ideal concurrent: one latency ({fmt_seconds(lat)})")
        ax.axvline(n * lat, color="#d62728", ls=":", lw=1,
                   label=f"ideal serialized: N x latency ({fmt_seconds(n * lat)})")
        ax.legend(loc="lower right", fontsize=8)
    if spans_decades([e.median for e in ests.values()] + ([lat, n * lat] if lat else [])):
        ax.set_xscale("log")
    ax.set_xlabel("makespan, first send to last response (s); whiskers: 95% CI, min..max under 5 runs")
    fast, slow = min(ests, key=lambda v: ests[v].median), max(ests, key=lambda v: ests[v].median)
    r = ests[slow].median / ests[fast].median if ests[fast].median else float("nan")
    quick_one = next((v for v in ("async", "lru_cache") if v in ests), None)
    if "sync" in ests and quick_one:
        slow, fast, r = "sync", quick_one, ests["sync"].median / ests[quick_one].median
    title = (f"{slow} takes {r:.3g}x as long as {fast} (ideal {n}x) for a burst of {n}" if slow != fast
             else f"{slow}: makespan {fmt_seconds(ests[slow].median)} for a burst of {n}")
    suptitle(fig, title)
    return Chart("makespan", title, fig, f"Burst of N={n} at {R.setup_label(params)}; median over repetitions.")


def latency(results: dict[str, Any], colors: Colors, scenario: str) -> Chart | None:
    runs = R.main_setup(R.select(results, scenario))
    pooled = {v: np.concatenate([R.latencies_ms(r) for r in rs]) for v, rs in R.by_variant(runs).items()}
    pooled = {v: x for v, x in pooled.items() if x.size}
    if not pooled:
        return None
    fig = figure(8.0, 4.0)
    ax = fig.subplots()
    p95: dict[str, float] = {}
    for v, x in pooled.items():
        xs = np.sort(x)
        ax.step(xs, np.arange(1, xs.size + 1) / xs.size, where="post", color=colors(v), label=v)
        p95[v] = float(np.percentile(xs, 95))
    if spans_decades(np.concatenate(list(pooled.values()))):
        ax.set_xscale("log")
    ax.set_xlabel("latency, send to end (ms)")
    ax.set_ylabel("fraction of requests")
    ax.axhline(0.95, color="#999999", lw=0.8, ls=":")
    ax.legend(fontsize=8, loc="lower right")
    lo, hi = min(p95, key=p95.__getitem__), max(p95, key=p95.__getitem__)
    title = (f"{scenario}: p95 latency {fmt_seconds(p95[lo] / 1000)} for {lo} vs {fmt_seconds(p95[hi] / 1000)} "
             f"for {hi}" if lo != hi else f"{scenario}: p95 latency {fmt_seconds(p95[lo] / 1000)} for {lo}")
    suptitle(fig, title)
    params = runs[0].get("params") or {}
    return Chart(f"latency-{scenario}", title, fig, f"ECDF of every request's latency, repetitions pooled; "
                 f"{R.setup_label(params)}. Dotted line: 95th percentile.")


def fit_cost(users: np.ndarray, times: np.ndarray, latency_s: float, cores: int) -> float:
    """Least-squares c in  time = latency + N x c / cores  (seconds of CPU per request)."""
    denom = float(np.sum(users**2))
    return float(cores * np.sum(users * (times - latency_s)) / denom) if denom else float("nan")


def _r_squared(y: np.ndarray, fit: np.ndarray) -> float:
    total = float(np.sum((y - y.mean()) ** 2))
    return 1 - float(np.sum((y - fit) ** 2)) / total if total else float("nan")


def sweep(results: dict[str, Any], colors: Colors) -> Chart | None:
    runs = R.select(results, "sweep")
    groups = R.by_variant(runs)
    if not groups:
        return None
    cores = R.cores(results)
    fig = figure(9.0, 4.0)
    axes = fig.subplots(1, 2)
    costs: dict[str, tuple[float, float]] = {}
    for v, rs in groups.items():
        for ax, path in zip(axes, ("metrics.makespan_s", "metrics.latency_ms.p95"), strict=True):
            pts = [(float(R.get(r, "params.users")), float(R.get(r, path)) / (1000 if "latency" in path else 1),
                    float(R.get(r, "params.latency_ms", 0)) / 1000) for r in rs
                   if R.get(r, path) is not None and R.get(r, "params.users") is not None]
            if not pts:
                continue
            n, t, lat = (np.array(c) for c in zip(*pts, strict=True))
            ax.scatter(n, t, s=14, color=colors(v), label=v, alpha=0.8)
            base = float(np.median(lat))
            c = fit_cost(n, t, base, cores)
            grid = np.linspace(0, n.max(), 100)
            ax.plot(grid, base + grid * c / cores, color=colors(v), lw=1, ls="--")
            if path == "metrics.makespan_s":
                costs[v] = (c, _r_squared(t, base + n * c / cores))
    if not costs:
        return None
    axes[0].set_ylabel("burst makespan (s)")
    axes[1].set_ylabel("p95 latency (s)")
    for ax in axes:
        ax.set_xlabel("concurrent users N")
    axes[0].legend(fontsize=8)
    title = "Model latency + N x cost / cores: " + ", ".join(
        f"{v} {c * 1000:.3g} ms CPU per request (R² {r2:.2f})" for v, (c, r2) in costs.items())
    suptitle(fig, title)
    return Chart("sweep", title, fig, f"Dashed: the least-squares fit of latency + N x cost / {cores} cores "
                 "per variant; points: each repetition.")


def ttft(results: dict[str, Any], colors: Colors) -> Chart | None:
    runs = R.main_setup(R.select(results, "stream"))
    ests = {v: bootstrap(R.values(rs, "metrics.ttft_ms.p50")) for v, rs in R.by_variant(runs).items()}
    ests = {v: e for v, e in ests.items() if e.n}
    if not ests:
        return None
    fig = figure(8.0, 1.6 + 0.45 * len(ests))
    ax = fig.subplots()
    names = list(ests)
    barh_with_ci(ax, names, [ests[v].median for v in names], [ests[v].low for v in names],
                 [ests[v].high for v in names], [colors(v) for v in names])
    ax.set_xlabel("median time to first token (ms); whiskers: 95% CI, min..max under 5 runs")
    best = min(ests, key=lambda v: ests[v].median)
    title = f"Streaming: {best} reaches the first token soonest ({ests[best].median:.0f} ms median)"
    suptitle(fig, title)
    return Chart("ttft", title, fig, R.setup_label(runs[0].get("params")))
