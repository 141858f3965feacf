"""The committed baseline (`reports/baseline.json`): per gated metric its values per repetition, set-up,
threshold, direction and report-only flag, plus the host it was measured on. Versioned; loaded strictly,
because a baseline the gate misreads would pass or fail changes for the wrong reason.

    {"schema_version": 1, "kind": "bench-gate-baseline", "created_utc": str, "tool": {...},
     "profile": str, "repeat": int, "host": {...}, "source": {"results": str, "git_commit": str},
     "notes": [str, ...],
     "metrics": {id: {"title", "kind": "ratio"|"rate"|"exact", "direction": "lower"|"higher"|"equal", "unit",
                      "threshold": float, "expected": float (exact only), "report_only": bool, "catches": str,
                      "values": [float | null, ...], "median": float | null, "setup": {variant: {param: value}}}}}
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.errors import SetupError
from bench.gate.metrics import METRICS, REGISTRY, GatedMetric, Measurement, rounded
from bench.results.stats import median

SCHEMA_VERSION = 1
KIND = "bench-gate-baseline"
DEFAULT_PATH = Path("reports") / "baseline.json"
KINDS = ("ratio", "rate", "exact")
DIRECTIONS = ("lower", "higher", "equal")


@dataclass(frozen=True)
class BaselineMetric:
    id: str
    kind: str
    direction: str
    threshold: float
    values: list[float | None]
    report_only: bool = False
    expected: float | None = None
    setup: dict[str, Any] = field(default_factory=dict)
    title: str = ""
    unit: str = ""

    @property
    def present(self) -> list[float]:
        return [v for v in self.values if v is not None and math.isfinite(v)]


@dataclass(frozen=True)
class Baseline:
    metrics: dict[str, BaselineMetric]
    profile: str
    repeat: int
    host: dict[str, Any]
    created_utc: str
    notes: list[str]
    path: Path | None = None


def _fail(path: Path, what: str) -> SetupError:
    return SetupError(f"baseline {path}: {what}")


def _metric(path: Path, mid: str, raw: Any) -> BaselineMetric:
    if not isinstance(raw, dict):
        raise _fail(path, f"metric {mid!r} is not an object")
    kind, direction = raw.get("kind"), raw.get("direction")
    if kind not in KINDS:
        raise _fail(path, f"metric {mid!r}: kind {kind!r}; valid: {', '.join(KINDS)}")
    if direction not in DIRECTIONS:
        raise _fail(path, f"metric {mid!r}: direction {direction!r}; valid: {', '.join(DIRECTIONS)}")
    threshold = raw.get("threshold", 0.0)
    if not isinstance(threshold, int | float) or isinstance(threshold, bool) or threshold < 0:
        raise _fail(path, f"metric {mid!r}: threshold must be a number >= 0 (got {threshold!r})")
    expected = raw.get("expected")
    if kind == "exact" and not isinstance(expected, int | float):
        raise _fail(path, f"metric {mid!r}: an exact metric needs a numeric 'expected'")
    values = raw.get("values")
    if not isinstance(values, list) or not all(v is None or isinstance(v, int | float) for v in values):
        raise _fail(path, f"metric {mid!r}: 'values' must be a list of numbers (one per repetition)")
    report_only = raw.get("report_only", False)
    if not isinstance(report_only, bool):
        raise _fail(path, f"metric {mid!r}: report_only must be true or false")
    return BaselineMetric(mid, kind, direction, float(threshold), [None if v is None else float(v) for v in values],
                          report_only, None if expected is None else float(expected), dict(raw.get("setup") or {}),
                          str(raw.get("title") or ""), str(raw.get("unit") or ""))


def load_baseline(path: str | Path) -> Baseline:
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SetupError(f"no baseline at {path}: create one with `bench gate --update-baseline` "
                         f"(a missing baseline is an error, never a pass)") from None
    except json.JSONDecodeError as exc:
        raise _fail(path, f"not valid JSON ({exc})") from None
    except OSError as exc:
        raise _fail(path, f"cannot read it ({exc.strerror or exc})") from None
    if not isinstance(data, dict) or data.get("kind") != KIND:
        raise _fail(path, f"not a gate baseline (expected \"kind\": \"{KIND}\")")
    if data.get("schema_version") != SCHEMA_VERSION:
        raise _fail(path, f"schema_version {data.get('schema_version')!r}; this bench reads {SCHEMA_VERSION}")
    raw = data.get("metrics")
    if not isinstance(raw, dict) or not raw:
        raise _fail(path, "no metrics")
    unknown = sorted(set(raw) - set(REGISTRY))
    if unknown:
        raise _fail(path, f"unknown metric(s) {', '.join(unknown)}; known: {', '.join(REGISTRY)}")
    return Baseline({mid: _metric(path, mid, m) for mid, m in raw.items()}, str(data.get("profile") or "quick"),
                    int(data.get("repeat") or 0), dict(data.get("host") or {}), str(data.get("created_utc") or ""),
                    [str(n) for n in data.get("notes") or []], path)


def _entry(metric: GatedMetric, m: Measurement, previous: BaselineMetric | None) -> dict[str, Any]:
    """The user's tuned threshold and report-only flag survive an update; the figures are replaced."""
    entry: dict[str, Any] = {
        "title": metric.title, "kind": metric.kind, "direction": metric.direction, "unit": metric.unit,
        "threshold": previous.threshold if previous else metric.threshold,
        "report_only": previous.report_only if previous else metric.report_only,
        "catches": metric.catches,
        "values": [rounded(v) for v in m.values],
        "median": rounded(median(m.values)),
        "setup": m.setup,
    }
    if metric.kind == "exact":
        entry["expected"] = metric.expected
    return entry


def build_baseline(results: dict[str, Any], measurements: dict[str, Measurement], *, profile: str,
                   notes: list[str], previous: Baseline | None = None, source: str = "") -> dict[str, Any]:
    from bench import __version__

    old = previous.metrics if previous else {}
    return {
        "schema_version": SCHEMA_VERSION, "kind": KIND,
        "created_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "tool": {"name": "llm-concurrency-bench", "version": __version__},
        "profile": profile, "repeat": int((results.get("config") or {}).get("repeat") or 0),
        "host": results.get("host") or {},
        "source": {"results": source, "git_commit": (results.get("host") or {}).get("git_commit")},
        "notes": previous.notes if previous and previous.notes else notes,
        "metrics": {m.id: _entry(m, measurements[m.id], old.get(m.id)) if _measured(measurements, m.id)
                    else _kept(old[m.id]) for m in METRICS if _measured(measurements, m.id) or m.id in old},
    }


def _measured(measurements: dict[str, Measurement], mid: str) -> bool:
    return mid in measurements and not measurements[mid].missing


def _kept(b: BaselineMetric) -> dict[str, Any]:
    """A metric this run did not measure (`--metrics`) keeps its previous entry."""
    entry: dict[str, Any] = {"title": b.title, "kind": b.kind, "direction": b.direction, "unit": b.unit,
                             "threshold": b.threshold, "report_only": b.report_only,
                             "catches": REGISTRY[b.id].catches if b.id in REGISTRY else "", "values": b.values,
                             "median": rounded(median(b.values)), "setup": b.setup}
    if b.expected is not None:
        entry["expected"] = b.expected
    return entry


def write_baseline(data: dict[str, Any], path: str | Path) -> Path:
    """Atomic, like results.json: CI must never read a half-written baseline."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return path
