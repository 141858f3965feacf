"""results.json, the versioned record of a run from which every report and chart is rebuilt: its format history,
writing, and loading, where `upgrade` brings older files to the current shape (TypedDicts in shape.py)."""

# Format history. `schema_version` is the file's; SCHEMA_VERSION is what this bench writes. Bump it when a field
# is removed or renamed or changes meaning, and give the old version a branch in `upgrade`. A field that is only
# added needs no bump, but it goes in this list and is NotRequired in shape.py: older files lack it.
#
# 1  bfa05c3 (2026-11-23), the first format. Top level: schema_version, tool, label, created_utc, partial,
#    interrupted (after Ctrl-C), config (the RunConfig, its plan and repeat), host, backend (kind, base_url,
#    model, api_key_set), static (provider_lines), probes (provider_call_ns, settings_echo, tier_limits), runs.
#    A run: id, scenario, variant, axes, repetition, params, started_utc, wall_s, metrics, requests (per-request
#    columns), app, process, upstream, accounting, locust, files, warnings, claims.
#    Version 1 then grew by additions only, without a bump:
#    - cdb51f2: upstream.rate_mean_rps, rate_peak_1s, retries, arrival_span_s (the mock's own arrival times).
#      Without them C7 takes upstream.received / params.duration_s, as for any run that has no arrival times.
#    - 1227e33: plan[].repeat and params.repeat (per-step repetitions). The same commit re-cut the presets:
#      `async` lost the limiter, which went to the new `async-limited`. Claims select runs by their recorded
#      `axes`, whose meaning did not change, so they read older files right; the runs table and `bench compare`
#      show each file's own variant names.
#    - e9d9a3d: the `stream` scenario (metrics.ttft_ms filled).
#    - f02f1a2: run.usage (tokens the upstream reported) and the top-level cost; `bench gate` records no cost.
#    - d8eac57: app.requests_by_worker.
#    - 4bce1a7: backend.serializes, notes, mock_settings_apply, and for local-llm its server's description.
#    - c8e7f54: credentials and query values in backend.base_url and config.backend masked as ***.
#    - f1f676c: config.max_tokens.
#    - issue 13: probes.backend (the backend probe: L, K, C4's ideal); tier_limits[tier].limit_rpd and .app (the
#      app's limiter configured from the tier) and a tier-2 entry. Without probes.backend C4 takes the mock's
#      ideal as N and does not judge a real backend.
#    - run.blocked: the blocked-loop sampler's totals, top call sites and longest blocks (issue 14); older files
#      and apps without the sampler have none, and the report shows its blocked-loop section only when present.
#    - issue 15: `target` (top level and in config: a user's app, `bench run --app`), app.watched (`--watch`
#      classes), plan[].upstream_tier and params.upstream_tier (the mock's named tier). A file with a target holds
#      runs whose variant is the app's MODULE:ATTR and whose axes are empty; its report shows concerns, not claims.
#    - issue 16: config.redis_url (`--redis-url`, masked); the `async-redis-limited` variant in `workers` runs.
#    - issue 19: config.locust_workers, master_bind, worker_wait_s (`bench run --locust-workers N`); per run with
#      Locust workers (load workers or --processes), run.load_workers (each worker's clock offset to the master,
#      its bound and uncertainty, records sent / received, lost) and metrics.makespan_uncertainty_s. Records'
#      times in requests.jsonl are on the master's clock. Older files have neither: one clock, nothing to correct.
#    - issue 17: the `faults` scenario: plan[].fault / fault_rate and params.fault / fault_rate, run.faults (the
#      fault accounting); the app's stats gain responses_by_status and error_types; a run the app died during has
#      partial and app_died, and the top-level `interrupted` names the death. Older files have none of them.
#    - issue 18: top-level `timings` (schedule, its estimate, wall, seconds per stage and per lane), config.schedule
#      (`--schedule overlap|serial`), params.worker_start for runs with several workers. Run directories are
#      named NN-scenario-variant-users-rep (NN: the step), so two steps of one scenario no longer share one.
#      Older files have none of them: they ran the serial schedule, with spawned workers.
#    Every version-1 file bench wrote reads as it is. `upgrade` fills in, for a hand-made file, what
#    readers used to patch quietly: axes from the variant name, host.logical_cores from a `cpu_count`.
# The version is printed in every report ("schema 1"), so the committed example pins it.

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Any

from app_under_test.variants import VariantError, parse_variant
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


def write_results(results: dict[str, Any], path: str | Path, *, compact: bool = False) -> Path:
    """Atomic write, so a Ctrl-C mid-write never leaves a truncated results.json. `compact` (no indent) is for the
    writes after each run: json's C encoder only serves indent=None, and the indented one costs ~4x the CPU (~0.1 s
    a write by the end of a quick run, once per run, beside the runs being measured)."""
    path = Path(path)
    tmp = path.with_suffix(".json.tmp")
    text = json.dumps(results, indent=None if compact else 1, sort_keys=False, default=_default)
    tmp.write_text(text + "\n", encoding="utf-8")
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
    upgrade(data, path)
    for key in ("config", "host", "runs"):
        if key not in data:
            raise SetupError(f"{path} lacks {key!r}")
    return data


def upgrade(data: dict[str, Any], source: str | Path = "results") -> dict[str, Any]:
    """Bring a loaded file up to SCHEMA_VERSION, in place: the one place that knows older files, so readers see
    the current shape only. One branch per version, oldest first, each leaving the next version's shape."""
    version = data.get("schema_version")
    if version == 1:  # the only version so far: a bump adds `_v1_to_v2` after this and a branch for 2
        _fill_in_v1(data)
    else:
        raise SetupError(f"{source} has schema_version {version}; this bench reads {SCHEMA_VERSION}")
    return data


def _fill_in_v1(data: dict[str, Any]) -> None:
    """Version 1 as readers expect it, for files that lack what bench has always written: each step fills in
    only what is absent, so a file bench wrote passes unchanged."""
    host = data.get("host")
    # No bench version wrote `cpu_count`; the sweep chart took it for logical_cores, so a hand-made file may.
    if isinstance(host, dict) and host.get("logical_cores") is None and host.get("cpu_count") is not None:
        host["logical_cores"] = host["cpu_count"]
    runs = data.get("runs")
    for run in runs if isinstance(runs, list) else []:
        if isinstance(run, dict) and not run.get("axes"):
            # Today's presets: right for every name but a pre-1227e33 `async`, whose files record their axes.
            with contextlib.suppress(VariantError):  # no axes to give: the claims will not select it
                run["axes"] = parse_variant(str(run.get("variant", ""))).axes()


def runs_of(results: dict[str, Any], scenario: str, variant: str | None = None) -> list[dict[str, Any]]:
    return [r for r in results["runs"]
            if r["scenario"] == scenario and (variant is None or r["variant"] == variant)]


def _default(obj: object) -> object:
    if hasattr(obj, "item"):  # numpy scalars
        return obj.item()  # type: ignore[attr-defined]
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON serializable: {type(obj).__name__}")
