"""Ctrl-C and SIGTERM during the units (bench/run/interrupts.py): the first is noted, never raised mid-lock; a watcher
thread acts on it; the main thread raises it where it checks (or on leaving); a second raises at once. The signals
are real (sent to this process, handled in its main thread)."""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest

from bench.errors import Terminated
from bench.run.interrupts import DeferredStop


def _until(predicate: object, seconds: float = 5.0) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if predicate():  # type: ignore[operator]
            return True
        time.sleep(0.01)
    return False


@pytest.mark.parametrize(("sig", "exc"), [(signal.SIGINT, KeyboardInterrupt), (signal.SIGTERM, Terminated)])
def test_the_first_signal_is_noted_acted_on_and_raised_at_the_check(sig: int, exc: type[BaseException]) -> None:
    before = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    stopped: list[str] = []
    with pytest.raises(exc), DeferredStop(lambda: stopped.append(threading.current_thread().name)) as stop:
        os.kill(os.getpid(), sig)
        time.sleep(0.01)  # the handler runs here, in this (main) thread: it notes, it does not raise
        assert stop.signum == sig
        assert _until(lambda: stopped)  # the watcher acted, from its own thread
        assert stopped == ["deferred-stop"]
        stop.check()
        pytest.fail("check() did not raise")
    assert {s: signal.getsignal(s) for s in before} == before  # the caller's handlers are back


def test_a_signal_noted_after_the_last_check_is_raised_on_leaving() -> None:
    with pytest.raises(KeyboardInterrupt), DeferredStop(lambda: None):
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.01)


def test_a_second_signal_raises_at_once() -> None:
    with pytest.raises(KeyboardInterrupt), DeferredStop(lambda: None):
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.01)
        os.kill(os.getpid(), signal.SIGINT)
        for _ in range(100):  # raised by the handler, wherever this thread is
            time.sleep(0.01)
        pytest.fail("the second Ctrl-C did not raise")


def test_a_second_sigterm_goes_to_the_callers_handler() -> None:
    from bench.errors import raise_on_sigterm

    before = signal.getsignal(signal.SIGTERM)
    raise_on_sigterm()  # bench's own: raises Terminated and sets SIG_DFL, so that a third ends the process
    try:
        with pytest.raises(Terminated), DeferredStop(lambda: None):
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(0.01)
            os.kill(os.getpid(), signal.SIGTERM)
            for _ in range(100):
                time.sleep(0.01)
        assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL  # its change kept, not undone on leaving
    finally:
        signal.signal(signal.SIGTERM, before)


def test_no_signal_no_stop() -> None:
    stopped: list[bool] = []
    with DeferredStop(lambda: stopped.append(True), poll_s=0.01) as stop:
        time.sleep(0.05)
        stop.check()
    assert stopped == []


def test_off_the_main_thread_it_leaves_the_handlers_alone() -> None:
    before = signal.getsignal(signal.SIGINT)
    seen: list[object] = []

    def body() -> None:
        with DeferredStop(lambda: None) as stop:
            seen.append(signal.getsignal(signal.SIGINT))
            stop.check()

    thread = threading.Thread(target=body)
    thread.start()
    thread.join()
    assert seen == [before]
