"""The latency model: fixed, TTFT + per-token, header overrides, seeded jitter."""

from __future__ import annotations

import statistics

import pytest

from bench.mock.config import MockConfig
from bench.mock.latency import LatencyModel, Overrides


def test_fixed_latency_is_the_total_for_any_length() -> None:
    model = LatencyModel(MockConfig(latency_ms=200))
    for tokens in (1, 16, 500):
        tl = model.timeline(tokens)
        assert tl.total_s == pytest.approx(0.2)
        assert tl.ttft_s == pytest.approx(0.2)


def test_ttft_plus_interval_per_token() -> None:
    tl = LatencyModel(MockConfig(ttft_ms=100, itl_ms=10)).timeline(20)
    assert tl.ttft_s == pytest.approx(0.1)
    assert tl.total_s == pytest.approx(0.1 + 20 * 0.01)
    assert tl.token_at(0) == pytest.approx(0.1)
    assert tl.token_at(5) == pytest.approx(0.15)


def test_header_overrides_win_over_the_config() -> None:
    model = LatencyModel(MockConfig(latency_ms=200, ttft_ms=5, itl_ms=1))
    assert model.timeline(10, Overrides(latency_ms=50)).total_s == pytest.approx(0.05)
    # a ttft/itl override switches to the per-token model
    assert model.timeline(10, Overrides(itl_ms=2)).total_s == pytest.approx(0.005 + 10 * 0.002)


@pytest.mark.parametrize("kind", ["normal", "lognormal"])
def test_jitter_keeps_the_mean_and_has_the_configured_spread(kind: str) -> None:
    model = LatencyModel(MockConfig(latency_ms=100, jitter=kind, jitter_ms=10, seed=7))
    totals = [model.timeline(16).total_s * 1000 for _ in range(4000)]
    assert statistics.fmean(totals) == pytest.approx(100, rel=0.02)
    assert statistics.stdev(totals) == pytest.approx(10, rel=0.1)
    if kind == "lognormal":
        assert min(totals) > 0


def test_jitter_is_reproducible_by_seed_and_changes_with_it() -> None:
    def draws(seed: int) -> list[float]:
        model = LatencyModel(MockConfig(latency_ms=100, jitter="normal", jitter_ms=20, seed=seed))
        return [model.timeline(8).total_s for _ in range(50)]

    assert draws(1) == draws(1)
    assert draws(1) != draws(2)


def test_reseed_restarts_the_sequence() -> None:
    model = LatencyModel(MockConfig(latency_ms=100, jitter="lognormal", jitter_ms=20, seed=3))
    first = [model.timeline(8).total_s for _ in range(5)]
    model.reseed()
    assert [model.timeline(8).total_s for _ in range(5)] == first
