"""The scenarios by name: which Locust user and shape each runs, its defaults, and what it should send.

Classes are named by dotted path and imported only inside Locust processes, so `bench` can read this
registry without importing locust (and gevent's monkey-patching).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

from scenarios.schedule import arrival_count


@dataclass(frozen=True)
class ScenarioSpec:
    name: str
    summary: str
    user_class: str  # "module:Class"
    shape_class: str | None = None
    users: int = 50  # Locust's -u unless given
    timed: bool = False  # runs for `duration` (or the sweep's steps) rather than one request per user
    self_ending: bool = True  # every user reports when it is done; the run ends when all have
    one_user_per_process: bool = False  # steady: one arrival driver per Locust process, -u is ignored
    fresh_server: bool = False  # the orchestrator restarts the app before each repetition
    endpoint: str = "chat"  # "chat" or "stream"
    one_request_per_user: bool = False  # a burst: each user sends one request, then reports done

    def expected_requests(self, *, users: int, rate: float, duration_s: float, max_arrivals: int = 0
                          ) -> int | None:
        """Requests the run must account for, when fixed in advance (burst: one per user)."""
        if self.one_request_per_user:
            return users
        if self.one_user_per_process:
            return arrival_count(rate, duration_s, max_arrivals)
        return None

    def load_seconds(self, *, duration_s: float, steps: tuple[int, ...], step_duration_s: float) -> float:
        """Planned seconds of load after the release, excluding the responses still in flight at the end."""
        if self.shape_class is not None:
            return len(steps) * step_duration_s
        return duration_s if self.timed else 0.0


SCENARIOS: dict[str, ScenarioSpec] = {
    spec.name: spec
    for spec in (
        ScenarioSpec("burst", "N users each send one request, released together; makespan = last end - "
                     "first send", "scenarios.burst:BurstUser", users=50, one_request_per_user=True),
        ScenarioSpec("cold-burst", "burst against a freshly started server (instances constructed)",
                     "scenarios.burst:BurstUser", users=50, fresh_server=True, one_request_per_user=True),
        ScenarioSpec("steady", "open-loop constant arrival rate for T seconds; arrivals never wait for "
                     "responses", "scenarios.arrival:ArrivalDriver", users=1, timed=True,
                     one_user_per_process=True),
        ScenarioSpec("concurrency", "C users in a closed loop for T seconds", "scenarios.users:ClosedLoopUser",
                     users=10, timed=True),
        # Not bench's `sweep` (bursts at rising N, bench.run.scenario_facts): a closed loop held at each step.
        ScenarioSpec("concurrency-steps", "closed-loop steps of concurrency (1, 10, 50, ...), each for a fixed time",
                     "scenarios.users:SweepUser", shape_class="scenarios.shapes:SweepShape", users=1,
                     timed=True, self_ending=False),
        ScenarioSpec("stream", "C users in a closed loop on the SSE endpoint: time to first token and gaps",
                     "scenarios.users:StreamUser", users=10, timed=True, endpoint="stream"),
    )
}


def get_scenario(name: str) -> ScenarioSpec:
    try:
        return SCENARIOS[name]
    except KeyError:
        raise KeyError(f"unknown scenario {name!r}; valid: {', '.join(SCENARIOS)}") from None


def resolve(path: str) -> Any:
    """Import 'module:Attr'. Only for Locust processes: user and shape modules import locust."""
    module, _, attr = path.partition(":")
    return getattr(importlib.import_module(module), attr)
