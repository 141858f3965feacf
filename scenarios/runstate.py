"""The state one Locust process keeps for a benchmark run, attached to Locust's Environment.

Pure (no locust import). Settings are re-read at each test start, because a worker only receives the
master's resolved values (the release time) with its spawn message.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from scenarios.options import Settings, settings_from
from scenarios.records import RecordWriter, RunLabels
from scenarios.registry import ScenarioSpec, get_scenario

ATTR = "bench_run"


@dataclass
class BenchRun:
    settings: Settings
    spec: ScenarioSpec
    writer: RecordWriter | None = None
    done_users: int = 0
    stopping: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def labels(self) -> RunLabels:
        s = self.settings
        return RunLabels(variant=s.variant, scenario=s.scenario, repetition=s.repetition)

    def refresh(self, parsed_options: Any) -> None:
        self.settings = settings_from(parsed_options)
        self.spec = get_scenario(self.settings.scenario)


def new_run(parsed_options: Any) -> BenchRun:
    settings = settings_from(parsed_options)
    writer = RecordWriter(settings.records_dir) if settings.records_dir else None
    return BenchRun(settings=settings, spec=get_scenario(settings.scenario), writer=writer)


def attach(environment: Any, run: BenchRun) -> None:
    setattr(environment, ATTR, run)


def get_run(environment: Any) -> BenchRun:
    """The run's state; created from the parsed options if no hook attached one (a user run on its own)."""
    run = getattr(environment, ATTR, None)
    if run is None:
        run = new_run(getattr(environment, "parsed_options", None))
        attach(environment, run)
    return run
