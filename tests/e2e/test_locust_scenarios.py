"""Short real Locust runs of every scenario against the stand-in app, through bench.run.locust_job.run_locust."""

from __future__ import annotations

import itertools
import re
import socket
import textwrap
import threading
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from bench.run import locust_job as loadgen
from bench.run.locust_job import LocustJob, LocustResult, run_locust, summarize
from bench.servers.process import ServerProcess

pytestmark = pytest.mark.e2e


def _run(tmp_path: Path, scenario: str, host: str, **kw: Any) -> LocustResult:
    kw.setdefault("client_timeout_s", 30.0)
    result = run_locust(LocustJob(scenario=scenario, host=host, out_dir=tmp_path / scenario, **kw))
    assert not result.timed_out, result.log_tail
    return result


def _assert_all_ok(result: LocustResult) -> None:
    assert result.exit_code == 0, result.log_tail
    assert result.bad_lines == 0
    assert result.locust_requests == result.recorded  # Locust's own count agrees with ours
    assert all(r["status"] == 200 and r["error"] is None for r in result.records), summarize(
        result.records).errors


def test_burst_async_is_released_together(tmp_path: Path, async_app: ServerProcess) -> None:
    result = _run(tmp_path, "burst", async_app.url, users=50, variant="standin-async")
    _assert_all_ok(result)
    assert result.complete and result.expected_requests == result.recorded == 50
    s = summarize(result.records)
    assert 0.5 <= s.makespan_s < 5.0  # 50 x 0.5 s serialized would be 25 s
    assert s.send_spread_s < 0.5
    assert len({r["t_planned"] for r in result.records}) == 1  # one release time for all
    assert all(r["variant"] == "standin-async" and r["scenario"] == "burst" for r in result.records)
    assert result.records_path.exists() and result.html_path.exists() and result.json_path.exists()
    assert Path(f"{result.csv_prefix}_stats.csv").read_text().count("/api/chat,50,") == 1


def test_a_local_burst_is_released_once_its_users_are_spawned(tmp_path: Path, async_app: ServerProcess) -> None:
    """Not at the delay test start allowed for (release_delay: 0.35 s for 50): just after the last user is spawned,
    with every user still waiting for it (one release time, the sends together)."""
    result = _run(tmp_path, "burst", async_app.url, users=50)
    _assert_all_ok(result)
    log = result.log_path.read_text()
    latest = float(re.search(r"release in [\d.]+ s \(epoch ([\d.]+)\)", log).group(1))  # type: ignore[union-attr]
    moved = float(re.search(r"50 users spawned: release at epoch ([\d.]+)", log).group(1))  # type: ignore[union-attr]
    assert moved <= latest - 0.2  # pulled in by most of the 0.35 s
    planned = {r["t_planned"] for r in result.records}
    assert len(planned) == 1 and planned.pop() == pytest.approx(moved, abs=1e-3)  # the log prints 3 decimals
    assert summarize(result.records).send_spread_s < 0.25
    assert min(r["t_send"] for r in result.records) >= moved - 1e-3  # none sent before the release


def test_burst_sync_runs_in_two_waves(tmp_path: Path, sync_app: ServerProcess) -> None:
    result = _run(tmp_path, "burst", sync_app.url, users=50)
    _assert_all_ok(result)
    assert result.recorded == 50
    s = summarize(result.records)
    assert 1.0 <= s.makespan_s < 5.0  # 40 threads: the last 10 wait for a first-wave thread
    assert sum(r["latency_ms"] >= 900 for r in result.records) >= 10


def test_burst_across_two_processes_merges_records(tmp_path: Path, async_app: ServerProcess) -> None:
    result = _run(tmp_path, "burst", async_app.url, users=50, processes=2)
    _assert_all_ok(result)
    assert result.complete and result.recorded == 50
    assert {r["worker"] for r in result.records} == {0, 1}
    assert len({r["pid"] for r in result.records}) == 2
    assert len({r["t_planned"] for r in result.records}) == 1  # the master's release reached both
    assert summarize(result.records).makespan_s < 5.0


def test_steady_is_open_loop(tmp_path: Path, async_app: ServerProcess) -> None:
    # Every answer takes 2 s; a closed loop would send one request per user per 2 s.
    result = _run(tmp_path, "steady", async_app.url, rate=20, duration_s=2.0, message="sleep=2.0")
    _assert_all_ok(result)
    assert result.complete and result.expected_requests == result.recorded == 40
    first_answer = min(r["t_end"] for r in result.records)
    assert sum(r["t_send"] < first_answer for r in result.records) >= 30
    s = summarize(result.records)
    assert 1.8 <= s.send_spread_s <= 2.3
    assert s.max_send_lag_ms < 250


