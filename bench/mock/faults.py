"""Seeded fault decisions: one uniform draw per admitted request against the cumulative fault rates,
so the same seed and the same arrival order inject the same faults.
"""

from __future__ import annotations

import random

from bench.mock.config import FAULT_KINDS, MockConfig


class FaultPicker:
    def __init__(self, config: MockConfig) -> None:
        self.config = config
        # (upper bound of the draw, kind) in a fixed order; faults with rate 0 never match.
        self.thresholds: list[tuple[float, str]] = []
        total = 0.0
        for kind, rate in config.fault_rates.items():
            if rate > 0:
                total += rate
                self.thresholds.append((total, kind))
        self.reseed()

    def reseed(self) -> None:
        self.rng = random.Random(f"{self.config.seed}:faults")

    def pick(self, forced: str | None = None) -> str | None:
        """The fault to inject into this request, or None. `forced` comes from the `x-mock-fault` header."""
        if forced is not None:
            return forced if forced in FAULT_KINDS else None
        if not self.thresholds:
            return None
        u = self.rng.random()
        for bound, kind in self.thresholds:
            if u < bound:
                return kind
        return None
