"""The load workers' common clock as the report states it: each worker's offset to its master with its
uncertainty, and whether a makespan measured across workers can be trusted.

A makespan runs from the first send to the last answer; with Locust workers those two may come from different
workers, whose times were moved onto the master's clock by an offset known within +- its uncertainty
(results.json `load_workers`, `metrics.makespan_uncertainty_s`). Where that uncertainty exceeds SIZEABLE of the
makespan, the makespan is not judged.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

SIZEABLE = 0.05  # of the makespan


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.3g} ms"


def uncertain_share(run: dict[str, Any]) -> float | None:
    """The run's makespan uncertainty as a share of its makespan (None: one clock, or nothing to compare)."""
    metrics = run.get("metrics") or {}
    unc, makespan = metrics.get("makespan_uncertainty_s"), metrics.get("makespan_s")
    if unc is None or not makespan:
        return None
    return float(unc) / float(makespan)


def too_uncertain(runs: Iterable[dict[str, Any]]) -> str | None:
    """Why these runs' makespans cannot be judged (None: they can)."""
    worst = max(((uncertain_share(r) or 0.0, r) for r in runs), key=lambda p: p[0], default=(0.0, None))
    share, run = worst
    if run is None or share <= SIZEABLE:
        return None
    m = run["metrics"]
    return (f"the load workers' clocks are known only within {_ms(float(m['makespan_uncertainty_s']))}, "
            f"{share:.0%} of the makespan {float(m['makespan_s']):.4g} s in {run.get('id')} (over {SIZEABLE:.0%})")


def clock_facts(results: dict[str, Any]) -> list[tuple[str, str]]:
    """One appendix line: every worker's offset to its master's clock, with its uncertainty (none: no workers)."""
    runs = [r for r in results.get("runs", []) if r.get("load_workers")]
    if not runs:
        return []
    by_host: dict[str, list[tuple[float, float]]] = {}
    for run in runs:
        for w in run["load_workers"]:
            clock = w.get("clock") or {}
            if clock.get("offset_s") is not None:
                by_host.setdefault(str(w.get("host") or "?"), []).append(
                    (float(clock["offset_s"]), float(clock.get("uncertainty_s") or 0.0)))
    parts = []
    for host, rows in sorted(by_host.items()):
        for group in _clusters(rows):  # workers sharing a host name may still run on different clocks
            lo, hi = group[0][0], group[-1][0]
            span = f"{lo * 1000:+.3f} ms" if hi - lo < 5e-7 else f"{lo * 1000:+.3f} to {hi * 1000:+.3f} ms"
            parts.append(f"{host} {span} (uncertainty up to {_ms(max(u for _, u in group))}, "
                         f"{len(group)} worker-run(s))")
    shares = [s for s in (uncertain_share(r) for r in runs) if s is not None]
    tail = (f"; makespan uncertainty at most {max(shares):.2%} of the makespan (not judged above {SIZEABLE:.0%})"
            if shares else "")
    lost = sum(1 for r in runs for w in r["load_workers"] if w.get("lost"))
    return [("load workers' clocks", f"{len(runs)} run(s) with Locust workers; offset to the master's clock: "
             + ("; ".join(parts) or "no ping exchange completed") + tail
             + (f"; {lost} worker(s) lost mid-run" if lost else ""))]


def _clusters(rows: list[tuple[float, float]]) -> list[list[tuple[float, float]]]:
    """(offset, uncertainty) rows split where consecutive offsets differ by more than 1 ms plus both
    uncertainties: one group per clock."""
    groups: list[list[tuple[float, float]]] = []
    for row in sorted(rows):
        if groups and row[0] - groups[-1][-1][0] <= 0.001 + row[1] + groups[-1][-1][1]:
            groups[-1].append(row)
        else:
            groups.append([row])
    return groups


def clock_warnings(results: dict[str, Any]) -> list[str]:
    """Runs whose makespan the workers' clock uncertainty blurs by more than SIZEABLE."""
    out = []
    for run in results.get("runs", []):
        why = too_uncertain([run])
        if why:
            out.append(f"{run.get('scenario')} / {run.get('variant')} #{run.get('repetition')}: makespan not "
                       f"judged: {why}")
    return out
