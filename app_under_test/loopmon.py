"""Event-loop lag monitor: a task that sleeps a fixed interval and records how late it wakes up.

A blocking call on the loop (the seed's `llm.invoke` inside `async def`) shows up as lag of about the
call's duration; a healthy async app stays near zero. Where another timer already runs on the loop (the blocked-loop
sampler's heartbeat, app_under_test/blockwatch.py), that timer's lateness is recorded instead (`start(fed_every_s=)`,
`record`): the same figure, without a second timer waking the loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque

import numpy as np


class LoopLagMonitor:
    def __init__(self, interval_s: float = 0.01, window_s: float = 60.0) -> None:
        self.interval_s = interval_s
        self.window_s = window_s
        self._samples: deque[float] = deque(maxlen=round(window_s / interval_s))  # ms, newest last
        self._max_ms = 0.0
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        while True:
            start = time.perf_counter()
            await asyncio.sleep(self.interval_s)
            self.record(max(0.0, (time.perf_counter() - start - self.interval_s) * 1000))

    def record(self, lag_ms: float) -> None:
        """One sample: how late a timer due every `interval_s` ran (ms)."""
        self._samples.append(lag_ms)
        self._max_ms = max(self._max_ms, lag_ms)

    def start(self, *, fed_every_s: float | None = None) -> None:
        """Sample with a task of its own, or (`fed_every_s`) take the samples another timer due that often passes to
        `record`. Each timer's wake-up costs the loop: idle, an app with both the blocked-loop sampler's 5 ms heartbeat
        and this task's 10 ms sleeps used 3.75-4.63% of a core, fed by the heartbeat 3.25-3.88%, with the sampler off
        (this task alone) 1.87-2.25% (`python -m tests.support.idle_app_cpu --rounds 3`, 8 s windows)."""
        # numpy's first percentile imports what it needs (~20 ms, more on a busy machine): paid here, at start-up,
        # not on the loop in the first stats read, where the blocked-loop sampler would report it as the app's own.
        np.percentile(np.zeros(2), 99)
        if fed_every_s is not None:
            self.interval_s = fed_every_s
            self._samples = deque(maxlen=round(self.window_s / fed_every_s))
            return
        self._task = asyncio.get_running_loop().create_task(self._run(), name="loop-lag-monitor")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def reset(self) -> None:
        self._samples.clear()
        self._max_ms = 0.0

    def stats(self) -> dict[str, float | int]:
        samples = np.fromiter(self._samples, dtype=float)
        return {
            "max_ms": round(self._max_ms, 3),
            "p99_ms": round(float(np.percentile(samples, 99)), 3) if samples.size else 0.0,
            "mean_ms": round(float(samples.mean()), 3) if samples.size else 0.0,
            "samples": int(samples.size),
            "interval_ms": self.interval_s * 1000,
        }
