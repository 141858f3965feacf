"""Ctrl-C and SIGTERM while several threads run the units: noted by the handler, acted on by a watcher thread, and
raised by the main thread where it checks, never wherever it happens to be.

A KeyboardInterrupt raised by a signal handler lands between any two bytecodes of the main thread, including inside
the Python half of a lock's `with` (`Condition.__enter__`, `Future.done()`, `Semaphore.acquire`): the lock is taken
and never given back. `python -m tests.support.interrupt_leak`: of 5,431 interrupts landing in a loop of
`Future.done()`, 2,828 left the future's condition held by the main thread. A pool thread then blocks for ever
finishing that future, and the main thread's `shutdown(wait=True)` for ever on the pool: most likely the hang a Ctrl-C
test met once in CI. So within `DeferredStop` the handler only notes the signal; a watcher thread calls `on_stop` (set
the run's stop, tell the running Locust runs to quit), and the main thread calls `check()` at points where it holds no
lock: its waits poll. A second signal goes to the caller's own handler (or raises at once), wherever the main thread
is: the user insists.

    with DeferredStop(on_stop) as stop:   # main thread only; elsewhere it does nothing
        ...
        stop.check()                      # raises KeyboardInterrupt (Ctrl-C) or Terminated (SIGTERM) once noted
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from types import FrameType, TracebackType
from typing import Any

from bench.errors import Terminated

SIGNALS = (signal.SIGINT, signal.SIGTERM)
POLL_S = 0.05  # how soon the watcher acts on a noted signal


class DeferredStop:
    def __init__(self, on_stop: Callable[[], None], poll_s: float = POLL_S) -> None:
        self.on_stop = on_stop
        self.poll_s = poll_s
        self.signum: int | None = None  # the first signal noted (a plain attribute: safe to set from the handler)
        self._previous: dict[int, Any] = {}
        self._done = threading.Event()
        self._watcher: threading.Thread | None = None

    def __enter__(self) -> DeferredStop:
        if threading.current_thread() is not threading.main_thread():
            return self  # handlers can be set from the main thread only: the caller's own stay
        for sig in SIGNALS:
            self._previous[sig] = signal.signal(sig, self._note)
        self._watcher = threading.Thread(target=self._watch, name="deferred-stop", daemon=True)
        self._watcher.start()
        return self

    def __exit__(self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None) -> None:
        for sig, handler in self._previous.items():
            if signal.getsignal(sig) == self._note:  # not if a handler changed it meanwhile (SIGTERM's: to SIG_DFL)
                signal.signal(sig, handler)
        self._previous.clear()
        self._done.set()
        if self._watcher is not None:
            self._watcher.join(timeout=5.0)
        if et is None:
            self.check()  # noted after the last check: raised here, never lost

    def _note(self, signum: int, frame: FrameType | None) -> None:
        if self.signum is None:
            self.signum = signum
            return
        # The second: as the caller's own handler would take it (bench's SIGTERM one raises Terminated and lets a
        # third end the process), else at once as the first's exception.
        previous = self._previous.get(signum)
        if callable(previous):
            previous(signum, frame)
        raise _exception(signum)

    def _watch(self) -> None:
        while not self._done.wait(self.poll_s):
            if self.signum is not None:
                self.on_stop()
                return

    def check(self) -> None:
        """Raise the noted signal's exception (KeyboardInterrupt, or Terminated for SIGTERM), if one came."""
        if self.signum is not None:
            raise _exception(self.signum)


def _exception(signum: int) -> KeyboardInterrupt:
    return Terminated() if signum == signal.SIGTERM else KeyboardInterrupt()
