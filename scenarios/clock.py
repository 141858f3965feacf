"""Epoch timestamps with perf_counter resolution: one wall-clock anchor per process, monotonic after it.

Records from several Locust processes are compared on one time axis, so they need wall-clock epochs;
perf_counter deltas keep them monotonic and sub-microsecond even if NTP adjusts the clock mid-run.
A worker also holds its estimated offset to the master's clock (`scenarios/clock_sync.py`), to read the
master's release time in its own clock.

Test hook: BENCH_TEST_CLOCK_OFFSET_S shifts this process's clock by that many seconds. Tests set it on a
worker to stand for a machine whose clock is wrong (one system clock cannot differ per network namespace);
the offset estimate must then recover it. Nothing else sets it, and a process that reads it says so in its log.
"""

from __future__ import annotations

import math
import os
import time

TEST_OFFSET_ENV = "BENCH_TEST_CLOCK_OFFSET_S"


def _test_offset() -> float:
    raw = os.environ.get(TEST_OFFSET_ENV, "").strip()
    if not raw:
        return 0.0
    value = float(raw)
    if not math.isfinite(value):
        raise ValueError(f"{TEST_OFFSET_ENV} must be a finite number of seconds, got {raw!r}")
    return value


TEST_OFFSET_S = _test_offset()
_anchor_wall = time.time() + TEST_OFFSET_S
_anchor_perf = time.perf_counter()
_master_offset = 0.0  # the master's clock minus this process's; 0 on the master and on a local runner


def reanchor() -> None:
    """Take a fresh anchor (at test start), so drift between the two clocks never accumulates over runs."""
    global _anchor_wall, _anchor_perf
    _anchor_wall, _anchor_perf = time.time() + TEST_OFFSET_S, time.perf_counter()


def now() -> float:
    """Seconds since the epoch, monotonic within this process."""
    return _anchor_wall + (time.perf_counter() - _anchor_perf)


def set_master_offset(offset_s: float) -> None:
    """The current estimate of (master's clock - this clock), from the ping exchange."""
    global _master_offset
    _master_offset = float(offset_s)


def master_offset() -> float:
    return _master_offset


def from_master(epoch_s: float) -> float:
    """A time on the master's clock (its release time), read on this process's clock."""
    return epoch_s - _master_offset
