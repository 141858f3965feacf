"""Where a run's time goes: seconds per stage (start, warm-up, measure, read, stop, probes, report), summed over
every unit of work, and the wall time of each phase. Kept in results.json's `timings` so that the next person sees
what a profile costs and why, not only its total.

Units of the overlapping schedule run side by side, so a stage's sum may exceed the run's wall time: `wall_s` is
the elapsed time, each stage's `s` the work done in it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

STAGES = ("setup", "probes", "start", "warm-up", "measure", "read", "stop", "report")


class StageClock:
    """Thread-safe sums of seconds per stage and the wall time of named phases."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sums: dict[str, list[float]] = {}  # stage -> [seconds, count]
        self._phases: dict[str, float] = {}
        self._t0 = time.perf_counter()

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Work in a stage (summed over units, which may overlap)."""
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.add(name, time.perf_counter() - t0)

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        """A lane's wall time (bench/run/schedule.py): one at a time, from the main thread."""
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.add(name, time.perf_counter() - t0, phase=True)

    def add(self, name: str, seconds: float, *, phase: bool = False) -> None:
        with self._lock:
            if phase:
                self._phases[name] = self._phases.get(name, 0.0) + seconds
                return
            entry = self._sums.setdefault(name, [0.0, 0])
            entry[0] += seconds
            entry[1] += 1

    def as_dict(self) -> dict[str, Any]:
        with self._lock:
            order = [s for s in STAGES if s in self._sums] + sorted(set(self._sums) - set(STAGES))
            return {
                "wall_s": round(time.perf_counter() - self._t0, 3),
                "stages": {s: {"s": round(self._sums[s][0], 3), "count": int(self._sums[s][1])} for s in order},
                "phases": {p: round(v, 3) for p, v in self._phases.items()},
            }


def describe(timings: dict[str, Any]) -> str:
    """One line: the wall time and each stage's seconds, in order."""
    stages = ", ".join(f"{name} {v['s']:.1f} s" for name, v in timings.get("stages", {}).items())
    return f"{timings.get('wall_s', 0):.1f} s wall; work by stage: {stages}"
