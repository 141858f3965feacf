"""The backend probe's arithmetic (bench/run/backend_probe.py `derive`): K and C4's ideal from L, T_N and the N
latencies, for backends that overlap everything, serialize, or serve in waves."""

from __future__ import annotations

import pytest

from bench.run.backend_probe import derive


def test_a_backend_that_overlaps_all_n_allows_n() -> None:
    # 50 answered together, each about L: K = N, the ideal N, whatever the client's own overhead in T_N.
    d = derive(50, 3.0, 3.2, [3.05] * 50)
    assert d["overlap"] == 50 and d["answered_within_slack"] == 50 and d["ideal_ratio"] == 50
    assert d["latency_growth"] == pytest.approx(3.05 / 3.0, abs=1e-3)


def test_a_serializing_backend_allows_one() -> None:
    lats = [0.5 * (i + 1) for i in range(10)]  # each waits for those before it
    d = derive(10, 0.5, 5.0, lats)
    assert d["overlap"] == 1 and d["answered_within_slack"] == 1 and d["ideal_ratio"] == 1
    assert d["latency_growth"] == pytest.approx(5.5)


def test_a_backend_serving_in_waves_of_k() -> None:
    # K = 4 of 10: three waves of L, so the best any client can do is 10 / 3 = 3.33x.
    lats = [1.0 * (i // 4 + 1) for i in range(10)]
    d = derive(10, 1.0, 3.0, lats)
    assert d["overlap"] == 4 and d["ideal_ratio"] == pytest.approx(10 / 3, abs=1e-3)


@pytest.mark.parametrize(("latency", "within"), [(1.49, 2), (1.51, 1)])
def test_overlapped_means_answered_within_one_and_a_half_l(latency: float, within: int) -> None:
    d = derive(2, 1.0, 1.6, [1.0, latency])
    assert d["answered_within_slack"] == within


def test_an_instant_backend_gives_no_ideal_to_speak_of() -> None:
    # One request alone 2 ms, ten at once 37 ms: the client's CPU, not the backend, sets T_N; K floors at 1.
    d = derive(10, 0.002, 0.037, [0.03] * 10)
    assert d["overlap"] == 1 and d["ideal_ratio"] == 1


def test_nothing_measured_gives_nothing() -> None:
    assert derive(10, 0.0, 1.0, [])["ideal_ratio"] is None
