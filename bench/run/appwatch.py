"""The app dies mid-run: a watcher thread polls the app's process during a Locust run and, the moment it has exited,
records when and with which code and stops that run's Locust (so the run ends in about a second, not at its hard
limit). `execute` then keeps what the run recorded, marked partial, and the orchestrator raises `AppDied`.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import signal
import subprocess
import threading
import time
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import psutil

from bench.errors import BenchError

POLL_S = 0.1  # how often the app's process is polled: its death is noticed within this, plus a thread switch


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


def _is_locust(proc: psutil.Process) -> bool:
    """`python -m locust ...` as bench/run/locust_job.py starts it."""
    with contextlib.suppress(psutil.Error):
        argv = proc.cmdline()
        return any(a == "-m" and b == "locust" for a, b in itertools.pairwise(argv))
    return False


class AppWatch:
    """`with AppWatch(app.proc): run_locust(...)`; afterwards `death` is None or how the app died."""

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        self.proc = proc
        self.death: Death | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="app-watch", daemon=True)
        self._since = time.time()

    def __enter__(self) -> AppWatch:
        self._since = time.time()
        self._thread.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._stop.set()
        self._thread.join(timeout=5.0)

    def _watch(self) -> None:
        while not self._stop.wait(POLL_S):
            code = self.proc.poll()
            if code is not None:
                noticed = time.time()
                self.death = Death(code, noticed, self._since, self._stop_locust())
                return

    def _stop_locust(self) -> list[int]:
        """SIGTERM (Locust writes its reports and exits) to this harness's own Locust children started since the
        watch began, by pid: run_locust is waiting on them and then reads what they recorded."""
        stopped = []
        for child in psutil.Process(os.getpid()).children():
            with contextlib.suppress(psutil.Error):
                if child.create_time() >= self._since - 1.0 and _is_locust(child):
                    child.send_signal(signal.SIGTERM)
                    stopped.append(child.pid)
        return stopped
