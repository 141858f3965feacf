"""The seeded latency model: a fixed total, or time-to-first-token plus a per-token interval, with optional
mean-preserving normal or lognormal jitter. Per-request headers may override any part of it.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from bench.mock.config import MockConfig


@dataclass(frozen=True, slots=True)
class Timeline:
    """When a response happens, in seconds from the request's arrival.

    Streaming: content token k (0-based) goes out at `ttft_s + k * itl_s`, the finish chunk at `total_s`.
    Non-streaming: the whole body goes out at `total_s`.
    """

    ttft_s: float
    itl_s: float
    tokens: int

    @property
    def total_s(self) -> float:
        return self.ttft_s + self.itl_s * self.tokens

    def token_at(self, k: int) -> float:
        return self.ttft_s + self.itl_s * k


@dataclass(frozen=True, slots=True)
class Overrides:
    """Per-request overrides taken from `x-mock-*` headers; None keeps the configured value."""

    latency_ms: float | None = None
    ttft_ms: float | None = None
    itl_ms: float | None = None
    output_tokens: int | None = None


NO_OVERRIDES = Overrides()


class LatencyModel:
    """Draws one timeline per request from its own RNG, so fault and rate-limit decisions never shift it."""

    def __init__(self, config: MockConfig) -> None:
        self.config = config
        self.reseed()

    def reseed(self) -> None:
        # A string seed hashes through SHA-512: the same on every run, unaffected by PYTHONHASHSEED.
        self.rng = random.Random(f"{self.config.seed}:latency")

    def timeline(self, tokens: int, ov: Overrides = NO_OVERRIDES) -> Timeline:
        cfg = self.config
        if ov.latency_ms is not None:
            ttft_ms, itl_ms = ov.latency_ms, 0.0
        elif ov.ttft_ms is not None or ov.itl_ms is not None:
            ttft_ms = ov.ttft_ms if ov.ttft_ms is not None else cfg.ttft_ms
            itl_ms = ov.itl_ms if ov.itl_ms is not None else cfg.itl_ms
        elif cfg.latency_ms is not None:
            # A fixed total: the whole stream lands at once after it (use ttft/itl to spread a stream).
            ttft_ms, itl_ms = cfg.latency_ms, 0.0
        else:
            ttft_ms, itl_ms = cfg.ttft_ms, cfg.itl_ms
        factor = self._jitter_factor(ttft_ms + itl_ms * tokens)
        return Timeline(ttft_ms * factor / 1000.0, itl_ms * factor / 1000.0, tokens)

    def _jitter_factor(self, mean_ms: float) -> float:
        """A multiplier with mean 1 whose spread gives the total a standard deviation of `jitter_ms`."""
        cfg = self.config
        if cfg.jitter == "none" or cfg.jitter_ms <= 0 or mean_ms <= 0:
            return 1.0
        cv = cfg.jitter_ms / mean_ms
        if cfg.jitter == "normal":
            # Clipped at zero: a latency cannot be negative (this lifts the mean a little when cv is large).
            return max(0.0, self.rng.gauss(1.0, cv))
        sigma = math.sqrt(math.log1p(cv * cv))
        return self.rng.lognormvariate(-sigma * sigma / 2.0, sigma)
