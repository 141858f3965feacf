"""bench/run/ahead.py: servers started ahead of the alone lane, and never beside it."""

from __future__ import annotations

import threading
import time

import pytest

from bench.run.ahead import Ahead


class Recorder:
    def __init__(self, start_s: float = 0.0, fail: set[str] | None = None) -> None:
        self.start_s, self.fail = start_s, fail or set()
        self.started: list[tuple[str, float, float]] = []
        self.stopped: list[str] = []

    def start(self, unit: str) -> str:
        t0 = time.monotonic()
        time.sleep(self.start_s)
        if unit in self.fail:
            raise RuntimeError(f"{unit} did not start")
        self.started.append((unit, t0, time.monotonic()))
        return f"servers:{unit}"

    def stop(self, servers: str) -> None:
        self.stopped.append(servers)


def _ahead(rec: Recorder, at_most: int = 6) -> tuple[Ahead[str, str], threading.Event]:
    halt = threading.Event()
    return Ahead(rec.start, rec.stop, halt, at_most=at_most), halt


def _finish(ahead: Ahead[str, str]) -> None:
    ahead.pool.shutdown(wait=True, cancel_futures=True)
    ahead.close()


def test_units_start_after_the_gate_in_order_and_are_handed_over() -> None:
    rec = Recorder()
    ahead, _ = _ahead(rec)
    gate = threading.Event()
    ahead.begin(["a", "b"], after=[gate])
    time.sleep(0.3)
    assert rec.started == []  # the paced units' own starts are not over
    opened = time.monotonic()
    gate.set()
    time.sleep(0.3)
    assert [u for u, _, _ in rec.started] == ["a", "b"] and rec.started[0][1] >= opened
    assert ahead.take("a", lambda: None) == "servers:a"
    assert ahead.take("b", lambda: None) == "servers:b"
    assert ahead.take("c", lambda: None) is None  # not started ahead: the lane starts it
    _finish(ahead)
    assert rec.stopped == []  # the caller stops what it took


def test_the_first_take_closes_the_window_and_waits_for_a_start_under_way() -> None:
    rec = Recorder(start_s=0.3)
    ahead, _ = _ahead(rec)
    ahead.begin(["a", "b", "c"], after=[])
    time.sleep(0.4)  # a done, b under way, c waiting
    assert ahead.take("a", lambda: None) == "servers:a"
    took = time.monotonic()
    # b's start was under way: take waited for it, so nothing starts beside a's runs; c never starts.
    assert [u for u, _, _ in rec.started] == ["a", "b"] and rec.started[1][2] <= took
    time.sleep(0.4)
    assert [u for u, _, _ in rec.started] == ["a", "b"]
    assert ahead.take("b", lambda: None) == "servers:b"
    assert ahead.take("c", lambda: None) is None
    _finish(ahead)


def test_at_most_some_units_start_ahead() -> None:
    rec = Recorder()
    ahead, _ = _ahead(rec, at_most=2)
    ahead.begin(["a", "b", "c"], after=[])
    time.sleep(0.3)
    assert [u for u, _, _ in rec.started] == ["a", "b"]
    assert ahead.take("c", lambda: None) is None
    _finish(ahead)
    assert rec.stopped == ["servers:a", "servers:b"]  # never taken: stopped by close


def test_a_failed_start_raises_at_its_take_and_the_others_are_stopped() -> None:
    rec = Recorder(fail={"b"})
    ahead, _ = _ahead(rec)
    ahead.begin(["a", "b", "c"], after=[])
    time.sleep(0.3)
    assert ahead.take("a", lambda: None) == "servers:a"
    with pytest.raises(RuntimeError, match="b did not start"):
        ahead.take("b", lambda: None)
    _finish(ahead)
    assert rec.stopped == ["servers:c"]


def test_a_halt_stops_the_gate_wait_and_nothing_starts() -> None:
    rec = Recorder()
    ahead, halt = _ahead(rec)
    gate = threading.Event()
    ahead.begin(["a"], after=[gate], gate_s=30.0)
    halt.set()
    t0 = time.monotonic()
    _finish(ahead)  # waits for the pool: the gate wait ends with the halt, not after 30 s
    assert time.monotonic() - t0 < 2.0
    assert rec.started == [] and rec.stopped == []


def test_a_stop_signal_while_waiting_is_raised_by_the_check() -> None:
    rec = Recorder(start_s=0.5)
    ahead, _ = _ahead(rec)
    ahead.begin(["a"], after=[])
    time.sleep(0.1)

    def check() -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        ahead.take("a", check)
    _finish(ahead)
    assert rec.stopped == ["servers:a"]  # started, never taken: stopped
