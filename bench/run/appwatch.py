"""The app dies mid-run: a watcher thread polls the app's process during a Locust run and, the moment it has exited,
records when and with which code and stops that run's Locust (so the run ends in about a second, not at its hard
limit). `execute` then keeps what the run recorded, marked partial, and the orchestrator raises `AppDied`.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import subprocess
import threading
import time
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from bench.errors import BenchError
from bench.run.locust_job import running_locust

POLL_S = 0.1  # how often the app's process is polled where it has no pidfd (else its exit wakes the watcher)
REPORT_WAIT_S = 2.0  # how long an exited app's exit code may take to be reported (reaped by the fork server)


def _pidfd(proc: Any) -> int | None:
    """A descriptor that turns readable when the process exits (Linux 5.3+), or None (then it is polled). Opened
    after a poll: a process already reaped has its code, so the pid is never one reused by another process."""
    if proc.poll() is not None:
        return None
    try:
        return os.pidfd_open(int(proc.pid))
    except (OSError, AttributeError):
        return None


class AppDied(BenchError):
    """The app under test exited during a run; the runs before it and the partial one are kept. Exit 1."""


@dataclass(frozen=True)
class Death:
    exit_code: int
    noticed_epoch: float  # wall clock, comparable with the requests' times
    watched_since_epoch: float
    locust_stopped: list[int]  # the pids of this run's Locust processes sent SIGTERM

    def cause(self, app: str) -> str:
        return f"the app ({app}) {how_it_ended(self.exit_code)} during the run"

    def in_flight(self, records: list[dict[str, Any]]) -> int:
        """Requests sent before the death was noticed that had no answer before it: the ones it cut off."""
        t = self.noticed_epoch - POLL_S  # the death came at most one poll before it was noticed
        return sum(1 for r in records if (r.get("t_send") or 0.0) <= self.noticed_epoch
                   and (r.get("t_end") or 0.0) >= t and (r.get("status") or 0) == 0)


def how_it_ended(exit_code: int) -> str:
    """Popen's return code in words: a negative one is the signal that killed the process."""
    return f"was killed by signal {-exit_code}" if exit_code < 0 else f"exited with code {exit_code}"


def died_line(entry: dict[str, Any]) -> str:
    """The one line `bench run` ends with, from a run entry with `app_died`."""
    died = entry["app_died"]
    return (f"{died['cause']} {entry['id']} ({died['noticed_after_start_s']:.1f} s into it, noticed within "
            f"{died['poll_s']:g} s; Locust stopped, {died['in_flight']} request(s) cut off)")


class AppWatch:
    """`with AppWatch(app.proc): run_locust(...)`; afterwards `death` is None or how the app died."""

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        self.proc = proc
        self.death: Death | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="app-watch", daemon=True)
        self._since = time.time()
        self._owner = threading.get_ident()  # the thread that runs this run's Locust (run_locust registers it)
        self._wake_r = self._wake_w = -1
        self._pidfd: int | None = None

    def __enter__(self) -> AppWatch:
        self._since = time.time()
        self._wake_r, self._wake_w = os.pipe()
        self._pidfd = _pidfd(self.proc)
        self._thread.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._stop.set()
        with contextlib.suppress(OSError):
            os.write(self._wake_w, b"x")
        self._thread.join(timeout=5.0)
        if self.death is None and not self._thread.is_alive():
            # Ended between two looks (no pidfd here): a dead app has no stats to read, and the run is cut.
            code = self._exit_code()
            if code is not None:
                self.death = Death(code, time.time(), self._since, [])
        for fd in (self._wake_r, self._wake_w, self._pidfd):
            if fd is not None:
                with contextlib.suppress(OSError):
                    os.close(fd)

    def _wait(self) -> bool:
        """Until the app's process exits (its pidfd turns readable: noticed at once, not at the next poll), the run
        ends, or POLL_S has passed; False once the run has ended."""
        watched = [self._wake_r] + ([self._pidfd] if self._pidfd is not None else [])
        with contextlib.suppress(OSError):
            select.select(watched, [], [], POLL_S)
        return not self._stop.is_set()

    def _exit_code(self) -> int | None:
        code = self.proc.poll()
        if code is None and self._pidfd is not None and select.select([self._pidfd], [], [], 0)[0]:
            # Exited, and not yet reaped (the fork server reports a forked app's exit a moment later).
            with contextlib.suppress(subprocess.TimeoutExpired):
                code = self.proc.wait(timeout=REPORT_WAIT_S)
        return code

    def _watch(self) -> None:
        # Noticed at once: a Locust whose requests all failed with the app ends within tens of milliseconds, before
        # a 0.1 s poll would have seen the death (and the run then read the dead app's stats).
        while self._wait():
            code = self._exit_code()
            if code is not None:
                noticed = time.time()
                self.death = Death(code, noticed, self._since, self._stop_locust())
                break
        # A Locust that was still starting when the app died is stopped as soon as it is there (once: a Locust
        # writing its reports after the SIGTERM is left to finish).
        while self.death is not None and not self._stop.wait(POLL_S):
            stopped = self.death.locust_stopped
            stopped.extend(pid for pid in self._stop_locust(skip=set(stopped)) if pid not in stopped)

    def _stop_locust(self, skip: set[int] | None = None) -> list[int]:
        """SIGTERM (Locust writes its reports and exits) to this run's Locust, by pid: run_locust is waiting on it
        and then reads what it recorded. Other runs' Locust processes (the overlapping schedule runs several at
        once) are left alone."""
        proc = running_locust(self._owner)
        if proc is None or proc.poll() is not None or int(proc.pid) in (skip or set()):
            return []
        with contextlib.suppress(OSError):
            proc.send_signal(signal.SIGTERM)
            return [int(proc.pid)]
        return []
