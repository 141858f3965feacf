"""C8: the `lru_cache` provider is 2 lines against 6 (naive) and 8+ (lock), 66% less code. Measured: code lines of
each provider counted from the source (blank and comment lines excluded); reduction = 1 - lru-cache / naive."""

from __future__ import annotations

from typing import Any

from bench.report.claims._common import claim, pct
from bench.report.verdict import ClaimRule, Verdict
from bench.results import runs as R
from bench.results.stats import reduction


@claim("C8", "The lru_cache version is 2 lines against 6 (naive) and 8+ (lock): 66% less code.",
       rule="Reproduced when lru-cache's provider has at most half the naive one's code lines and the lock "
            "versions are at least as long as the naive one.",
       measured_by="static: provider_lines")
def evaluate(results: dict[str, Any], rule: ClaimRule) -> Verdict:
    lines = R.get(results, "static.provider_lines", {}) or {}
    if "lru-cache" not in lines or "naive-global" not in lines:
        return rule.not_measured("`static.provider_lines` absent")
    lru, naive = lines["lru-cache"], lines["naive-global"]
    locks = [lines[k] for k in ("locked", "asyncio-lock") if k in lines]
    cut = reduction(lru, naive)
    measured = ", ".join(f"{k} {v}" for k, v in lines.items()) + f" lines; lru-cache vs naive -{pct(cut)}"
    ok = cut >= 0.5 and all(x >= naive for x in locks)
    return rule.verdict("reproduced" if ok else "not reproduced", "reproduced" if ok else "not reproduced",
                        measured, setup="counted from the providers' source (blank and comment lines excluded)",
                        lines=dict(lines), reduction=cut)
