"""Where the event loop's time went: blocked milliseconds per call site per variant, from the blocked-loop
sampler's figures in results.json (drawn only when a run has them, so older results render as before)."""

from __future__ import annotations

from typing import Any

import numpy as np

from bench.report.chartkit import Chart, Colors, figure, spans_decades, suptitle
from bench.results import blocked as B
from bench.results import runs as R

SITES_PER_VARIANT = 3
MIN_SHARE = 0.02  # sites under this share of a variant's blocked time are left to the tables


def site_where(site: dict[str, Any]) -> str:
    """`file:line function`, or the pseudo-site's description (the loop idle, no sample)."""
    if site.get("file") and site.get("line"):
        return f"{site['file']}:{site['line']} {site.get('function') or ''}".rstrip()
    return str(site.get("function") or site.get("site") or "?")


def _calls(site: dict[str, Any]) -> str:
    """` -> Class.method`: the library call the site made (its qualified name only: the file is in the tables)."""
    return f" -> {str(site['calls']).rsplit(' ', 1)[-1]}" if site.get("calls") else ""


def chart_runs(results: dict[str, Any]) -> tuple[str, list[R.Run]] | None:
    """The burst's main set-up when it has blocked-loop figures, else the scenario with the most blocked time."""
    with_data = {s: R.main_setup([r for r in R.select(results, s) if B.blocked_of(r) is not None])
                 for s in R.scenarios(results)}
    with_data = {s: rs for s, rs in with_data.items() if rs}
    if not with_data:
        return None
    if "burst" in with_data:
        return "burst", with_data["burst"]
    worst = max(with_data, key=lambda s: sum(float((B.blocked_of(r) or {}).get("blocked_ms") or 0)
                                             for r in with_data[s]))
    return worst, with_data[worst]


def blocked_sites(results: dict[str, Any], colors: Colors) -> Chart | None:
    picked = chart_runs(results)
    if picked is None:
        return None
    scenario, runs = picked
    rows: list[tuple[str, str, float, float]] = []  # (variant, label, ms per run, share of the variant's)
    shares: dict[str, float] = {}
    none: set[str] = set()  # variants with no block at all
    threshold = 0.0
    for variant, rs in R.by_variant(runs).items():
        sites, total = B.merged_sites(rs)
        shares[variant] = float(np.median([s for s in (B.share_of_load(r) for r in rs) if s is not None] or [0.0]))
        threshold = max(threshold, *(float((B.blocked_of(r) or {}).get("threshold_ms") or 0) for r in rs))
        top = [s for s in sites if s["share"] >= MIN_SHARE][:SITES_PER_VARIANT]
        if not top:
            rows.append((variant, "no block over the threshold" if not total else "no site over "
                         f"{MIN_SHARE:.0%} of it", 0.0, 0.0))
        if not total:
            none.add(variant)
        rows += [(variant, site_where(s) + _calls(s), s["per_run_ms"], s["share"]) for s in top]
    fig = figure(9.0, 1.8 + 0.5 * len(rows))
    ax = fig.subplots()
    y = np.arange(len(rows))[::-1]
    values = [max(ms, 0.0) for _, _, ms, _ in rows]
    ax.barh(y, values, color=[colors(v) for v, *_ in rows], alpha=0.85)
    log = spans_decades([v for v in values if v > 0])
    if log:
        ax.set_xscale("log")
    for yi, (_v, _label, ms, share) in zip(y, rows, strict=True):
        text = f" {ms:,.0f} ms ({share:.0%})" if ms > 0 else " none"
        ax.text(ms if ms > 0 else (ax.get_xlim()[0] if log else 0), yi, text, va="center", fontsize=7.5)
    ax.set_yticks(y, [f"{v}\n{label}" for v, label, _, _ in rows], fontsize=7.5)
    ax.grid(axis="y", visible=False)
    ax.set_xlabel("event loop blocked (ms per run, mean of the repetitions)\n"
                  "in brackets: share of the variant's blocked time")
    ax.set_xlim(right=ax.get_xlim()[1] * (3 if log else 1.25))
    worst = max(shares, key=shares.__getitem__)
    top_sites, _ = B.merged_sites(R.by_variant(runs)[worst])
    rest = [v for v in shares if v != worst]
    title = f"{scenario}: {worst}'s loop was blocked {shares[worst]:.0%} of the load"
    if shares[worst] > 0 and top_sites:
        title += f", {top_sites[0]['share']:.0%} of it at {site_where(top_sites[0])}{_calls(top_sites[0])}"
    if rest:
        title += "; " + ", ".join(f"{v} {shares[v]:.1%}" if shares[v] or v not in none else f"{v} none"
                                  for v in rest)
    suptitle(fig, title)
    caption = (f"{scenario} at {R.setup_label(runs[0].get('params'))}. A block is a stretch over {threshold:g} ms in "
               "which the loop ran nothing else; its site is the innermost frame of the app's own code on the loop "
               "thread and the library call below it (up to three sites per variant).")
    return Chart("blocked-sites", title, fig, caption)
