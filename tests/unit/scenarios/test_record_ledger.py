"""The master's ledger of each worker: lost batches and records counted, offsets applied at the merge, the
makespan's clock uncertainty."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scenarios.record_ledger import (
    WorkerLedger,
    makespan_uncertainty,
    offsets_by_file,
    problems,
    read_workers_file,
    record_file_name,
    write_workers_file,
)
from scenarios.records import FILE_GLOB, merge_files


def test_a_complete_worker_has_no_problem() -> None:
    led = WorkerLedger("host-a_1f", 0)
    for seq in range(3):
        led.add_batch(seq, 200)
    led.end(600, 3)
    assert led.missing_records == 0 and led.missing_batches == []
    assert problems([led.as_dict()]) == []


def test_a_lost_batch_and_its_records_are_counted() -> None:
    led = WorkerLedger("host-a_1f", 1)
    led.add_batch(0, 200)
    led.add_batch(2, 50)  # batch 1 never came
    led.end(450, 3)
    assert led.missing_records == 200 and led.missing_batches == [1]
    text = problems([led.as_dict()])
    assert any("(200 lost)" in p for p in text) and any("[1] never arrived" in p for p in text)


def test_batches_out_of_order_are_not_lost() -> None:
    led = WorkerLedger("h_1", 0)
    for seq in (1, 0, 2):
        led.add_batch(seq, 10)
    led.end(30, 3)
    assert led.missing_batches == [] and led.missing_records == 0


def test_a_worker_lost_mid_run_and_one_that_never_ended_are_reported() -> None:
    lost = WorkerLedger("host-b_2e", 1, users=100, users_done=10, lost="it stopped answering heartbeats")
    lost.add_batch(0, 10)
    silent = WorkerLedger("host-c_3d", 2)
    text = problems([lost.as_dict(), silent.as_dict()])
    assert "was lost mid-run (it stopped answering heartbeats): 10 records arrived" in text[0]
    assert "90 of its 100 users never finished" in text[0]
    assert "never announced how many records it sent" in text[1]


def test_merge_puts_every_file_on_the_master_clock(tmp_path: Path) -> None:
    records_dir = tmp_path / "records"
    records_dir.mkdir()
    shifted = WorkerLedger("w_1", 1, pid=22, file=record_file_name(1, 22), clock={"offset_s": -0.75,
                                                                                   "uncertainty_s": 0.0004})
    plain = WorkerLedger("w_0", 0, pid=11, file=record_file_name(0, 11), clock={"offset_s": 0.0,
                                                                                "uncertainty_s": 0.0003})
    rows = {plain.file: {"t_send": 100.0, "t_end": 101.0, "t_planned": 100.0, "t_first_byte": None, "worker": 0},
            shifted.file: {"t_send": 100.76, "t_end": 102.0, "t_planned": 100.75, "t_first_byte": 100.9,
                           "worker": 1}}
    for name, row in rows.items():
        (records_dir / str(name)).write_text(json.dumps(row) + "\n")
    write_workers_file(records_dir, [plain, shifted])
    workers = read_workers_file(records_dir)
    assert workers is not None and [w["index"] for w in workers] == [0, 1]
    merged, bad = merge_files(sorted(records_dir.glob(FILE_GLOB)), tmp_path / "requests.jsonl",
                              offsets=offsets_by_file(workers))
    assert bad == 0
    by_worker = {r["worker"]: r for r in merged}
    assert by_worker[1]["t_send"] == pytest.approx(100.01) and by_worker[1]["t_planned"] == pytest.approx(100.0)
    assert by_worker[1]["t_first_byte"] == pytest.approx(100.15) and by_worker[0]["t_send"] == 100.0
    # First send from worker 0, last answer from worker 1: both clocks' uncertainties add up.
    assert makespan_uncertainty(merged, workers) == pytest.approx(0.0007)
    assert makespan_uncertainty([by_worker[0]], workers) == 0.0  # one worker: its offset cancels
    assert makespan_uncertainty(merged, None) is None


def test_no_workers_file_means_no_workers(tmp_path: Path) -> None:
    assert read_workers_file(tmp_path) is None


def test_the_ledger_and_the_clock_math_stay_pure() -> None:
    """The orchestrator imports them: gevent's monkey-patching must never reach it through them."""
    import subprocess
    import sys

    code = ("import sys, scenarios.record_ledger, scenarios.clock_sync, bench.run.load_worker; "
            "sys.exit(any(m.split('.')[0] in ('locust', 'gevent') for m in sys.modules))")
    assert subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).resolve().parents[3],
                          timeout=60).returncode == 0
