"""A local Locust process's request events, held as they fire and written in batches (as event lines or records).

At a Locust process's ceiling the record is on every request's path. Built and written as each event fired, it
cost ~21 us a request in a Locust process driving a mock that answers at once (timed inside that process: build
8 us, write and flush 9 us, reading the event the rest), several times what the same work takes in a tight loop.
Here the listener keeps the event's values in a tuple, and `drain` writes them all in one pass: as event lines when
asked (`scenarios/records.py`, `event_line`: the values as they are, the record built when the file is read, after
the run; what `bench run` asks for), else as records. `scenarios/hooks.py` drains every FLUSH_EVERY_S, at each test
stop and when Locust quits. In a tight loop: 2.3 us a record against 5.6 built and written at once (`python -m
tests.support.record_cost`); at the ceiling, the load ceiling's recorded share of bare Locust's rate went from
80-83% to 94-96% with this and the request body encoded once a run (`python -m tests.support.load_ceiling`). The
price: a process killed outright loses up to FLUSH_EVERY_S of records (as a load worker's buffer does,
`scenarios/streaming.py`); its Locust counts die with it.

Pure (no locust import): the buffer and its lines are tested without a Locust process.
"""

from __future__ import annotations

import os
from typing import Any

from scenarios.records import RecordWriter, build_record, event_line, record_line

FLUSH_EVERY_S = 0.2
# Drained at once beyond this, so memory stays bounded whatever the rate (~2 s at a process's ceiling).
MAX_PENDING = 10_000


class PendingRecords:
    """Request events waiting to become records in `writer`'s file."""

    def __init__(self, writer: RecordWriter, event_lines: bool = True) -> None:
        self.writer = writer
        # Event lines (read back by read_jsonl), or records for a reader of the files as they are (the
        # `--records-format` option; building them is most of what event lines save).
        self._line = event_line if event_lines else _record_line
        self._events: list[tuple[Any, ...]] = []

    def __len__(self) -> int:
        return len(self._events)

    def add(self, event: tuple[Any, ...]) -> None:
        """One request event: (method, name, response_time_ms, response_length, exception, start_time, status,
        context, labels). Its context dict is kept as it is (each request makes its own)."""
        self._events.append(event)
        if len(self._events) >= MAX_PENDING:
            self.drain()

    def drain(self) -> int:
        """Write every event held; returns how many."""
        events, self._events = self._events, []
        if not events:
            return 0
        pid = os.getpid()
        line = self._line
        self.writer.write_lines(b"".join([line(event, 0, pid) for event in events]), len(events))
        return len(events)


def record_of_event(event: tuple[Any, ...], worker: int, pid: int) -> dict[str, Any]:
    """The record of one event tuple (as `add` takes it)."""
    method, name, response_time_ms, response_length, exception, start_time, status, context, labels = event
    return build_record(
        method=method, name=name, response_time_ms=float(response_time_ms or 0.0),
        response_length=int(response_length or 0), exception=exception, start_time=start_time, status=status,
        context=context, labels=labels, worker=worker, pid=pid)


def _record_line(event: tuple[Any, ...], worker: int, pid: int) -> bytes:
    return record_line(record_of_event(event, worker, pid))
