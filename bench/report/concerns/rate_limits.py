"""Rate limits: when the provider answers 429, do the app's users see errors? Measured by the steady scenario:
arrivals at a fixed rate against the embedded mock limited to a named tier (bench.mock.config.TIERS), counting the
429s the mock sent and the errors the users got."""

from __future__ import annotations

from typing import Any

from bench.report.concerns._common import ConcernRule, concern, runs_of
from bench.report.verdict import Verdict
from bench.results import runs as R


@concern("rate-limits", "When your provider's rate limit answers 429, do your users see errors?",
         rule="Fails when, in the steady scenario against a mock limited to the tier, users got errors while the "
              "upstream answered 429 (summed over the repetitions): the app passed the provider's limit on to its "
              "users instead of absorbing it (retrying after the 429's retry-after, or pacing its calls). Passes "
              "when users saw no error, however many 429s the upstream sent.",
         measured_by="steady, against the embedded mock at the tier",
         fix="pace the calls to the tier (LangChain's `InMemoryRateLimiter`, one per process: a shared one across "
             "workers) and let the SDK retry 429s (`max_retries`). The reference app: `bench run --variants "
             "async,async-limited --scenarios steady`.")
def evaluate(results: dict[str, Any], rule: ConcernRule) -> Verdict:
    runs = runs_of(results, "steady")
    if not runs:
        return rule.not_measured("no steady runs")
    if any(r.get("upstream") is None for r in runs):
        return rule.not_measured("needs the embedded mock (its 429 counts); this run used a real backend")
    params = runs[0].get("params") or {}
    tier = str(params.get("upstream_tier") or (f"{params.get('upstream_limit_rps'):g} req/s"
                                              if params.get("upstream_limit_rps") else "no limit"))
    rate, duration = float(params.get("rate") or 0), float(params.get("duration_s") or 0)
    limited = sum(int(R.get(r, "upstream.rate_limited") or 0) for r in runs)
    errors = sum(int(R.user_errors(r) or 0) for r in runs)
    requests = sum(int(R.get(r, "metrics.requests") or 0) for r in runs)
    p50 = R.values(runs, "metrics.latency_ms.p50")
    p95 = R.values(runs, "metrics.latency_ms.p95")
    latency = (f"; latency p50 {max(p50):.0f} ms, p95 {max(p95):.0f} ms (worst repetition)" if p50 and p95 else "")
    measured = (f"{tier}: {limited} 429s upstream, users saw {errors} errors in {requests} requests over "
                f"{len(runs)} repetition(s){latency}")
    setup = f"{rate:g} arrivals/s for {duration:g} s against the mock at {tier}"
    kinds: dict[str, int] = {}
    for r in runs:
        for kind, n in (R.get(r, "metrics.errors") or {}).items():
            kinds[kind] = kinds.get(kind, 0) + int(n)
    details = [f"Errors users saw: {', '.join(f'{k} x{n}' for k, n in kinds.items())}."] if kinds else []
    numbers = {"rate_limited": limited, "errors": errors, "requests": requests, "tier": tier}
    if errors and limited:
        return rule.failed(f"fails: users saw {errors} errors", measured, setup=setup, details=details, **numbers)
    if errors:
        details.append("The errors came without a 429 upstream: not the rate limit (see the runs table).")
    return rule.passed("passes: 429s absorbed" if limited else "passes: no 429 reached users", measured,
                       setup=setup, details=details, **numbers)
