"""Per-request records: one JSON line per request, in one file per Locust process that sent them.

Built from Locust's request event plus the timings our users put in the request context. A local runner writes
its own file: records, or with `--records-format events` (what `bench run` asks for) event lines, an array of the
event's values (`event_line`) made into the record when the file is read, so that a Locust process at its ceiling
spends as little as it can on each request (`scenarios/record_buffer.py`). A worker streams records to the master,
which writes the worker's file (`scenarios/streaming.py`). Merged by `bench.run.locust_job` after the run into one
file of records, each file's times moved onto the master's clock. Pure (no locust import), so the orchestrator can
read and merge them.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import orjson

from scenarios.record_ledger import apply_offset

RECORD_VERSION = 1
FILE_GLOB = "records-*.jsonl"

# Every record has exactly these keys (None where not applicable), in this order.
RECORD_FIELDS = (
    "v", "t_send", "t_first_byte", "t_end", "t_planned", "latency_ms", "ttfb_ms",
    "status", "error", "error_detail", "bytes", "method", "name",
    "variant", "scenario", "repetition", "worker", "pid", "user", "step",
    "chunks", "ttft_ms", "max_gap_ms", "mean_gap_ms", "agent_id", "server_pid",
)
# Keys a user may set in the request context to refine what the request event alone can tell.
CONTEXT_KEYS = (
    "t_send", "t_first_byte", "t_end", "t_planned", "user", "step", "chunks", "ttft_ms", "max_gap_ms",
    "mean_gap_ms", "agent_id", "server_pid", "error_kind", "error_detail", "bytes",
)
_CONTEXT_KEY_SET = frozenset(CONTEXT_KEYS)
# An event line's first value; what follows is EVENT_FIELDS in order (the context a JSON object).
EVENT_TAG = "event-v1"
EVENT_FIELDS = (
    "method", "name", "response_time_ms", "response_length", "exception_kind", "exception_detail", "start_time",
    "status", "context", "variant", "scenario", "repetition", "worker", "pid",
)
_CONTEXT_AT = 1 + EVENT_FIELDS.index("context")

_TIMEOUT_NAMES = frozenset({"Timeout", "timeout", "TimeoutError", "ReadTimeout", "ConnectTimeout"})
_CONNECTION_NAMES = frozenset({
    "ConnectionError", "ConnectionRefusedError", "ConnectionResetError", "ConnectionAbortedError",
    "BrokenPipeError", "HTTPConnectionClosed", "gaierror", "OSError",
})


@dataclass(frozen=True)
class RunLabels:
    """What every record of one Locust run is tagged with."""

    variant: str
    scenario: str
    repetition: int


def _root_cause(exc: BaseException) -> BaseException:
    # geventhttpclient wraps a timeout in RetriesExceeded(original=...); the kind is the original's.
    for _ in range(4):
        inner = getattr(exc, "original", None)
        if not isinstance(inner, BaseException):
            break
        exc = inner
    return exc


def classify_error(exc: BaseException | None, status: int) -> str | None:
    """A short error kind: None, 'timeout', 'connection', 'protocol', 'http_<code>', or the exception's name."""
    if exc is None:
        return f"http_{status}" if status >= 400 else None
    if status >= 400:
        return f"http_{status}"
    root = _root_cause(exc)
    names = {cls.__name__ for cls in type(root).__mro__}
    if names & _TIMEOUT_NAMES:
        return "timeout"
    if "HTTPParseError" in names:
        return "protocol"
    if names & _CONNECTION_NAMES:
        return "connection"
    if "CatchResponseError" in names:
        return "failure"
    return type(root).__name__


def error_detail(exc: BaseException | None, limit: int = 200) -> str | None:
    if exc is None:
        return None
    root = _root_cause(exc)
    text = f"{type(root).__name__}: {root}" if str(root) else type(root).__name__
    return text[:limit]


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000.0, 3)


