"""Progress for `bench run`: what is running and the time left, counted down from the schedule's estimate of the
whole run (bench/run/schedule.py). results.json's `timings` keeps that estimate beside the real wall time."""

from __future__ import annotations

import sys
import time
from types import TracebackType

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from bench.run.profiles import Profile
from bench.run.schedule import run_estimate_s, units


class ProgressBar:
    def __init__(self, profile: Profile, serial_s: float | None = None, schedule: str = "overlap") -> None:
        self.units = units(profile, schedule)
        self.runs = sum(u.runs() for u in self.units)
        self.total = run_estimate_s(self.units, serial_s, schedule) or 1.0
        self.count = 0
        self.t0 = time.perf_counter()
        self.console = Console(file=sys.stderr)
        self.progress = Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.fields[left]}"),
                                 TimeElapsedColumn(), console=self.console, transient=False,
                                 refresh_per_second=2)  # rich's 10 a second: 1.3 s of the harness's CPU in a quick run
        self.task = self.progress.add_task("starting", total=self.total, left=self._left())

    def __enter__(self) -> ProgressBar:
        self.progress.start()
        return self

    def __exit__(self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None) -> None:
        self.progress.stop()

    def _left(self) -> str:
        left = self.total - (time.perf_counter() - self.t0)
        return f"~{left / 60:.1f} min left" if left > 0 else "past the estimate"

    def advance(self, label: str, estimate: float) -> None:
        """A run starts (`estimate`: its own rough seconds, kept for callers that show it)."""
        self.count += 1
        elapsed = time.perf_counter() - self.t0
        self.progress.update(self.task, completed=min(elapsed, self.total),
                             description=f"[{self.count}/{self.runs}] {label}", left=self._left())
