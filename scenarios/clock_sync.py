"""A worker's clock offset to its master, estimated as NTP does from ping exchanges. Pure (no locust import).

One exchange: the worker sends at t0 (its clock), the master receives at t1 and answers at t2 (its clock),
the worker receives at t3. With d1, d2 the one-way delays and theta = master - worker,
t1 = t0 + theta + d1 and t3 = t2 - theta + d2, so

    offset = ((t1 - t0) + (t2 - t3)) / 2,    round trip = (t3 - t0) - (t2 - t1) = d1 + d2,

and theta lies within offset +- round trip / 2 whatever the split of the delays (queueing in either
process included). The estimate is the sample with the least round trip; its bound is that round trip / 2.
Samples keep coming during the run, so a clock that drifts shows as the difference between the best
sample of the first exchanges and of the latest ones; the uncertainty is the bound plus that drift.

The offset applied to the worker's times is the estimate only where it stands out of its uncertainty: where
zero lies within it (workers on the master's own host, one clock) no correction is as good as any, and applying
a few microseconds of noise would only make one clock's times disagree with themselves.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any

WINDOW = 8  # exchanges in the first and in the latest window (drift)


@dataclass(frozen=True)
class Sample:
    t0: float  # worker sends
    t1: float  # master receives
    t2: float  # master answers
    t3: float  # worker receives

    @property
    def offset(self) -> float:
        return ((self.t1 - self.t0) + (self.t2 - self.t3)) / 2.0

    @property
    def round_trip(self) -> float:
        return (self.t3 - self.t0) - (self.t2 - self.t1)

    @property
    def bound(self) -> float:
        return self.round_trip / 2.0


def _best(samples: Any) -> Sample | None:
    return min(samples, key=lambda s: s.round_trip, default=None)


class ClockEstimate:
    """The running estimate: best sample overall, best of the first and of the latest WINDOW exchanges."""

    def __init__(self) -> None:
        self.best: Sample | None = None
        self.count = 0
        self._first: list[Sample] = []
        self._latest: deque[Sample] = deque(maxlen=WINDOW)

    def add(self, sample: Sample) -> bool:
        """Take one exchange; False (and ignored) when its round trip is negative: not a real exchange."""
        if sample.round_trip < 0:
            return False
        self.count += 1
        if len(self._first) < WINDOW:
            self._first.append(sample)
        self._latest.append(sample)
        if self.best is None or sample.round_trip < self.best.round_trip:
            self.best = sample
        return True

    @property
    def drift_s(self) -> float:
        """Offset of the latest window's best sample minus the first window's (0 until the windows differ)."""
        first, latest = _best(self._first), _best(self._latest)
        if first is None or latest is None or self.count <= WINDOW:
            return 0.0
        return latest.offset - first.offset

    @property
    def applied_s(self) -> float:
        """The correction to apply: the estimate, or 0 where 0 lies within its uncertainty."""
        if self.best is None:
            return 0.0
        return self.best.offset if abs(self.best.offset) > self.best.bound + abs(self.drift_s) else 0.0

    def report(self) -> dict[str, Any] | None:
        """What results.json records per worker (seconds); None before the first exchange. `uncertainty_s` is
        how far the applied correction may be from the true offset."""
        if self.best is None:
            return None
        drift, applied = self.drift_s, self.applied_s
        return {"offset_s": round(self.best.offset, 7), "applied_s": round(applied, 7),
                "bound_s": round(self.best.bound, 7), "round_trip_min_s": round(self.best.round_trip, 7),
                "drift_s": round(drift, 7),
                "uncertainty_s": round(self.best.bound + abs(drift) + abs(self.best.offset - applied), 7),
                "samples": self.count}
