"""Process-wide counters the harness reads through /api/debug/stats: ChatAgent constructions, live
instances (tracked with weakref finalizers, so they drop when an instance is collected), provider calls,
and bytes per instance measured with tracemalloc.
"""

from __future__ import annotations

import gc
import threading
import tracemalloc
import weakref
from collections.abc import Callable
from typing import Any

_lock = threading.Lock()
_constructions = 0
_live = 0
_live_peak = 0
_provider_calls = 0
_bytes_per_instance: int | None = None


def on_construct(instance: object) -> None:
    """Called by ChatAgent.__init__; counting must be thread-safe since constructors race on purpose."""
    global _constructions, _live, _live_peak
    with _lock:
        _constructions += 1
        _live += 1
        _live_peak = max(_live_peak, _live)
    weakref.finalize(instance, _on_collect)


def _on_collect() -> None:
    global _live
    with _lock:
        _live -= 1


def on_provider_call() -> None:
    global _provider_calls
    with _lock:
        _provider_calls += 1


def snapshot() -> dict[str, int | None]:
    with _lock:
        return {
            "constructions": _constructions,
            "live_instances": _live,
            "live_instances_peak": _live_peak,
            "provider_calls": _provider_calls,
            "bytes_per_instance": _bytes_per_instance,
        }


def reset_peaks() -> None:
    global _live_peak
    with _lock:
        _live_peak = _live


def reset_all() -> None:
    """Tests only: forget everything (instances still alive will still decrement `live` when collected)."""
    global _constructions, _live, _live_peak, _provider_calls
    gc.collect()
    with _lock:
        _constructions = _live_peak = _provider_calls = 0
        _live = 0


def measure_bytes_per_instance(build: Callable[[], Any], samples: int = 3) -> int:
    """Bytes retained per instance (tracemalloc), built after one warm-up so lazy imports don't count.

    Cached: the figure is a property of the code and settings, and tracemalloc slows everything while on.
    """
    global _bytes_per_instance
    if _bytes_per_instance is not None:
        return _bytes_per_instance
    warm = build()
    del warm
    gc.collect()
    was_tracing = tracemalloc.is_tracing()
    if not was_tracing:
        tracemalloc.start()
    try:
        before = tracemalloc.take_snapshot()
        keep = [build() for _ in range(samples)]
        gc.collect()
        after = tracemalloc.take_snapshot()
        diff = sum(s.size_diff for s in after.compare_to(before, "filename"))
        del keep
    finally:
        if not was_tracing:
            tracemalloc.stop()
    gc.collect()
    _bytes_per_instance = max(0, int(diff / samples))
    return _bytes_per_instance
