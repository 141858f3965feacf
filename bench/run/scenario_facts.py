"""The bench scenarios' facts, in one table: the Locust scenario that drives each, whether it needs a fresh app,
its load kind, the requests it sends, its client timeout and its time estimate.

A bench scenario is what a profile's step names (`burst`, `cold-burst`, `sweep`, ...); the Locust scenario
(`scenarios.registry`) is how the load is generated. The orchestrator, execute, the cost guard and the run config
read these facts here instead of keeping their own tuples.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from bench.errors import choice_error
from bench.run import faults
from scenarios.registry import SCENARIOS
from scenarios.schedule import arrival_count

if TYPE_CHECKING:
    from bench.run.profiles import Step

# Locust's defaults for a step that gives no duration or rate.
DEFAULT_DURATION_S = 10.0
DEFAULT_RATE = 10.0
# Seconds a repetition costs beyond its load: Locust and the app start, warm up and stop.
RUN_OVERHEAD_S = 4.0
COLD_START_S = 3.0  # a fresh app's imports and readiness, for a cold scenario
# The same with the overlapping schedule's fork servers: the app and Locust start from pre-imported parents, a
# local Locust releases its users once they are spawned and ends without the interpreter's finalization (a warm
# async burst of 50 at 100 ms: 0.62-0.88 s a run in a quick run, of which 0.45-0.67 s the burst itself; 0.85-1.5 s
# while Locust still finalized, 1.25-1.55 s with a fixed 0.35 s to spawn).
FAST_RUN_OVERHEAD_S = 0.6
FAST_COLD_START_S = 2.0

LIMITER_RPS = 10.0  # the reference app's limiter (the seed's 10 requests per second), for estimates only
LIMITER_BUCKET = 10.0  # and its bucket

Load = Literal["burst", "arrivals", "closed"]


@dataclass(frozen=True)
class ScenarioFacts:
    name: str
    locust: str  # the Locust scenario that drives it (scenarios.registry.SCENARIOS)
    load: Load  # burst: one request per user, released together; arrivals: open loop; closed: closed loop
    takes_users: bool = False  # `--users` sets its users
    users: int = 50  # users when the step gives none (a scenario the profile lacks)
    workers: int = 1
    by_n: tuple[int, ...] = ()  # user counts run one after another (bursts at rising N)

    @property
    def fresh_app(self) -> bool:
        """A new app process per repetition (constructions counted from a cold start): the Locust scenario's own
        fact, which the web UI follows too."""
        return SCENARIOS[self.locust].fresh_server

    @staticmethod
    def duration_s(step: Step) -> float:
        return step.duration_s or DEFAULT_DURATION_S

    @staticmethod
    def rate(step: Step) -> float:
        return step.rate or DEFAULT_RATE

    def requests(self, step: Step, users: int) -> int | None:
        """Requests one repetition sends when fixed in advance: a burst one per user, arrivals rate x duration;
        a closed loop None (as many as the answers allow)."""
        if self.load == "burst":
            return users
        if self.load == "arrivals":
            return arrival_count(self.rate(step), self.duration_s(step), 0)
        return None

    def closed_loop_bound(self, step: Step, users: int, min_latency_s: float) -> int:
        """At most this many requests from a closed loop whose answers take at least `min_latency_s`."""
        return users * math.ceil(self.duration_s(step) / min_latency_s)

    def queued(self, step: Step, users: int) -> float:
        """Requests that can wait in one queue at once, for a backend that answers one at a time."""
        return max(users, step.rate * step.duration_s) if self.load == "arrivals" else users

    def client_timeout_s(self, step: Step, users: int, serial_s: float | None = None) -> float:
        # A blocking variant serves a burst one request at a time: the last waits users x latency.
        timeout = max(60.0, users * step.latency_ms / 1000 * 1.5 + 30.0)
        if serial_s:
            # A backend that serializes makes every variant wait for the whole queue ahead of it.
            timeout = max(timeout, self.queued(step, users) * serial_s * 3 + 60.0)
        return timeout

    def estimate_s(self, step: Step, variant: str, users: int, serial_s: float | None = None, *,
                   fast: bool = False) -> float:
        """Rough seconds per repetition, for the progress bar's time left. `serial_s`: a backend that answers
        one request at a time, and its time per request. `fast`: apps and Locust from fork servers."""
        latency = step.latency_ms / 1000
        overhead = FAST_RUN_OVERHEAD_S if fast else RUN_OVERHEAD_S
        if "limited" in variant.split(":", 1)[0] and not self.fresh_app:
            overhead += LIMITER_BUCKET / LIMITER_RPS  # its bucket refills before the run (bench/run/execute.py)
        if serial_s:
            queued = step.rate * step.duration_s if self.load == "arrivals" else users
            return overhead + max(step.duration_s, queued * serial_s)
        if self.load == "burst":
            serial = variant.startswith("sync") or ":call=blocking" in variant
            load = users * latency if serial else latency * max(1.0, users / 40 if "threadpool" in variant else 1.0)
            if "limited" in variant.split(":", 1)[0]:
                load = max(load, users / LIMITER_RPS)  # released at the limiter's pace
            return overhead + load + ((FAST_COLD_START_S if fast else COLD_START_S) if self.fresh_app else 0.0)
        if self.load == "arrivals" and "limited" in variant.split(":", 1)[0]:
            # Arrivals above the limiter's rate queue behind it: the last leaves when the limiter has let all out.
            # A limiter shared in Redis admits LIMITER_RPS in all; one per worker process, that many times W.
            sent = arrival_count(self.rate(step), self.duration_s(step), 0)
            admitted = LIMITER_RPS * (1 if "redis" in variant else max(1, step.workers))
            return overhead + max(step.duration_s, sent / admitted) + latency
        return overhead + step.duration_s + latency


@dataclass(frozen=True)
class FaultFacts(ScenarioFacts):
    """`faults`: a steady load whose requests may each take the whole retry budget (bench/run/faults.py), and a
    blocking variant serves them one at a time: its client timeout and estimate allow for that."""

    def client_timeout_s(self, step: Step, users: int, serial_s: float | None = None) -> float:
        requests = self.requests(step, users) or users
        return max(super().client_timeout_s(step, users, serial_s), faults.serial_worst_s(step, requests) + 30.0)

    def estimate_s(self, step: Step, variant: str, users: int, serial_s: float | None = None, *,
                   fast: bool = False) -> float:
        base = super().estimate_s(step, variant, users, serial_s, fast=fast)
        kind = faults.KINDS.get(step.fault)
        if kind is None or not (variant.startswith("sync") or ":call=blocking" in variant):
            return base
        # A blocked loop pays each fault's timeout or backoff in turn: a rough share of the retry budget.
        hung = (self.requests(step, users) or users) * (kind.rate or 0.5)
        return base + hung * faults.app_timeout_s(step)


FACTS: dict[str, ScenarioFacts] = {
    f.name: f
    for f in (
        ScenarioFacts("burst", "burst", "burst", takes_users=True),
        ScenarioFacts("cold-burst", "cold-burst", "burst", takes_users=True),
        ScenarioFacts("steady", "steady", "arrivals"),
        ScenarioFacts("concurrency", "concurrency", "closed", takes_users=True, users=10),
        ScenarioFacts("workers", "steady", "arrivals", workers=4),
        # Bursts at rising N, one Locust run each (not Locust's closed-loop `concurrency-steps` shape).
        ScenarioFacts("sweep", "burst", "burst", by_n=(1, 10, 50, 100)),
        ScenarioFacts("stream", "stream", "closed", users=10),
        # One short steady load per upstream fault kind, each kind its own step (bench/run/faults.py).
        FaultFacts("faults", "steady", "arrivals"),
    )
}
SCENARIO_NAMES = tuple(FACTS)


def facts(name: str) -> ScenarioFacts:
    try:
        return FACTS[name]
    except KeyError:
        raise choice_error("scenario", name, SCENARIO_NAMES) from None
