"""C9: `GET /api/debug/agent-cache` reports cache_info (hits, misses, maxsize, currsize) and the agent's id.
Measured: the endpoint's body after each cold burst of `lru_cache`, against the harness's own counts (misses =
constructions, hits + misses = provider calls)."""

from __future__ import annotations

import re
from typing import Any

from bench.report.claims._common import claim, cold_setup, variant_runs
from bench.report.verdict import ClaimRule, Verdict
from bench.results import runs as R

_CACHE_INFO = re.compile(r"(\w+)=(\w+)")


@claim("C9", "`GET /api/debug/agent-cache` reports cache_info (hits, misses, maxsize, currsize) and the id.",
       rule="Reproduced when, after every cold burst of `lru_cache`, the endpoint returns all four cache_info "
            "fields and an integer agent_id, misses equal the constructions counted and hits + misses the "
            "provider calls.",
       measured_by="cold-burst: lru_cache (app.agent_cache)")
def evaluate(results: dict[str, Any], rule: ClaimRule) -> Verdict:
    runs = [r for r in variant_runs(results, "cold-burst", "lru_cache") if R.get(r, "app.agent_cache")]
    if not runs:
        return rule.not_measured("no `app.agent_cache` in cold-burst runs of `lru_cache`")
    rows, problems = [], []
    for r in runs:
        body = r["app"]["agent_cache"]
        info = dict(_CACHE_INFO.findall(str(body.get("cache_info", ""))))
        if not {"hits", "misses", "maxsize", "currsize"} <= set(info) or not isinstance(body.get("agent_id"), int):
            problems.append(f"repetition {r.get('repetition')}: response lacks cache_info fields or agent_id")
            continue
        hits, misses = int(info["hits"]), int(info["misses"])
        built, calls = R.get(r, "app.constructions"), R.get(r, "app.after.provider_calls")
        rows.append((hits, misses, built, calls))
        if built is not None and misses != built:
            problems.append(f"repetition {r.get('repetition')}: misses {misses} but {built} constructions counted")
        if calls is not None and hits + misses != calls:
            problems.append(f"repetition {r.get('repetition')}: hits + misses = {hits + misses} but {calls} "
                            "provider calls counted")
    measured = "; ".join(f"hits={h}, misses={m} vs {b} constructions, {c} provider calls" for h, m, b, c in rows)
    if not rows:
        return rule.verdict("not reproduced", "not reproduced", "the endpoint's body lacks the documented fields",
                            details=problems)
    if problems:
        return rule.verdict("partial", "reproduced only in form: the endpoint answers but its counts disagree with "
                            "the harness's", measured, details=problems)
    return rule.verdict("reproduced", "reproduced", measured, setup=cold_setup(runs))
