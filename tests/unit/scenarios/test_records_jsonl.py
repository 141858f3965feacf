"""Per-request records: error kinds, record fields, per-process files and merging."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from scenarios.records import (
    RECORD_FIELDS,
    RecordWriter,
    RunLabels,
    build_record,
    classify_error,
    event_line,
    merge_files,
    read_jsonl,
)

LABELS = RunLabels(variant="async", scenario="burst", repetition=2)


class Timeout(BaseException):  # named like gevent's
    pass


class RetriesExceeded(Exception):  # geventhttpclient's wrapper, with the real error as `original`
    def __init__(self, original: BaseException | None = None) -> None:
        super().__init__("retries exceeded")
        self.original = original


class HTTPParseError(Exception):
    pass


@pytest.mark.parametrize(
    ("exc", "status", "kind"),
    [
        (None, 200, None),
        (None, 503, "http_503"),
        (RetriesExceeded(), 502, "http_502"),
        (TimeoutError("timed out"), 0, "timeout"),
        (Timeout(), 0, "timeout"),
        (RetriesExceeded(original=TimeoutError()), 0, "timeout"),
        (ConnectionRefusedError(111, "refused"), 0, "connection"),
        (ConnectionResetError(), 0, "connection"),
        (HTTPParseError("Incomplete response."), 200, "protocol"),
        (KeyError("x"), 0, "KeyError"),
    ],
)
def test_classify_error(exc: BaseException | None, status: int, kind: str | None) -> None:
    assert classify_error(exc, status) == kind


def _record(**overrides: object) -> dict[str, object]:
    kwargs: dict[str, object] = dict(
        method="POST", name="/api/chat", response_time_ms=250.0, response_length=42, exception=None,
        start_time=1000.0, status=200, context={}, labels=LABELS, worker=1, pid=123,
    )
    kwargs.update(overrides)
    return build_record(**kwargs)  # type: ignore[arg-type]


def test_record_has_every_field_in_order() -> None:
    rec = _record()
    assert tuple(rec) == RECORD_FIELDS
    assert rec["variant"] == "async" and rec["scenario"] == "burst" and rec["repetition"] == 2
    assert rec["worker"] == 1 and rec["pid"] == 123 and rec["error"] is None


def test_record_falls_back_to_locust_timing() -> None:
    rec = _record()
    assert rec["t_send"] == 1000.0
    assert rec["t_end"] == pytest.approx(1000.25)
    assert rec["latency_ms"] == pytest.approx(250.0)
    assert rec["t_first_byte"] is None and rec["ttfb_ms"] is None
    assert rec["bytes"] == 42


def test_record_prefers_context_timing_and_fields() -> None:
    ctx = {"t_send": 1000.001, "t_first_byte": 1000.101, "t_end": 1000.2015, "t_planned": 1000.0,
           "user": 7, "bytes": 99, "agent_id": 5, "server_pid": 77, "chunks": 3, "ttft_ms": 120.0}
    rec = _record(context=ctx)
    assert rec["t_send"] == 1000.001 and rec["t_end"] == 1000.2015
    assert rec["latency_ms"] == pytest.approx(200.5)
    assert rec["ttfb_ms"] == pytest.approx(100.0)
    assert rec["user"] == 7 and rec["bytes"] == 99 and rec["agent_id"] == 5 and rec["chunks"] == 3


def test_user_error_kind_wins_and_exception_detail_is_short() -> None:
    rec = _record(context={"error_kind": "stream_error", "error_detail": "upstream_timeout: slow"})
    assert rec["error"] == "stream_error" and rec["error_detail"] == "upstream_timeout: slow"
    rec = _record(exception=TimeoutError("x" * 500), status=0)
    assert rec["error"] == "timeout" and len(rec["error_detail"]) <= 200  # type: ignore[arg-type]


def test_writer_one_file_per_process_line_per_record(tmp_path: Path) -> None:
    writer = RecordWriter(tmp_path / "records")
    writer.write(_record(worker=3))
    writer.write(_record(worker=3))
    writer.close()
    files = list((tmp_path / "records").glob("records-*.jsonl"))
    assert [f.name for f in files] == [f"records-w003-p{os.getpid()}.jsonl"]
    records, bad = read_jsonl(files[0])
    assert len(records) == 2 and bad == 0


def test_merge_sorts_by_send_time_and_counts_bad_lines(tmp_path: Path) -> None:
    a, b = tmp_path / "records-w000-p1.jsonl", tmp_path / "records-w001-p2.jsonl"
    a.write_text(json.dumps({"t_send": 3.0, "worker": 0}) + "\n" + json.dumps({"t_send": 1.0, "worker": 0}) + "\n")
    b.write_text(json.dumps({"t_send": 2.0, "worker": 1}) + '\n{"t_send": 4.0, "wor')  # killed mid-line
    records, bad = merge_files([a, b], tmp_path / "requests.jsonl")
    assert [r["t_send"] for r in records] == [1.0, 2.0, 3.0]
    assert bad == 1
    assert read_jsonl(tmp_path / "requests.jsonl") == (records, 0)


def test_a_record_line_is_strict_json_whatever_the_values(tmp_path: Path) -> None:
    import decimal

    import numpy as np

    from scenarios.records import record_line

    rec = build_record(method="POST", name="/api/chat", response_time_ms=5.0, response_length=3, exception=None,
                       start_time=100.0, status=200, context={"agent_id": np.int64(7), "ttft_ms": np.float64(1.5),
                                                              "max_gap_ms": float("nan"),
                                                              "mean_gap_ms": decimal.Decimal("2.25"),
                                                              "server_pid": "é\"\n"},
                       labels=LABELS, worker=0, pid=1)
    line = record_line(rec)
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    back = json.loads(line)  # strict: no NaN
    assert back["agent_id"] == 7 and back["ttft_ms"] == 1.5 and back["max_gap_ms"] is None
    assert back["mean_gap_ms"] == 2.25 and back["server_pid"] == "é\"\n" and tuple(back) == RECORD_FIELDS


def test_reading_takes_what_an_older_writer_wrote(tmp_path: Path) -> None:
    path = tmp_path / "records-w000-p1.jsonl"
    path.write_text('{"t_send": 1.0, "ttft_ms": NaN}\n{"t_send": 2.0}\n{"t_se\n[1, 2]\n', encoding="utf-8")
    records, bad = read_jsonl(path)
    assert [r["t_send"] for r in records] == [1.0, 2.0] and bad == 2  # a cut line and a line that is no object


def test_an_event_line_reads_back_as_the_record_built_at_once(tmp_path: Path) -> None:
    # Success, an exception, an HTTP error, a user's own error kind, a context with keys of its own.
    cases: list[tuple[BaseException | None, int, dict[str, object]]] = [
        (None, 200, {"t_send": 10.0, "t_first_byte": 10.1, "t_end": 10.2, "user": 1, "bytes": 9, "agent_id": "a"}),
        (RetriesExceeded(original=TimeoutError("slow")), 0, {"t_send": 11.0, "user": 2}),
        (None, 503, {"t_send": 12.0}),
        (None, 200, {"t_send": 13.0, "error_kind": "stream_cut", "error_detail": "after 3 tokens"}),
        (None, 200, {"t_send": 14.0, "session": object(), "step": 2}),
    ]
    path = tmp_path / "records-w000-p1.jsonl"
    path.write_bytes(b"".join(
        event_line(("POST", "/api/chat", 250.0, 42, exc, 9.5, status, ctx, LABELS), 0, 77)
        for exc, status, ctx in cases) + b'["event-v1", "POST"]\n')  # a line of the wrong shape: bad
    records, bad = read_jsonl(path)
    assert bad == 1
    assert records == [
        build_record(method="POST", name="/api/chat", response_time_ms=250.0, response_length=42, exception=exc,
                     start_time=9.5, status=status, context=ctx, labels=LABELS, worker=0, pid=77)
        for exc, status, ctx in cases]
    assert [r["error"] for r in records] == [None, "timeout", "http_503", "stream_cut", None]
    assert b"session" not in path.read_bytes()  # only the context keys a record reads are written
