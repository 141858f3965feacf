"""results.json: the versioned record of a run, from which every report and chart is rebuilt.

Layout (schema_version 1):

    {"schema_version": 1, "tool": {...}, "label": str, "created_utc": str, "partial": bool,
     "config": {... the frozen RunConfig ...}, "host": {... host metadata ...},
     "backend": {"kind": "mock" | "openai" | "url" | "local-llm", ...},
     "static": {"provider_lines": {provider: int}, ...},
     "probes": {name: {...}},                       # small checks that are not load runs (e.g. tier limits)
     "runs": [Run, ...]}

    Run = {"id": str, "scenario": str, "variant": str, "axes": {axis: value}, "repetition": int,
           "params": {"users", "latency_ms", "duration_s", "rate", "workers", ...},
           "started_utc": str, "wall_s": float,
           "metrics": {"requests", "ok", "errors": {kind: n}, "makespan_s", "throughput_rps",
                       "latency_ms": {"p50", "p90", "p95", "p99", "max", "mean"}, "ttft_ms": {...} | null},
           "requests": {"t_send": [s from first send], "t_end": [...], "t_first_byte": [...],
                        "status": [...], "error": [...], "worker": [...]},
           "app": {"before": stats, "after": stats, "constructions": int, "live_peak": int,
                   "bytes_per_instance": int | null, "loop_lag_max_ms", "loop_lag_p99_ms",
                   "workers": [stats per worker pid] | null},
           "process": {"rss_baseline_mb", "rss_peak_mb", "cpu_mean_percent", "samples": [[t_s, rss_mb, cpu_pct], ...]},
           "upstream": {"received", "by_status": {code: n}, "rate_limited", "faults": {...}, "retries"},
           "accounting": {"sent", "recorded", "answered", "upstream_received", "ok": bool, "problems": [str]},
           "files": {name: path relative to the results directory},
           "warnings": [str]}
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from bench.errors import SetupError

SCHEMA_VERSION = 1


def new_results(*, label: str, config: dict[str, Any], host: dict[str, Any], backend: dict[str, Any]) -> dict[str, Any]:
    from datetime import UTC, datetime

    from bench import __version__

    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "llm-concurrency-bench", "version": __version__},
        "label": label,
        "created_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "partial": False,
        "config": config,
        "host": host,
        "backend": backend,
        "static": {},
        "probes": {},
        "runs": [],
    }


def write_results(results: dict[str, Any], path: str | Path) -> Path:
    """Atomic write, so a Ctrl-C mid-write never leaves a truncated results.json."""
    path = Path(path)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(results, indent=1, sort_keys=False, default=_default) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return path


def load_results(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SetupError(f"no such results file: {path}") from None
    except json.JSONDecodeError as exc:
        raise SetupError(f"{path} is not valid JSON: {exc}") from None
    if not isinstance(data, dict) or "schema_version" not in data:
        raise SetupError(f"{path} is not a results file (no schema_version)")
    version = data["schema_version"]
    if version != SCHEMA_VERSION:
        raise SetupError(f"{path} has schema_version {version}; this bench reads {SCHEMA_VERSION}")
    for key in ("config", "host", "runs"):
        if key not in data:
            raise SetupError(f"{path} lacks {key!r}")
    return data


def runs_of(results: dict[str, Any], scenario: str, variant: str | None = None) -> list[dict[str, Any]]:
    return [r for r in results["runs"]
            if r["scenario"] == scenario and (variant is None or r["variant"] == variant)]


def _default(obj: object) -> object:
    if hasattr(obj, "item"):  # numpy scalars
        return obj.item()  # type: ignore[attr-defined]
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON serializable: {type(obj).__name__}")
