"""C7: the cache is per process: 4 workers build 4 agents and their in-memory limiters add up (~4x). Measured:
agents per worker pid, and the aggregate rate upstream saw (the mock's arrival times; received / planned duration
when the run has none) against one limiter's rate and W x that rate."""

from __future__ import annotations

import math
from typing import Any

from bench.report.claims._common import claim, first_params, limiter_rps, variant_runs
from bench.report.verdict import ClaimRule, Verdict
from bench.results import runs as R
from bench.results.stats import bootstrap


@claim("C7", "The cache is per process: 4 workers build 4 agents, and their limiters add up (~4x).",
       rule="Reproduced when W worker processes build >= W agents (one per pid) and the aggregate upstream rate "
            "exceeds 1.5x one limiter's rate and reaches >= 75% of min(offered rate, W x limiter rate); "
            "reproduced only in part when it exceeds one limiter's rate without nearing W x. "
            "The shared-limiter remedy is not measured.",
       measured_by="workers (4): async-limited")
def evaluate(results: dict[str, Any], rule: ClaimRule) -> Verdict:
    runs = variant_runs(results, "workers", "async-limited")
    if not runs:
        return rule.not_measured("no `workers` runs of `async-limited`")
    params = first_params(runs)
    w, rps, offered = int(params.get("workers") or 1), limiter_rps(params), float(params.get("rate") or 0)
    duration = float(params.get("duration_s") or 0)
    per_run = [(len({x.get("pid") for x in R.get(r, "app.workers", [])}),
                sum(int(x.get("constructions") or 0) for x in R.get(r, "app.workers", []))) for r in runs]
    pids, agents = bootstrap([p for p, _ in per_run]), bootstrap([a for _, a in per_run])
    # The mock's own arrival times give the rate upstream saw; received / planned duration is the fallback.
    measured_rates = R.values(runs, "upstream.rate_mean_rps")
    agg = bootstrap(measured_rates if measured_rates else
                    [x / duration for x in R.values(runs, "upstream.received")] if duration else [])
    if agents.n == 0 or (pids.median == 0 and math.isnan(agg.median)):
        return rule.not_measured("workers runs recorded neither per-worker stats nor upstream counts")
    ceiling = w * rps
    expect = min(offered, ceiling) if offered else ceiling
    measured = (f"{pids.median:g} worker processes built {agents.median:g} agents in all; aggregate upstream rate "
                f"{agg.fmt('.3g', ' req/s')} against one limiter's {rps:g} req/s ({w} x {rps:g} = {ceiling:g})")
    per_process = pids.median == w and agents.median >= w
    adds_up = not math.isnan(agg.median) and agg.median > 1.5 * rps  # more gets through than one limiter allows
    near_ceiling = adds_up and agg.median >= 0.75 * expect
    details = [f"Offered load {offered:g} req/s; each worker's in-memory limiter knows nothing of the others.",
               "Not measured: whether a shared limiter (e.g. Redis) keeps the aggregate under the limit; the app has "
               "no shared limiter yet."]
    splits = [R.get(r, "app.requests_by_worker") for r in runs if R.get(r, "app.requests_by_worker")]
    if splits:
        split = "; ".join("/".join(str(n) for n in sp) for sp in splits)
        details.append(f"Requests per worker in each repetition: {split}. The workers share one listening socket "
                       "and the kernel hands each new connection to whichever worker accepts first, so the load "
                       "(and with it the sum of the limiters) is uneven.")
    if agents.median > w:
        details.append(f"{agents.median - w:g} extra constructions: the per-worker cold start raced (see C2).")
    setup = f"{R.setup_label(params)} ({R.profile_of(results)} profile)"
    numbers = {"workers": w, "agents": agents.median, "aggregate_rps": agg.median, "ceiling": ceiling}
    times = agg.median / rps if rps else math.nan
    if per_process and near_ceiling:
        return rule.verdict("reproduced", "reproduced (the shared-limiter half: not measured)", measured,
                            setup=setup, details=details, **numbers)
    if per_process and adds_up:
        return rule.verdict("partial", f"reproduced only in part: one agent per worker, and the limiters add up, "
                            f"but to {times:.2g}x one limiter's rate rather than {w}x", measured, setup=setup,
                            details=details, **numbers)
    if per_process or adds_up:
        half = "one agent per worker process" if per_process else "the aggregate rate exceeding one limiter"
        return rule.verdict("partial", f"reproduced only for {half}", measured, setup=setup, details=details,
                            **numbers)
    return rule.verdict("not reproduced", "not reproduced", measured, setup=setup, details=details, **numbers)
