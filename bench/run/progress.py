"""Progress for `bench run`: what is running and the time left, from per-run estimates scaled by how long the
finished runs actually took."""

from __future__ import annotations

import sys
import time
from types import TracebackType

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from bench.run.orchestrator import estimate_s, plan_units
from bench.run.profiles import Profile


class ProgressBar:
    def __init__(self, profile: Profile, serial_s: float | None = None) -> None:
        self.units = plan_units(profile)
        self.total = sum(estimate_s(s, v, u, serial_s) for s, v, u, _ in self.units) or 1.0
        self.done_est = 0.0
        self.current_est = 0.0
        self.count = 0
        self.t0 = time.perf_counter()
        self.console = Console(file=sys.stderr)
        self.progress = Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.fields[left]}"),
                                 TimeElapsedColumn(), console=self.console, transient=False)
        self.task = self.progress.add_task("starting", total=self.total, left="")

    def __enter__(self) -> ProgressBar:
        self.progress.start()
        return self

    def __exit__(self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None) -> None:
        self.progress.stop()

    def advance(self, label: str, estimate: float) -> None:
        self.done_est += self.current_est
        self.current_est = estimate
        self.count += 1
        elapsed = time.perf_counter() - self.t0
        # Scale the remaining estimate by how the finished part compared with its estimate.
        scale = elapsed / self.done_est if self.done_est > 5 else 1.0
        left = max(0.0, (self.total - self.done_est) * scale)
        self.progress.update(self.task, completed=self.done_est,
                             description=f"[{self.count}/{len(self.units)}] {label}",
                             left=f"~{left / 60:.1f} min left")