def build_record(
    *,
    method: str,
    name: str,
    response_time_ms: float,
    response_length: int,
    exception: BaseException | None,
    start_time: float,
    status: int,
    context: Mapping[str, Any],
    labels: RunLabels,
    worker: int,
    pid: int,
) -> dict[str, Any]:
    """One record from a request event. Our users' precise timings win over Locust's `start_time`."""
    kind = classify_error(exception, status) if exception is not None else None  # a status alone: _record's
    return _record(method, name, response_time_ms, response_length, kind, error_detail(exception), start_time, status,
                   context, labels.variant, labels.scenario, labels.repetition, worker, pid)


def _record(method: str, name: str, response_time_ms: float, response_length: int, exception_kind: str | None,
            exception_detail: str | None, start_time: float, status: int, context: Mapping[str, Any],
            variant: str, scenario: str, repetition: int, worker: int, pid: int) -> dict[str, Any]:
    # `exception_kind`: classify_error(exception, status) when there was an exception, else None (the status alone
    # is classified here).
    t_send = context.get("t_send")
    if t_send is None:
        t_send = start_time
    t_end = context.get("t_end")
    if t_end is None:
        t_end = t_send + response_time_ms / 1000.0
    t_first_byte = context.get("t_first_byte")
    # The user knows failures the event cannot show (an SSE error event, a cut stream); those win.
    kind = context.get("error_kind") or exception_kind or classify_error(None, status)
    detail = (context.get("error_detail") or exception_detail) if kind else None
    get = context.get
    # One literal in RECORD_FIELDS' order (about 3 us, against 8 for filling `dict.fromkeys(RECORD_FIELDS)`).
    return {
        "v": RECORD_VERSION, "t_send": t_send, "t_first_byte": t_first_byte, "t_end": t_end,
        "t_planned": get("t_planned"), "latency_ms": _ms(t_end - t_send),
        "ttfb_ms": _ms(t_first_byte - t_send) if t_first_byte is not None else None,
        "status": int(status or 0), "error": kind or None, "error_detail": detail,
        "bytes": int(get("bytes", response_length) or 0), "method": method, "name": name,
        "variant": variant, "scenario": scenario, "repetition": repetition,
        "worker": worker, "pid": pid, "user": get("user"), "step": get("step"), "chunks": get("chunks"),
        "ttft_ms": get("ttft_ms"), "max_gap_ms": get("max_gap_ms"), "mean_gap_ms": get("mean_gap_ms"),
        "agent_id": get("agent_id"), "server_pid": get("server_pid"),
    }


def event_line(event: tuple[Any, ...], worker: int, pid: int) -> bytes:
    """A request event as one line for a record file, its record built only when read (`record_from_event`).

    `event`: (method, name, response_time_ms, response_length, exception, start_time, status, context, labels), as
    `scenarios/record_buffer.py` holds it. The exception is reduced to its kind and detail here (it cannot be
    written); a context with keys besides CONTEXT_KEYS (a user class's own) keeps only those."""
    method, name, response_time_ms, response_length, exception, start_time, status, context, labels = event
    kind = detail = None
    if exception is not None:
        kind, detail = classify_error(exception, status), error_detail(exception)
    if not context.keys() <= _CONTEXT_KEY_SET:
        context = {k: context[k] for k in CONTEXT_KEYS if k in context}
    return orjson.dumps(
        (EVENT_TAG, method, name, response_time_ms, response_length, kind, detail, start_time, status, context,
         labels.variant, labels.scenario, labels.repetition, worker, pid),
        default=_plain, option=orjson.OPT_APPEND_NEWLINE | orjson.OPT_SERIALIZE_NUMPY)


def record_from_event(values: Sequence[Any]) -> dict[str, Any] | None:
    """The record of an event line's values (its tag first); None if they are not one."""
    if len(values) != len(EVENT_FIELDS) + 1 or not isinstance(values[_CONTEXT_AT], dict):
        return None
    (_, method, name, response_time_ms, response_length, kind, detail, start_time, status, context, variant,
     scenario, repetition, worker, pid) = values
    try:
        return _record(method, name, float(response_time_ms or 0.0), int(response_length or 0), kind, detail,
                       float(start_time), int(status or 0), context, variant, scenario, repetition, worker, pid)
    except (TypeError, ValueError):
        return None


