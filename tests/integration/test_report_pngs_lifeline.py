"""The report's chart-drawing children (bench/report/pngs.py) die with the process that forked them, even when it
is killed outright: a process pool's workers would otherwise live on, orphaned, waiting for work."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psutil
import pytest

from tests.support.children import kill_leftovers, signal_and_survivors

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]

# Draws 6 charts with 3 "cores": the children's share never ends (their `_draw` sleeps), so they are alive when
# the test kills this process.
SCRIPT = textwrap.dedent("""
    import time
    from bench.report import pngs
    from bench.report.chartkit import figure
    pngs._cores = lambda: 3
    pngs._draw = lambda index: time.sleep(600)
    figures = []
    for i in range(6):
        fig = figure(3, 2)
        fig.add_subplot().plot([0, 1], [0, i])
        figures.append(fig)
    pngs.png_all(figures)
""")


def test_drawing_children_die_with_a_killed_parent() -> None:
    proc = subprocess.Popen([sys.executable, "-c", SCRIPT], cwd=ROOT, stdin=subprocess.DEVNULL)
    children: list[psutil.Process] = []
    try:
        parent = psutil.Process(proc.pid)
        deadline = time.monotonic() + 60
        while len(children) < 2 and time.monotonic() < deadline:
            children = parent.children()
            time.sleep(0.05)
        assert len(children) == 2, f"expected 2 drawing children, saw {children}"
        alive = signal_and_survivors(proc, children, signal.SIGKILL, wait_s=10)
        assert not alive, f"left behind: {alive}"
    finally:
        kill_leftovers(proc, children)
