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
            "tier_limits": {"tier-1": {"limit_rpm": 3, "sent": 5, "ok_200": 3, "rate_limited_429": 2, "ok": True,
                                       "limit_rpd": 200, "app": _tier_app(3, received=0)},
                            "tier-2": {"limit_rpm": 60, "sent": 70, "ok_200": 60, "rate_limited_429": 10, "ok": True,
                                       "limit_rpd": 10_000, "app": _tier_app(60, received=3)}},
            "backend": backend_probe(latency_s=latency_ms / 1000, n=users, overlap=users, configured=True),
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
            run["app"]["requests_by_worker"] = [60, 60, 60, 60]
            run["upstream"]["received"] = int(jitter(39.0 * 6))
            results["runs"].append(run)
        if "sweep" in scen:
            for n_users in (1, 10, 50, 100, 200):
                p = {"users": n_users, "latency_ms": 1000.0, "steps": [1, 10, 50, 100, 200]}
                for v in ("async", "threadpool"):
                    ends = _burst_ends(v, n_users, 1.0, jitter)
                    results["runs"].append(_run("sweep", v, rep, p, ends, 1.0, loop_lag_ms=2.0))
    return results


def _tier_app(rpm: int, *, received: int, window_s: float = 3.5) -> dict[str, Any]:
    """The app's limiter set from a tier, as bench/run/probes.py records it."""
    return {"variant": "async-limited:dependency=async", "agents": 1, "limiter_rps": rpm / 60,
            "limiter_rps_seen": rpm / 60, "window_s": window_s, "fired": 5, "upstream_received": received,
            "upstream_429": 0, "allowed_in_window": int(np.ceil(rpm * window_s / 60)),
            "limiter_admits": int(rpm / 60 * window_s), "ok": True}


def backend_probe(*, latency_s: float, n: int = 50, overlap: float = 50.0, configured: bool = False) -> dict[str, Any]:
    """probes.backend for a backend that answers one request alone in `latency_s` and serves `overlap` at once."""
    k = max(1.0, min(float(n), overlap))
    waves = int(np.ceil(n / k))
    makespan = waves * latency_s * 1.01 or 0.01  # an instant backend: the client's own time
    lats = [latency_s * 1.01 * (i // int(k) + 1) or 0.01 for i in range(n)]
    ideal = min(float(n), max(n / waves, n * latency_s / makespan))
    probe: dict[str, Any] = {
        "target": "synthetic", "model": "gpt-3.5-turbo", "n": n, "lone_s": [latency_s] * 3, "latency_s": latency_s,
        "burst_makespan_s": makespan, "burst_latencies_s": lats, "burst_latency_p50_s": float(np.median(lats)),
        "burst_latency_max_s": max(lats), "overlap": k, "answered_within_slack": int(k),
        "latency_growth": float(np.median(lats)) / latency_s if latency_s else None, "ideal_ratio": ideal,
        "errors": {}, "formula": "synthetic", "ok": True}
    if configured:
        probe["self_check"] = {"configured_latency_s": latency_s, "latency_ok": True, "overlap_ok": k >= n, "ok": True}
    return probe


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



AGENT_PY = "app_under_test/agent.py"
INVOKE_LINE = 98  # a plausible line; tests of the real app read the real one from the file
EPOCH = 1_767_225_600.0  # the synthetic runs' first send, as an epoch (records carry epochs)


def _site(label_fn: str, line: int, calls: str | None, code: str, own: bool, ms: float, blocks: int,
          total: float) -> dict[str, Any]:
    from pathlib import Path

    file = str(Path.cwd() / AGENT_PY) if own else "/venv/lib/python3.11/site-packages/uvicorn/protocols/h11.py"
    label = f"{AGENT_PY if own else 'uvicorn/protocols/h11.py'}:{line} {label_fn}" + (
        f" -> {calls}" if calls else f": {code}")
    return {"site": label, "file": file, "line": line, "function": label_fn, "code": code, "calls": calls,
            "own_code": own, "blocked_ms": ms, "blocks": blocks, "samples": blocks * 4,
            "share": ms / total if total else 0.0, "stack": [f"frame {i}" for i in range(30)]}


def add_blocked(results: dict[str, Any], *, sampler_on: bool = True) -> dict[str, Any]:
    """Blocked-loop figures for the burst runs, as the app reports them per worker and bench/run/blocked.py merges
    them: `sync` blocks once per request at the seed's invoke line, the others only in a 25 ms stall outside
    the app's code."""
    from bench.run.blocked import merge_blocked

    for run in results["runs"]:
        if run["scenario"] != "burst":
            continue
        req = run["requests"]
        records = [{"t_send": EPOCH + s, "t_end": EPOCH + e} for s, e in zip(req["t_send"], req["t_end"], strict=True)]
        if run["variant"] == "sync":
            ends = sorted(req["t_end"])
            starts = [0.0, *ends[:-1]]
            blocks = [{"start": EPOCH + s + 0.001, "duration_ms": (e - s) * 1000 - 2, "site": "invoke", "samples": 20,
                       "sites": []} for s, e in zip(starts, ends, strict=True)]
        else:
            blocks = [{"start": EPOCH + 0.2, "duration_ms": 25.0, "site": "h11", "samples": 4, "sites": []}]
        total = sum(b["duration_ms"] for b in blocks)
        sites = ([_site("ChatAgent._agenerate", INVOKE_LINE, "langchain_core/language_models/chat_models.py:402 "
                        "BaseChatModel.invoke", 'response = self.llm.invoke(state["messages"])', True,
                        total * 0.98, len(blocks), total),
                  _site("ChatAgent._agenerate", INVOKE_LINE + 4, None, "usage.record(response)", True, total * 0.02,
                        3, total)]
                 if run["variant"] == "sync" else
                 [_site("H11Protocol.data_received", 250, "h11/_connection.py:480 Connection.next_event", "", False,
                        total, 1, total)])
        window_ms = (max(req["t_end"]) + 1.5) * 1000
        worker = {"running": sampler_on, "settings": {"threshold_ms": 20.0, "sample_interval_ms": 5.0},
                  "window": {"start": EPOCH - 1.5, "end": EPOCH + max(req["t_end"]), "duration_ms": window_ms},
                  "blocked_ms": total, "blocked_share": total / window_ms, "block_count": len(blocks),
                  "blocks_dropped": 0, "max_block_ms": max(b["duration_ms"] for b in blocks), "blocks": blocks,
                  "sites": sites}
        run["blocked"] = merge_blocked([worker], records)
    return results
