"""Charts of the app's own counters: agent constructions in the cold burst, memory (RSS over time and
agent-attributed bytes), 429s and users' errors with and without the limiter, event-loop lag."""

from __future__ import annotations

from typing import Any

import numpy as np

from bench.report.chartkit import Chart, Colors, barh_with_ci, figure, spans_decades, suptitle
from bench.results import runs as R
from bench.results.stats import bootstrap, reduction


def constructions(results: dict[str, Any], colors: Colors) -> Chart | None:
    groups = R.by_variant(R.main_setup(R.select(results, "cold-burst")))
    counts = {v: R.values(rs, "app.constructions") for v, rs in groups.items()}
    counts = {v: c for v, c in counts.items() if c}
    if not counts:
        return None
    fig = figure(8.0, 1.6 + 0.45 * len(counts))
    ax = fig.subplots()
    names = list(counts)
    y = np.arange(len(names))[::-1]
    ax.barh(y, [float(np.median(counts[v])) for v in names], color=[colors(v) for v in names], alpha=0.6)
    for yi, v in zip(y, names, strict=True):
        ax.scatter(counts[v], [yi] * len(counts[v]), color="#222222", s=12, zorder=3)
    ax.axvline(1, color="#2ca02c", ls="--", lw=1, label="one agent (the intent)")
    ax.set_yticks(y, names)
    ax.grid(axis="y", visible=False)
    ax.set_xlabel("ChatAgent constructions per cold burst (count); bar: median, dots: repetitions")
    ax.legend(fontsize=8, loc="lower right")
    raced = [v for v in names if max(counts[v]) > 1]
    single = [v for v in names if max(counts[v]) <= 1]
    if raced:
        title = (f"Built more than one agent: {', '.join(raced)} (up to {max(max(counts[v]) for v in raced):g})"
                 + (f"; exactly one: {', '.join(single)}" if single else ""))
    else:
        title = "Every variant built exactly one agent in every repetition"
    suptitle(fig, title)
    params = groups[names[0]][0].get("params")
    return Chart("constructions", title, fig, f"Cold burst: {R.setup_label(params)}.")


def memory(results: dict[str, Any], colors: Colors) -> Chart | None:
    groups = R.by_variant(R.main_setup(R.select(results, "concurrency")))
    if not groups:
        return None
    fig = figure(9.0, 4.0)
    ax_rss, ax_agent = fig.subplots(1, 2, width_ratios=[1.3, 1])
    drew = False
    for v, rs in groups.items():
        run = R.median_run(rs, "process.rss_peak_mb")
        samples = R.get(run, "process.samples", []) if run else []
        if samples:
            arr = np.asarray([s[:2] for s in samples], dtype=float)
            ax_rss.plot(arr[:, 0], arr[:, 1], color=colors(v), lw=1.2, label=v)
            drew = True
    ax_rss.set_xlabel("time since the load started (s)")
    ax_rss.set_ylabel("app process RSS (MB)")
    if drew:
        ax_rss.legend(fontsize=7)
    agent = {v: bootstrap([R.get(r, "app.live_peak") * R.get(r, "app.bytes_per_instance") / 1024 for r in rs
                           if R.get(r, "app.live_peak") is not None and R.get(r, "app.bytes_per_instance")])
             for v, rs in groups.items()}
    agent = {v: e for v, e in agent.items() if e.n}
    if agent:
        names = list(agent)
        barh_with_ci(ax_agent, names, [agent[v].median for v in names], [agent[v].low for v in names],
                     [agent[v].high for v in names], [colors(v) for v in names])
        if spans_decades([e.median for e in agent.values()]):
            ax_agent.set_xscale("log")
        ax_agent.set_xlabel("agent memory: live peak x bytes each (KiB)")
    if not drew and not agent:
        return None
    rss = {v: bootstrap(R.values(rs, "process.rss_peak_mb")).median for v, rs in groups.items()}
    if {"per-request", "lru_cache"} <= set(rss) and {"per-request", "lru_cache"} <= set(agent):
        title = (f"Sharing one agent cuts agent memory by "
                 f"{reduction(agent['lru_cache'].median, agent['per-request'].median):.0%} "
                 f"but peak process RSS by {reduction(rss['lru_cache'], rss['per-request']):.1%}")
    else:
        hi = max(rss, key=rss.__getitem__)
        title = f"Peak process RSS is highest for {hi} ({rss[hi]:.0f} MB)"
    suptitle(fig, title)
    params = next(iter(groups.values()))[0].get("params")
    return Chart("memory", title, fig, f"{R.setup_label(params)}; RSS of the median-peak repetition.")


