"""Profiles: which scenarios run, on which variants, with which parameters. Each step names the claims it
feeds (see bench/report/claims.py for the rules that read them).

    quick  the CI / first-look set-up: short latencies, every claim touched; 3.5 min on 2 cores (budget 3)
    seed   the document's set-up: bursts of 50 against a 3 s upstream (sync ~150 s) and the cold-burst race,
           <= 10 min; the memory, limiter and workers claims need quick or full
    full   every variant of every scenario plus the concurrency sweep (no time budget)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


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

    def params(self) -> dict[str, Any]:
        return {
            "users": self.users, "latency_ms": self.latency_ms, "duration_s": self.duration_s, "rate": self.rate,
            "workers": self.workers, "upstream_limit_rps": self.upstream_limit_rps, "steps": list(self.steps),
            "app_env": dict(self.app_env),
        }


@dataclass(frozen=True)
class Profile:
    name: str
    summary: str
    steps: tuple[Step, ...]
    repeat: int = 3


_COLD_VARIANTS = ("naive-global", "naive-global:dependency=async", "lru_cache", "async-dependency", "locked",
                  "asyncio-lock")
_MEMORY_VARIANTS = ("per-request", "lru_cache", "per-request:clients=per-agent", "lru_cache:clients=per-agent")
_BURST_VARIANTS = ("sync", "lru_cache", "async", "threadpool")


def _limits(latency_ms: float, duration_s: float) -> tuple[Step, ...]:
    return (
        # 20 arrivals/s against an upstream that allows 10/s: the seed's limiter (10 rps) vs none.
        Step("steady", ("async", "lru_cache"), ("C6",), latency_ms=latency_ms, duration_s=duration_s, rate=20.0,
             upstream_limit_rps=10.0),
        # 4 workers, each with its own 10 rps limiter, offered 60 arrivals/s: upstream sees up to 40/s.
        Step("workers", ("async",), ("C7",), latency_ms=latency_ms, duration_s=duration_s, rate=60.0, workers=4),
    )


PROFILES: dict[str, Profile] = {
    "quick": Profile(
        "quick",
        "every claim at short latencies (bursts of 50 at 100 ms); about 3.5 minutes on 2 cores (budget: 3)",
        (
            Step("burst", _BURST_VARIANTS[:3], ("C4",), users=50, latency_ms=100.0),
            Step("cold-burst", ("naive-global", "lru_cache", "async-dependency", "locked"), ("C1", "C2", "C3", "C9"),
                 users=50, latency_ms=100.0),
            Step("concurrency", _MEMORY_VARIANTS[:2], ("C5",), users=10, latency_ms=100.0, duration_s=2.0),
            *_limits(100.0, 2.5),
        ),
    ),
    "seed": Profile(
        "seed",
        "the design document's set-up: bursts of 50 concurrent requests against a 3 s upstream (sync alone takes "
        "3 x 150 s) and the cold-burst race; within 10 minutes (memory, limiter and workers: quick or full)",
        (
            Step("burst", ("sync", "lru_cache"), ("C4",), users=50, latency_ms=3000.0),
            Step("cold-burst", ("naive-global", "lru_cache", "async-dependency", "locked"), ("C1", "C2", "C3", "C9"),
                 users=50, latency_ms=100.0),
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
            *_limits(1000.0, 10.0),
            Step("sweep", ("lru_cache", "threadpool"), (), latency_ms=1000.0, steps=(1, 10, 50, 100, 200, 500)),
        ),
    ),
}

SCENARIO_NAMES = ("burst", "cold-burst", "steady", "concurrency", "workers", "sweep", "stream")
