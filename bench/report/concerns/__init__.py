"""The concerns of a user's app (`bench run --app`), one module each: the question, the rule that decides it and
the fix (printed verbatim in the report), and the code applying it to results.json. The claims (bench/report/claims)
remain the reference app's report. This file is the index: importing each module registers its concern; ORDER is
the report's."""

from __future__ import annotations

from typing import Any

from bench.report.concerns import burst_overlap, event_loop, memory, rate_limits, singleton, workers
from bench.report.concerns._common import REGISTRY, ConcernRule, is_user_app
from bench.report.verdict import Verdict

# The report's order: the (singleton, event loop, burst overlap, rate limits, memory, workers).
ORDER = ("singleton", "event-loop", "burst-overlap", "rate-limits", "memory", "workers")
RULES: dict[str, ConcernRule] = {cid: REGISTRY[cid] for cid in ORDER}

__all__ = ["RULES", "burst_overlap", "evaluate_concerns", "event_loop", "is_user_app", "memory", "rate_limits",
           "singleton", "workers"]


def evaluate_concerns(results: dict[str, Any]) -> list[Verdict]:
    """One Verdict per concern, in order; a concern whose scenario did not run says `not measured`."""
    return [rule.evaluate(results, rule) for rule in RULES.values()]
