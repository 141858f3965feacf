"""Each worker's blocked-loop section of /api/debug/stats merged into the run's `blocked` entry: totals summed,
sites merged by label with the own-code total exact, times from the first send, the list bounded."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench.results import shape
from bench.run import blocked as RB
from tests.unit.report.test_results_schema import problems

T0 = 1_767_225_600.0


def _site(label: str, ms: float, own: bool, file: str) -> dict[str, Any]:
    return {"site": label, "file": file, "line": 7, "function": "f", "code": "x()", "calls": None, "own_code": own,
            "blocked_ms": ms, "blocks": 2, "samples": 5, "share": 0.5, "stack": [f"s{i}" for i in range(40)]}


def _worker(blocked_ms: float, blocks: list[tuple[float, float]], sites: list[dict[str, Any]]) -> dict[str, Any]:
    return {"running": True, "settings": {"threshold_ms": 20.0, "sample_interval_ms": 5.0},
            "window": {"start": T0 - 1.0, "end": T0 + 4.0, "duration_ms": 5000.0},
            "blocked_ms": blocked_ms, "block_count": len(blocks), "blocks_dropped": 1,
            "max_block_ms": max((d for _, d in blocks), default=0.0),
            "blocks": [{"start": T0 + s, "duration_ms": d, "site": "a", "samples": 3, "sites": []} for s, d in blocks],
            "sites": sites}


def test_workers_merge_into_one_entry() -> None:
    own_file = str(Path.cwd() / "app_under_test" / "agent.py")
    lib_file = "/x/lib/python3.11/site-packages/httpx/_client.py"
    w1 = _worker(300.0, [(0.5, 200.0), (1.0, 100.0)], [_site("own", 250.0, True, own_file),
                                                       _site("lib", 50.0, False, lib_file)])
    w2 = _worker(100.0, [(2.0, 100.0)], [_site("own", 100.0, True, own_file)])
    records = [{"t_send": T0 + 0.1}, {"t_send": T0}, {"t_send": None}]
    out = RB.merge_blocked([w1, w2], records)
    assert out is not None and problems(out, shape.Blocked) == []
    assert (out["workers"], out["window_ms"], out["blocked_ms"], out["block_count"]) == (2, 10000.0, 400.0, 3)
    assert out["blocked_share"] == 0.04 and out["own_code_ms"] == 350.0 and out["blocks_dropped"] == 2
    assert (out["window_start_s"], out["window_end_s"], out["max_block_ms"]) == (-1.0, 4.0, 200.0)
    own, lib = out["sites"]
    assert (own["site"], own["blocked_ms"], own["blocks"], own["share"]) == ("own", 350.0, 4, 0.875)
    assert own["file"] == "app_under_test/agent.py" and lib["file"] == "httpx/_client.py"
    assert own["stack"] == [f"s{i}" for i in range(40 - RB.STACK_FRAMES, 40)]  # the innermost, innermost last
    assert [(b["start_s"], b["worker"]) for b in out["blocks"]] == [(0.5, 0), (1.0, 0), (2.0, 1)]


def test_the_longest_blocks_are_kept_in_time_order() -> None:
    blocks = [(i * 0.1, 20.0 + (i % 7)) for i in range(RB.KEPT_BLOCKS + 50)]
    out = RB.merge_blocked([_worker(1.0, blocks, [])], [{"t_send": T0}])
    assert out is not None and len(out["blocks"]) == RB.KEPT_BLOCKS
    starts = [b["start_s"] for b in out["blocks"]]
    assert starts == sorted(starts)
    assert min(b["duration_ms"] for b in out["blocks"]) >= 21.0  # the shortest (20 ms) went first


def test_stats_lose_their_raw_section_and_an_app_without_one_gives_none() -> None:
    stats = [{"pid": 1, "blocked": _worker(0.0, [], [])}, {"pid": 2}]
    assert len(RB.take_blocked(stats)) == 1 and stats == [{"pid": 1}, {"pid": 2}]
    assert RB.merge_blocked([], [{"t_send": T0}]) is None


def test_the_sampler_settings_reach_the_app_from_the_harness_environment(monkeypatch: Any) -> None:
    from bench.servers.app import app_env

    monkeypatch.delenv("APP_BLOCKWATCH", raising=False)
    assert app_env("async", "http://127.0.0.1:1/v1")["APP_BLOCKWATCH"] == "1"  # on in every app the harness starts
    monkeypatch.setenv("APP_BLOCKWATCH", "0")
    monkeypatch.setenv("APP_BLOCKWATCH_THRESHOLD_MS", "30")
    monkeypatch.setenv("APP_INJECT_BLOCKING_MS", "50")
    monkeypatch.setenv("APP_OTHER", "1")
    env = app_env("async", "http://127.0.0.1:1/v1")
    assert env["APP_BLOCKWATCH"] == "0" and env["APP_BLOCKWATCH_THRESHOLD_MS"] == "30"
    assert env["APP_INJECT_BLOCKING_MS"] == "50" and "APP_OTHER" not in env


def test_files_are_named_relative_to_their_root() -> None:
    import sysconfig
    import uuid

    assert RB.short_file(uuid.__file__) == "uuid.py"
    assert RB.short_file(str(Path(sysconfig.get_paths()["stdlib"]) / "asyncio" / "locks.py")) == "asyncio/locks.py"
    assert RB.short_file("/venv/lib/python3.11/site-packages/openai/_client.py") == "openai/_client.py"
    assert RB.short_file(str(Path.cwd() / "app_under_test" / "agent.py")) == "app_under_test/agent.py"
    assert RB.short_file("/elsewhere/app.py") == "/elsewhere/app.py" and RB.short_file(None) is None
