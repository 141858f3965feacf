"""Load shapes: the sweep's steps of concurrency, each held for a fixed time, then the end of the run."""

from __future__ import annotations

import locust  # noqa: F401  # gevent monkey-patching must come before anything else in a Locust process

# isort: split
from locust import LoadTestShape

from scenarios.runstate import get_run
from scenarios.schedule import sweep_step


class SweepShape(LoadTestShape):
    """Steps from `--steps`, `--step-duration` seconds each; users ramp to a step within about a second."""

    def tick(self) -> tuple[int, float] | None:
        assert self.runner is not None  # Locust attaches the runner before the first tick
        settings = get_run(self.runner.environment).settings
        i = sweep_step(self.get_run_time(), settings.step_duration, len(settings.steps))
        if i is None:
            return None
        users = settings.steps[i]
        return users, float(max(users, 1))
