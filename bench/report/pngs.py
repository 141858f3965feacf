"""PNG bytes of a report's charts, drawn on every core: matplotlib draws while holding the GIL (10 charts took
2.9 s of a quick run's 3.4 s report, one after another), so the figures are shared out between this process and
forked children, each drawing its share of the figures it inherited. The bytes are the same either way
(chartkit.png_bytes is deterministic); where forking is unavailable or unsafe (another thread alive), or a child
fails, this process draws it.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import sys
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from matplotlib.figure import Figure

from bench.report.chartkit import png_bytes
from bench.servers.lifeline import die_with_parent

# Below this many charts a child's start costs more than it saves.
MIN_PARALLEL = 4
DEADLINE_S = 120.0  # for all the children's charts (each takes well under a second); past it they are ended

_FIGURES: list[Figure] = []  # read by the forked children: they inherit it, nothing is pickled but the bytes


def _draw(index: int) -> bytes:
    return png_bytes(_FIGURES[index])


def _in_child(index: int) -> bytes:
    return _draw(index)  # looked up in the child: the pool pickles this function by name, not `_draw` itself


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _kill_workers(pool: ProcessPoolExecutor) -> None:
    """End a pool's workers now (its shutdown would wait for a stuck one forever): Python 3.14's `kill_workers`, or
    before it the pool's own process table, which has no public accessor."""
    kill = getattr(pool, "kill_workers", None)
    if callable(kill):
        kill()
        return
    for proc in list(getattr(pool, "_processes", {}).values()):
        with contextlib.suppress(OSError, ValueError):
            proc.kill()


def _alone() -> bool:
    return threading.active_count() == 1


def png_all(figures: list[Figure]) -> list[bytes]:
    """Each figure's PNG bytes, in order."""
    workers = min(_cores(), len(figures)) - 1  # children; this process draws too
    # Forked only from a process with no other thread (`bench run` and `bench report` by the time they draw): a
    # thread holding a lock at the fork (a logging handler's, a library's) would leave it held in the child forever.
    if workers < 1 or len(figures) < MIN_PARALLEL or not sys.platform.startswith("linux") or not _alone():
        return [png_bytes(f) for f in figures]
    global _FIGURES
    _FIGURES = figures
    mine = list(range(0, len(figures), workers + 1))  # every (workers + 1)-th chart is drawn here
    theirs = [i for i in range(len(figures)) if i not in set(mine)]
    out: dict[int, bytes] = {}
    pool: ProcessPoolExecutor | None = None
    stuck = False
    try:
        # fork: the children need the figures as they are, and inherit them; the processes start at the first
        # submit, before the pool's own threads. Each child dies with this process, even when it is killed (a
        # pool's workers would otherwise live on).
        pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("fork"),
                                   initializer=die_with_parent, initargs=(os.getpid(),))
        futures = {i: pool.submit(_in_child, i) for i in theirs}
        for i in mine:
            out[i] = png_bytes(figures[i])
        deadline = time.monotonic() + DEADLINE_S
        for i, future in futures.items():
            try:
                out[i] = future.result(timeout=max(0.0, deadline - time.monotonic()))
            except TimeoutError:
                stuck = True  # drawn below, here; the children are ended, not waited for
            except Exception:  # whatever went wrong in the child (or with it): drawn below, here
                pass
    except (BrokenProcessPool, OSError):
        pass  # drawn below, here
    finally:
        _FIGURES = []
        if pool is not None:
            if stuck:
                _kill_workers(pool)
            pool.shutdown(wait=not stuck, cancel_futures=True)
    return [out[i] if i in out else png_bytes(f) for i, f in enumerate(figures)]
