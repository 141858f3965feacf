"""C7: the cache is per process: 4 workers build 4 agents and their in-memory limiters add up (~4x); a store such
as Redis is needed to share. Measured from a cold start: agents per worker pid beside the measured requests each
served, and the aggregate rate upstream saw (the mock's arrival times; received / planned duration when the run has
none) against one limiter's rate and W x that, at the largest W. The second half: the same load through a limiter
shared in Redis (`async-redis-limited`) at every W, its sustained rate upstream = (arrivals - one bucket) / their
span, which holds at <= 1.1 x one limiter's rate with no error seen by users, once warm and through the cold start
(judged apart: the first repetition meets the app cold)."""

from __future__ import annotations

import math
from typing import Any

from bench.report.claims._common import claim, first_params, limiter_bucket, limiter_rps, variant_runs
from bench.report.verdict import ClaimRule, Status, Verdict
from bench.results import runs as R
from bench.results.stats import Estimate, bootstrap


def _per_worker(runs: list[R.Run]) -> list[list[tuple[Any, int, int | None]]]:
    """Per run, (pid, agents built, measured requests served) per worker. The app is started cold and kept over the
    repetitions, so both count from its start: a pid's served requests add up over the runs before it."""
    out: list[list[tuple[Any, int, int | None]]] = []
    served_by_pid: dict[Any, int] = {}
    for run in sorted(runs, key=lambda r: int(r.get("repetition") or 0)):
        workers = R.get(run, "app.workers", []) or []
        served = R.get(run, "app.requests_by_worker")
        aligned = isinstance(served, list) and len(served) == len(workers)
        row = []
        for i, w in enumerate(workers):
            pid = w.get("pid")
            if aligned:
                served_by_pid[pid] = served_by_pid.get(pid, 0) + int(served[i])
            row.append((pid, int(w.get("constructions") or 0), served_by_pid[pid] if aligned else None))
        out.append(row)
    return out


def _own_agents(per_worker: list[tuple[Any, int, int | None]]) -> int:
    """Workers that served measured requests and built their own agent; one that served nothing does not count."""
    return sum(1 for _, built, served in per_worker if built >= 1 and (served is None or served > 0))


@claim("C7", "The cache is per process: 4 workers build 4 agents, and their limiters add up (~4x).",
       rule="Counted from the app's cold start (the warm-up only checks that every worker answers; agents and "
            "measured requests per worker add up over the repetitions of one app). One agent per worker holds when, "
            "in every repetition, each of the W workers has served measured requests and built exactly one agent (a "
            "worker that served nothing does not count; one that built several shows the cache per process, not "
            "W agents). The limiters add up when the aggregate upstream rate "
            "exceeds 1.5x one limiter's rate, and reach W x when it is >= 75% of min(offered rate, W x limiter rate). "
            "Judged at the largest W measured. Reproduced when both halves hold; reproduced only in part when one "
            "does, or the rate exceeds one limiter's without nearing W x. The remedy (a limiter shared in Redis, "
            "`async-redis-limited`, every W measured) holds when its sustained upstream rate, (arrivals - one "
            "bucket) / their span, is <= 1.1x one limiter's rate at every W and users saw no error, both once warm "
            "(the repetitions after the first, on the same app) and through the cold start (the first); the claim "
            "is then reproduced only if the per-process half is too, and a remedy that does not hold (warm or "
            "cold) makes it partial at best.",
       measured_by="workers (W = 1..8): async-limited, async-redis-limited")
def evaluate(results: dict[str, Any], rule: ClaimRule) -> Verdict:
    verdict = _per_process(results, rule)
    shared = _shared(results)
    if shared is None:
        return verdict
    holds, text, rows = shared
    details = (*verdict.details, *rows)
    numbers = {**verdict.numbers, "shared_holds": holds}
    status: Status
    if verdict.status == "not measured":
        status = "partial" if holds else "not reproduced"
        return rule.verdict(status, f"the per-process half not measured; {text}", verdict.measured, setup=verdict.setup,
                            details=details, **numbers)
    head = verdict.verdict.replace(" (the shared-limiter half: not measured)", "")
    if verdict.status == "reproduced":
        status = "reproduced" if holds else "partial"
    else:
        status = "partial" if holds or verdict.status == "partial" else "not reproduced"
    return rule.verdict(status, f"{head}; {text}", verdict.measured, setup=verdict.setup, details=details, **numbers)


