"""A deadline on stopping: after the first Ctrl-C (SIGINT) or SIGTERM a command has `DEADLINE_S` to end by itself;
past it (or at a second Ctrl-C) every thread's stack goes to stderr, every process it started gets SIGKILL, and it
exits with the signal's code (130, 143).

The teardown itself (every `finally` stopping its servers, partial results written) is the program's; this bounds
it when something in it does not return: a wait on a thread that does not end, or a lock taken and never given
back. Python runs signal handlers only in the main thread and only between bytecodes, so a main thread stuck in C
would never see the signal at all; here the interpreter's C-level handler writes the signal's number to a pipe
(`signal.set_wakeup_fd`), and a daemon thread reading it keeps the clock: it works whatever the main thread does.

    arm()   # once, in the main thread, at the command's start (bench/cli.py)
"""

from __future__ import annotations

import contextlib
import faulthandler
import os
import select
import signal
import threading
import time

import psutil

DEADLINE_S = 45.0  # a stop (servers, fork servers, Locust runs told to quit, the report) takes seconds
# Keyed by the plain signal number: the wake-up pipe carries bytes, not signal.Signals.
EXIT_CODES: dict[int, int] = {signal.SIGINT: 130, signal.SIGTERM: 143}
NAMES: dict[int, str] = {signal.SIGINT: "Ctrl-C", signal.SIGTERM: "SIGTERM"}

_armed = False


def arm(deadline_s: float = DEADLINE_S) -> bool:
    """Start watching for SIGINT and SIGTERM (main thread only; their handlers must be Python's, as `bench`
    sets them). False where it cannot: not the main thread, or a wakeup descriptor already in use (asyncio's)."""
    global _armed
    if _armed or threading.current_thread() is not threading.main_thread():
        return _armed
    read_fd, write_fd = os.pipe()
    os.set_blocking(write_fd, False)  # the C handler must never block
    try:
        previous = signal.set_wakeup_fd(write_fd, warn_on_full_buffer=False)
    except (ValueError, OSError):
        os.close(read_fd)
        os.close(write_fd)
        return False
    if previous != -1:  # someone else's (an event loop's): give it back and leave it alone
        signal.set_wakeup_fd(previous)
        os.close(read_fd)
        os.close(write_fd)
        return False
    if hasattr(os, "register_at_fork"):  # a fork that does not exec keeps the descriptor: its signals are not ours
        os.register_at_fork(after_in_child=_forget)
    threading.Thread(target=_watch, args=(read_fd, deadline_s), name="stop-deadline", daemon=True).start()
    _armed = True
    return True


def _forget() -> None:
    with contextlib.suppress(ValueError, OSError):
        signal.set_wakeup_fd(-1)


def _watch(read_fd: int, deadline_s: float) -> None:
    first: int | None = None
    until = float("inf")
    while True:
        ready, _, _ = select.select([read_fd], [], [], max(0.0, min(until - time.monotonic(), 3600.0)))
        if ready:
            for signum in os.read(read_fd, 64):
                if signum not in EXIT_CODES:
                    continue  # SIGCHLD and the like: not a stop
                if first is None:
                    first, until = signum, time.monotonic() + deadline_s
                elif signum == signal.SIGINT:  # a second Ctrl-C: the user does not want to wait
                    _force(first, f"a second Ctrl-C while stopping after {NAMES[first]}")
        if first is not None and time.monotonic() >= until:
            _force(first, f"still stopping {deadline_s:.0f} s after {NAMES[first]}")


def _force(signum: int, why: str) -> None:
    """Say why and where every thread was, kill what this process started (by pid), exit with the signal's code."""
    # Straight to descriptor 2: sys.stderr may be a progress bar's proxy behind a lock the stuck thread holds.
    with contextlib.suppress(OSError):
        os.write(2, f"\nbench: {why}: stopping now (every thread's stack follows; the processes it started get "
                    "SIGKILL)\n".encode())
    with contextlib.suppress(OSError, ValueError, RuntimeError):
        faulthandler.dump_traceback(file=2, all_threads=True)
    with contextlib.suppress(psutil.Error):
        for child in psutil.Process().children(recursive=True):
            with contextlib.suppress(psutil.Error):
                child.kill()
    os._exit(EXIT_CODES[signum])
