"""The claims under test (shared/seed/claims.md), one module each: its constants, the claim in the document's
terms, the rule that decides it (printed verbatim in the report) and the code applying it. This file is the
index: importing each module registers its claim, in the document's order."""

from __future__ import annotations

from typing import Any

from bench.report.claims import (
    c01_naive_global,
    c02_lru_cache,
    c03_explicit_lock,
    c04_async_speedup,
    c05_shared_agent_memory,
    c06_rate_limiter,
    c07_per_process_cache,
    c08_code_lines,
    c09_debug_endpoint,
    c10_settings,
)
from bench.report.claims._common import REGISTRY, backend_label
from bench.report.verdict import ClaimRule, Verdict

RULES: dict[str, ClaimRule] = dict(REGISTRY)

__all__ = [
    "RULES",
    "backend_label",
    "c01_naive_global",
    "c02_lru_cache",
    "c03_explicit_lock",
    "c04_async_speedup",
    "c05_shared_agent_memory",
    "c06_rate_limiter",
    "c07_per_process_cache",
    "c08_code_lines",
    "c09_debug_endpoint",
    "c10_settings",
    "evaluate_claims",
]


def evaluate_claims(results: dict[str, Any]) -> list[Verdict]:
    """One Verdict per claim, in order; a rule that cannot find its data says `not measured`."""
    return [rule.evaluate(results, rule) for rule in RULES.values()]
