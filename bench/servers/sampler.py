"""Samples RSS and CPU of a server's whole process tree (uvicorn workers included) at a fixed rate, in a thread."""

from __future__ import annotations

import threading
import time
from typing import Any

import psutil


class TreeSampler:
    def __init__(self, root_pid: int, hz: float = 20.0) -> None:
        self.root_pid = root_pid
        self.interval = 1.0 / hz
        self.samples: list[tuple[float, float, float]] = []  # (t_s since start, rss MiB, cpu % of one core)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)
        self._procs: dict[int, psutil.Process] = {}
        self._t0 = 0.0

    def _tree(self) -> list[psutil.Process]:
        try:
            root = psutil.Process(self.root_pid)
            found = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []
        # Keep Process objects across samples: cpu_percent() measures since the previous call on the same object.
        for p in found:
            if p.pid not in self._procs:
                self._procs[p.pid] = p
                p.cpu_percent(None)
        return [self._procs[p.pid] for p in found]

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
