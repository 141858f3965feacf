"""A plausible results.json built from the schema, for the report's tests only (never for real output).

Figures follow the shapes measured while planning (shared/KNOWN.md): the blocking call serializes a burst,
threadpool dependencies race the singleton, per-request agents cost ~21 KiB each. `edit_runs` changes them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from app_under_test.variants import parse_variant

ALL_SCENARIOS = ("burst", "cold-burst", "concurrency", "steady", "workers", "sweep")
CPU_PER_REQUEST_S = 0.0128  # the async burst's overhead per request at N=50 (3.64 s - 3 s) / 50
BLOCKING_OVERHEAD_S = 0.010


def synthetic_results(*, reps: int = 3, users: int = 50, latency_ms: float = 3000.0, profile: str = "seed",
                      scenarios: Iterable[str] = ALL_SCENARIOS, seed: int = 0, noise: float = 0.01) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    scen = set(scenarios)
    results: dict[str, Any] = {
        "schema_version": 1, "tool": {"name": "llm-concurrency-bench", "version": "0.1.0"}, "label": "synthetic",
        "created_utc": "2026-01-01T00:00:00+00:00", "partial": False,
        "config": {"profile": profile, "repeat": reps, "backend": "mock", "seed": seed,
                   "users": users, "latency_ms": latency_ms},
        "host": {"cpu_model": "Synthetic CPU", "logical_cores": 2, "physical_cores": 2, "memory_gib": 8.0,
                 "os": "Linux", "python": "3.11.0", "packages": {"fastapi": "0.0"}, "git_commit": "0" * 40},
        "backend": {"kind": "mock", "base_url": "http://127.0.0.1:1/v1"},
        "static": {"provider_lines": {"per-request": 2, "naive-global": 6, "lru-cache": 2, "locked": 9,
                                      "asyncio-lock": 9}},
        "probes": {
            "provider_call_ns": {"lru-cache": {"median_ns": 95.0}, "naive-global": {"median_ns": 60.0},
                                 "locked": {"median_ns": 70.0}, "asyncio-lock": {"median_ns": 180.0}},
            "settings_echo": {"sent": {"OPENAI_RATE_LIMIT_REQUESTS_PER_SECOND": "10", "OPENAI_MAX_RETRIES": "3",
                                       "LOG_LEVEL": "INFO"},
                              "seen": {"OPENAI_RATE_LIMIT_REQUESTS_PER_SECOND": "10", "OPENAI_MAX_RETRIES": "3",
                                       "LOG_LEVEL": "INFO"}, "ok": True},
            "tier_limits": {"tier-1": {"limit_rpm": 3, "sent": 5, "ok_200": 3, "rate_limited_429": 2, "ok": True},
                            "tier-2": {"limit_rpm": 60, "sent": 70, "ok_200": 60, "rate_limited_429": 10, "ok": True}},
        },
        "runs": [],
    }
    lat = latency_ms / 1000

    def jitter(x: float) -> float:
        return float(x * (1 + rng.normal(0, noise)))

    for rep in range(reps):
        p: dict[str, Any]
        if "burst" in scen:
            p = {"users": users, "latency_ms": latency_ms}
            for v in ("sync", "async", "async-limited", "threadpool"):
                ends = _burst_ends(v, users, lat, jitter)
                results["runs"].append(_run("burst", v, rep, p, ends, lat, loop_lag_ms=lat * 1000 if v == "sync"
                                            else jitter(3.0)))
        if "cold-burst" in scen:
            p = {"users": 50, "latency_ms": 100.0, "app_env": {"APP_AGENT_INIT_DELAY_MS": "50"}}
            built = {"naive-global": 40 - rep, "naive-global:dependency=async": 1, "lru_cache": 40 - 2 * rep,
                     "async-dependency": 1, "locked": 1, "asyncio-lock": 1}
            for v, n in built.items():
                ends = [0.05 + 0.1 + i * 0.002 for i in range(50)]
                run = _run("cold-burst", v, rep, p, ends, 0.1, loop_lag_ms=2.0, constructions=n)
                if v == "lru_cache":
                    run["app"]["agent_cache"] = {"cache_info": f"hits={50 - n}, misses={n}, maxsize=1, currsize=1",
                                                 "agent_id": 140000000 + rep, "message": "agent cache statistics"}
                results["runs"].append(run)
        if "concurrency" in scen:
            p = {"users": 10, "latency_ms": 1000.0, "duration_s": 6.0}
            for v, live, per_agent_mb in (("per-request", 10, 0.0), ("lru_cache", 1, 0.0),
                                          ("per-request:clients=per-agent", 10, 1.5),
                                          ("lru_cache:clients=per-agent", 1, 1.5)):
                bytes_per = 21_500 + int(per_agent_mb * 2**20)
                ends = [1.0 + (i % 10) * 0.001 + 1.0 * (i // 10) for i in range(60)]
                run = _run("concurrency", v, rep, p, ends, 1.0, loop_lag_ms=2.0,
                           constructions=60 if live > 1 else 1, live_peak=live, bytes_per_instance=bytes_per)
                peak = 100.0 + 10.0 + live * bytes_per / 2**20
                run["process"] = _process(jitter(peak), 100.0, 6.0)
                results["runs"].append(run)
        if "steady" in scen:
            p = {"users": 50, "latency_ms": 1000.0, "duration_s": 10.0, "rate": 20.0, "upstream_limit_rps": 10.0}
            for v in ("async-limited", "async"):
                limited = v == "async-limited"
                n = 200
                send = [i / 20 for i in range(n)]
                ends = [s + (1.0 + 0.5 * s if limited else 1.0 + (0.3 if i % 3 == 0 else 0.0))
                        for i, s in enumerate(send)]
                status = [200] * n if limited else [429 if i % 4 == 0 else 200 for i in range(n)]
                run = _run("steady", v, rep, p, ends, 1.0, loop_lag_ms=2.0, send=send, status=status)
                run["upstream"]["rate_limited"] = int(jitter(0.0)) if limited else int(jitter(160))
                run["upstream"]["by_status"] = {"200": n - run["upstream"]["rate_limited"]} if limited else \
                    {"200": 150, "429": run["upstream"]["rate_limited"]}
                results["runs"].append(run)
        if "workers" in scen:
            p = {"users": 50, "latency_ms": 1000.0, "duration_s": 6.0, "rate": 60.0, "workers": 4}
            ends = [i / 40 + 1.0 for i in range(240)]
            run = _run("workers", "async-limited", rep, p, ends, 1.0, loop_lag_ms=2.0,
                       send=[i / 60 for i in range(240)])
            run["app"]["workers"] = [{"pid": 1000 + w, "constructions": 1} for w in range(4)]
            run["upstream"]["received"] = int(jitter(39.0 * 6))
            results["runs"].append(run)
        if "sweep" in scen:
            for n_users in (1, 10, 50, 100, 200):
                p = {"users": n_users, "latency_ms": 1000.0, "steps": [1, 10, 50, 100, 200]}
                for v in ("async", "threadpool"):
                    ends = _burst_ends(v, n_users, 1.0, jitter)
                    results["runs"].append(_run("sweep", v, rep, p, ends, 1.0, loop_lag_ms=2.0))
    return results


def _burst_ends(variant: str, n: int, lat: float, jitter: Callable[[float], float]) -> list[float]:
    if variant == "sync":  # the loop is blocked: one request at a time
        return [float(t) for t in np.cumsum([jitter(lat + BLOCKING_OVERHEAD_S) for _ in range(n)])]
    if variant == "threadpool":  # 40 threads: waves of 40
        return [(i // 40 + 1) * lat + jitter(CPU_PER_REQUEST_S) * (i % 40 + 1) for i in range(n)]
    if variant == "async-limited":  # the seed's limiter: a 10-token bucket, then 10 per second
        return [max(0.0, (i - 9) / 10) + lat + jitter(CPU_PER_REQUEST_S) for i in range(n)]
    return [lat + jitter(CPU_PER_REQUEST_S) * (i + 1) for i in range(n)]


def _process(peak: float, base: float, duration: float) -> dict[str, Any]:
    times = np.arange(0, duration + 1e-9, 0.5)
    rss = base + (peak - base) * np.minimum(1.0, times / (duration / 3))
    return {"rss_baseline_mb": base, "rss_peak_mb": round(peak, 3), "cpu_mean_percent": 20.0,
            "samples": [[round(float(t), 3), round(float(r), 3), 20.0] for t, r in zip(times, rss, strict=True)]}


def _run(scenario: str, variant: str, rep: int, params: dict[str, Any], ends: list[float], lat: float, *,
         loop_lag_ms: float, constructions: int = 1, live_peak: int = 1, bytes_per_instance: int = 21_500,
         send: list[float] | None = None, status: list[int] | None = None) -> dict[str, Any]:
    n = len(ends)
    send = send or [0.0] * n
    status = status or [200] * n
    lat_ms = np.array([(e - s) * 1000 for s, e in zip(send, ends, strict=True)])
    ok = sum(1 for s in status if s == 200)
    errors = {"http_429": n - ok} if ok < n else {}
    makespan = max(ends) - min(send)
    return {
        "id": f"{scenario}-{variant}-{rep}", "scenario": scenario, "variant": variant,
        "axes": parse_variant(variant).axes(), "repetition": rep,
        "params": {"users": params.get("users", 50), "latency_ms": params.get("latency_ms", lat * 1000),
                   "duration_s": 0.0, "rate": 0.0, "workers": 1, "upstream_limit_rps": 0.0, "steps": [],
                   "app_env": {}, **params},
        "started_utc": "2026-01-01T00:00:00+00:00", "wall_s": makespan + 1.0,
        "metrics": {"requests": n, "ok": ok, "errors": errors, "makespan_s": round(makespan, 6),
                    "throughput_rps": n / makespan,
                    "latency_ms": {q: float(np.percentile(lat_ms, int(q[1:]))) for q in ("p50", "p90", "p95", "p99")}
                    | {"max": float(lat_ms.max()), "mean": float(lat_ms.mean())}, "ttft_ms": None},
        "requests": {"t_send": send, "t_end": ends, "t_first_byte": ends, "status": status,
                     "error": [None if s == 200 else f"http_{s}" for s in status], "worker": [0] * n},
        "app": {"before": {"constructions": 0, "provider_calls": 0},
                "after": {"constructions": constructions, "provider_calls": n},
                "constructions": constructions, "live_peak": live_peak, "bytes_per_instance": bytes_per_instance,
                "loop_lag_max_ms": loop_lag_ms, "loop_lag_p99_ms": loop_lag_ms * 0.9, "workers": None},
        "process": _process(112.0, 100.0, makespan),
        "upstream": {"received": n, "by_status": {"200": n}, "rate_limited": 0, "faults": {}, "retries": 0},
        "accounting": {"sent": n, "recorded": n, "answered": n, "upstream_received": n, "ok": True, "problems": []},
        "files": {}, "warnings": [],
    }


def edit_runs(results: dict[str, Any], scenario: str, variant: str, edit: Callable[[dict[str, Any]], None]) -> None:
    """Apply `edit` to every repetition of (scenario, variant)."""
    for run in results["runs"]:
        if run["scenario"] == scenario and run["variant"] == variant:
            edit(run)


def drop_runs(results: dict[str, Any], scenario: str, variant: str | None = None) -> None:
    results["runs"] = [r for r in results["runs"]
                       if not (r["scenario"] == scenario and (variant is None or r["variant"] == variant))]


def scale_metric(results: dict[str, Any], scenario: str, variant: str, factor: float) -> None:
    """Multiply makespan and latencies (a clear regression when factor > 1)."""
    def edit(run: dict[str, Any]) -> None:
        run["metrics"]["makespan_s"] *= factor
        run["metrics"]["latency_ms"] = {k: v * factor for k, v in run["metrics"]["latency_ms"].items()}
        run["requests"]["t_end"] = [t * factor for t in run["requests"]["t_end"]]
    edit_runs(results, scenario, variant, edit)