def _shared(results: dict[str, Any]) -> tuple[bool, str, list[str]] | None:
    """The remedy, per W: the sustained upstream rate through the Redis-shared limiter and the users' errors, in
    the steady state (the repetitions after the first, on the warm app) and through the cold start (the first)."""
    runs = variant_runs(results, "workers", "async-redis-limited")
    if not runs:
        return None
    by_w: dict[int, list[R.Run]] = {}
    for run in runs:
        by_w.setdefault(int(R.get(run, "params.workers") or 1), []).append(run)
    rps = limiter_rps(first_params(runs))
    line = 1.1 * rps
    rows: list[str] = []
    steady_worst, cold_worst, steady_errors, cold_errors, cold_429 = 0.0, 0.0, 0.0, 0.0, 0
    for w in sorted(by_w):
        cold, warm = split_cold(by_w[w])
        # Without a warm repetition (--repeat 1) the cold one is all there is to judge the steady state by.
        steady = warm or cold
        rate = _rate(steady)
        errors = sum(R.user_errors(r) or 0.0 for r in steady)
        limited = sum(int(R.get(r, "upstream.rate_limited") or 0) for r in steady)
        steady_worst = max(steady_worst, rate.median if rate.n else math.inf)
        steady_errors += errors
        rows.append(f"Shared limiter, {w} worker{'s' if w != 1 else ''}, "
                    f"{'warm (repetitions 2..)' if warm else 'cold start only'}: sustained upstream rate "
                    f"{rate.fmt('.3g', ' req/s')}, {limited:g} upstream 429s, {errors:g} errors seen by users "
                    f"(over {len(steady)} repetition{'s' if len(steady) != 1 else ''}).")
        if warm and cold:
            c_rate = _rate(cold)
            c_errors = sum(R.user_errors(r) or 0.0 for r in cold)
            c_limited = sum(int(R.get(r, "upstream.rate_limited") or 0) for r in cold)
            c_retries = sum(int(R.get(r, "upstream.retries") or 0) for r in cold)
            cold_worst = max(cold_worst, c_rate.median if c_rate.n else math.inf)
            cold_errors, cold_429 = cold_errors + c_errors, cold_429 + c_limited
            rows.append(f"Shared limiter, {w} worker{'s' if w != 1 else ''}, cold start (the first repetition): "
                        f"{c_rate.median:.3g} req/s sustained, {c_limited} upstream 429s ({c_retries} SDK retries, "
                        f"which no limiter sees), {c_errors:g} errors seen by users.")
    ws = "/".join(str(w) for w in sorted(by_w))
    steady_holds = steady_worst <= line and steady_errors == 0
    cold_holds = cold_worst <= line and cold_errors == 0
    if not steady_holds:
        return False, (f"a limiter shared in Redis did not hold: up to {steady_worst:.3g} req/s across {ws} workers "
                       f"(line 1.1 x {rps:g}), {steady_errors:g} errors seen by users"), rows
    if not cold_holds:
        rows.append("Through a cold start each worker builds its agents (several at once where lru_cache races, C2) "
                    "while requests arrive: the event loop stalls, requests that took their permits in turn reach "
                    "the upstream together, its 429s are retried by the SDK underneath the limiter, and the retries "
                    "draw more 429s. A shared limiter paces permits, not the moment a stalled process sends.")
        return False, (f"a limiter shared in Redis held {ws} workers to {steady_worst:.3g} req/s at most once warm "
                       f"(<= 1.1 x {rps:g}), but not through a cold start: up to {cold_worst:.3g} req/s, "
                       f"{cold_429} upstream 429s, {cold_errors:g} errors seen by users"), rows
    return True, (f"a limiter shared in Redis held {ws} workers to {max(steady_worst, cold_worst):.3g} req/s at most "
                  f"(<= 1.1 x {rps:g})"), rows


def split_cold(runs: list[R.Run]) -> tuple[list[R.Run], list[R.Run]]:
    """(the first repetition, the rest): the app is started once per W and kept, so the first meets it cold."""
    cold = [r for r in runs if int(r.get("repetition") or 0) == 0]
    return cold, [r for r in runs if int(r.get("repetition") or 0) > 0]


def _rate(runs: list[R.Run]) -> Estimate:
    return bootstrap([x for x in map(sustained_rps, runs) if not math.isnan(x)])


def sustained_rps(run: R.Run) -> float:
    """Arrivals upstream beyond the limiter's first bucket, per second of their span (NaN without arrival times)."""
    received, span = R.get(run, "upstream.received"), R.get(run, "upstream.arrival_span_s")
    if not isinstance(received, int | float) or not isinstance(span, int | float) or span <= 0:
        return math.nan
    return max(0.0, received - limiter_bucket(dict(run.get("params") or {}))) / span


