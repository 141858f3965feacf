"""Burst overlap: do N requests at once overlap their upstream waits, or are they served one after another?
Measured by warm bursts: the makespan (first send to last answer) against one upstream call alone (L, from the
backend probe) and against N x L, what one-at-a-time serving takes."""

from __future__ import annotations

from typing import Any

from bench.report.concerns._common import ConcernRule, concern, runs_of, secs
from bench.report.verdict import Verdict
from bench.results import runs as R
from bench.results.stats import median


def references(results: dict[str, Any], run: R.Run) -> tuple[float, float, float]:
    """(L, concurrent, serialized) in seconds: one upstream call alone; N at once straight at the backend (the
    probe's burst when it sent the same N, else L); N x L."""
    users = int((run.get("params") or {}).get("users") or 0)
    probe = R.get(results, "probes.backend") or {}
    latency = float(probe.get("latency_s") or 0.0) or float((run.get("params") or {}).get("latency_ms") or 0) / 1000
    concurrent = latency
    if int(probe.get("n") or 0) == users and probe.get("burst_makespan_s"):
        concurrent = max(latency, float(probe["burst_makespan_s"]))
    return latency, concurrent, users * latency


def serialized_degree(makespan: float, concurrent: float, serialized: float) -> float:
    """0: as fast as all at once; 1: one after another."""
    span = serialized - concurrent
    return (makespan - concurrent) / span if span > 0 else 0.0


HALF_WAY = 0.5  # closer to one-after-another than to all-at-once


@concern("burst-overlap", "Do concurrent requests overlap their upstream waits, or queue behind each other?",
         rule="Fails when a warm burst of N took at least half-way from all-at-once to one-after-another: makespan "
              ">= (T + N x L) / 2, where L is one upstream call alone and T the same N sent at once straight to the "
              "backend (the backend probe); median over the repetitions.",
         measured_by="burst, and the backend probe",
         fix="nothing may hold the requests in single file: no blocking call on the loop (see event-loop), no lock "
             "or single worker thread around the upstream call. The reference app: `bench run --variants sync,async "
             "--scenarios burst` (sync: ~N x L; async: ~L).")
def evaluate(results: dict[str, Any], rule: ConcernRule) -> Verdict:
    runs = [r for r in runs_of(results, "burst") if R.get(r, "metrics.makespan_s")]
    if not runs:
        return rule.not_measured("no warm burst")
    makespans = [float(r["metrics"]["makespan_s"]) for r in runs]
    makespan = median(makespans)
    latency, concurrent, serialized = references(results, runs[0])
    users = int((runs[0].get("params") or {}).get("users") or 0)
    if latency <= 0 or users < 2:
        return rule.not_measured("no upstream latency to compare with")
    degree = serialized_degree(makespan, concurrent, serialized)
    measured = (f"burst of {users}: {secs(makespan)} against {secs(concurrent)} if concurrent and "
                f"{secs(serialized)} if one after another (one upstream call alone: {latency * 1000:.0f} ms)")
    setup = f"warm burst of N={users}, {len(runs)} repetition(s): {', '.join(secs(m) for m in makespans)}"
    details = [f"Degree of serialization {degree:.2f} (0: all at once, 1: one after another)."]
    numbers = {"makespan_s": makespan, "latency_s": latency, "concurrent_s": concurrent,
               "serialized_s": serialized, "degree": degree}
    if degree >= HALF_WAY:
        return rule.failed("fails: serialized", measured, setup=setup, details=details, **numbers)
    return rule.passed("passes: overlapped", measured, setup=setup, details=details, **numbers)
