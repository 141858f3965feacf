"""The blocked-loop sampler's figures of one run: each worker's `blocked` section of /api/debug/stats
(app_under_test/blockwatch.py), merged into the run's `blocked` entry of results.json. Totals over the workers,
the top call sites, and the longest blocks timed like the per-request records (seconds from the first send)."""

from __future__ import annotations

import sysconfig
from pathlib import Path
from typing import Any

# What the harness asks each worker for after a run: every block and site its sampler keeps (blockwatch's
# max_blocks and SiteTable.max_sites), so the totals per site, own code included, are exact.
POLL_BLOCKS = 2000
POLL_SITES = 200
# What results.json keeps of them: the sites with the most blocked time, each with the innermost frames of
# one sample, and the longest blocks (a sync burst of 50 makes 50; the report joins them to the requests).
TOP_SITES = 10
STACK_FRAMES = 12
KEPT_BLOCKS = 100


def take_blocked(stats: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each worker's `blocked` section, removed from its stats dict: results.json keeps the merged figures only
    (the raw ones hold up to POLL_BLOCKS blocks and a stack per site)."""
    out = []
    for s in stats:
        section = s.pop("blocked", None)
        if isinstance(section, dict):
            out.append(section)
    return out


def short_file(path: str | None, cwd: Path | None = None) -> str | None:
    """An installed library's file relative to its site-packages, the stdlib's to the stdlib (the app runs on the
    harness's Python), the app's relative to the working directory (the harness's too): results name
    `app_under_test/agent.py` and `uuid.py`, not a home directory."""
    if not path:
        return None
    p = Path(path)
    for marker in ("site-packages", "dist-packages"):
        if marker in p.parts:
            return "/".join(p.parts[p.parts.index(marker) + 1:])
    for root in (Path(sysconfig.get_paths()["stdlib"]), cwd or Path.cwd()):
        try:
            return p.resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            continue
    return path


def _merged_sites(workers: list[dict[str, Any]], total_ms: float) -> tuple[list[dict[str, Any]], float]:
    """Sites summed over the workers by label, the top TOP_SITES by blocked time; and the own-code total."""
    merged: dict[str, dict[str, Any]] = {}
    for w in workers:
        for s in w.get("sites") or []:
            row = merged.get(s["site"])
            if row is None:
                merged[s["site"]] = row = {
                    "site": s["site"], "file": short_file(s.get("file")), "line": s.get("line"),
                    "function": s.get("function") or "", "code": s.get("code"), "calls": s.get("calls"),
                    "own_code": bool(s.get("own_code")), "blocked_ms": 0.0, "blocks": 0, "samples": 0,
                    "share": 0.0, "stack": list(s.get("stack") or [])[-STACK_FRAMES:]}
            row["blocked_ms"] += float(s.get("blocked_ms") or 0.0)
            row["blocks"] += int(s.get("blocks") or 0)
            row["samples"] += int(s.get("samples") or 0)
    for row in merged.values():
        row["share"] = round(row["blocked_ms"] / total_ms, 4) if total_ms else 0.0
        row["blocked_ms"] = round(row["blocked_ms"], 3)
    own_ms = sum(r["blocked_ms"] for r in merged.values() if r["own_code"])
    ranked = sorted(merged.values(), key=lambda r: r["blocked_ms"], reverse=True)
    return ranked[:TOP_SITES], round(own_ms, 3)


def merge_blocked(workers: list[dict[str, Any]], records: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The run's `blocked` entry from each worker's section (None when the app reported none: not the reference
    app, or an older one). Times are seconds from the run's first send, the origin of results' `requests`."""
    if not workers:
        return None
    sends = [float(r["t_send"]) for r in records if r.get("t_send") is not None]
    starts = [float(w["window"]["start"]) for w in workers if (w.get("window") or {}).get("start") is not None]
    t0 = min(sends) if sends else min(starts, default=0.0)
    ends = [float(w["window"]["end"]) for w in workers if (w.get("window") or {}).get("end") is not None]
    window_ms = sum(float((w.get("window") or {}).get("duration_ms") or 0.0) for w in workers)
    blocked_ms = sum(float(w.get("blocked_ms") or 0.0) for w in workers)
    sites, own_ms = _merged_sites(workers, blocked_ms)
    blocks = [{"start_s": round(float(b["start"]) - t0, 4), "duration_ms": round(float(b["duration_ms"]), 3),
               "site": b.get("site"),
               "samples": int(b.get("samples") or 0), "worker": i}
              for i, w in enumerate(workers) for b in w.get("blocks") or []]
    kept = sorted(sorted(blocks, key=lambda b: b["duration_ms"], reverse=True)[:KEPT_BLOCKS],
                  key=lambda b: b["start_s"])
    settings = workers[0].get("settings") or {}
    return {
        "running": any(bool(w.get("running")) for w in workers),
        "workers": len(workers),
        "threshold_ms": float(settings.get("threshold_ms") or 0.0),
        "sample_interval_ms": float(settings.get("sample_interval_ms") or 0.0),
        "window_ms": round(window_ms, 3),
        "window_start_s": round(min(starts) - t0, 4) if starts else None,
        "window_end_s": round(max(ends) - t0, 4) if ends else None,
        "blocked_ms": round(blocked_ms, 3),
        "blocked_share": round(blocked_ms / window_ms, 4) if window_ms else 0.0,
        "own_code_ms": own_ms,
        "block_count": sum(int(w.get("block_count") or 0) for w in workers),
        "blocks_dropped": sum(int(w.get("blocks_dropped") or 0) for w in workers),
        "max_block_ms": max((float(w.get("max_block_ms") or 0.0) for w in workers), default=0.0),
        "sites": sites,
        "blocks": kept,
    }