def rate_limits(results: dict[str, Any], colors: Colors) -> Chart | None:
    groups = R.by_variant(R.main_setup(R.select(results, "steady")))
    if not groups:
        return None
    series = {
        "429s seen upstream": {v: bootstrap(R.values(rs, "upstream.rate_limited")) for v, rs in groups.items()},
        "errors seen by users": {v: bootstrap([R.user_errors(r) for r in rs]) for v, rs in groups.items()},
        "timeouts": {v: bootstrap([R.timeouts(r) for r in rs]) for v, rs in groups.items()},
    }
    if not any(e.n for s in series.values() for e in s.values()):
        return None
    fig = figure(8.0, 3.8)
    ax = fig.subplots()
    names = list(groups)
    width = 0.8 / len(names)
    x = np.arange(len(series))
    for i, v in enumerate(names):
        med = np.array([series[k][v].median for k in series])
        err = np.array([[series[k][v].median - series[k][v].low, series[k][v].high - series[k][v].median]
                        for k in series]).T
        ax.bar(x + i * width - 0.4 + width / 2, np.nan_to_num(med), width, color=colors(v), label=v,
               yerr=np.nan_to_num(np.clip(err, 0, None)), capsize=3)
    ax.set_xticks(x, list(series))
    ax.set_ylabel("count per run (median; whiskers: 95% CI, min..max under 5 runs)")
    ax.legend(fontsize=8)
    up = series["429s seen upstream"]
    lim, none = "async-limited", next((v for v in ("async", "lru_cache") if v in up), "async")
    if lim in up and none in up:
        cut = reduction(up[lim].median, up[none].median)
        users = series["errors seen by users"]
        title = (f"The limiter cuts 429s upstream from {up[none].median:g} to {up[lim].median:g} "
                 f"({cut:.1%} fewer); users' errors {users[none].median:g} -> {users[lim].median:g}")
    else:
        title = "429s upstream per variant: " + ", ".join(f"{v} {e.median:g}" for v, e in up.items())
    suptitle(fig, title)
    params = next(iter(groups.values()))[0].get("params")
    return Chart("rate-limits", title, fig, f"Steady load: {R.setup_label(params)}. async-limited has the seed's "
                 "InMemoryRateLimiter; async has none.")


def loop_lag(results: dict[str, Any], colors: Colors) -> Chart | None:
    runs = R.main_setup(R.select(results, "burst"))
    scenario = "burst"
    if not R.values(runs, "app.loop_lag_max_ms"):
        # No burst: fall back to whichever scenario recorded loop lag, so the chart still says something.
        with_lag = [s for s in R.scenarios(results) if R.values(R.select(results, s), "app.loop_lag_max_ms")]
        if not with_lag:
            return None
        scenario = with_lag[0]
        runs = R.main_setup(R.select(results, scenario))
    ests = {v: bootstrap(R.values(rs, "app.loop_lag_max_ms")) for v, rs in R.by_variant(runs).items()}
    ests = {v: e for v, e in ests.items() if e.n}
    fig = figure(8.0, 1.6 + 0.45 * len(ests))
    ax = fig.subplots()
    names = list(ests)
    barh_with_ci(ax, names, [max(ests[v].median, 0.01) for v in names], [max(ests[v].low, 0.01) for v in names],
                 [max(ests[v].high, 0.01) for v in names], [colors(v) for v in names])
    if spans_decades([e.median for e in ests.values()]):
        ax.set_xscale("log")
    ax.set_xlabel("largest event-loop lag during the run (ms); whiskers: 95% CI, min..max under 5 runs")
    worst = max(ests, key=lambda v: ests[v].median)
    rest = [ests[v].median for v in names if v != worst]
    title = f"{scenario}: {worst} stalls the event loop for up to {ests[worst].median:.0f} ms" + (
        f"; the others stay at or under {max(rest):.0f} ms" if rest else "")
    suptitle(fig, title)
    return Chart("loop-lag", title, fig, f"{scenario} at {R.setup_label(runs[0].get('params'))}.")