def test_concurrency_is_a_closed_loop(tmp_path: Path, async_app: ServerProcess) -> None:
    result = _run(tmp_path, "concurrency", async_app.url, users=5, duration_s=2.0)
    _assert_all_ok(result)
    assert 10 <= result.recorded <= 30
    by_user: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for r in result.records:
        by_user[r["user"]].append(r)
    assert len(by_user) == 5
    for recs in by_user.values():  # a user's next request leaves only after its previous answer
        recs.sort(key=lambda r: r["t_send"])
        assert all(b["t_send"] >= a["t_end"] for a, b in itertools.pairwise(recs))


def test_a_locust_started_as_the_run_stops_is_told_to_quit_at_once(tmp_path: Path, async_app: ServerProcess) -> None:
    # The stopper (stop_running_locusts) went through the runs under way before this one was registered: the job's
    # stop event, set first, is what ends it. Without it the run would go its whole 60 s.
    stop = threading.Event()
    stop.set()
    result = run_locust(LocustJob(scenario="concurrency", host=async_app.url, out_dir=tmp_path / "stopped", users=2,
                                  duration_s=60.0, client_timeout_s=30.0, stop=stop))
    assert not result.timed_out and result.wall_s < 30.0, result.log_tail
    unset = run_locust(LocustJob(scenario="concurrency", host=async_app.url, out_dir=tmp_path / "unset", users=2,
                                 duration_s=2.0, client_timeout_s=30.0, stop=threading.Event()))
    assert unset.wall_s >= 2.0 and unset.recorded >= 4  # an event not set changes nothing


def test_stream_records_ttft_and_gaps(tmp_path: Path, async_app: ServerProcess) -> None:
    result = _run(tmp_path, "stream", async_app.url, users=2, duration_s=1.0)
    _assert_all_ok(result)
    assert result.recorded >= 2
    for r in result.records:
        assert r["chunks"] == 5
        assert r["ttfb_ms"] < r["ttft_ms"] and r["ttft_ms"] >= 450  # headers first, tokens after 0.5 s
        assert r["max_gap_ms"] >= 40  # the stand-in spaces tokens 50 ms apart
    cut = _run(tmp_path / "cut", "stream", async_app.url, users=1, duration_s=0.5, message="cut")
    assert cut.recorded >= 1 and all(r["error"] == "stream_cut" and r["chunks"] == 2 for r in cut.records)


def test_sweep_steps_are_recorded(tmp_path: Path, async_app: ServerProcess) -> None:
    result = _run(tmp_path, "concurrency-steps", async_app.url, steps=(1, 4), step_duration_s=1.5)
    _assert_all_ok(result)
    steps = [r["step"] for r in result.records]
    assert steps.count(0) >= 2 and steps.count(1) >= 8


def test_failures_are_records_too(tmp_path: Path, async_app: ServerProcess) -> None:
    timeouts = _run(tmp_path / "t", "burst", async_app.url, users=5, client_timeout_s=0.2)
    assert timeouts.exit_code == 0 and timeouts.complete
    assert [r["error"] for r in timeouts.records] == ["timeout"] * 5
    assert all(r["status"] == 0 and 190 <= r["latency_ms"] < 450 for r in timeouts.records)

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    refused = _run(tmp_path / "r", "burst", f"http://127.0.0.1:{closed_port}", users=3)
    assert refused.complete and [r["error"] for r in refused.records] == ["connection"] * 3

    cut_short = _run(tmp_path / "h", "concurrency", async_app.url, users=3, duration_s=30,
                     hard_limit_s=2.25)  # mid-request: they start ~1.0, 1.5, 2.0, 2.5 s after test start
    assert cut_short.hit_hard_limit and not cut_short.complete
    assert cut_short.locust_requests == cut_short.recorded
    assert summarize(cut_short.records).errors.get("cancelled") == 3  # in flight when the limit hit


HUNG_LOCUSTFILE = """
import gevent
from locust import User, events, task

from scenarios.options import add_arguments

events.init_command_line_parser.add_listener(lambda parser, **_: add_arguments(parser))


class Hung(User):
    @task
    def hang(self):
        gevent.sleep(3600)
"""


def test_a_hung_locust_is_killed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    locustfile = tmp_path / "hung_locustfile.py"
    locustfile.write_text(textwrap.dedent(HUNG_LOCUSTFILE))
    monkeypatch.setattr(loadgen, "STARTUP_GRACE_S", 3.0)
    result = run_locust(LocustJob(scenario="burst", host="http://127.0.0.1:9", out_dir=tmp_path / "out",
                                  users=1, hard_limit_s=0.5, locustfile=locustfile))
    assert result.timed_out and result.hit_hard_limit and not result.complete
    assert result.wall_s < 20
    assert result.records == []
