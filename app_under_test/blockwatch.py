"""Blocked-loop sampler: which call blocked the event loop, and for how long (wall-clock blocks + call sites).

A heartbeat on the loop every few ms stamps the time; a daemon watchdog thread samples the loop thread's stack
while the heartbeat is late. A block's duration is the heartbeat's lateness when it resumes.
"""

from __future__ import annotations

import asyncio
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from types import CodeType
from typing import Any

from app_under_test.blocksites import (
    OTHER,
    OwnCode,
    RawFrame,
    Site,
    SiteFinder,
    SiteTable,
    block_sites,
    outer_codes,
    walk,
)


@dataclass
class _Pending:
    """Samples of the block in progress: at most `limit` distinct sites, one example stack each."""

    limit: int
    counts: dict[Site, int] = field(default_factory=dict)
    stacks: dict[Site, list[RawFrame]] = field(default_factory=dict)

    def add(self, site: Site, stack: list[RawFrame]) -> None:
        if site not in self.counts and len(self.counts) >= self.limit:
            site = OTHER
        self.counts[site] = self.counts.get(site, 0) + 1
        self.stacks.setdefault(site, stack)


@dataclass(frozen=True)
class Block:
    """One stretch of a late heartbeat. `start` (epoch seconds, comparable with the harness's per-request
    records) is when the heartbeat was due and `duration_ms` its lateness: the blocking call began at most one
    heartbeat interval earlier, so both are exact to within `heartbeat_ms`."""

    start: float
    duration_ms: float
    counts: tuple[tuple[Site, int], ...]

    @property
    def samples(self) -> int:
        return sum(n for _, n in self.counts)

    def as_dict(self) -> dict[str, Any]:
        main = max(self.counts, key=lambda kv: kv[1])[0].label if self.counts else None
        return {"start": round(self.start, 4), "duration_ms": round(self.duration_ms, 3), "site": main,
                "samples": self.samples, "sites": block_sites(self.counts)}


