"""Charts drawn in forked children (bench/report/pngs.py) are byte for byte those drawn in-process, in order, and a
child that fails costs nothing but the time: its charts are drawn in the parent."""

from __future__ import annotations

import threading
import time

import psutil
import pytest
from matplotlib.figure import Figure

from bench.report import pngs
from bench.report.chartkit import figure, png_bytes


def _figures(n: int) -> list[Figure]:
    out = []
    for i in range(n):
        fig = figure(4, 3)
        ax = fig.add_subplot()
        ax.plot(range(10), [x * (i + 1) for x in range(10)], label=f"chart {i}")
        ax.legend()
        fig.suptitle(f"chart {i}")
        out.append(fig)
    return out


def test_forked_drawing_gives_the_same_bytes_in_order(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pngs, "_cores", lambda: 2)
    monkeypatch.setattr(pngs, "_alone", lambda: True)  # whatever threads earlier tests left in this process
    figures = _figures(5)
    assert pngs.png_all(figures) == [png_bytes(f) for f in figures]
    assert len(set(pngs.png_all(figures))) == 5
    # And the children did draw: every other chart comes from one (here marked instead of drawn).
    monkeypatch.setattr(pngs, "_draw", lambda index: b"child %d" % index)
    got = pngs.png_all(figures)
    assert got[1::2] == [b"child 1", b"child 3"]
    assert got[0::2] == [png_bytes(f) for f in figures[0::2]]


def test_a_failing_child_leaves_its_charts_to_the_parent(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pngs, "_cores", lambda: 3)
    monkeypatch.setattr(pngs, "_alone", lambda: True)

    def broken(index: int) -> bytes:
        raise RuntimeError("a child failed")

    monkeypatch.setattr(pngs, "_draw", broken)  # the children inherit the patch: each of their charts fails
    figures = _figures(6)
    assert pngs.png_all(figures) == [png_bytes(f) for f in figures]


def test_one_core_or_few_charts_draw_here(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_pool(*args: object, **kwargs: object) -> None:
        raise AssertionError("no child should be started")

    monkeypatch.setattr(pngs, "ProcessPoolExecutor", no_pool)
    monkeypatch.setattr(pngs, "_alone", lambda: True)
    monkeypatch.setattr(pngs, "_cores", lambda: 1)
    figures = _figures(5)
    assert pngs.png_all(figures) == [png_bytes(f) for f in figures]
    monkeypatch.setattr(pngs, "_cores", lambda: 4)
    assert pngs.png_all(figures[:3]) == [png_bytes(f) for f in figures[:3]]


def test_a_process_with_other_threads_draws_here(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_pool(*args: object, **kwargs: object) -> None:
        raise AssertionError("no fork with another thread alive")

    monkeypatch.setattr(pngs, "ProcessPoolExecutor", no_pool)
    monkeypatch.setattr(pngs, "_cores", lambda: 2)
    release = threading.Event()
    other = threading.Thread(target=release.wait, daemon=True)
    other.start()
    try:
        figures = _figures(4)
        assert pngs.png_all(figures) == [png_bytes(f) for f in figures]
    finally:
        release.set()
        other.join()


def test_a_stuck_child_is_ended_at_the_deadline_and_its_charts_drawn_here(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pngs, "_cores", lambda: 2)
    monkeypatch.setattr(pngs, "_alone", lambda: True)
    monkeypatch.setattr(pngs, "DEADLINE_S", 1.0)
    monkeypatch.setattr(pngs, "_draw", lambda index: time.sleep(600))  # inherited: the child hangs
    before = {p.pid for p in psutil.Process().children()}
    figures = _figures(4)
    started = time.monotonic()
    assert pngs.png_all(figures) == [png_bytes(f) for f in figures]
    assert time.monotonic() - started < 30  # not the child's 600 s
    workers = [p for p in psutil.Process().children() if p.pid not in before]
    _, alive = psutil.wait_procs(workers, timeout=10)
    assert not alive, f"left running: {alive}"
