"""The master's account of each load worker's records and clock: what arrived, what was announced, what is lost.

Pure (no locust import): the master keeps one WorkerLedger per worker (`scenarios/streaming.py`) and writes
them to `workers.json` beside the record files; the orchestrator reads that file back to apply each worker's
clock offset when merging (`bench.run.locust_job`) and to report lost records and workers, never silently.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

WORKERS_FILE = "workers.json"
TIME_FIELDS = ("t_send", "t_first_byte", "t_end", "t_planned")  # epochs a clock offset applies to


def record_file_name(worker: int, pid: int) -> str:
    """One file per worker process; matches records.FILE_GLOB."""
    return f"records-w{int(worker):03d}-p{int(pid)}.jsonl"


@dataclass
class WorkerLedger:
    client_id: str  # Locust's id for the worker: its hostname, '_', a random hex
    index: int  # Locust's worker index under this master
    pid: int | None = None
    received_records: int = 0
    received_batches: int = 0
    sent_records: int | None = None  # announced by the worker's end message
    sent_batches: int | None = None
    ends: int = 0  # end messages received
    lost: str | None = None  # why the worker is counted lost (gone before its end message)
    users: int = 0  # most users it was seen running
    users_done: int = 0
    buffer_peak: int = 0  # most records it held unsent (back-pressure)
    clock: dict[str, Any] | None = None  # scenarios.clock_sync.ClockEstimate.report()
    file: str | None = None
    seqs: set[int] = field(default_factory=set, repr=False)  # batch numbers received

    @property
    def missing_batches(self) -> list[int]:
        """Batch numbers below the last one announced (or received) that never arrived."""
        upper = self.sent_batches if self.sent_batches is not None else max(self.seqs, default=-1) + 1
        return sorted(set(range(upper)) - self.seqs)

    @property
    def host(self) -> str:
        return self.client_id.rsplit("_", 1)[0]

    def add_batch(self, seq: int, count: int) -> None:
        self.seqs.add(int(seq))
        self.received_batches += 1
        self.received_records += count

    def end(self, sent_records: int, sent_batches: int) -> None:
        self.sent_records, self.sent_batches = int(sent_records), int(sent_batches)
        self.ends += 1

    @property
    def missing_records(self) -> int | None:
        """Records the worker sent that did not arrive (None: it never said how many it sent)."""
        return None if self.sent_records is None else self.sent_records - self.received_records

    def as_dict(self) -> dict[str, Any]:
        out = {k: v for k, v in asdict(self).items() if k != "seqs"}
        return {**out, "host": self.host, "missing_records": self.missing_records,
                "missing_batches": self.missing_batches}


def write_workers_file(directory: str | os.PathLike[str], ledgers: Iterable[WorkerLedger]) -> Path:
    """Replace `workers.json` in `directory` (written whole, then renamed: a reader never sees half of it)."""
    path = Path(directory) / WORKERS_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    rows = sorted((led.as_dict() for led in ledgers), key=lambda r: r["index"])
    tmp.write_text(json.dumps({"workers": rows}, indent=1), encoding="utf-8")
    os.replace(tmp, path)
    return path


def read_workers_file(directory: str | os.PathLike[str]) -> list[dict[str, Any]] | None:
    """The workers' ledgers, or None when there is no such file (a run without load workers)."""
    try:
        data = json.loads((Path(directory) / WORKERS_FILE).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return [{"index": -1, "client_id": "?", "lost": "workers.json is unreadable"}]
    rows = data.get("workers") if isinstance(data, dict) else None
    return [r for r in rows if isinstance(r, dict)] if isinstance(rows, list) else []


def offsets_by_file(workers: Sequence[Mapping[str, Any]]) -> dict[str, float]:
    """Record file name -> the offset to add to its times (master's clock - worker's), as the worker applied it."""
    out: dict[str, float] = {}
    for w in workers:
        clock = w.get("clock") or {}
        applied = clock.get("applied_s", clock.get("offset_s"))
        if w.get("file") and applied is not None:
            out[str(w["file"])] = float(applied)
    return out


def apply_offset(record: dict[str, Any], offset_s: float) -> dict[str, Any]:
    """Move a record's epochs onto the master's clock (in place; durations are unchanged)."""
    for key in TIME_FIELDS:
        value = record.get(key)
        if isinstance(value, (int, float)):
            record[key] = value + offset_s
    return record


def problems(workers: Sequence[Mapping[str, Any]]) -> list[str]:
    """Every way a worker's records may be incomplete, one sentence each (empty when all arrived)."""
    out: list[str] = []
    for w in workers:
        name = f"load worker {w.get('index')} ({w.get('client_id')})"
        if w.get("lost"):
            out.append(f"{name} was lost mid-run ({w['lost']}): {w.get('received_records', 0)} records arrived from "
                       f"it, {max(0, int(w.get('users') or 0) - int(w.get('users_done') or 0))} of its "
                       f"{w.get('users') or 0} users never finished; whatever it had not sent is missing")
            continue
        missing = w.get("missing_records")
        if missing is None:
            out.append(f"{name} never announced how many records it sent: they cannot be checked")
        elif missing:
            out.append(f"{name} sent {w.get('sent_records')} records; {w.get('received_records')} arrived "
                       f"({missing} lost)")
        if w.get("missing_batches"):
            out.append(f"{name}: record batches {w['missing_batches'][:10]} never arrived")
    return out


def makespan_uncertainty(records: Sequence[Mapping[str, Any]], workers: Sequence[Mapping[str, Any]] | None
                         ) -> float | None:
    """How far the common clock may move a makespan: the first send and the last answer come from workers whose
    offsets are each known within their uncertainty; from one worker the offset cancels. None without workers."""
    if not workers or not records:
        return None
    unc = {int(w["index"]): float((w.get("clock") or {}).get("uncertainty_s") or 0.0)
           for w in workers if w.get("index") is not None and w.get("clock")}
    sends = [r for r in records if r.get("t_send") is not None]
    ends = [r for r in records if r.get("t_end") is not None]
    if not sends or not ends:
        return None
    first = min(sends, key=lambda r: r["t_send"]).get("worker")
    last = max(ends, key=lambda r: r["t_end"]).get("worker")
    if first == last:
        return 0.0
    return round(unc.get(int(first or 0), 0.0) + unc.get(int(last or 0), 0.0), 7)
