"""Pure timing arithmetic shared by the Locust side and the orchestrator: releases, arrivals, sweep steps."""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence

# Seconds Locust needs beyond its own ramp (users / spawn rate) to create users and hand them to workers.
SPAWN_MARGIN_S = 0.3
SPAWN_COST_S_PER_USER = 0.001


def release_delay(users: int, spawn_rate: float) -> float:
    """How long after test start all `users` are spawned and waiting, with a margin.

    Locust dispatches `spawn_rate` users at once, then the next batch a second later, and so on.
    """
    batches = math.ceil(users / spawn_rate) if spawn_rate > 0 else 1
    return round(SPAWN_MARGIN_S + max(batches - 1, 0) + users * SPAWN_COST_S_PER_USER, 3)


def arrival_count(rate: float, duration_s: float, max_arrivals: int = 0) -> int:
    """Arrivals at `rate` per second whose offsets i / rate fall inside [0, duration_s), capped if asked."""
    if rate <= 0 or duration_s <= 0:
        return 0
    n = math.ceil(rate * duration_s - 1e-9)
    return min(n, max_arrivals) if max_arrivals > 0 else n


def arrivals_for_worker(
    rate: float, count: int, worker_index: int, n_workers: int
) -> Iterator[tuple[int, float]]:
    """(arrival index, offset in seconds) of the arrivals one of `n_workers` load processes sends.

    Arrivals are dealt round-robin, so the union over all workers is exactly the constant-rate schedule.
    """
    if n_workers < 1 or not 0 <= worker_index < n_workers:
        raise ValueError(f"worker_index {worker_index} out of range for {n_workers} workers")
    for i in range(worker_index, count, n_workers):
        yield i, i / rate


def sweep_step(elapsed_s: float, step_s: float, n_steps: int) -> int | None:
    """Index of the sweep step running `elapsed_s` after the sweep started; None before or after it."""
    if elapsed_s < 0 or step_s <= 0:
        return None
    i = int(elapsed_s // step_s)
    return i if i < n_steps else None


def parse_steps(text: str | Sequence[int]) -> tuple[int, ...]:
    """'1,10,50' -> (1, 10, 50); every step a positive user count."""
    if isinstance(text, str):
        parts = [p.strip() for p in text.replace(" ", ",").split(",") if p.strip()]
        try:
            steps = tuple(int(p) for p in parts)
        except ValueError as exc:
            raise ValueError(f"steps must be comma-separated integers, got {text!r}") from exc
    else:
        steps = tuple(int(s) for s in text)
    if not steps or any(s < 1 for s in steps):
        raise ValueError(f"steps must be one or more positive integers, got {text!r}")
    return steps
