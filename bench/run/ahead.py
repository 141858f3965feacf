"""Servers started ahead: while the paced units wait on their limiters and arrival schedules, the alone units'
mocks and apps start, one after another on one thread, so that the alone lane only warms each app up between one
unit's runs and the next instead of also starting it and its mock. The warm-up stays in the lane, right before
the unit's runs, as in the serial schedule: what it builds (the agent, a limiter's bucket) is then in the same
state at the first run.

Nothing starts ahead once the alone lane has begun: its first `take` closes the window and waits for a start
under way to finish, so no start ever runs beside an alone unit's measurement. Units not started by then start
as before, in the lane. Servers started and never taken (a failure, Ctrl-C) are stopped by `close`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Generic, TypeVar

U = TypeVar("U")
S = TypeVar("S")

# Units whose servers may be up at once ahead of their turn: each holds an app and a mock (forked ones share
# most pages with their fork server; cold ones take ~120 MB each).
AT_MOST = 6
# How long the starts wait for the paced units' own starts (their apps' warm-ups) to be over before going ahead.
GATE_S = 20.0
SLICE_S = 0.2


class Ahead(Generic[U, S]):
    """Start the servers of some units ahead of their turn, on one thread, and hand them over in turn."""

    def __init__(self, start: Callable[[U], S], stop: Callable[[S], None], halt: threading.Event,
                 at_most: int = AT_MOST) -> None:
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="bench-ahead")
        self._start, self._stop, self._halt, self._at_most = start, stop, halt, at_most
        self._futures: dict[int, Future[S | None]] = {}  # id(unit) -> its servers (None: not started ahead)
        self._open = True
        self._lock = threading.Lock()

    def begin(self, units: list[U], after: list[threading.Event], gate_s: float = GATE_S) -> None:
        """Start the first `at_most` units' servers, in order, once every event in `after` is set (or `gate_s`
        has passed): the starts then no longer compete with those the events stand for."""
        deadline = time.monotonic() + gate_s
        for unit in units[: self._at_most]:
            self._futures[id(unit)] = self.pool.submit(self._one, unit, after, deadline)

    def _one(self, unit: U, after: list[threading.Event], deadline: float) -> S | None:
        for event in after:
            while not event.wait(SLICE_S) and time.monotonic() < deadline and not self._halt.is_set():
                pass
        with self._lock:
            if not self._open or self._halt.is_set():
                return None
        return self._start(unit)

    def take(self, unit: U, check: Callable[[], None]) -> S | None:
        """The unit's servers if they were started ahead, else None (the caller starts them). The first call closes
        the window and waits for a start under way to end; `check` is called between waits (it may raise)."""
        with self._lock:
            self._open = False
        for future in self._futures.values():
            if not future.cancel():
                _wait(future, check)
        mine = self._futures.get(id(unit))
        if mine is None or mine.cancelled():
            return None
        servers = mine.result()  # a failed start raises here, as it would have in the lane
        del self._futures[id(unit)]
        return servers

    def close(self) -> None:
        """Stop what was started ahead and never taken (call after `pool` is shut down)."""
        for future in self._futures.values():
            if future.done() and not future.cancelled() and future.exception() is None:
                servers = future.result()
                if servers is not None:
                    self._stop(servers)
        self._futures.clear()


def _wait(future: Future[S | None], check: Callable[[], None]) -> None:
    while True:
        try:
            future.exception(timeout=SLICE_S)
            return
        except TimeoutError:
            check()