class BlockedLoopSampler:
    """`start()` from inside the running loop, `stop()` on the same loop; `snapshot()` and `reset()` from anywhere.

    Sampling starts once the heartbeat is a quarter of the threshold late, so a block just over the threshold
    still gets samples; samples of a stall that ends under the threshold are dropped.
    """

    def __init__(self, threshold_ms: float = 20.0, sample_interval_ms: float = 5.0, own_code: OwnCode | None = None,
                 max_blocks: int = 2000, heartbeat_ms: float = 5.0, max_sites_per_block: int = 8) -> None:
        self.threshold_ms = threshold_ms
        self.sample_interval_ms = sample_interval_ms
        self.heartbeat_ms = heartbeat_ms
        self.max_blocks = max_blocks
        self.max_sites_per_block = max_sites_per_block
        self._finder = SiteFinder(own_code)
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_tid = 0
        self._outer: frozenset[CodeType] = frozenset()
        self._handle: asyncio.TimerHandle | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        # Called on the loop with each heartbeat's lateness (ms): the loop-lag monitor's samples (loopmon.py).
        self.on_beat: Callable[[float], None] | None = None
        # Guarded by _lock: heartbeat state (`_seq` counts beats, so a sample taken across a beat is dropped),
        # the block in progress, blocks closed by the heartbeat but not yet folded, and the window's figures.
        self._due = 0.0
        self._seq = 0
        self._pending = _Pending(max_sites_per_block)
        self._closed: list[tuple[float, float, _Pending]] = []
        self._blocks: deque[Block] = deque(maxlen=max_blocks)
        self._sites = SiteTable()
        self._window_start = time.time()
        self._blocked_ms = 0.0
        self._block_count = 0
        self._max_ms = 0.0

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        if self.running:
            return
        self._loop = asyncio.get_running_loop()
        self._loop_tid = threading.get_ident()
        self._outer = outer_codes(sys._getframe(1))
        self._stopping.clear()
        with self._lock:
            self._due = time.perf_counter() + self.heartbeat_ms / 1000
            self._seq += 1
            self._pending = _Pending(self.max_sites_per_block)
        self._handle = self._loop.call_later(self.heartbeat_ms / 1000, self._beat)
        self._thread = threading.Thread(target=self._watch, name="blockwatch", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        if self._thread is not None:
            self._thread.join(timeout=2.0)
            self._thread = None
        with self._lock:
            self._fold()

    def reset(self) -> None:
        """A new measurement window; a block in progress is counted in the new one when it ends."""
        with self._lock:
            self._fold()
            self._blocks.clear()
            self._sites.clear()
            self._window_start = time.time()
            self._blocked_ms = self._max_ms = 0.0
            self._block_count = 0

    def _beat(self) -> None:
        now = time.perf_counter()
        with self._lock:
            late = now - self._due
            if late * 1000 > self.threshold_ms:
                self._closed.append((time.time() - late, late * 1000, self._pending))
                self._pending = _Pending(self.max_sites_per_block)
            elif self._pending.counts:
                self._pending = _Pending(self.max_sites_per_block)
            self._seq += 1
            self._due = now + self.heartbeat_ms / 1000
        if self.on_beat is not None:
            self.on_beat(max(0.0, late * 1000))
        if not self._stopping.is_set() and self._loop is not None:
            self._handle = self._loop.call_later(self.heartbeat_ms / 1000, self._beat)

    def _watch(self) -> None:
        # A timed wake costs 50-80 us of CPU in a sandboxed VM, so a loop whose heartbeat is on time is looked at
        # every half threshold only (a block still gets samples from a quarter threshold late); a late one at
        # every sample interval. time.sleep is cheaper than Event.wait; stop() waits at most one sleep.
        interval, arm_s = self.sample_interval_ms / 1000, self.threshold_ms / 4000
        idle_s = max(interval, self.threshold_ms / 2000)
        loop = self._loop
        wait = interval
        while loop is not None:
            time.sleep(wait)
            if self._stopping.is_set() or loop.is_closed():
                return
            with self._lock:
                due, seq = self._due, self._seq
                if self._closed:
                    self._fold()
            late = time.perf_counter() - due
            wait = idle_s if late <= 0 else interval
            if late <= arm_s or not loop.is_running():
                continue
            frame = sys._current_frames().get(self._loop_tid)
            stack = walk(frame, self._outer)
            del frame  # a frame reference keeps the loop thread's locals alive
            site = self._finder.site(stack)
            with self._lock:
                if seq == self._seq:
                    self._pending.add(site, stack)

    def _fold(self) -> None:
        """Closed blocks into the window's figures; called with _lock held."""
        for start, duration_ms, pending in self._closed:
            self._blocks.append(Block(start, duration_ms, tuple(pending.counts.items())))
            self._sites.add(duration_ms, pending.counts, pending.stacks)
            self._blocked_ms += duration_ms
            self._block_count += 1
            self._max_ms = max(self._max_ms, duration_ms)
        self._closed.clear()

    def snapshot(self, top: int | None = 10, blocks: int | None = None) -> dict[str, Any]:
        """JSON-able figures of the window: totals, the last `blocks` blocks (all kept ones by default) and the
        `top` sites by blocked time."""
        with self._lock:
            self._fold()
            end = time.time()
            window_ms = max(0.0, (end - self._window_start) * 1000)
            kept = list(self._blocks)
            if blocks is not None:
                kept = kept[max(0, len(kept) - blocks):]
            return {
                "running": self.running,
                "settings": {"threshold_ms": self.threshold_ms, "sample_interval_ms": self.sample_interval_ms,
                             "heartbeat_ms": self.heartbeat_ms, "max_blocks": self.max_blocks},
                "window": {"start": round(self._window_start, 4), "end": round(end, 4),
                           "duration_ms": round(window_ms, 3)},
                "blocked_ms": round(self._blocked_ms, 3),
                "blocked_share": round(self._blocked_ms / window_ms, 4) if window_ms else 0.0,
                "block_count": self._block_count,
                "blocks_dropped": self._block_count - len(self._blocks),
                "max_block_ms": round(self._max_ms, 3),
                "blocks": [b.as_dict() for b in kept],
                "sites": self._sites.rows(top, self._blocked_ms),
            }
