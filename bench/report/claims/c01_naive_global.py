"""C1: the naive global singleton races under concurrent first access. Measured: ChatAgents built by a cold
burst of N concurrent first requests, with a plain `def` dependency (FastAPI's threadpool) and an `async def` one."""

from __future__ import annotations

from typing import Any

from bench.report.claims._common import claim, cold, cold_setup, fmt_count, raced
from bench.report.verdict import ClaimRule, Verdict
from bench.results.stats import bootstrap


@claim("C1", "The naive `if _chat_agent is None` singleton races under concurrent first access.",
       rule="Reproduced when a cold burst with a plain `def` dependency builds more than one ChatAgent in any "
            "repetition; if an `async def` dependency builds exactly 1 in every repetition, only under the "
            "threadpool.",
       measured_by="cold-burst: naive-global, naive-global:dependency=async")
def evaluate(results: dict[str, Any], rule: ClaimRule) -> Verdict:
    tp_runs, tp = cold(results, "naive-global")
    _, aa = cold(results, "naive-global:dependency=async")
    if not tp:
        return rule.not_measured("no cold-burst runs of `naive-global` (threadpool dependency)")
    measured = (f"constructions, `def` dependency: {fmt_count(bootstrap(tp), tp)}; "
                f"`async def` dependency: {fmt_count(bootstrap(aa), aa) if aa else 'not measured'}")
    setup = cold_setup(tp_runs)
    details = [f"`def` dependency raced in {sum(v > 1 for v in tp)} of {len(tp)} repetitions."]
    if not raced(tp):
        return rule.verdict("not reproduced", "not reproduced", measured, setup=setup, details=details,
                            threadpool=tp, async_=aa)
    if aa and not raced(aa):
        details.append("An `async def` dependency runs on the event loop, one request at a time between awaits: "
                       "the check and the assignment cannot interleave, so it built 1 in every repetition.")
        return rule.verdict("partial", "reproduced only when the dependency is a plain `def` (run in the threadpool)",
                            measured, setup=setup, details=details, threadpool=tp, async_=aa)
    if aa:
        details.append("It raced with an `async def` dependency too.")
    return rule.verdict("reproduced", "reproduced", measured, setup=setup, details=details, threadpool=tp, async_=aa)
