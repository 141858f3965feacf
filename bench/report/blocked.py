"""The report's blocked-loop section: per variant the share of the load its event loop was blocked, the call
sites that blocked it (file:line, the code line, the library call, share of blocked time), the chart of where the
loop's time went, and the requests in flight during the longest blocks. None when no run has the figures
(results from before the sampler, or APP_BLOCKWATCH=0), so such reports render exactly as before."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bench.report.chartkit import Chart, Colors, style
from bench.report.charts_blocked import blocked_sites, site_where
from bench.report.metrics import grouped
from bench.results import blocked as B
from bench.results import runs as R
from bench.results.stats import bootstrap

TOP_SITES = 3
TOP_BLOCKS = 3
MIN_SHARE = 0.01  # of the load: a group blocked less than this gets no rows in the sites and blocks tables
MIN_SITE_SHARE = 0.02  # of the group's blocked time


@dataclass(frozen=True)
class Table:
    header: list[str]
    rows: list[list[str]]


@dataclass(frozen=True)
class BlockedSection:
    intro: str
    runs: Table
    sites: Table
    blocks: Table
    notes: list[str]
    chart: Chart | None


def _pct(v: float) -> str:
    return f"{v:.1%}" if v < 0.995 or v == 1 else f"{v:.2%}"


def _share_cell(runs: list[R.Run]) -> str:
    est = bootstrap([B.share_of_load(r) for r in runs])
    if not est.n:
        return "n/a"
    mid, low, high = _pct(est.median), _pct(est.low), _pct(est.high)
    return mid if low == high else f"{mid} [{low}, {high}]"


def _where(label: str | None) -> str:
    """A block's site label without the library call or the code line (the sites table has them)."""
    return (label or "-").split(" -> ")[0].split(": ")[0]


def _site_cell(site: dict[str, Any]) -> str:
    return f"`{site_where(site)}` ({site['share']:.0%})"


def _runs_row(key: tuple[str, str, str], runs: list[R.Run]) -> list[str]:
    scenario, variant, setup = key
    figures = [B.blocked_of(r) or {} for r in runs]
    sites, total = B.merged_sites(runs)
    own = sum(float(f.get("own_code_ms") or 0) for f in figures)
    hit = sum(B.requests_hit(r, (B.blocked_of(r) or {}).get("blocks") or []) for r in runs)
    sent = sum(len(R.get(r, "requests.t_send", []) or []) for r in runs)
    return [scenario, variant, setup, str(len(runs)), _share_cell(runs),
            f"{total / len(runs):,.0f}", f"{sum(int(f.get('block_count') or 0) for f in figures) / len(runs):,.3g}",
            f"{max(float(f.get('max_block_ms') or 0) for f in figures):,.0f}",
            f"{own / total:.0%}" if total else "-", _site_cell(sites[0]) if sites else "-",
            f"{hit} of {sent}" if sent else "-"]


def _sites_rows(key: tuple[str, str, str], runs: list[R.Run]) -> list[list[str]]:
    sites, _ = B.merged_sites(runs)
    return [[key[0], key[1], f"`{site_where(s)}`", f"`{s['code']}`" if s.get("code") else "-",
             f"`{s['calls']}`" if s.get("calls") else "-", "yes" if s.get("own_code") else "no",
             f"{s['per_run_ms']:,.0f}", f"{s['share']:.1%}"]
            for s in sites[:TOP_SITES] if s["share"] >= MIN_SITE_SHARE]


def _blocks_rows(key: tuple[str, str, str], runs: list[R.Run]) -> list[list[str]]:
    found = [(r, b) for r in runs for b in (B.blocked_of(r) or {}).get("blocks") or []]
    longest = sorted(found, key=lambda rb: float(rb[1]["duration_ms"]), reverse=True)[:TOP_BLOCKS]
    return [[key[0], key[1], str(int(r.get("repetition") or 0) + 1), f"{float(b['start_s']):.3f}",
             f"{float(b['duration_ms']):,.0f}", f"`{_where(b.get('site'))}`",
             f"{B.in_flight(r, b)} of {len(R.get(r, 'requests.t_send', []) or [])}"]
            for r, b in longest]


def blocked_section(results: dict[str, Any], colors: Colors) -> BlockedSection | None:
    groups = {k: [r for r in rs if B.blocked_of(r) is not None] for k, rs in grouped(results).items()}
    groups = {k: rs for k, rs in groups.items() if rs}
    if not groups:
        return None
    first = B.blocked_of(next(iter(groups.values()))[0]) or {}
    threshold, interval = float(first.get("threshold_ms") or 0), float(first.get("sample_interval_ms") or 0)
    blocked = {k: rs for k, rs in groups.items()
               if (bootstrap([B.share_of_load(r) for r in rs]).median or 0) >= MIN_SHARE}
    runs = Table(["scenario", "variant", "set-up", "reps", "blocked share of the load (median [interval])",
                  "blocked ms per run", "blocks per run", "longest block (ms)", "own code", "top call site",
                  "requests overlapping a block"],
                 [_runs_row(k, rs) for k, rs in groups.items()])
    sites = Table(["scenario", "variant", "call site", "code", "library call", "own code", "blocked ms per run",
                   "share of blocked time"], [row for k, rs in blocked.items() for row in _sites_rows(k, rs)])
    blocks = Table(["scenario", "variant", "rep", "start (s from first send)", "duration (ms)", "site",
                    "requests in flight"], [row for k, rs in blocked.items() for row in _blocks_rows(k, rs)])
    intro = (f"The app's blocked-loop sampler: a heartbeat on the event loop every few ms and a watchdog thread that "
             f"samples the loop thread's stack every {interval:g} ms while the heartbeat is over {threshold:g} ms "
             "late. A block is one such stretch, in which the loop ran nothing else; its call site is the innermost "
             "frame of the app's own code and the library call below it. The share is of the load, first send to "
             "last answer, per worker's loop.")
    notes = ["The sites and blocks tables list the set-ups blocked at least "
             f"{MIN_SHARE:.0%} of the load; a site's share is of its set-up's blocked time (all repetitions).",
             "A request overlaps a block when it was sent before the block ended and answered after it began: its "
             "latency includes (part of) the block. results.json keeps each run's 100 longest blocks."]
    if any(int((B.blocked_of(r) or {}).get("workers") or 1) > 1 for rs in groups.values() for r in rs):
        notes.append("With several workers each has its own loop; a block holds only the requests on its worker, "
                     "while the overlap counts every request in flight at the time.")
    with style():
        chart = blocked_sites(results, colors)
    return BlockedSection(intro, runs, sites, blocks, notes, chart)
