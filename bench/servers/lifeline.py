"""Children that die with their parent, even when the parent cannot clean up (SIGKILL included).

On Linux a child asks the kernel for a signal when its parent dies (`prctl(PR_SET_PDEATHSIG)`). It survives
`exec`, but not `fork`: a child that forks workers (uvicorn's supervisor, Locust's --processes) has each worker
ask again (`die_with_parent()` in the worker, `os.register_at_fork`). Elsewhere these are no-ops, and the
harness's own teardown (terminate, then kill the tree) is what stops its children.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
from collections.abc import Callable

from bench.servers import priority

_PR_SET_PDEATHSIG = 1


def die_with_parent(parent_pid: int | None = None, sig: int = signal.SIGKILL) -> bool:
    """Ask for `sig` when this process's parent dies. If the parent is already gone (the request came too
    late to be delivered), exit now. Returns False where the platform has no such request."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(_PR_SET_PDEATHSIG, sig, 0, 0, 0) != 0:
            return False
    except (OSError, AttributeError):
        return False
    if parent_pid is not None and os.getppid() != parent_pid:
        os._exit(1)  # the parent died between fork and prctl: the signal will never come
    return True


def preexec_for_child() -> Callable[[], None]:
    """A `preexec_fn` for `subprocess.Popen`: the child dies with this process, and takes the priority of the
    thread that starts it (bench/servers/priority.py; Popen's `start_new_session` has run `setsid()` by then)."""
    parent, nice = os.getpid(), priority.current()
    return lambda: _quiet(parent, nice)


def _quiet(parent: int, nice: int = 0) -> None:
    die_with_parent(parent)
    priority.lower(nice)


def forks_die_with_parent() -> None:
    """In a process that forks workers: each forked child dies with the process that forked it."""
    if hasattr(os, "register_at_fork"):
        os.register_at_fork(after_in_child=die_with_parent)
