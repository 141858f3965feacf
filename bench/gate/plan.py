"""What `bench gate` runs: the steps of a profile that feed a gated metric, on only the variants those metrics
read, with the overrides that make the ratios machine-independent (see NOTES, which go into the baseline)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from bench.errors import UsageError, choice_error
from bench.gate.metrics import METRICS, REGISTRY
from bench.run.profiles import PROFILES, Profile, Step

DEFAULT_REPEAT = 3


@dataclass(frozen=True)
class GatePlan:
    """A profile's steps narrowed to `variants` per scenario, each with its `overrides` (Step fields)."""

    profile: str
    variants: dict[str, tuple[str, ...]]
    overrides: dict[str, dict[str, Any]] = field(default_factory=dict)
    notes: tuple[str, ...] = ()


GATE_PLANS: dict[str, GatePlan] = {
    "quick": GatePlan(
        "quick",
        variants={"burst": ("sync", "lru_cache"), "cold-burst": ("locked", "async-dependency"),
                  "concurrency": ("per-request", "lru_cache"), "steady": ("async-limited",)},
        overrides={
            "burst": {"users": 10, "latency_ms": 1000.0},
            "cold-burst": {"app_env": {"APP_AGENT_INIT_DELAY_MS": "50"}},
            "steady": {"duration_s": 3.0},
            # Pinned as when the baseline was made: the per-request live-agent count grows with the window.
            "concurrency": {"duration_s": 2.5},
        },
        notes=(
            "Burst at 10 users against a 1000 ms upstream (the quick profile uses 50 at 100 ms). The async burst's "
            "own CPU work (LangGraph + LangChain + the OpenAI client, 6-15 ms a request on this 2-core box) is then "
            "5-15% of its makespan. At 50 x 100 ms that CPU work is ~75% of the makespan (3.5-4.4x the latency): a "
            "machine-speed figure, not a design one. Sync costs 10 x 1 s a repetition.",
            "burst.async_makespan x1.15: over 10 gate runs of unchanged code on a quiet machine the 3-repetition "
            "median moved -0.4%..+1.8% from the baseline (1.049); over 5 runs with a unit-test tier and a second "
            "bench run beside it, up to +9.9%; four CPU hogs alone moved it little (the scheduler favours the "
            "waiting servers). An awaited 200 ms (each request 20% slower) moves it ~+19%, a 50 ms blocking call "
            "per request +45%.",
            "burst.speedup x1.25: the sync side is N x latency to within 1%, so the ratio carries only the async "
            "side's noise (-9.5% at worst under neighbour load); a blocking call back in the async path collapses "
            "it (50 ms a request: -30%).",
            "memory.agent_ratio x5: per-request live agents include those awaiting garbage collection, so the "
            "ratio follows throughput and GC timing (135x-440x within one run); the regression it guards, the "
            "singleton no longer shared, takes it to ~1x. memory.rss_ratio is report-only: whole-process RSS differs "
            "by only 3-9% with shared HTTP clients and GC timing dominates it.",
            "limiter.error_rate +2 points, absolute: 0% with the limiter in every repetition measured; without it "
            "users got 30 errors in 80 requests (20 arrivals/s for 4 s against a 10 req/s upstream). The gate runs "
            "3 s of it.",
            "Invariants: cold bursts of 50 with APP_AGENT_INIT_DELAY_MS=50 to widen the race window; `locked` and "
            "`async-dependency` must build exactly one ChatAgent in every repetition (skipping the lock built 40).",
            "burst.async_blocked_share is a line, not a comparison: in every repetition the async burst's loop may be "
            "blocked at the app's own call sites for at most 10% of the makespan (measured: 0-1% on unchanged code; "
            "a 50 ms time.sleep per request ~30%). It catches a blocking call even where the ratios hide it, and the "
            "report names its file and line.",
            "A ratio or rate regresses only past its threshold AND significant: a one-sided Mann-Whitney U test over "
            "10 baseline and 3 gate repetitions (p = 0.0035 at full separation, 0.024 with one baseline outlier on "
            "the far side), else non-overlapping 95% bootstrap CIs.",
        ),
    ),
}


def gate_profile(name: str, *, repeat: int = DEFAULT_REPEAT, only: set[str] | None = None) -> Profile:
    """The profile `bench gate` runs; with `only`, just the steps and variants those metrics read."""
    if name not in GATE_PLANS:
        raise choice_error("gate profile", name, list(GATE_PLANS))
    plan, base = GATE_PLANS[name], PROFILES[GATE_PLANS[name].profile]
    wanted = needs_of(only)
    steps: list[Step] = []
    for scenario, variants in plan.variants.items():
        step = next((s for s in base.steps if s.scenario == scenario), None)
        if step is None:
            raise UsageError(f"profile {plan.profile!r} has no {scenario} step for the gate")
        keep = tuple(v for v in variants if wanted is None or (scenario, v) in wanted)
        if keep:
            # The gate's own repetitions apply to every step (its baseline was taken that way).
            steps.append(replace(step, variants=keep, repeat=None, **plan.overrides.get(scenario, {})))
    if not steps:
        raise UsageError("nothing to run: the chosen metrics read no scenario (give one that does)")
    return replace(base, name=f"gate-{name}", summary=f"the gated metrics of the {name} profile", steps=tuple(steps),
                   repeat=repeat)


def needs_of(only: set[str] | None) -> set[tuple[str, str]] | None:
    """The (scenario, variant) runs the metrics in `only` read; None for every metric."""
    if not only:
        return None
    unknown = sorted(only - set(REGISTRY))
    if unknown:
        raise choice_error("metric", unknown[0], list(REGISTRY))
    return {need for m in METRICS if m.id in only for need in m.needs}
