"""Small results dicts shaped like a gate run (the gate plan's steps and params), holding only what the gated
metrics read; `gate_results(...)` takes the per-repetition figures a test wants to move."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bench.gate.plan import gate_profile


def _run(scenario: str, variant: str, rep: int, params: dict[str, Any], *, makespan: float = 1.0, requests: int = 10,
         ok: int | None = None, constructions: int = 1, live_peak: int = 1, bytes_per_instance: int = 20_000,
         rss: float = 130.0, rate_limited: int = 0, accounting_ok: bool = True,
         own_blocked_ms: float | None = None) -> dict[str, Any]:
    ok = requests if ok is None else ok
    blocked = None if own_blocked_ms is None else {"running": True, "own_code_ms": own_blocked_ms}
    return {"blocked": blocked,
        "id": f"{scenario}/{variant}/{params.get('users')}/{rep}", "scenario": scenario, "variant": variant,
        "repetition": rep, "params": dict(params),
        "metrics": {"requests": requests, "ok": ok, "makespan_s": makespan},
        "app": {"constructions": constructions, "live_peak": live_peak, "bytes_per_instance": bytes_per_instance},
        "process": {"rss_peak_mb": rss},
        "upstream": {"received": requests + rate_limited, "rate_limited": rate_limited},
        "accounting": {"ok": accounting_ok, "problems": [] if accounting_ok else ["lost one"]},
    }


def gate_results(*, reps: int = 3, sync: Sequence[float] = (10.1, 10.12, 10.14),
                 lru: Sequence[float] = (1.05, 1.06, 1.07), locked: Sequence[int] = (1, 1, 1),
                 own_blocked_ms: Sequence[float | None] = (0.0, 21.0, 0.0),
                 errors: Sequence[int] = (0, 0, 0), per_request_live: Sequence[int] = (300, 320, 340),
                 accounting_ok: bool = True) -> dict[str, Any]:
    """A gate run's results: burst at N=10 and the plan's latency, the cold bursts, memory and limiter."""
    steps = {s.scenario: s for s in gate_profile("quick").steps}
    runs: list[dict[str, Any]] = []
    for rep in range(reps):
        burst = steps["burst"].params()
        lat = burst["latency_ms"] / 1000
        runs.append(_run("burst", "sync", rep, burst, makespan=sync[rep] * lat, accounting_ok=accounting_ok))
        runs.append(_run("burst", "lru_cache", rep, burst, makespan=lru[rep] * lat,
                         own_blocked_ms=own_blocked_ms[rep]))
        cold = steps["cold-burst"].params()
        runs.append(_run("cold-burst", "locked", rep, cold, requests=50, constructions=locked[rep]))
        runs.append(_run("cold-burst", "async-dependency", rep, cold, requests=50))
        conc = steps["concurrency"].params()
        runs.append(_run("concurrency", "per-request", rep, conc, requests=300, live_peak=per_request_live[rep],
                         bytes_per_instance=19_000, rss=140.0 + rep))
        runs.append(_run("concurrency", "lru_cache", rep, conc, requests=300, rss=130.0))
        steady = steps["steady"].params()
        runs.append(_run("steady", "async-limited", rep, steady, requests=60, ok=60 - errors[rep], rate_limited=2))
    return {"schema_version": 1, "config": {"profile": "quick", "repeat": reps}, "partial": False,
            "host": {"cpu_model": "Test CPU", "logical_cores": 2, "python": "3.11", "git_commit": "abc"},
            "runs": runs}


def write_test_baseline(path: Any, **figures: Any) -> str:
    from bench.gate.baseline import build_baseline, write_baseline
    from bench.gate.metrics import extract_all

    res = gate_results(reps=5, sync=(10.1, 10.12, 10.14, 10.11, 10.13), lru=(1.05, 1.06, 1.07, 1.055, 1.065),
                       locked=(1,) * 5, errors=(0,) * 5, per_request_live=(300, 320, 340, 310, 330),
                       own_blocked_ms=(0.0, 0.0, 12.0, 0.0, 30.0), **figures)
    data = build_baseline(res, extract_all(res), profile="quick", notes=["test baseline"], source="synthetic")
    return str(write_baseline(data, path))
