"""Event loop: does a call in the app's own code block the loop? Measured by the blocked-loop sampler in the app's
process during warm bursts: each stretch the loop was late past its threshold, attributed to the innermost frame of
the app's own code on the loop's stack (bench/inject, app_under_test/blockwatch.py)."""

from __future__ import annotations

from typing import Any

from bench.report.concerns._common import ConcernRule, concern, runs_of, site_phrase
from bench.report.verdict import Verdict
from bench.results import runs as R
from bench.results.stats import median

BLOCKED_SHARE_LIMIT = 0.5  # more of the burst stuck in the app's own code than free to serve other requests


def own_share(run: R.Run) -> float | None:
    """Blocked time at sites in the app's own code over the burst's makespan, per event loop (worker)."""
    blocked, makespan = run.get("blocked"), R.get(run, "metrics.makespan_s")
    if not isinstance(blocked, dict) or not blocked.get("running") or not makespan:
        return None
    loops = max(1, int(blocked.get("workers") or 1))
    return float(blocked.get("own_code_ms") or 0.0) / (float(makespan) * 1000 * loops)


def own_sites(run: R.Run) -> list[dict[str, Any]]:
    return [s for s in (R.get(run, "blocked.sites") or []) if s.get("own_code")]


def blocking_sites(run: R.Run) -> list[dict[str, Any]]:
    """Own-code sites that alone held the loop for at least BLOCKED_SHARE_LIMIT of the burst: the blocking calls."""
    makespan = float(R.get(run, "metrics.makespan_s") or 0.0)
    loops = max(1, int(R.get(run, "blocked.workers") or 1))
    if makespan <= 0:
        return []
    return [s for s in own_sites(run)
            if float(s.get("blocked_ms") or 0.0) / (makespan * 1000 * loops) >= BLOCKED_SHARE_LIMIT]


@concern("event-loop", "Does a call in your code block the event loop (and with it every other request)?",
         rule="Fails when, in a warm burst, calls at sites in your own code held the event loop (each stretch past "
              "the sampler's threshold, 20 ms) for at least half of the burst's makespan (median over the "
              "repetitions): the loop spent more of the burst stuck in your code than serving other requests.",
         measured_by="burst (the blocked-loop sampler in the app's process)",
         fix="await the async client instead of calling the sync one inside `async def` (`AsyncOpenAI`, "
             "`await llm.ainvoke(...)`), or make the endpoint a plain `def` so FastAPI runs it in its thread pool. "
             "The reference app: `bench run --variants sync,async --scenarios burst` (sync calls `llm.invoke` "
             "inside `async def`; async awaits `ainvoke`).")
def evaluate(results: dict[str, Any], rule: ConcernRule) -> Verdict:
    runs = [r for r in runs_of(results, "burst") if own_share(r) is not None]
    if not runs:
        return rule.not_measured("no warm burst with the blocked-loop sampler's figures")
    shares = [s for r in runs if (s := own_share(r)) is not None]
    share = median(shares)
    worst = max(runs, key=lambda r: own_share(r) or 0.0)
    users = int((worst.get("params") or {}).get("users") or 0)
    blocks = int(R.get(worst, "blocked.block_count") or 0)
    top = next(iter(own_sites(worst)), None)
    where = ""
    if top is not None:
        where = f", {int(top.get('blocks') or 0)} of {blocks} blocks at {site_phrase(top)}"
    measured = (f"blocked by your code {share * 100:.0f}% of the burst (median of {len(shares)}: "
                f"{', '.join(f'{s * 100:.0f}%' for s in shares)}){where}")
    setup = f"warm burst of N={users}, threshold {R.get(worst, 'blocked.threshold_ms', 20):g} ms"
    details = [f"{site_phrase(s)}: {float(s.get('blocked_ms') or 0):.0f} ms in {s.get('blocks')} blocks"
               for s in own_sites(worst)[:4]]
    numbers = {"share": share, "shares": shares, "sites": [s.get("site") for s in blocking_sites(worst)]}
    if share >= BLOCKED_SHARE_LIMIT:
        return rule.failed(f"fails: blocked {share * 100:.0f}% of the burst", measured, setup=setup,
                           details=details, **numbers)
    return rule.passed("passes: the loop stays free", measured, setup=setup, details=details, **numbers)