def _per_process(results: dict[str, Any], rule: ClaimRule) -> Verdict:
    every = variant_runs(results, "workers", "async-limited")
    if not every:
        return rule.not_measured("no `workers` runs of `async-limited`")
    # Judged at the largest W (the claim's 4, or more); the smaller ones show it growing, in the chart.
    top = max(int(R.get(r, "params.workers") or 1) for r in every)
    runs = [r for r in every if int(R.get(r, "params.workers") or 1) == top]
    params = first_params(runs)
    w, rps, offered = int(params.get("workers") or 1), limiter_rps(params), float(params.get("rate") or 0)
    duration = float(params.get("duration_s") or 0)
    per_run = _per_worker(runs)
    pids = bootstrap([len({pid for pid, _, _ in pw}) for pw in per_run])
    agents = bootstrap([sum(b for _, b, _ in pw) for pw in per_run])
    own = [_own_agents(pw) for pw in per_run]
    # The mock's own arrival times give the rate upstream saw; received / planned duration is the fallback.
    measured_rates = R.values(runs, "upstream.rate_mean_rps")
    agg = bootstrap(measured_rates if measured_rates else
                    [x / duration for x in R.values(runs, "upstream.received")] if duration else [])
    if agents.n == 0 or (pids.median == 0 and math.isnan(agg.median)):
        return rule.not_measured("workers runs recorded neither per-worker stats nor upstream counts")
    ceiling = w * rps
    expect = min(offered, ceiling) if offered else ceiling
    idle = [sum(1 for _, _, served in pw if served == 0) for pw in per_run]
    measured = (f"{pids.median:g} worker processes built {agents.median:g} agents in all; workers that served "
                f"requests and built their own agent: {'/'.join(str(k) for k in own)} of {w} per repetition; "
                f"aggregate upstream rate {agg.fmt('.3g', ' req/s')} against one limiter's {rps:g} req/s "
                f"({w} x {rps:g} = {ceiling:g})")
    # "4 workers build 4 agents": every worker served and built exactly one. Each worker building its own (one or
    # more) shows the cache is per process; more than one in a worker is the cold start racing lru_cache (C2).
    all_served = all(k == w for k in own) and pids.median == w
    one_each = all_served and all(built == 1 for pw in per_run for _, built, _ in pw)
    # Per process needs processes: at least two workers each with its own agent.
    own_each = all(built >= 1 for pw in per_run for _, built, served in pw if served) and all(k >= 2 for k in own)
    adds_up = not math.isnan(agg.median) and agg.median > 1.5 * rps  # more gets through than one limiter allows
    near_ceiling = adds_up and agg.median >= 0.75 * expect
    details = [f"Offered load {offered:g} req/s; each worker's in-memory limiter knows nothing of the others, and "
               "each ChatAgent has its own limiter.",
               ]
    for i, pw in enumerate(per_run):
        if any(served is not None for _, _, served in pw):
            shown = ", ".join(f"{served} requests / {built} agent{'s' if built != 1 else ''}"
                              for _, built, served in pw)
            details.append(f"After repetition {i + 1}, per worker since the app started: {shown}"
                           + (f"; {idle[i]} served nothing" if idle[i] else "") + ".")
    if any(idle):
        details.append("The workers share one listening socket and the kernel hands each new connection to whichever "
                       "worker accepts first, so the load (and with it the sum of the limiters) is uneven; a worker "
                       "that served nothing is not counted as having built its agent (an agent it holds came from "
                       "a warm-up, not from a request).")
    if agents.median > w:
        details.append(f"{agents.median:g} agents, so {agents.median:g} limiters, where the claim expects {w}: the "
                       "first requests each worker got raced its lru_cache before the first agent was built (see C2).")
    setup = f"{R.setup_label(params)} ({R.profile_of(results)} profile)"
    numbers = {"workers": w, "agents": agents.median, "own_agents": own, "idle_workers": idle,
               "aggregate_rps": agg.median, "ceiling": ceiling, "one_agent_per_worker": one_each}
    times = agg.median / rps if rps else math.nan
    if one_each and near_ceiling:
        return rule.verdict("reproduced", "reproduced (the shared-limiter half: not measured)", measured,
                            setup=setup, details=details, **numbers)
    if one_each:
        agents_text = "one agent per worker"
    elif own_each and not all_served:
        agents_text = (f"each worker that served requests built its own agent, but only {min(own)} of {w} served any "
                       "in some repetition")
    elif own_each:
        agents_text = (f"every worker built its own, but {agents.median:g} agents in all, not {w} (the cold start "
                       "raced lru_cache, C2)")
    else:
        agents_text = ""
    if adds_up:
        limiters = f"{agents.median:g} limiters" if agents.median > w else "the limiters"
        rate_text = (f"{limiters} add up to {times:.2g}x one limiter's rate" if near_ceiling and not one_each
                     else f"the limiters add up, but to {times:.2g}x one limiter's rate rather than {w}x")
    else:
        rate_text = ""
    if agents_text and rate_text:
        return rule.verdict("partial", f"reproduced only in part: {agents_text}; {rate_text}", measured, setup=setup,
                            details=details, **numbers)
    if agents_text or rate_text:
        half = agents_text or "the aggregate rate exceeding one limiter"
        return rule.verdict("partial", f"reproduced only for {half}", measured, setup=setup, details=details,
                            **numbers)
    return rule.verdict("not reproduced", "not reproduced", measured, setup=setup, details=details, **numbers)
