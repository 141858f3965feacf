"""Singleton: is each watched class built once per process? Measured by cold bursts: N concurrent first requests to
a freshly started process, so a lazily built instance is raced for by every request that finds it missing."""

from __future__ import annotations

from typing import Any

from bench.report.concerns._common import (
    ConcernRule,
    class_name,
    concern,
    not_watched,
    runs_of,
    site_phrase,
    threads_phrase,
    watch_specs,
    watched,
)
from bench.report.verdict import Verdict

EXPECTED_PER_PROCESS = 1  # what a singleton means


@concern("singleton", "Is each class you watch built once per process, even when the first requests come at once?",
         rule="A watched class is meant to exist once per process. Fails when a cold burst (N concurrent first "
              "requests to a fresh process) built more than 1 instance of it in one process, in any repetition; "
              "passes when every process built exactly 1. Not measured when it was never built.",
         measured_by="cold-burst, --watch",
         fix="build it once before serving (in the app's lifespan, on `app.state`), or guard the lazy check with a "
             "double-checked `threading.Lock`, or make the dependency that builds it `async def` (it then runs on "
             "the loop, where the check and the assignment cannot interleave). The reference app shows each: "
             "`bench run --variants naive-global,locked,async-dependency --scenarios cold-burst` builds 40, 1, 1.")
def evaluate(results: dict[str, Any], rule: ConcernRule) -> Verdict:
    specs = watch_specs(results)
    if not specs:
        return not_watched(rule)
    runs = runs_of(results, "cold-burst")
    if not runs:
        return rule.not_measured("no cold-burst runs")
    users = int((runs[0].get("params") or {}).get("users") or 0)
    failed, parts, details, numbers = [], [], [], {}
    never = []
    for spec in specs:
        per_rep = [watched(r).get(spec) or {} for r in runs]
        worst = max((max(w.get("per_process") or [0]) for w in per_rep), default=0)
        numbers[spec] = [w.get("per_process") or [] for w in per_rep]
        name = class_name(spec)
        if worst == 0:
            never.append(spec)
            parts.append(f"`{name}` never built")
            continue
        worst_run = max(per_rep, key=lambda w: max(w.get("per_process") or [0]))
        site = (worst_run.get("sites") or [{}])[0]
        counts = ", ".join(str(max(w.get("per_process") or [0])) for w in per_rep)
        where = f", constructed from {site_phrase(site)} {threads_phrase(site)}" if site.get("site") else ""
        if worst > EXPECTED_PER_PROCESS:
            failed.append(spec)
            parts.append(f"`{name}` built {worst} times in a cold burst of {users} (expected "
                         f"{EXPECTED_PER_PROCESS} per process){where}")
        else:
            parts.append(f"`{name}` built once per process in every cold burst of {users}{where}")
        details.append(f"`{spec}`: built per process in each repetition: {counts}.")
        for other in (worst_run.get("sites") or [])[1:4]:
            details.append(f"`{name}` also constructed from {site_phrase(other)} {threads_phrase(other)}: "
                           f"{other.get('count')} time(s).")
    measured = "; ".join(parts)
    setup = f"cold burst of N={users} first requests, {len(runs)} repetition(s)"
    if failed:
        return rule.failed(f"fails: {', '.join(class_name(s) for s in failed)} raced", measured, setup=setup,
                           details=details, per_process=numbers)
    if len(never) == len(specs):
        return rule.not_measured(f"{', '.join(never)} never built in a cold burst: check the --watch names "
                                 "(MODULE:CLASS of a class your app builds)", per_process=numbers)
    return rule.passed("passes: one per process", measured, setup=setup, details=details, per_process=numbers)
