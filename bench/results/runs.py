"""Picking runs out of results.json: by scenario and variant axes, grouped by set-up (the params that
define a measurement), and reading nested metrics that may be absent."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

Run = dict[str, Any]

# The seed's set-up for the burst claim (C4): 50 concurrent requests against a 3 s upstream.
SEED_USERS = 50
SEED_LATENCY_MS = 3000.0


def get(obj: Any, path: str, default: Any = None) -> Any:
    """`get(run, "metrics.latency_ms.p95")`; `default` when any step is missing or None."""
    for key in path.split("."):
        if not isinstance(obj, dict) or obj.get(key) is None:
            return default
        obj = obj[key]
    return obj


def values(runs: Iterable[Run], path: str) -> list[float]:
    """One number per run, skipping runs that lack it."""
    out: list[float] = []
    for run in runs:
        v = get(run, path)
        if isinstance(v, int | float) and not isinstance(v, bool):
            out.append(float(v))
    return out


def axes_of(run: Run) -> dict[str, str]:
    """The run's variant axes as recorded (schema.upgrade fills them in for a loaded file that lacks them)."""
    axes = run.get("axes")
    return {str(k): str(v) for k, v in axes.items()} if isinstance(axes, dict) else {}


def matches(run: Run, scenario: str, axes: dict[str, str]) -> bool:
    if run.get("scenario") != scenario:
        return False
    have = axes_of(run)
    return all(have.get(k) == v for k, v in axes.items())


def select(results: dict[str, Any], scenario: str, **axes: str) -> list[Run]:
    """Runs of `scenario` whose axes include `axes` (axis names with `_` for nothing: provider, call...)."""
    return [r for r in results.get("runs", []) if matches(r, scenario, axes)]


def scenarios(results: dict[str, Any]) -> list[str]:
    return sorted({str(r.get("scenario")) for r in results.get("runs", [])})


def variant_names(runs: Iterable[Run]) -> list[str]:
    """Variant names in first-seen order (the order the run used)."""
    seen: dict[str, None] = {}
    for run in runs:
        seen.setdefault(str(run.get("variant")), None)
    return list(seen)


def by_variant(runs: Iterable[Run]) -> dict[str, list[Run]]:
    out: dict[str, list[Run]] = {}
    for run in runs:
        out.setdefault(str(run.get("variant")), []).append(run)
    return out


def setup_key(run: Run) -> str:
    """The params that define the measurement, as a stable string (repetitions share it)."""
    params = {k: v for k, v in (run.get("params") or {}).items() if k not in ("seed", "repeat")}
    return json.dumps(params, sort_keys=True, default=str)


def by_setup(runs: Iterable[Run]) -> dict[str, list[Run]]:
    out: dict[str, list[Run]] = {}
    for run in runs:
        out.setdefault(setup_key(run), []).append(run)
    return out


def setup_label(params: dict[str, Any] | None) -> str:
    """A short human name for a set-up: `N=50, 3000 ms upstream, 20 rps for 10 s`."""
    p = params or {}
    parts: list[str] = []
    if p.get("users"):
        parts.append(f"N={p['users']:g}" if isinstance(p["users"], float) else f"N={p['users']}")
    if p.get("latency_ms") is not None:
        parts.append(f"{p['latency_ms']:g} ms upstream")
    if p.get("rate"):
        parts.append(f"{p['rate']:g} req/s arrivals")
    if p.get("duration_s"):
        parts.append(f"for {p['duration_s']:g} s")
    if p.get("upstream_limit_rps"):
        parts.append(f"upstream limit {p['upstream_limit_rps']:g} req/s")
    if p.get("workers") and p["workers"] != 1:
        parts.append(f"{p['workers']} workers")
    delay = get(p, "app_env.APP_AGENT_INIT_DELAY_MS")
    if delay:
        parts.append(f"constructor delay {delay} ms")
    return ", ".join(parts) or "default set-up"


def profile_of(results: dict[str, Any]) -> str:
    return str(get(results, "config.profile", "unknown"))


def is_seed_setup(params: dict[str, Any] | None) -> bool:
    p = params or {}
    return p.get("users") == SEED_USERS and float(p.get("latency_ms") or 0) == SEED_LATENCY_MS


def cores(results: dict[str, Any]) -> int:
    """Cores the run had: the per-request CPU cost is divided among them in the sweep model."""
    return int(get(results, "host.logical_cores") or 1)


def timeouts(run: Run) -> int | None:
    """User-visible timeouts: error kinds naming a timeout, plus gateway timeouts (504); None if not recorded."""
    errors = get(run, "metrics.errors")
    if not isinstance(errors, dict):
        return None
    return int(sum(n for kind, n in errors.items() if "timeout" in str(kind).lower() or "504" in str(kind)))


def user_errors(run: Run) -> float | None:
    m = run.get("metrics") or {}
    if m.get("requests") is not None and m.get("ok") is not None:
        return float(m["requests"] - m["ok"])
    errors = m.get("errors")
    return float(sum(errors.values())) if isinstance(errors, dict) else None


def main_setup(runs: list[Run]) -> list[Run]:
    """The runs of the set-up a chart shows: the seed's if present, else the longest latency, then most users."""
    groups = by_setup(runs)
    if not groups:
        return []

    def rank(key: str) -> tuple[bool, float, float]:
        p = groups[key][0].get("params") or {}
        return is_seed_setup(p), float(p.get("latency_ms") or 0), float(p.get("users") or 0)

    return groups[max(groups, key=rank)]


def latencies_ms(run: Run) -> list[float]:
    """Per-request latency from the raw records (end - send), successful or not."""
    req = run.get("requests") or {}
    send, end = req.get("t_send") or [], req.get("t_end") or []
    return [(e - s) * 1000 for s, e in zip(send, end, strict=False) if s is not None and e is not None]


def median_run(runs: list[Run], path: str = "metrics.makespan_s") -> Run | None:
    """The repetition whose `path` is the median (the lower middle one for an even count)."""
    ranked = sorted((r for r in runs if isinstance(get(r, path), int | float)), key=lambda r: get(r, path))
    return ranked[(len(ranked) - 1) // 2] if ranked else None


def repetitions_label(results: dict[str, Any]) -> str:
    """The profile's repetitions, and the steps that ran another number (the seed's sync burst runs 2)."""
    base = get(results, "config.repeat", "?")
    own = [f"{p['scenario']} {'/'.join(p.get('variants') or [])}: {p['repeat']}"
           for p in get(results, "config.plan", []) or [] if p.get("repeat")]
    return f"{base}" + (f" (except {'; '.join(own)})" if own else "")
