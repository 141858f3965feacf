"""C2: `@lru_cache(maxsize=1)` always gives one instance, "guaranteed by the GIL". Measured: the same cold-burst
count; Python's docs say the cached function may run more than once while its first call is still running."""

from __future__ import annotations

from typing import Any

from bench.report.claims._common import claim, cold, cold_setup, fmt_count, raced
from bench.report.verdict import ClaimRule, Verdict
from bench.results.stats import bootstrap


@claim("C2", "`@lru_cache(maxsize=1)` always gives one instance, thread safety guaranteed by the GIL.",
       rule="Reproduced when a cold burst with a plain `def` dependency builds exactly 1 in every repetition; if it "
            "builds more but the `async def` dependency builds 1, reproduced only for the async dependency.",
       measured_by="cold-burst: lru_cache, async-dependency")
def evaluate(results: dict[str, Any], rule: ClaimRule) -> Verdict:
    tp_runs, tp = cold(results, "lru_cache")
    _, aa = cold(results, "async-dependency")
    if not tp:
        return rule.not_measured("no cold-burst runs of `lru_cache` (threadpool dependency, the seed's style)")
    measured = (f"constructions, `def` dependency: {fmt_count(bootstrap(tp), tp)}; "
                f"`async def` dependency: {fmt_count(bootstrap(aa), aa) if aa else 'not measured'}")
    setup = cold_setup(tp_runs)
    details = ["Python's docs: the cached function may be called more than once if another thread calls it "
               "before the first call has finished; the GIL does not make the call atomic."]
    if not raced(tp):
        details.append("No repetition caught a second construction: a longer constructor or a larger burst widens "
                       "the window (see `--init-delay`).")
        return rule.verdict("reproduced", "reproduced", measured, setup=setup, details=details, threadpool=tp,
                            async_=aa)
    details.append(f"With a `def` dependency up to {max(tp):g} threads entered the constructor before the first "
                   f"returned ({sum(v > 1 for v in tp)} of {len(tp)} repetitions built more than one).")
    if aa and not raced(aa):
        details.append("Behind an `async def` dependency the cached call runs on the event loop and cannot overlap: "
                       "1 in every repetition.")
        return rule.verdict("partial", "reproduced only when the dependency is `async def` (runs on the event loop)",
                            measured, setup=setup, details=details, threadpool=tp, async_=aa)
    return rule.verdict("not reproduced", "not reproduced", measured, setup=setup, details=details, threadpool=tp,
                        async_=aa)