class RecordWriter:
    """Appends lines to `records-w<worker>-p<pid>.jsonl` in `directory`, one per record or event, flushed per call.

    A local Locust process hands it lines in batches (`scenarios/record_buffer.py`, every 0.2 s): a killed process
    loses at most that interval's records and a partial line. orjson makes the lines (a record built and
    written in 7-11 us against 23-24 with `json.dumps` and a text file, 2026-11-30).
    The file is (re)opened lazily, so a writer inherited across a fork opens its own file in the child.
    """

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory)
        self._fh: IO[bytes] | None = None
        self._pid: int | None = None
        self.count = 0

    def write(self, record: Mapping[str, Any]) -> None:
        self.write_lines(record_line(record), 1, int(record.get("worker") or 0))

    def write_lines(self, data: bytes, count: int, worker: int = 0) -> None:
        """`count` lines (records or event lines) in one write, flushed (a buffered writer's flush also finishes
        a partial write)."""
        if not count:
            return
        pid = os.getpid()
        if self._fh is None or self._pid != pid:
            self.directory.mkdir(parents=True, exist_ok=True)
            path = self.directory / f"records-w{worker:03d}-p{pid}.jsonl"
            self._fh = open(path, "ab")  # noqa: SIM115 - closed in close()
            self._pid = pid
            self.count = 0
        self._fh.write(data)
        self._fh.flush()
        self.count += count

    def close(self) -> None:
        if self._fh is not None and self._pid == os.getpid():
            self._fh.close()
        self._fh = None


def record_line(record: Mapping[str, Any]) -> bytes:
    """One record as a JSON line. Values orjson does not know (a numpy number, a Decimal a user's reply carried)
    become their float or text; NaN and infinities become null (strict JSON, where `json.dumps` wrote NaN)."""
    return orjson.dumps(record, default=_plain, option=orjson.OPT_APPEND_NEWLINE | orjson.OPT_SERIALIZE_NUMPY)


def _plain(value: Any) -> Any:
    try:
        return float(value)
    except (TypeError, ValueError):
        return str(value)


def read_jsonl(path: str | os.PathLike[str]) -> tuple[list[dict[str, Any]], int]:
    """The records of one file (its event lines made records) and the number of lines that were neither a record
    nor an event line (a killed writer's partial line)."""
    records: list[dict[str, Any]] = []
    bad = 0
    with open(path, "rb") as fh:
        for line in fh:
            if not line.strip():
                continue
            try:
                obj = orjson.loads(line)
            except orjson.JSONDecodeError:
                try:  # what orjson refuses and json reads (NaN, a number past 64 bits): a file of an older writer
                    obj = json.loads(line)
                except ValueError:  # a partial line (a killed writer), or bytes that are not UTF-8
                    bad += 1
                    continue
            if isinstance(obj, list) and obj and obj[0] == EVENT_TAG:
                obj = record_from_event(obj)
            if isinstance(obj, dict):
                records.append(obj)
            else:
                bad += 1
    return records, bad


def merge_files(
    paths: Iterable[str | os.PathLike[str]], out_path: str | os.PathLike[str],
    offsets: Mapping[str, float] | None = None,
) -> tuple[list[dict[str, Any]], int]:
    """Merge per-process files into one JSONL sorted by send time; returns (records, bad lines).

    `offsets` maps a file's name to the clock offset to add to its records' times (a worker's, to its master)."""
    records: list[dict[str, Any]] = []
    bad = 0
    for path in paths:
        recs, b = read_jsonl(path)
        offset = (offsets or {}).get(Path(path).name)
        if offset:
            recs = [apply_offset(r, offset) for r in recs]
        records.extend(recs)
        bad += b
    records.sort(key=lambda r: (r.get("t_send") or 0.0, r.get("worker") or 0, r.get("user") or 0))
    Path(out_path).parent.mkdir(parents=True, exist_ok=True)
    with open(out_path, "wb") as fh:
        fh.writelines(record_line(rec) for rec in records)
    return records, bad
