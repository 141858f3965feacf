"""Release, arrival and sweep timing arithmetic."""

from __future__ import annotations

import pytest

from scenarios.schedule import arrival_count, arrivals_for_worker, parse_steps, release_delay, sweep_step


@pytest.mark.parametrize(
    ("rate", "duration", "cap", "expected"),
    [(10, 5, 0, 50), (10, 5, 20, 20), (3, 1.5, 0, 5), (0.5, 3, 0, 2), (0, 5, 0, 0), (10, 0, 0, 0),
     (0.1, 10, 0, 1)],
)
def test_arrival_count(rate: float, duration: float, cap: int, expected: int) -> None:
    assert arrival_count(rate, duration, cap) == expected


@pytest.mark.parametrize("n_workers", [1, 2, 3, 7])
def test_workers_together_keep_the_schedule(n_workers: int) -> None:
    count = arrival_count(20, 3)
    union = sorted(a for w in range(n_workers) for a in arrivals_for_worker(20, count, w, n_workers))
    assert union == [(i, i / 20) for i in range(count)]


def test_worker_index_out_of_range() -> None:
    with pytest.raises(ValueError):
        list(arrivals_for_worker(10, 5, 2, 2))


def test_sweep_step() -> None:
    assert sweep_step(0.0, 10, 3) == 0
    assert sweep_step(9.99, 10, 3) == 0
    assert sweep_step(10.0, 10, 3) == 1
    assert sweep_step(29.9, 10, 3) == 2
    assert sweep_step(30.0, 10, 3) is None
    assert sweep_step(-0.1, 10, 3) is None


def test_parse_steps() -> None:
    assert parse_steps("1, 10,50") == (1, 10, 50)
    assert parse_steps([1, 2]) == (1, 2)
    for bad in ("", "1,x", "0,5"):
        with pytest.raises(ValueError):
            parse_steps(bad)


def test_release_delay_covers_locust_batches() -> None:
    assert release_delay(50, 50) < release_delay(500, 50)
    assert release_delay(500, 50) >= 9  # ten batches, a second apart
    assert release_delay(1, 1) >= 0.3  # a margin for the spawn itself
