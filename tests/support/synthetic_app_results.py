"""A plausible results.json of a user's app (`bench run --app`), for the concerns' and the report's tests only: one
run per scenario and repetition, with the figures each concern reads set from keyword arguments."""

from __future__ import annotations

from typing import Any

from tests.support.synthetic_results import backend_probe

APP = "myapp.main:app"
WATCH = "myapp.deps:Client"


def _site(count: int, where: str = "thread") -> dict[str, Any]:
    return {"site": "myapp/deps.py:12 get_client", "file": "myapp/deps.py", "line": 12, "function": "get_client",
            "code": "_client = Client()", "user_code": True, "count": count, "threads": count if where == "thread"
            else 1, "thread_names": {"AnyIO worker thread": count}, "where": {where: count}}


def _watched(per_process: list[int], live_peaks: list[int], where: str = "thread") -> dict[str, Any]:
    return {WATCH: {"resolved": "myapp.deps:Client", "constructions": sum(per_process),
                    "constructions_in_run": sum(per_process), "per_process": per_process,
                    "live_peak_per_process": live_peaks, "live_end": sum(live_peaks), "untracked": 0,
                    "sites": [_site(max(per_process), where)] if max(per_process) else []}}


def _blocked(own_ms: float, blocks: int, workers: int = 1) -> dict[str, Any]:
    site = {"site": "myapp/routes.py:42 chat -> openai/_utils/_utils.py:298 wrapper", "file": "myapp/routes.py",
            "line": 42, "function": "chat", "code": "reply = client.chat.completions.create(", "calls": "wrapper",
            "own_code": True, "blocked_ms": own_ms, "blocks": blocks, "samples": blocks * 4, "share": 1.0,
            "stack": []}
    return {"running": True, "workers": workers, "threshold_ms": 20.0, "sample_interval_ms": 5.0,
            "window_ms": 10_000.0, "window_start_s": -0.5, "window_end_s": 9.0, "blocked_ms": own_ms,
            "blocked_share": own_ms / 10_000.0, "own_code_ms": own_ms, "block_count": blocks, "blocks_dropped": 0,
            "max_block_ms": own_ms / blocks if blocks else 0.0, "sites": [site] if blocks else [], "blocks": []}


def _run(scenario: str, rep: int, *, users: int, makespan: float, ok: int, requests: int, workers: int = 1,
         watched: dict[str, Any], blocked: dict[str, Any] | None, rate_limited: int = 0,
         params: dict[str, Any] | None = None, rss: tuple[float, float] = (100.0, 101.0),
         by_worker: list[int] | None = None) -> dict[str, Any]:
    errors = {"http_500": requests - ok} if ok < requests else {}
    return {
        "id": f"{scenario}/{APP}/{users}/{rep}", "scenario": scenario, "variant": APP, "axes": {},
        "repetition": rep,
        "params": {"users": users, "latency_ms": 100.0, "duration_s": 2.0, "rate": 20.0, "workers": workers,
                   "upstream_limit_rps": 0.0, "steps": [], "app_env": {}, **(params or {})},
        "started_utc": "2026-01-01T00:00:00+00:00", "wall_s": makespan + 4.0,
        "metrics": {"requests": requests, "ok": ok, "errors": errors, "makespan_s": makespan,
                    "throughput_rps": requests / makespan, "latency_ms": {"p50": 120.0, "p95": 300.0},
                    "ttft_ms": None},
        "requests": {"t_send": [0.0] * requests, "t_first_byte": [makespan] * requests, "t_end": [makespan] * requests,
                     "status": [200] * ok + [500] * (requests - ok),
                     "error": [None] * ok + ["http_500"] * (requests - ok), "worker": [0] * requests},
        "app": {"before": {}, "after": {}, "constructions": sum(watched[WATCH]["per_process"]),
                "live_peak": max(watched[WATCH]["live_peak_per_process"]), "bytes_per_instance": None,
                "loop_lag_max_ms": 5.0, "loop_lag_p99_ms": 4.0, "workers": None, "watched": watched,
                **({"requests_by_worker": by_worker} if by_worker else {})},
        "process": {"rss_baseline_mb": rss[0], "rss_peak_mb": rss[1], "cpu_mean_percent": 30.0, "samples": []},
        "upstream": {"received": requests + rate_limited, "by_status": {"200": ok, "429": rate_limited},
                     "rate_limited": rate_limited, "faults": {}},
        "accounting": {"sent": requests, "recorded": requests, "answered": requests, "upstream_received": requests,
                       "ok": True, "problems": []},
        "files": {}, "warnings": [], "blocked": blocked,
    }


