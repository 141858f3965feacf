"""Tests that signal a process the test started and check that its children went with it."""

from __future__ import annotations

import contextlib
import subprocess

import psutil


def signal_and_survivors(proc: subprocess.Popen[bytes], children: list[psutil.Process], sig: int,
                         wait_s: float = 30.0) -> list[psutil.Process]:
    """Send `sig` to `proc`, wait for it to end, and return those of `children` still running 10 s later."""
    proc.send_signal(sig)
    proc.wait(timeout=wait_s)
    _, alive = psutil.wait_procs(children, timeout=10)
    return list(alive)


def kill_leftovers(proc: subprocess.Popen[bytes], children: list[psutil.Process]) -> None:
    """For `finally`: end `proc` and the children noted earlier (orphans by now if the test failed), by pid."""
    if proc.poll() is None:
        proc.kill()
        proc.wait(timeout=10)
    for child in children:
        with contextlib.suppress(psutil.Error):
            child.kill()
