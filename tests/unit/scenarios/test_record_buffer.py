"""A local Locust process's records wait as event values and are built and written in batches
(scenarios/record_buffer.py): nothing is written before a drain, every event is after it, each with the labels of
the run it was sent in, and the buffer never grows past its bound."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from scenarios import record_buffer
from scenarios.record_buffer import PendingRecords
from scenarios.records import RECORD_FIELDS, RecordWriter, RunLabels, build_record, read_jsonl

FIRST = RunLabels(variant="async", scenario="burst", repetition=0)
SECOND = RunLabels(variant="sync", scenario="burst", repetition=1)


def _event(i: int, labels: RunLabels = FIRST, exception: BaseException | None = None) -> tuple[object, ...]:
    context = {"t_send": 100.0 + i, "t_end": 100.25 + i, "user": i % 3, "bytes": 40}
    return ("POST", "/api/chat", 250.0, 40, exception, 100.0 + i, 200 if exception is None else 0, context, labels)


def _written(directory: Path) -> list[dict[str, object]]:
    files = sorted(directory.glob("records-*.jsonl"))
    return [r for f in files for r in read_jsonl(f)[0]]


@pytest.mark.parametrize("event_lines", [True, False])
def test_events_become_records_only_when_drained_and_all_of_them(tmp_path: Path, event_lines: bool) -> None:
    pending = PendingRecords(RecordWriter(tmp_path), event_lines=event_lines)
    for i in range(5):
        pending.add(_event(i, exception=TimeoutError("slow") if i == 4 else None))
    assert len(pending) == 5 and _written(tmp_path) == []
    assert pending.drain() == 5 and len(pending) == 0 and pending.drain() == 0
    records = _written(tmp_path)
    assert [tuple(r) for r in records] == [RECORD_FIELDS] * 5
    # Each the record build_record makes from the same event, as the listener used to write at once.
    expected = build_record(method="POST", name="/api/chat", response_time_ms=250.0, response_length=40,
                            exception=None, start_time=100.0, status=200, context=_event(0)[7],  # type: ignore[arg-type]
                            labels=FIRST, worker=0, pid=os.getpid())
    assert records[0] == expected
    assert records[4]["error"] == "timeout" and records[4]["status"] == 0
    # Event lines are arrays read back by read_jsonl; `--records-format records` writes the records themselves.
    lines = [json.loads(line) for f in tmp_path.glob("records-*.jsonl") for line in f.read_text().splitlines()]
    assert all(isinstance(line, list if event_lines else dict) for line in lines) and len(lines) == 5
    if not event_lines:
        assert lines == records


def test_a_record_keeps_the_labels_of_the_run_it_was_sent_in(tmp_path: Path) -> None:
    pending = PendingRecords(RecordWriter(tmp_path))
    pending.add(_event(0, FIRST))
    pending.add(_event(1, SECOND))  # the web UI restarted with another variant
    pending.drain()
    assert [(r["variant"], r["repetition"]) for r in _written(tmp_path)] == [("async", 0), ("sync", 1)]


def test_the_buffer_drains_itself_at_its_bound(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(record_buffer, "MAX_PENDING", 4)
    pending = PendingRecords(RecordWriter(tmp_path))
    for i in range(9):
        pending.add(_event(i))
    assert len(pending) == 1 and len(_written(tmp_path)) == 8
