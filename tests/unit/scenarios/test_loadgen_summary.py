"""bench.run.locust_job without running Locust: the job's command line, limits, and the records' summary."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.errors import UsageError
from bench.run.locust_job import LocustJob, build_argv, load_records, summarize


def _rec(t_send: float, t_end: float, **kw: object) -> dict[str, object]:
    rec: dict[str, object] = {"t_send": t_send, "t_end": t_end, "latency_ms": (t_end - t_send) * 1000,
                              "error": None}
    rec.update(kw)
    return rec


def test_summary_makespan_percentiles_errors() -> None:
    records = [_rec(100.0 + i * 0.01, 100.5 + i * 0.01, agent_id=1, server_pid=9) for i in range(10)]
    records.append(_rec(100.2, 102.0, error="timeout", t_planned=100.0))
    s = summarize(records)
    assert s.count == 11 and s.ok == 10 and s.errors == {"timeout": 1}
    assert s.makespan_s == pytest.approx(2.0)
    assert s.send_spread_s == pytest.approx(0.2)
    assert s.max_send_lag_ms == pytest.approx(200.0)
    assert s.latency_ms["p50"] == pytest.approx(500.0)
    assert s.latency_ms["max"] == pytest.approx(1800.0)
    assert s.throughput_rps == pytest.approx(5.5)
    assert s.distinct_agents == 1 and s.server_pids == 1
    assert s.ttft_ms == {}


def test_summary_of_nothing() -> None:
    s = summarize([])
    assert s.count == 0 and s.makespan_s is None and s.latency_ms == {}


def test_argv(tmp_path: Path) -> None:
    job = LocustJob(scenario="burst", host="http://127.0.0.1:1", out_dir=tmp_path, users=20, variant="sync",
                    repetition=1, client_timeout_s=300, processes=2)
    argv = build_argv(job, master_port=4321)
    joined = " ".join(argv)
    assert "--users 20" in joined and "--processes 2" in joined and "--master-bind-port 4321" in joined
    assert "--master-bind-host 127.0.0.1" in joined
    assert "--scenario burst" in joined and "--variant sync" in joined and "--client-timeout 300" in joined
    assert f"--records-dir {tmp_path / 'records'}" in joined
    assert "--json-file" in argv and "--csv" in argv and "--html" in argv
    assert job.expected_requests == 20
    assert job.hard_limit >= 300  # past the client timeout, so a slow burst is measured, not cut


def test_steady_sends_no_user_count(tmp_path: Path) -> None:
    job = LocustJob(scenario="steady", host="http://h", out_dir=tmp_path, rate=5, duration_s=4)
    assert "--users" not in build_argv(job)
    assert job.expected_requests == 20


def test_unknown_scenario_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="valid: burst"):
        _ = LocustJob(scenario="nope", host="http://h", out_dir=tmp_path).spec


def test_load_records_skips_broken_lines(tmp_path: Path) -> None:
    path = tmp_path / "requests.jsonl"
    path.write_text('{"t_send": 1}\n{broken\n')
    assert load_records(path) == [{"t_send": 1}]
