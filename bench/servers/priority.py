"""Lower CPU priority for the processes of steps that count things (idle) or need CPU but time nothing the others
measure (low), so they run beside the timed steps on the CPU those leave, instead of after them.

    with priority.lowered(nice):   # in the thread that starts a unit's app, mock and Locust runs
        ...                        # every child started from this thread: preexec_for_child() / the fork servers

A child lowers its own priority at birth, before it starts a thread or forks a worker (both inherit it):
- its nice value (`setpriority`, per thread on Linux: what the child's later threads and forks inherit), and
- where the kernel groups processes by session (CONFIG_SCHED_AUTOGROUP, /proc/sys/kernel/sched_autogroup_enabled),
  its session's group. Every child the harness starts is a session of its own (so Ctrl-C reaches the harness
  only), and the kernel shares the CPU out between session groups first, whatever the nice values inside them:
  without the group's own nice value a niced child still got an equal share (measured on 2 cores: a quick run's
  warm async bursts beside the cold bursts and 4-worker steps with plain `nice -n 19`, makespan 1.15 s [0.63,
  2.01] against 0.61 s [0.51, 0.77] alone; with the groups niced too, 0.63 s [0.49, 0.76]).
Raising one's own nice value needs no privilege. Where neither works (another OS, a locked-down /proc), the child
runs at the harness's priority and says nothing: only the schedule's speed depends on it, which the comparison
with `--schedule serial` measures.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Iterator

IDLE_NICE = 19  # the lowest priority `nice` gives; the timed steps' processes stay at the harness's (0)
LOW_NICE = 10  # below the timed steps, above the idle ones: a weight of 110 against 1024 (nice 0) and 15 (nice 19)

_local = threading.local()


@contextlib.contextmanager
def lowered(nice: int = IDLE_NICE) -> Iterator[None]:
    """Children started from this thread, until the block ends, lower their priority to `nice` (0: unchanged)."""
    before = current()
    _local.nice = nice
    try:
        yield
    finally:
        _local.nice = before


def current() -> int:
    """The nice value a child started from this thread sets itself (0: none, it keeps the harness's)."""
    return int(getattr(_local, "nice", 0))


def lower_this_thread(nice: int = IDLE_NICE) -> None:
    """Raise the calling thread's own nice value (Linux: each thread has its own; not undone when the thread is
    reused, so only for threads that do nothing else, such as a lowered lane's pool). It orders the harness's own
    threads only: between processes the session groups decide (see above), so in-process work still competes at
    the harness's share. Elsewhere (where PRIO_PROCESS takes a process id, not a thread's) nothing."""
    if not sys.platform.startswith("linux") or nice <= 0:
        return
    with contextlib.suppress(OSError):
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, max(nice, os.getpriority(os.PRIO_PROCESS, tid)))


def lower(nice: int) -> None:
    """In a new child, after `setsid()`: raise its nice value and its session group's to `nice` (never lower them:
    that needs privilege). Best effort, silent: fork-safe code only (no logging, no threads)."""
    if nice <= 0:
        return
    with contextlib.suppress(OSError, AttributeError):
        os.setpriority(os.PRIO_PROCESS, 0, max(nice, os.getpriority(os.PRIO_PROCESS, 0)))
    # The session's scheduling group (autogroup): one write covers every process of the session, later ones too.
    with contextlib.suppress(OSError), open("/proc/self/autogroup", "w") as f:
        f.write(str(nice))
