"""C3: an explicit double-checked lock is also safe, at the price of more code. Measured: the cold-burst count of
`locked` (threading.Lock) and `asyncio-lock`, and the per-call cost once built (probe `provider_call_ns`)."""

from __future__ import annotations

import math
from typing import Any

from bench.report.claims._common import claim, cold, cold_setup, fmt_count, raced
from bench.report.verdict import ClaimRule, Verdict
from bench.results import runs as R
from bench.results.stats import bootstrap


@claim("C3", "An explicit lock (double-checked) is also safe, at the price of more code.",
       rule="Reproduced when both `locked` (threading.Lock) and `asyncio-lock` build exactly 1 in every repetition "
            "of the cold burst; the per-call cost once built is reported beside it.",
       measured_by="cold-burst: locked, asyncio-lock; probe provider_call_ns")
def evaluate(results: dict[str, Any], rule: ClaimRule) -> Verdict:
    locks = {spec: cold(results, spec) for spec in ("locked", "asyncio-lock")}
    present = {spec: vals for spec, (_, vals) in locks.items() if vals}
    if not present:
        return rule.not_measured("no cold-burst runs of `locked` or `asyncio-lock`")
    parts = [f"`{spec}`: {fmt_count(bootstrap(vals), vals)}" for spec, vals in present.items()]
    calls = R.get(results, "probes.provider_call_ns", {}) or {}
    overhead = ", ".join(f"{name} {R.get(v, 'median_ns', math.nan):.0f} ns"
                         for name, v in calls.items() if isinstance(v, dict))
    measured = "constructions " + "; ".join(parts) + (f". Per call once built (median): {overhead}" if overhead else "")
    setup = cold_setup(next(r for r, _ in locks.values() if r))
    details = [f"`{s}` is not measured." for s in locks if s not in present]
    if not calls:
        details.append("Lock overhead per call not measured (probe `provider_call_ns` absent).")
    safe = [s for s, v in present.items() if not raced(v)]
    missing = [s for s in locks if s not in present]
    if len(safe) == len(locks):
        return rule.verdict("reproduced", "reproduced for both locks", measured, setup=setup, details=details,
                            **present)
    if safe:
        # A lock that was not measured is not shown safe: the claim names the asyncio.Lock.
        why = [f"`{s}` not measured" for s in missing] + [f"`{s}` built more than one" for s in present
                                                           if s not in safe]
        return rule.verdict("partial", f"reproduced only for {', '.join(f'`{s}`' for s in safe)}; {'; '.join(why)}",
                            measured, setup=setup, details=details, **present)
    return rule.verdict("not reproduced", "not reproduced", measured, setup=setup, details=details, **present)
