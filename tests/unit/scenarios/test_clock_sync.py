"""The NTP-style offset estimate: the formula, the least-round-trip choice, its bound, and drift."""

from __future__ import annotations

import pytest

from scenarios.clock_sync import WINDOW, ClockEstimate, Sample


def _exchange(theta: float, sent: float, d1: float, d2: float, hold: float = 0.0) -> Sample:
    """A ping sent at `sent` (worker clock) to a master whose clock is worker + theta."""
    t1 = sent + d1 + theta
    t2 = t1 + hold
    return Sample(sent, t1, t2, t2 - theta + d2)


@pytest.mark.parametrize(("d1", "d2"), [(0.001, 0.001), (0.0001, 0.004), (0.004, 0.0001)])
def test_the_true_offset_lies_within_the_bound(d1: float, d2: float) -> None:
    s = _exchange(-0.75, 100.0, d1, d2, hold=0.002)
    assert s.round_trip == pytest.approx(d1 + d2)  # the master's hold time is not part of the trip
    assert abs(s.offset - (-0.75)) <= s.bound + 1e-12
    assert s.offset == pytest.approx(-0.75 + (d1 - d2) / 2)


def test_the_sample_with_the_least_round_trip_wins() -> None:
    est = ClockEstimate()
    for i, (d1, d2) in enumerate([(0.01, 0.001), (0.0002, 0.0003), (0.005, 0.02)]):
        est.add(_exchange(0.3, float(i), d1, d2))
    report = est.report()
    assert report is not None
    assert report["round_trip_min_s"] == pytest.approx(0.0005)
    assert report["offset_s"] == pytest.approx(0.3 - 0.00005, abs=1e-7)
    assert report["samples"] == 3 and report["drift_s"] == 0.0  # one window: no drift to see yet


def test_drift_between_the_first_and_latest_exchanges_widens_the_uncertainty() -> None:
    est = ClockEstimate()
    for i in range(3 * WINDOW):
        theta = 0.1 + (0.002 if i >= 2 * WINDOW else 0.0)  # the worker's clock stepped 2 ms mid-run
        est.add(_exchange(theta, float(i), 0.0001, 0.0001))
    report = est.report()
    assert report is not None
    assert report["drift_s"] == pytest.approx(0.002, abs=1e-9)
    assert report["uncertainty_s"] == pytest.approx(report["bound_s"] + 0.002, abs=1e-9)


def test_an_exchange_with_a_negative_round_trip_is_ignored() -> None:
    est = ClockEstimate()
    assert not est.add(Sample(10.0, 10.5, 10.6, 10.05))  # the master held it longer than the trip took
    assert est.report() is None


def test_an_offset_within_its_uncertainty_is_not_applied() -> None:
    """One host, one clock: 40 us of estimate inside a 300 us bound is noise, and applying it would only make
    one clock's times disagree."""
    est = ClockEstimate()
    est.add(Sample(10.0, 10.00034, 10.00035, 10.0006))  # offset +45 us, round trip 590 us
    report = est.report()
    assert report is not None and report["applied_s"] == 0.0
    assert report["uncertainty_s"] == pytest.approx(report["bound_s"] + abs(report["offset_s"]))
    shifted = ClockEstimate()
    shifted.add(_exchange(-0.75, 10.0, 0.0003, 0.0003))
    assert shifted.applied_s == pytest.approx(-0.75)
