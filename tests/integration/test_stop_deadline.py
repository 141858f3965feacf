"""The deadline on stopping (bench/servers/stop_deadline.py), on a real process whose teardown never returns: past
the deadline, or at a second Ctrl-C, it exits with the signal's code, says why with every thread's stack, and the
process it started is gone; a teardown that ends in time is left alone."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import psutil
import pytest

from bench.servers import stop_deadline

ROOT = Path(__file__).resolve().parents[2]

# Arms the deadline, starts a child, then on the first SIGINT or SIGTERM "tears down" for `teardown_s` (forever when
# negative) with further signals doing nothing in Python: only the deadline's C-level path can end it.
SCRIPT = textwrap.dedent("""
    import signal, subprocess, sys, time
    from bench.errors import raise_on_sigterm
    from bench.servers import stop_deadline
    deadline_s, teardown_s = float(sys.argv[1]), float(sys.argv[2])
    raise_on_sigterm()
    assert stop_deadline.arm(deadline_s)
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    print(child.pid, flush=True)
    try:
        while True:
            time.sleep(0.1)
    except KeyboardInterrupt as exc:
        signal.signal(signal.SIGINT, lambda *_: None)
        signal.signal(signal.SIGTERM, lambda *_: None)
        end = time.monotonic() + (teardown_s if teardown_s >= 0 else 1e9)
        while time.monotonic() < end:
            time.sleep(0.05)
        child.kill()
        sys.exit(143 if type(exc).__name__ == "Terminated" else 130)
""")


def _start(deadline_s: float, teardown_s: float) -> tuple[subprocess.Popen[str], psutil.Process]:
    proc = subprocess.Popen([sys.executable, "-c", SCRIPT, str(deadline_s), str(teardown_s)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    child = psutil.Process(int(proc.stdout.readline()))
    return proc, child


def _finish(proc: subprocess.Popen[str], child: psutil.Process, timeout: float) -> tuple[int | None, str]:
    try:
        _, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
        return None, err
    finally:
        if child.is_running():
            child.kill()
    return proc.returncode, err


def _gone(child: psutil.Process) -> bool:
    try:
        child.wait(timeout=5.0)  # not our child: psutil polls until it is gone (reaped by its new parent)
    except psutil.TimeoutExpired:
        return False
    return True


@pytest.mark.parametrize(("sig", "code", "name"), [(signal.SIGINT, 130, "Ctrl-C"), (signal.SIGTERM, 143, "SIGTERM")])
def test_a_teardown_that_never_returns_is_ended_at_the_deadline(sig: int, code: int, name: str) -> None:
    proc, child = _start(deadline_s=1.5, teardown_s=-1)
    time.sleep(0.3)
    sent = time.monotonic()
    proc.send_signal(sig)
    rc, err = _finish(proc, child, timeout=30.0)
    took = time.monotonic() - sent
    assert rc == code, f"exit {rc} after {took:.1f} s: {err}"
    assert 1.4 <= took < 15.0, took
    assert f"still stopping 2 s after {name}" in err, err
    assert "Current thread" in err or "Thread 0x" in err, err  # the stacks, to see where it was stuck
    assert _gone(child)


def test_a_second_ctrl_c_ends_it_at_once() -> None:
    proc, child = _start(deadline_s=300.0, teardown_s=-1)
    time.sleep(0.3)
    proc.send_signal(signal.SIGINT)
    time.sleep(1.0)
    assert proc.poll() is None  # the first one only started the stop
    sent = time.monotonic()
    proc.send_signal(signal.SIGINT)
    rc, err = _finish(proc, child, timeout=30.0)
    assert rc == 130 and time.monotonic() - sent < 10.0, err
    assert "a second Ctrl-C while stopping after Ctrl-C" in err, err
    assert _gone(child)


def test_a_teardown_that_ends_in_time_is_left_alone() -> None:
    proc, child = _start(deadline_s=3.0, teardown_s=0.5)
    time.sleep(0.3)
    proc.send_signal(signal.SIGINT)
    rc, err = _finish(proc, child, timeout=30.0)
    assert rc == 130, err
    assert "stopping now" not in err, err


def test_it_arms_only_from_the_main_thread() -> None:
    armed: list[bool] = []
    thread = threading.Thread(target=lambda: armed.append(stop_deadline.arm()))
    thread.start()
    thread.join()
    assert armed == [False]
