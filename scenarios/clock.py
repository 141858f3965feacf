"""Epoch timestamps with perf_counter resolution: one wall-clock anchor per process, monotonic after it.

Records from several Locust processes are compared on one time axis, so they need wall-clock epochs;
perf_counter deltas keep them monotonic and sub-microsecond even if NTP adjusts the clock mid-run.
"""

from __future__ import annotations

import time

_anchor_wall = time.time()
_anchor_perf = time.perf_counter()


def reanchor() -> None:
    """Take a fresh anchor (at test start), so drift between the two clocks never accumulates over runs."""
    global _anchor_wall, _anchor_perf
    _anchor_wall, _anchor_perf = time.time(), time.perf_counter()


def now() -> float:
    """Seconds since the epoch, monotonic within this process."""
    return _anchor_wall + (time.perf_counter() - _anchor_perf)
