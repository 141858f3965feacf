"""Workers: what running W uvicorn worker processes does to the app. Measured by the workers scenario: steady
arrivals against W processes started cold, each read separately (instances built per process, requests served)."""

from __future__ import annotations

from typing import Any

from bench.report.concerns._common import ConcernRule, class_name, concern, runs_of, watch_specs, watched
from bench.report.verdict import Verdict
from bench.results import runs as R


@concern("workers", "Does your app work as W worker processes, and what does each process hold?",
         rule="Fails when users got errors from the app run as W worker processes (the mock sets no limit in this "
              "scenario, so an error is the app's). Passes otherwise, with the instances of each watched class per "
              "process: W processes hold W copies, so in-process caches and rate limiters are W separate ones.",
         measured_by="workers",
         fix="state that must be shared across processes (a rate limit, a cache, sessions) belongs outside them: "
             "Redis or the like. The reference app: `bench run --variants async-limited,async-redis-limited "
             "--scenarios workers` (limiters per process add up; a shared one holds).")
def evaluate(results: dict[str, Any], rule: ConcernRule) -> Verdict:
    runs = runs_of(results, "workers")
    if not runs:
        return rule.not_measured("no workers runs")
    workers = int((runs[0].get("params") or {}).get("workers") or 0)
    errors = sum(int(R.user_errors(r) or 0) for r in runs)
    requests = sum(int(R.get(r, "metrics.requests") or 0) for r in runs)
    parts = []
    for spec in watch_specs(results):
        per_rep = [(watched(r).get(spec) or {}).get("per_process") or [] for r in runs]
        last = per_rep[-1] if per_rep else []
        parts.append(f"`{class_name(spec)}` built {' / '.join(str(n) for n in last) or 'n/a'} per process")
    spread = [R.get(r, "app.requests_by_worker") or [] for r in runs]
    served = f"requests per process {' / '.join(str(n) for n in spread[-1])}" if spread and spread[-1] else ""
    measured = "; ".join([f"{workers} workers: users saw {errors} errors in {requests} requests", *parts,
                          *([served] if served else [])])
    setup = f"{workers} worker processes started cold, steady arrivals, {len(runs)} repetition(s)"
    details = [f"{workers} processes hold {workers} copies of every module-level object: in-process caches and "
               "rate limiters are per process (a limit of R per process admits up to W x R)."]
    raced = [class_name(s) for s in watch_specs(results)
             if any(n > 1 for r in runs for n in (watched(r).get(s) or {}).get("per_process") or [])]
    if raced:
        details.append(f"More than one {', '.join(raced)} in a process: the race the singleton concern judges (these "
                       "processes started cold under load).")
    if errors:
        return rule.failed(f"fails: {errors} errors with {workers} workers", measured, setup=setup,
                           details=details, errors=errors)
    return rule.passed(f"passes: {workers} independent processes", measured, setup=setup, details=details,
                       errors=errors)