def app_results(*, reps: int = 2, users: int = 50, cold_per_process: int = 1, own_blocked_share: float = 0.05,
                burst_makespan: float = 0.3, steady_errors: int = 0, steady_429: int = 0, live_peak: int = 1,
                workers_errors: int = 0, workers: int = 4, latency_s: float = 0.1,
                scenarios: tuple[str, ...] = ("cold-burst", "burst", "steady", "concurrency", "workers"),
                watch: bool = True) -> dict[str, Any]:
    runs: list[dict[str, Any]] = []
    for rep in range(reps):
        if "cold-burst" in scenarios:
            runs.append(_run("cold-burst", rep, users=users, makespan=1.0, ok=users, requests=users,
                             watched=_watched([cold_per_process], [cold_per_process]), blocked=_blocked(10.0, 1)))
        if "burst" in scenarios:
            own_ms = own_blocked_share * burst_makespan * 1000
            runs.append(_run("burst", rep, users=users, makespan=burst_makespan, ok=users, requests=users,
                             watched=_watched([1], [1]), blocked=_blocked(own_ms, users if own_ms > 100 else 2)))
        if "steady" in scenarios:
            runs.append(_run("steady", rep, users=50, makespan=2.2, ok=40 - steady_errors, requests=40,
                             watched=_watched([1], [1]), blocked=None, rate_limited=steady_429,
                             params={"upstream_tier": "seed-10rps"}))
        if "concurrency" in scenarios:
            runs.append(_run("concurrency", rep, users=10, makespan=1.6, ok=30, requests=30,
                             watched=_watched([live_peak], [live_peak]), blocked=None, rss=(100.0, 102.5)))
        if "workers" in scenarios:
            runs.append(_run("workers", rep, users=50, makespan=2.1, ok=80 - workers_errors, requests=80,
                             workers=workers, watched=_watched([1] * workers, [1] * workers), blocked=None,
                             by_worker=[20] * workers))
    return {
        "schema_version": 1, "tool": {"name": "llm-concurrency-bench", "version": "0.1.0"}, "label": "myapp",
        "created_utc": "2026-01-01T00:00:00+00:00", "partial": False,
        "config": {"profile": "app", "variants": [], "scenarios": [], "users": None, "latency_ms": None,
                   "repeat": reps, "backend": "mock", "model": None, "processes": 1, "seed": 0, "out_dir": "",
                   "label": "myapp", "init_delay_ms": 0.0, "plan": []},
        "host": {"hostname_hash": "0", "cpu_model": "Synthetic CPU", "logical_cores": 2, "physical_cores": 2,
                 "memory_gib": 8.0, "os": "Linux", "python": "3.11.0", "python_implementation": "CPython",
                 "packages": {}, "git_commit": None, "load_average_at_start": [0.1, 0.1, 0.1]},
        "backend": {"kind": "mock", "base_url": "(embedded mock)", "model": None, "api_key_set": False},
        "static": {},
        "probes": {"backend": backend_probe(latency_s=latency_s, n=users) | {"burst_makespan_s": latency_s * 1.3}},
        "runs": runs,
        "target": {"kind": "app", "app": APP, "factory": False, "app_dir": "", "watch": [WATCH] if watch else [],
                   "env_keys": [], "workers": 1,
                   "request": {"method": "POST", "path": "/chat", "body": {"message": "hi"}, "headers": [],
                               "source": "openapi"},
                   "stream_request": None, "tier": "seed-10rps", "routes": ["POST /chat"]},
    }
