"""Samples RSS and CPU of a server's whole process tree (uvicorn workers included) at a fixed rate, in a thread.

The tree itself is looked up once a second (TREE_EVERY_S), not at every sample: psutil finds children by reading
every process's /proc entry (1.7 ms with 65 processes on this machine, more with a run's servers around), which at
20 Hz in each of several runs side by side cost more CPU than the app under test. A worker that appears mid-run
is sampled from the next lookup on."""

from __future__ import annotations

import threading
import time
from typing import Any

import psutil

TREE_EVERY_S = 1.0


class TreeSampler:
    def __init__(self, root_pid: int, hz: float = 20.0) -> None:
        self.root_pid = root_pid
        self.interval = 1.0 / hz
        self.samples: list[tuple[float, float, float]] = []  # (t_s since start, rss MiB, cpu % of one core)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)
        self._procs: dict[int, psutil.Process] = {}
        self._t0 = 0.0
        self._tree_at = -TREE_EVERY_S
        self._current: list[psutil.Process] = []

    def _tree(self) -> list[psutil.Process]:
        now = time.perf_counter()
        if now - self._tree_at < TREE_EVERY_S:
            return self._current
        self._tree_at = now
        try:
            root = psutil.Process(self.root_pid)
            found = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            self._current = []
            return []
        # Keep Process objects across samples: cpu_percent() measures since the previous call on the same object.
        for p in found:
            if p.pid not in self._procs:
                self._procs[p.pid] = p
                p.cpu_percent(None)
        self._current = [self._procs[p.pid] for p in found]
        return self._current

    def _sample(self) -> None:
        rss = cpu = 0.0
        for p in self._tree():
            try:
                with p.oneshot():
                    rss += p.memory_info().rss
                    cpu += p.cpu_percent(None)
            except psutil.Error:
                continue
        self.samples.append((time.perf_counter() - self._t0, rss / 2**20, cpu))

    def _run(self) -> None:
        next_t = time.perf_counter()
        while not self._stop.is_set():
            self._sample()
            next_t += self.interval
            self._stop.wait(max(0.0, next_t - time.perf_counter()))

    def start(self) -> TreeSampler:
        self._t0 = time.perf_counter()
        self._tree()
        self._thread.start()
        return self

    def stop(self) -> dict[str, Any]:
        self._stop.set()
        self._thread.join(timeout=5)
        self._tree_at = -TREE_EVERY_S  # the last sample sees the tree as it is now
        self._sample()
        rss = [s[1] for s in self.samples] or [0.0]
        cpu = [s[2] for s in self.samples[1:]] or [0.0]
        return {
            "rss_baseline_mb": round(rss[0], 2),
            "rss_peak_mb": round(max(rss), 2),
            "rss_end_mb": round(rss[-1], 2),
            "cpu_mean_percent": round(sum(cpu) / len(cpu), 1),
            "sample_hz": round(1 / self.interval, 1),
            "samples": [[round(t, 3), round(r, 2), round(c, 1)] for t, r, c in self.samples],
        }
