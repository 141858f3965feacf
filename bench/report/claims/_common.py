"""What the claim modules share: the `claim` decorator that registers each one, the runs and figures several
claims read (cold bursts, the backend), and the formatters their sentences use."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from app_under_test.variants import parse_variant
from bench.report.verdict import ClaimRule, Verdict
from bench.results import runs as R
from bench.results.stats import Estimate

Evaluate = Callable[[dict[str, Any], ClaimRule], Verdict]

# Claim id -> rule, in registration order: the package index imports the claim modules in the document's order.
REGISTRY: dict[str, ClaimRule] = {}


def claim(claim_id: str, text: str, *, rule: str, measured_by: str) -> Callable[[Evaluate], Evaluate]:
    """Register the decorated function as claim `claim_id`'s evaluation. `text` is the claim in the document's
    terms and `rule` what decides it; the report prints both verbatim beside the verdict."""
    def register(evaluate: Evaluate) -> Evaluate:
        if claim_id in REGISTRY:
            raise ValueError(f"claim {claim_id} is registered twice")
        REGISTRY[claim_id] = ClaimRule(claim_id, text, rule, measured_by, evaluate)
        return evaluate
    return register


def variant_runs(results: dict[str, Any], scenario: str, spec: str) -> list[R.Run]:
    """Runs of `scenario` whose axes equal those of the variant `spec` (a preset or PRESET:axis=value)."""
    return R.select(results, scenario, **parse_variant(spec).axes())


def first_params(runs: list[R.Run]) -> dict[str, Any]:
    return dict(runs[0].get("params") or {}) if runs else {}


def cold(results: dict[str, Any], spec: str) -> tuple[list[R.Run], list[float]]:
    """The cold-burst runs of a variant and the ChatAgents each built."""
    runs = variant_runs(results, "cold-burst", spec)
    return runs, R.values(runs, "app.constructions")


def cold_setup(runs: list[R.Run]) -> str:
    p = first_params(runs)
    delay = R.get(p, "app_env.APP_AGENT_INIT_DELAY_MS")
    extra = f", constructor delay {delay} ms" if delay else ""
    return f"cold burst of N={p.get('users', '?')} first requests{extra}"


def raced(vals: list[float]) -> bool:
    """Some repetition built more than one agent."""
    return any(v > 1 for v in vals)


def against_mock(results: dict[str, Any]) -> bool:
    return (results.get("backend") or {}).get("kind", "mock") == "mock"


def backend_label(results: dict[str, Any]) -> str:
    """`local-llm smollm2-135m (llama-cpp-python 0.3.36)`: the kind, model and server, as far as results know."""
    b = results.get("backend") or {}
    kind = str(b.get("kind") or "mock")
    if kind == "mock":
        return "the embedded mock backend"
    server = " ".join(str(b[k]) for k in ("server", "server_version") if b.get(k))
    parts = [kind, str(b.get("model") or "")]
    if server:
        parts.append(f"({server})")
    return " ".join(p for p in parts if p)


def mock_only(results: dict[str, Any]) -> str | None:
    """Why a mock-only measurement is missing from a run against a real backend (None against the mock)."""
    if against_mock(results):
        return None
    return (f"needs the embedded mock (its 429 counts, arrival times and tiers); this run's upstream was "
            f"{backend_label(results)}")


def limiter_rps(params: dict[str, Any], default: float = 10.0) -> float:
    """The in-memory limiter's rate: the run's own figure, else the app env override, else the seed's 10."""
    for path in ("limiter_rps", "app_env.OPENAI_RATE_LIMIT_REQUESTS_PER_SECOND"):
        v = R.get(params, path)
        if v is not None:
            return float(v)
    return default


def limiter_bucket(params: dict[str, Any], default: float = 10.0) -> float:
    for path in ("limiter_bucket", "app_env.OPENAI_RATE_LIMIT_MAX_BUCKET_SIZE"):
        v = R.get(params, path)
        if v is not None:
            return float(v)
    return default


def fmt_count(est: Estimate, vals: list[float]) -> str:
    if not vals:
        return "n/a"
    if len(set(vals)) == 1:
        return f"{vals[0]:g} in all {len(vals)} repetitions"
    return f"median {est.median:g} [{est.low:g}, {est.high:g}] ({est.interval}), max {max(vals):g}"


def pct(x: float) -> str:
    return "n/a" if math.isnan(x) else f"{x * 100:.1f}%"


def ms(seconds: float) -> str:
    return "n/a" if math.isnan(seconds) else f"{seconds * 1000:.0f} ms"


def secs(seconds: float) -> str:
    if math.isnan(seconds):
        return "n/a"
    return f"{seconds:.3g} s" if seconds < 100 else f"{seconds:.0f} s"
