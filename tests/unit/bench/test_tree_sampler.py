"""bench/servers/sampler.py: a starved sampler skips the samples it missed instead of taking them back to back
(two cpu_percent readings microseconds apart turn one clock tick into thousands of %)."""

from __future__ import annotations

import itertools
import os
import time

import pytest

from bench.servers.sampler import TreeSampler


def test_a_stalled_sampler_never_samples_back_to_back(monkeypatch: pytest.MonkeyPatch) -> None:
    sampler = TreeSampler(os.getpid(), hz=50.0)
    real = sampler._sample
    stalled = []

    def sample() -> None:
        real()
        if len(sampler.samples) == 3 and not stalled:
            stalled.append(True)
            time.sleep(0.3)  # fifteen intervals late, as on a starved machine

    monkeypatch.setattr(sampler, "_sample", sample)
    sampler.start()
    time.sleep(0.7)
    sampler.stop()
    times = [s[0] for s in sampler.samples]  # stop()'s own last one included
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert stalled and len(times) >= 10
    assert min(gaps) >= sampler.interval / 2, gaps


def test_cpu_of_one_busy_process_stays_within_the_machine() -> None:
    sampler = TreeSampler(os.getpid(), hz=50.0).start()
    end = time.perf_counter() + 0.6
    while time.perf_counter() < end:
        sum(i * i for i in range(1000))  # keep this process busy
    out = sampler.stop()
    cpus = [s[2] for s in out["samples"][1:]]
    assert max(cpus) <= 100.0 * (os.cpu_count() or 1) + 1.0
    assert out["cpu_mean_percent"] > 10.0  # it was busy, and the sampler saw it
