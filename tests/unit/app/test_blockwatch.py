"""The blocked-loop sampler on a tiny loop: a blocking call becomes one block of about its duration, named by
the line that made it; awaiting is no block; the threshold, the own-code predicate, reset and stop hold."""

from __future__ import annotations

import asyncio
import inspect
import json
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
import uvloop

from app_under_test import blocksites, blockwatch
from app_under_test.blocksites import default_own_code
from app_under_test.blockwatch import BlockedLoopSampler

LOOPS: dict[str, Callable[[], asyncio.AbstractEventLoop]] = {
    "asyncio": asyncio.new_event_loop, "uvloop": uvloop.new_event_loop}

# A stand-in for an installed library: code whose frames carry a path the test's predicate calls foreign.
_FAKE_LIB = "/fakelib/somelib/client.py"
_lib_namespace: dict[str, Any] = {}
exec(compile("import time\n\ndef lib_sleep(seconds):\n    time.sleep(seconds)\n", _FAKE_LIB, "exec"), _lib_namespace)


def _block_for(seconds: float) -> None:
    time.sleep(seconds)


def _calls_library(seconds: float) -> None:
    _lib_namespace["lib_sleep"](seconds)


def _line_of(func: Callable[..., Any], text: str) -> int:
    lines, first = inspect.getsourcelines(func)
    return first + next(i for i, line in enumerate(lines) if text in line)


def _run(body: Callable[[BlockedLoopSampler], Awaitable[None]], loop: str = "asyncio",
         **kwargs: Any) -> dict[str, Any]:
    """Start a sampler in a fresh loop, run `body`, let the heartbeat resume, stop, and return the snapshot."""
    sampler = BlockedLoopSampler(**kwargs)

    async def main() -> None:
        sampler.start()
        try:
            await asyncio.sleep(0.03)
            await body(sampler)
            await asyncio.sleep(0.05)
        finally:
            sampler.stop()

    with asyncio.Runner(loop_factory=LOOPS[loop]) as runner:
        runner.run(main())
    return sampler.snapshot()


def _own_sites(snap: dict[str, Any]) -> list[dict[str, Any]]:
    # Sites outside our code are stalls of the whole process (a shared 2-core box), not calls of the test.
    return [s for s in snap["sites"] if s["own_code"]]


@pytest.mark.parametrize("loop", list(LOOPS))
def test_a_blocking_sleep_is_one_block_named_by_its_line(loop: str) -> None:
    called: list[float] = []

    async def body(_: BlockedLoopSampler) -> None:
        called.append(time.time())
        _block_for(0.1)

    snap = _run(body, loop)
    own = _own_sites(snap)
    assert len(own) == 1, snap
    site = own[0]
    assert site["file"] == __file__ and site["line"] == _line_of(_block_for, "time.sleep(")
    assert site["function"] == "_block_for" and site["code"] == "time.sleep(seconds)" and site["calls"] is None
    assert 80 <= site["blocked_ms"] <= 400 and site["blocks"] == 1 and site["samples"] >= 5
    assert site["stack"][-1].endswith(f"{_line_of(_block_for, 'time.sleep(')} _block_for")
    [block] = [b for b in snap["blocks"] if b["site"] == site["site"]]
    assert 80 <= block["duration_ms"] <= 400
    assert abs(block["start"] - called[0]) < 0.05, "block start is the wall-clock time the call began"


def test_awaiting_is_no_block() -> None:
    async def body(_: BlockedLoopSampler) -> None:
        for _i in range(30):
            await asyncio.sleep(0.01)

    snap = _run(body)
    assert _own_sites(snap) == [], snap
    assert snap["blocked_share"] < 0.2


@pytest.mark.parametrize(("block_s", "expect"), [(0.005, 0), (0.06, 1)])
def test_threshold_boundary(block_s: float, expect: int) -> None:
    async def body(_: BlockedLoopSampler) -> None:
        _block_for(block_s)

    own = _own_sites(_run(body, threshold_ms=20.0))
    assert sum(s["blocks"] for s in own) == expect, own
    if expect:
        assert own[0]["function"] == "_block_for" and 40 <= own[0]["blocked_ms"] <= 300


def test_library_frames_are_skipped_and_named_as_the_callee() -> None:
    async def body(_: BlockedLoopSampler) -> None:
        _calls_library(0.06)

    snap = _run(body, own_code=lambda path: "/fakelib/" not in path and default_own_code(path))
    [site] = _own_sites(snap)
    assert site["file"] == __file__ and site["function"] == "_calls_library"
    assert site["line"] == _line_of(_calls_library, "lib_sleep")
    assert site["calls"] == f"{_FAKE_LIB}:4 lib_sleep"
    assert site["site"].endswith(f"_calls_library -> {_FAKE_LIB}:4 lib_sleep")


def test_default_own_code_is_by_path() -> None:
    import fastapi

    assert default_own_code(__file__) and default_own_code("/srv/anywhere/myapp/main.py")
    for foreign in (asyncio.__file__, fastapi.__file__, "<frozen importlib._bootstrap>", blockwatch.__file__,
                    blocksites.__file__):
        assert not default_own_code(str(foreign)), foreign


def test_reset_starts_a_new_window() -> None:
    after: dict[str, Any] = {}

    async def body(sampler: BlockedLoopSampler) -> None:
        _block_for(0.06)
        await asyncio.sleep(0.03)
        assert sampler.snapshot()["block_count"] >= 1
        sampler.reset()
        after.update(sampler.snapshot())

    _run(body)
    assert after["block_count"] == 0 and after["blocks"] == [] and after["sites"] == []
    assert after["blocked_ms"] == 0.0 and after["window"]["start"] >= after["window"]["end"] - 0.01


def test_snapshot_is_json() -> None:
    async def body(_: BlockedLoopSampler) -> None:
        _block_for(0.05)

    snap = _run(body)
    assert json.loads(json.dumps(snap, allow_nan=False)) == snap
    assert set(snap) >= {"running", "settings", "window", "blocked_ms", "blocked_share", "block_count", "blocks",
                         "sites"}
    assert snap["settings"]["threshold_ms"] == 20.0 and snap["blocks"][0]["sites"][0]["samples"] >= 1


def test_stop_ends_the_watchdog_thread() -> None:
    threads: list[threading.Thread] = []

    async def body(sampler: BlockedLoopSampler) -> None:
        assert sampler.running
        threads.extend(t for t in threading.enumerate() if t.name == "blockwatch")

    sampler_box: list[BlockedLoopSampler] = []

    async def main() -> None:
        sampler = BlockedLoopSampler()
        sampler_box.append(sampler)
        sampler.start()
        await body(sampler)
        sampler.stop()

    asyncio.run(main())
    assert threads and not sampler_box[0].running
    assert not any(t.is_alive() for t in threads)
