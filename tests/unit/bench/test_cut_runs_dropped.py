"""A run the whole run's stop cut short (its accounting short because its Locust was told to quit) is not kept
(bench/run/orchestrator.py `_unit_body`); a run that finished, stop or no stop, is; a short run without a stop is
kept too (the report says its accounting did not add up). The unit's servers and its runs are stand-ins."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bench.results.schema import new_results
from bench.run import orchestrator
from bench.run.backends import Backend
from bench.run.config import RunConfig
from bench.run.profiles import Profile, Step
from bench.run.schedule import units
from bench.run.stages import StageClock


def _run(tmp_path: Path) -> orchestrator._Run:
    profile = Profile("t", "", (Step("burst", ("async",), (), latency_ms=100.0, repeat=2),))
    return orchestrator._Run(
        config=RunConfig(), profile=profile, backend=Backend("mock"), out_dir=tmp_path, log_dir=tmp_path / "logs",
        results=new_results(label="t", config={}, host={}, backend={}), results_path=tmp_path / "results.json",
        progress=None, clock=StageClock())


@pytest.mark.parametrize(("stop_at", "ok", "kept"), [
    (None, False, 2),  # no stop: both kept, short or not
    (None, True, 2),
    (0, True, 1),  # the stop came during the first run, which finished all the same: kept; the second never starts
    (0, False, 0),  # the stop cut the first run short: dropped, and the second never starts
    (1, False, 1),  # the second cut short: the first kept
])
def test_a_run_cut_by_the_stop_is_not_kept(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, stop_at: int | None,
                                           ok: bool, kept: int) -> None:
    run = _run(tmp_path)
    ran: list[int] = []

    @contextlib.contextmanager
    def no_mock(*_: Any, **__: Any) -> Iterator[None]:
        yield None

    @contextlib.contextmanager
    def app(*_: Any, **__: Any) -> Iterator[object]:
        yield object()  # not an AppServer: no warm-up

    def execute(ctx: Any) -> dict[str, Any]:
        ran.append(ctx.repetition)
        assert ctx.stop is run.stop  # the run's Locust hears the stop as it starts
        if ctx.repetition == stop_at:
            run.stop.set()  # Ctrl-C, or another unit's failure, while this run is under way
        good = ok or stop_at is None or ctx.repetition != stop_at
        return {"id": f"burst/async/50/{ctx.repetition}", "params": {}, "accounting": {"ok": good}}

    monkeypatch.setattr(orchestrator, "_mock_for", no_mock)
    monkeypatch.setattr(orchestrator, "running_app", app)
    monkeypatch.setattr(orchestrator, "execute", execute)
    monkeypatch.setattr(orchestrator.Backend, "app_env", lambda self: {})
    (unit,) = units(run.profile, "overlap")
    orchestrator._unit_body(unit, run, threading.Event())
    assert len(run.results["runs"]) == kept
    assert ran == ([0, 1] if stop_at in (None, 1) else [0])
