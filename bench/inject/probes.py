"""What the injected wrapper measures in the user's app process: event-loop lag, the blocked-loop sampler (which
call held the loop, by call site in the user's code), requests in flight, RSS, and the `--watch` counters. The
stats keys are the reference app's (`GET /api/debug/stats`) where they mean the same thing."""

from __future__ import annotations

import gc
import os
import threading
from typing import Any

import psutil

from app_under_test.blocksites import short_path
from app_under_test.blockwatch import BlockedLoopSampler
from app_under_test.inflight import InFlightCounter
from app_under_test.loopmon import LoopLagMonitor
from bench.inject.owncode import user_code
from bench.inject.watch import WatchSet

DEFAULT_BLOCKS = 200
DEFAULT_SITES = 10


def _env_float(name: str, default: float) -> float:
    try:
        return float(os.environ.get(name, "") or default)
    except ValueError:
        return default


class Probes:
    """One per process. `start()` from inside the running loop (the wrapper's first call), once."""

    def __init__(self, target: str, watches: WatchSet) -> None:
        self.target = target
        self.watches = watches
        self.inflight = InFlightCounter()  # the reference app's counter: the same keys in both stats
        self.loop_monitor = LoopLagMonitor()
        # BENCH_BLOCKWATCH=0 measures the sampler's own overhead; the thresholds as the reference app's.
        self.blockwatch_on = os.environ.get("BENCH_BLOCKWATCH", "1") not in ("0", "false", "")
        self.sampler = BlockedLoopSampler(threshold_ms=_env_float("BENCH_BLOCKWATCH_THRESHOLD_MS", 20.0),
                                          sample_interval_ms=_env_float("BENCH_BLOCKWATCH_SAMPLE_INTERVAL_MS", 5.0),
                                          own_code=user_code)
        self._started = False
        self._process = psutil.Process()

    def start(self) -> None:
        if self._started:
            return
        self._started = True
        self.loop_monitor.start()
        if self.blockwatch_on:
            self.sampler.start()

    def reset(self) -> None:
        """A new measurement window: peaks of loop lag, in flight and live instances; the sampler's blocks."""
        self.loop_monitor.reset()
        self.sampler.reset()
        self.inflight.reset_peak()
        self.watches.reset_peaks()

    def stats(self, *, collect: bool = False, blocks: int = DEFAULT_BLOCKS, sites: int = DEFAULT_SITES
              ) -> dict[str, Any]:
        if collect:
            gc.collect()  # instances in reference cycles stay "live" until the collector runs
        return {
            "pid": os.getpid(),
            "target": self.target,
            **self.watches.totals(),
            "watched": self.watches.snapshot(short_path),
            "loop_lag": self.loop_monitor.stats(),
            **self.inflight.stats(),
            "rss_mb": round(self._process.memory_info().rss / 2**20, 3),
            "threads": threading.active_count(),
            "blocked": self.sampler.snapshot(top=sites, blocks=blocks),
        }
