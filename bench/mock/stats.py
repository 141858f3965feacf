"""The mock's accounting: every API request received ends exactly once, answered with a status or as one of
OUTCOMES, so `received == ended + in_flight`; a harness compares `received` with what it sent.
Control endpoints (`/mock/*`) are not counted.
"""

from __future__ import annotations

import collections
import time
from typing import Any

from bench.mock.config import FAULT_KINDS

OUTCOMES = ("dropped", "cut", "client_disconnected", "cancelled")


class Stats:
    """Plain counters on one event loop; no locks needed (the twin is used from one thread at a time)."""

    def __init__(self, recent: int = 1000) -> None:
        self.recent: collections.deque[dict[str, Any]] = collections.deque(maxlen=max(1, recent))
        self.in_flight = 0
        self.reset()

    def reset(self) -> None:
        # Requests still in flight stay counted, so their completion keeps the books balanced.
        self.received = self.in_flight
        self.peak_in_flight = self.in_flight
        self.by_status: dict[int, int] = {}
        self.outcomes = dict.fromkeys(OUTCOMES, 0)
        self.faults = dict.fromkeys(FAULT_KINDS, 0)
        self.rate_limited = 0
        self.bad_requests = 0
        self.double_ends = 0
        self.streams = 0
        self.tokens_in = 0
        self.tokens_out = 0
        self.first_request_at: float | None = None
        self.last_request_at: float | None = None
        self.reset_at = time.time()
        self.recent.clear()

    def begin(self) -> float:
        """A request has arrived; returns its wall-clock arrival time."""
        now = time.time()
        self.received += 1
        self.in_flight += 1
        if self.in_flight > self.peak_in_flight:
            self.peak_in_flight = self.in_flight
        if self.first_request_at is None:
            self.first_request_at = now
        self.last_request_at = now
        return now

    def finish(self, outcome: int | str, record: dict[str, Any]) -> None:
        """The request ended: `outcome` is the status it was answered with, or one of OUTCOMES."""
        if "outcome" in record:  # ended twice: a bug in an executor; count it rather than skew the books
            self.double_ends += 1
            return
        self.in_flight -= 1
        if isinstance(outcome, int):
            self.by_status[outcome] = self.by_status.get(outcome, 0) + 1
        else:
            self.outcomes[outcome] += 1
        record["outcome"] = outcome
        record["end"] = time.time()
        self.recent.append(record)

    def snapshot(self) -> dict[str, Any]:
        answered = sum(self.by_status.values())
        ended = answered + sum(self.outcomes.values())
        return {
            "received": self.received,
            "answered": answered,
            "answered_by_status": {str(k): v for k, v in sorted(self.by_status.items())},
            "rate_limited": self.rate_limited,
            "bad_requests": self.bad_requests,
            "faults": dict(self.faults),
            "outcomes": dict(self.outcomes),
            "in_flight": self.in_flight,
            "peak_in_flight": self.peak_in_flight,
            "ended": ended,
            "double_ends": self.double_ends,
            "streams": self.streams,
            "tokens_in": self.tokens_in,
            "tokens_out": self.tokens_out,
            "first_request_at": self.first_request_at,
            "last_request_at": self.last_request_at,
            "reset_at": self.reset_at,
        }
