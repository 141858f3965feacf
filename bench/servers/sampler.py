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
        self._procs: dict[tuple[int, float], psutil.Process] = {}
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
        # Keyed by pid and start time, so a pid reused by a new process gets a new object, never the old one's
        # last reading. Its first call (0.0 by psutil's definition) is made at the next sample, an interval
        # later: a reading right after it spans microseconds, and one clock tick in them read as thousands of %.
        current = []
        for p in found:
            try:
                key = (p.pid, p.create_time())
            except psutil.Error:
                continue
            if key not in self._procs:
                self._procs[key] = p
            current.append(self._procs[key])
        self._current = current
        return self._current

    def _sample(self) -> None:
        rss = cpu = 0.0
        for p in self._tree():
            try:
                with p.oneshot():
                    rss += p.memory_info().rss
                    cpu += p.cpu_percent(None)  # 0.0 at a process's first sample: its reference point
            except psutil.Error:
                continue
        self.samples.append((time.perf_counter() - self._t0, rss / 2**20, cpu))

    def _run(self) -> None:
        next_t = time.perf_counter()
        while not self._stop.is_set():
            self._sample()
            next_t += self.interval
            now = time.perf_counter()
            # Fell behind (a busy machine): skip the missed samples rather than catch up back to back. Two
            # cpu_percent readings microseconds apart turn one clock tick into thousands of % (seen: 20,000% in a
            # blocking app's 150 s burst, a 550% mean for one process on 2 cores). Nor nearly back to back: a
            # sample that took most of its interval is followed half an interval later at the soonest.
            next_t = now + self.interval if next_t < now else max(next_t, now + self.interval / 2)
            self._stop.wait(max(0.0, next_t - now))

    def start(self) -> TreeSampler:
        self._t0 = time.perf_counter()
        self._tree()
        self._thread.start()
        return self

    def stop(self) -> dict[str, Any]:
        self._stop.set()
        self._thread.join(timeout=5)
        self._tree_at = -TREE_EVERY_S  # the last sample sees the tree as it is now
        if self.samples:  # half an interval after the thread's last one at least, for the same reason as in _run
            time.sleep(max(0.0, self.interval / 2 - (time.perf_counter() - self._t0 - self.samples[-1][0])))
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
