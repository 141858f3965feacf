"""Reading a run's blocked-loop figures (results.json `run.blocked`, bench/run/blocked.py): whether the sampler
ran, own-code blocked time against the burst, and which requests were in flight during a block."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from bench.results.runs import Run, get


def blocked_of(run: Run) -> dict[str, Any] | None:
    """The run's figures when the sampler ran; None for older files, other apps, or APP_BLOCKWATCH=0."""
    blocked = run.get("blocked")
    return blocked if isinstance(blocked, dict) and blocked.get("running") else None


def own_code_ms(run: Run) -> float | None:
    """Blocked time at call sites in the app's own code (where a fix goes), summed over the workers."""
    blocked = blocked_of(run)
    return None if blocked is None else float(blocked.get("own_code_ms") or 0.0)


def own_share_of_makespan(run: Run) -> float | None:
    """Own-code blocked time as a share of the burst's makespan (first send to last answer): how much of the
    burst the loop spent stuck in a call the app made. The sampler's window is wider (reset to poll), so the
    share of the makespan is the stricter reading of the same blocks."""
    own, makespan = own_code_ms(run), get(run, "metrics.makespan_s")
    if own is None or not isinstance(makespan, int | float) or makespan <= 0:
        return None
    return own / (float(makespan) * 1000)


def in_flight(run: Run, block: dict[str, Any]) -> int:
    """Requests whose latency overlapped the block: sent before it ended and answered after it began."""
    req = run.get("requests") or {}
    start = float(block["start_s"])
    end = start + float(block["duration_ms"]) / 1000
    return sum(1 for s, e in zip(req.get("t_send") or [], req.get("t_end") or [], strict=False)
               if s is not None and e is not None and s <= end and e >= start)


def requests_hit(run: Run, blocks: Iterable[dict[str, Any]]) -> int:
    """Requests whose latency overlapped at least one of `blocks`."""
    spans = [(float(b["start_s"]), float(b["start_s"]) + float(b["duration_ms"]) / 1000) for b in blocks]
    req = run.get("requests") or {}
    return sum(1 for s, e in zip(req.get("t_send") or [], req.get("t_end") or [], strict=False)
               if s is not None and e is not None and any(s <= b1 and e >= b0 for b0, b1 in spans))


def share_of_load(run: Run) -> float | None:
    """Blocked time as a share of the load (first send to last answer, on each worker's loop), at most 1: the
    sampler's window also holds the start of the load generator, when the loop is idle."""
    blocked, makespan = blocked_of(run), get(run, "metrics.makespan_s")
    if blocked is None or not isinstance(makespan, int | float) or makespan <= 0:
        return None
    loops = max(1, int(blocked.get("workers") or 1))
    return min(1.0, float(blocked.get("blocked_ms") or 0.0) / (float(makespan) * 1000 * loops))


def merged_sites(runs: Iterable[Run]) -> tuple[list[dict[str, Any]], float]:
    """The sites of several repetitions summed by label, most blocked time first, each with `share` of the
    repetitions' blocked time and `per_run_ms`; and that total blocked time (ms)."""
    runs = [r for r in runs if blocked_of(r) is not None]
    sites: dict[str, dict[str, Any]] = {}
    total = 0.0
    for run in runs:
        blocked = blocked_of(run) or {}
        total += float(blocked.get("blocked_ms") or 0.0)
        for s in blocked.get("sites") or []:
            row = sites.setdefault(s["site"], {**s, "blocked_ms": 0.0, "blocks": 0, "samples": 0})
            row["blocked_ms"] += float(s.get("blocked_ms") or 0.0)
            row["blocks"] += int(s.get("blocks") or 0)
            row["samples"] += int(s.get("samples") or 0)
    for row in sites.values():
        row["share"] = row["blocked_ms"] / total if total else 0.0
        row["per_run_ms"] = row["blocked_ms"] / len(runs)
    return sorted(sites.values(), key=lambda r: r["blocked_ms"], reverse=True), total
