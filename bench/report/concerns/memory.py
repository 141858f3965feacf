"""Memory: does each connection pay for its own instance? Measured by the concurrency scenario: C users in a closed
loop against one warm process, its live instances of each watched class (weak references: an instance counts until
it is collected) and the RSS of its process tree."""

from __future__ import annotations

from typing import Any

from bench.report.concerns._common import ConcernRule, class_name, concern, not_watched, runs_of, watch_specs, watched
from bench.report.verdict import Verdict
from bench.results import runs as R

SHARED = 1  # live instances per process when every connection shares one


@concern("memory", "Do concurrent connections share the instances you watch, or does each pay for its own?",
         rule="Fails when, under C concurrent connections in a closed loop, one process held more than 1 live "
              "instance of a watched class at once (in any repetition): the instance is built per request or per "
              "connection, and memory grows with the load. RSS per connection is reported beside it.",
         measured_by="concurrency, --watch",
         fix="share one instance per process (built in the lifespan or a guarded lazy singleton) instead of one per "
             "request. The reference app: `bench run --variants per-request,lru_cache --scenarios concurrency`.")
def evaluate(results: dict[str, Any], rule: ConcernRule) -> Verdict:
    specs = watch_specs(results)
    if not specs:
        return not_watched(rule)
    runs = runs_of(results, "concurrency")
    if not runs:
        return rule.not_measured("no concurrency runs")
    users = int((runs[0].get("params") or {}).get("users") or 0)
    growth = [(float(R.get(r, "process.rss_peak_mb") or 0) - float(R.get(r, "process.rss_baseline_mb") or 0))
              for r in runs]
    per_conn = max(growth) / users if users else 0.0
    parts, failed, numbers = [], [], {}
    for spec in specs:
        peaks = [max((watched(r).get(spec) or {}).get("live_peak_per_process") or [0]) for r in runs]
        numbers[spec] = peaks
        peak = max(peaks)
        parts.append(f"`{class_name(spec)}`: at most {peak} alive per process")
        if peak > SHARED:
            failed.append(spec)
    measured = (f"{'; '.join(parts)} under {users} connections; RSS +{max(growth):.1f} MB at peak "
                f"({per_conn * 1024:.0f} KiB per connection)")
    setup = f"{users} users in a closed loop, {len(runs)} repetition(s)"
    if failed:
        return rule.failed(f"fails: {', '.join(class_name(s) for s in failed)} per connection", measured,
                           setup=setup, live_peaks=numbers, rss_growth_mb=growth)
    return rule.passed("passes: shared", measured, setup=setup, live_peaks=numbers, rss_growth_mb=growth)
