"""Token usage the upstream reports, counted by the app (app_under_test/usage.py) on every call path, shown in
/api/debug/stats and cleared by its reset; and the harness's per-run delta over workers (bench/execute.py)."""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace

import pytest

from app_under_test import usage
from bench.mock.config import MockConfig
from bench.mock.twin import MockTwin
from bench.run.cost import prompt_tokens
from bench.run.execute import _usage

pytestmark = pytest.mark.anyio
MESSAGE = "How many tokens is this?"
OUTPUT = 16  # the mock's answer length when the request sets no max_tokens


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(autouse=True)
def _fresh_usage() -> Iterator[None]:
    usage.reset()
    yield
    usage.reset()


# async awaits ainvoke, sync calls the blocking invoke on the loop, threadpool calls invoke in a thread.
@pytest.mark.parametrize("variant", ["async", "sync", "threadpool"])
@pytest.mark.parametrize("path", ["/api/chat", "/api/chat/stream"])
async def test_each_upstream_answer_counts_once(app_client, variant: str, path: str) -> None:
    twin = MockTwin(MockConfig(latency_ms=0))
    async with app_client(variant, twin=twin) as client:
        for _ in range(3):
            resp = await client.post(path, json={"message": MESSAGE})
            assert resp.status_code == 200, resp.text
        stats = (await client.get("/api/debug/stats")).json()
    # The twin answered three times; the app counted what those answers reported, streams included
    # (stream_usage=True asks for the usage chunk, which the mock sends).
    assert twin.stats()["answered_by_status"]["200"] == 3
    assert stats["usage"] == {"input_tokens": 3 * prompt_tokens(MESSAGE), "output_tokens": 3 * OUTPUT,
                              "calls": 3, "unreported": 0}


async def test_max_tokens_bounds_the_counted_output(app_client) -> None:
    async with app_client("async", openai_max_tokens=5) as client:
        assert (await client.post("/api/chat", json={"message": MESSAGE})).status_code == 200
        assert (await client.get("/api/debug/stats")).json()["usage"]["output_tokens"] == 5


async def test_the_stats_reset_starts_a_new_usage_window(app_client) -> None:
    async with app_client("async") as client:
        await client.post("/api/chat", json={"message": MESSAGE})
        assert (await client.get("/api/debug/stats")).json()["usage"]["calls"] == 1
        assert (await client.post("/api/debug/stats/reset")).status_code == 200
        after = (await client.get("/api/debug/stats")).json()["usage"]
    assert after == {"input_tokens": 0, "output_tokens": 0, "calls": 0, "unreported": 0}


async def test_a_failed_call_counts_nothing(app_client) -> None:
    twin = MockTwin(MockConfig(latency_ms=0, fault_5xx_rate=1.0))
    async with app_client("async", twin=twin, openai_max_retries=0) as client:
        assert (await client.post("/api/chat", json={"message": MESSAGE})).status_code >= 500
        assert (await client.get("/api/debug/stats")).json()["usage"]["calls"] == 0


def test_an_answer_without_usage_is_a_call_marked_unreported() -> None:
    usage.record(SimpleNamespace(usage_metadata=None))
    usage.record(SimpleNamespace(usage_metadata={"input_tokens": 7, "output_tokens": 2}))
    assert usage.snapshot() == {"input_tokens": 7, "output_tokens": 2, "calls": 2, "unreported": 1}


def test_the_run_delta_sums_the_workers() -> None:
    def stats(i: int, o: int, c: int) -> dict[str, object]:
        return {"usage": {"input_tokens": i, "output_tokens": o, "calls": c, "unreported": 0}}

    before = [stats(10, 5, 1), stats(0, 0, 0)]
    after = [stats(110, 55, 11), stats(40, 20, 4)]
    assert _usage(before, after) == {"input_tokens": 140, "output_tokens": 70, "calls": 14, "unreported": 0}
    # An app without the counter (an older build): no usage rather than a wrong zero.
    assert _usage([{}], [{}]) is None and _usage([], []) is None
