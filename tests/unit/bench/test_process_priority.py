"""Children started from a thread under `priority.lowered()` take that nice value (and their session group's), the
others keep the harness's; a thread can lower itself only (bench/servers/priority.py)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from bench.servers import priority
from bench.servers.lifeline import preexec_for_child

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread nice values are Linux's")

CHILD = ("import os, pathlib; p = pathlib.Path('/proc/self/autogroup'); "
         "print(os.getpriority(os.PRIO_PROCESS, 0)); print(p.read_text().strip() if p.exists() else '')")


def _child() -> tuple[int, str]:
    out = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, check=True, timeout=30,
                         start_new_session=True, preexec_fn=preexec_for_child()).stdout.splitlines()
    return int(out[0]), (out[1] if len(out) > 1 else "")


def _autogroups() -> bool:
    path = Path("/proc/sys/kernel/sched_autogroup_enabled")
    return path.exists() and path.read_text().strip() == "1" and Path("/proc/self/autogroup").exists()


def test_a_child_started_under_lowered_takes_its_nice_value_and_its_groups() -> None:
    base = os.getpriority(os.PRIO_PROCESS, 0)
    with priority.lowered(priority.IDLE_NICE):
        nice, group = _child()
    assert nice == max(priority.IDLE_NICE, base)
    if _autogroups():
        assert group.endswith(f"nice {priority.IDLE_NICE}")  # its own session's group, not only the process


def test_children_outside_lowered_and_after_it_keep_the_harness_priority() -> None:
    base = os.getpriority(os.PRIO_PROCESS, 0)
    assert _child()[0] == base
    with priority.lowered(priority.LOW_NICE):
        assert priority.current() == priority.LOW_NICE
    assert priority.current() == 0 and _child()[0] == base


def test_lowered_is_per_thread() -> None:
    seen: list[int] = []
    with priority.lowered(priority.IDLE_NICE):
        thread = threading.Thread(target=lambda: seen.append(priority.current()))
        thread.start()
        thread.join()
        assert priority.current() == priority.IDLE_NICE
    assert seen == [0]  # another thread's children are not lowered


def test_a_thread_lowers_itself_only() -> None:
    main = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    got: list[int] = []

    def work() -> None:
        priority.lower_this_thread(7)
        got.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    assert got == [max(7, main)]
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == main
