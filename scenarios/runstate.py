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
    # What this run's records are tagged with: made once per (re)start, not per request.
    labels: RunLabels = field(init=False)

    def __post_init__(self) -> None:
        self.labels = _labels(self.settings)

    def refresh(self, parsed_options: Any) -> None:
        self.settings = settings_from(parsed_options)
        self.spec = get_scenario(self.settings.scenario)
        self.labels = _labels(self.settings)


def _labels(settings: Settings) -> RunLabels:
    return RunLabels(variant=settings.variant, scenario=settings.scenario, repetition=settings.repetition)


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
