"""Profiles: which scenarios run, on which variants, with which parameters. Each step names the claims it
feeds (see bench/report/claims/ for the rules that read them).

    quick  the CI / first-look set-up: short latencies, every claim touched; budget 3 min on 2 cores
    seed   the document's set-up: bursts of 50 against a 3 s upstream (sync ~150 s), plus every other claim and
           a small sweep at 100 ms, so its report has every chart; budget 10 min
    full   every variant of every scenario, the sweep up to 500 at 1 s (no time budget)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# The warm-up before a warm step (bench/orchestrator.py), also counted by the cost guard (bench/cost.py).
WARM_UP_MESSAGE = "warm-up"
WARM_UP_PER_WORKER = 2  # sequential requests: the singleton built, the pools open
WARM_UP_LIMIT = 100  # requests, for several workers to each have served one (bounded: accept order is the kernel's)


@dataclass(frozen=True)
class Step:
    """One scenario on a list of variants, with its parameters and the mock backend it needs."""

    scenario: str  # a bench scenario: burst, cold-burst, steady, concurrency, workers, sweep, stream
    variants: tuple[str, ...]
    claims: tuple[str, ...]
    users: int = 50
    latency_ms: float = 1000.0
    duration_s: float = 0.0
    rate: float = 0.0  # steady arrivals per second
    workers: int = 1
    upstream_limit_rps: float = 0.0  # the mock's request-rate limit (0: none)
    steps: tuple[int, ...] = ()  # sweep concurrency steps
    app_env: dict[str, str] = field(default_factory=dict)
    repeat: int | None = None  # this step's repetitions (None: the profile's); an explicit --repeat wins

    def repetitions(self, profile_repeat: int) -> int:
        return self.repeat or profile_repeat

    def params(self) -> dict[str, Any]:
        return {
            "users": self.users, "latency_ms": self.latency_ms, "duration_s": self.duration_s, "rate": self.rate,
            "workers": self.workers, "upstream_limit_rps": self.upstream_limit_rps, "steps": list(self.steps),
            "app_env": dict(self.app_env), "repeat": self.repeat,
        }


@dataclass(frozen=True)
class Profile:
    name: str
    summary: str
    steps: tuple[Step, ...]
    repeat: int = 3


_COLD_VARIANTS = ("naive-global", "naive-global:dependency=async", "lru_cache", "async-dependency", "locked",
                  "asyncio-lock")
_COLD_QUICK = ("naive-global", "lru_cache", "async-dependency", "locked")
_MEMORY_VARIANTS = ("per-request", "lru_cache", "per-request:clients=per-agent", "lru_cache:clients=per-agent")
_BURST_VARIANTS = ("sync", "async", "async-limited", "threadpool")


def _limits(latency_ms: float, duration_s: float, workers_rate: float, repeat: int | None = None) -> tuple[Step, ...]:
    return (
        # 20 arrivals/s against an upstream that allows 10/s: the seed's limiter (10 rps) vs none.
        Step("steady", ("async-limited", "async"), ("C6",), latency_ms=latency_ms, duration_s=duration_s, rate=20.0,
             upstream_limit_rps=10.0, repeat=repeat),
        # 4 workers, each with its own 10 rps limiter, offered more than one limiter admits: upstream sees up to 40/s.
        Step("workers", ("async-limited",), ("C7",), latency_ms=latency_ms, duration_s=duration_s, rate=workers_rate,
             workers=4, repeat=repeat),
    )


PROFILES: dict[str, Profile] = {
    "quick": Profile(
        "quick",
        "every claim at short latencies (bursts of 50 at 100 ms); about 2.5 minutes on 2 cores (budget: 3)",
        (
            Step("burst", ("sync", "async"), ("C4",), users=50, latency_ms=100.0),
            # Counts, not timings, and a fresh app each (~1.8 s of imports): 2 repetitions keep quick in budget.
            Step("cold-burst", _COLD_QUICK, ("C1", "C2", "C3", "C9"), users=50, latency_ms=100.0, repeat=2),
            Step("concurrency", _MEMORY_VARIANTS[:2], ("C5",), users=10, latency_ms=100.0, duration_s=1.5),
            *_limits(100.0, 2.0, workers_rate=40.0),
        ),
    ),
    "seed": Profile(
        "seed",
        "the design document's set-up: bursts of 50 concurrent requests against a 3 s upstream (sync: 2 x 150 s), "
        "then every other claim, a small sweep and streaming at 100 ms; about 9 minutes on 2 cores (budget: 10)",
        (
            # The blocking burst takes N x latency = 150 s by construction (spread 0.03% over 3 repetitions
            # measured): 2 repetitions leave the 10-minute budget room for every other claim. --repeat overrides.
            Step("burst", ("sync",), ("C4",), users=50, latency_ms=3000.0, repeat=2),
            Step("burst", ("async", "async-limited"), ("C4",), users=50, latency_ms=3000.0),
            Step("cold-burst", _COLD_QUICK, ("C1", "C2", "C3", "C9"), users=50, latency_ms=100.0),
            Step("concurrency", _MEMORY_VARIANTS[:2], ("C5",), users=10, latency_ms=100.0, duration_s=1.5, repeat=2),
            *_limits(100.0, 2.0, workers_rate=40.0, repeat=2),
            Step("sweep", ("async", "threadpool"), (), latency_ms=100.0, steps=(1, 10, 50, 100, 200), repeat=1),
            # Streaming: time to first token with the loop free vs blocked by `llm.stream`.
            Step("stream", ("async", "sync"), (), users=10, latency_ms=100.0, duration_s=2.0, repeat=1),
        ),
    ),
    "full": Profile(
        "full",
        "every variant of every scenario: the seed's bursts at 3 s, all singleton and memory variants at 1 s, "
        "and a concurrency sweep (bursts of 1..500 at 1 s)",
        (
            Step("burst", _BURST_VARIANTS, ("C4",), users=50, latency_ms=3000.0),
            Step("cold-burst", _COLD_VARIANTS, ("C1", "C2", "C3", "C9"), users=50, latency_ms=1000.0),
            Step("concurrency", _MEMORY_VARIANTS, ("C5",), users=10, latency_ms=1000.0, duration_s=6.0),
            *_limits(1000.0, 10.0, workers_rate=60.0),
            Step("sweep", ("async", "threadpool"), (), latency_ms=1000.0, steps=(1, 10, 50, 100, 200, 500)),
            Step("stream", ("async", "sync"), (), users=10, latency_ms=1000.0, duration_s=10.0),
        ),
    ),
}


