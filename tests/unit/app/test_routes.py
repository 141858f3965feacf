"""Routes of every preset: replies, SSE, debug endpoints, and a JSON error for every bad input."""

from __future__ import annotations

import asyncio
import json

import pytest

from app_under_test.variants import PRESETS
from bench.mock.config import MockConfig
from bench.mock.twin import MockTwin

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.mark.parametrize("variant", list(PRESETS))
async def test_chat_replies_through_the_real_client_stack(app_client, variant: str) -> None:
    twin = MockTwin(MockConfig(latency_ms=0))
    async with app_client(variant, twin=twin) as client:
        resp = await client.post("/api/chat", json={"message": "hello", "conversation_id": "c1"})
        assert resp.status_code == 200, resp.text
        body = resp.json()
        assert body["reply"] and body["conversation_id"] == "c1" and body["variant"] == variant
        assert isinstance(body["agent_id"], int) and isinstance(body["pid"], int)
    # The request went through ChatOpenAI to the upstream: the twin counted it.
    assert twin.stats()["answered_by_status"].get("200") == 1


@pytest.mark.parametrize("variant", ["async", "sync", "threadpool"])
async def test_stream_sends_tokens_then_done(app_client, variant: str) -> None:
    async with app_client(variant) as client:
        resp = await client.post("/api/chat/stream", json={"message": "hello"})
        assert resp.status_code == 200
        assert resp.headers["content-type"].startswith("text/event-stream")
        events = [json.loads(line[6:]) for line in resp.text.splitlines() if line.startswith("data: ")]
    kinds = [e["type"] for e in events]
    assert kinds[-1] == "done" and kinds.count("token") >= 2, kinds
    assert "".join(e["content"] for e in events if e["type"] == "token")


@pytest.mark.parametrize(("body", "fragment"), [
    (b"{not json", "not valid JSON"),
    (b"{}", "message: Field required"),
    (b'{"message": ""}', "message"),
    (b'{"message": "   "}', "must not be empty"),
    (b'{"message": 42}', "valid string"),
    (b'{"message": "hi", "conversation_id": 7}', "conversation_id"),
    (b'["message"]', "valid dictionary"),
    (json.dumps({"message": "x" * (32 * 1024 + 1)}).encode(), "longer than 32768 bytes"),
])
async def test_bad_input_is_422_json(app_client, body: bytes, fragment: str) -> None:
    async with app_client("async") as client:
        for path in ("/api/chat", "/api/chat/stream"):
            resp = await client.post(path, content=body, headers={"content-type": "application/json"})
            assert resp.status_code == 422, resp.text
            err = resp.json()["error"]
            assert err["type"] == "invalid_request" and fragment in err["message"], err


async def test_message_of_exactly_the_limit_is_accepted(app_client) -> None:
    async with app_client("async") as client:
        resp = await client.post("/api/chat", json={"message": "x" * (32 * 1024)})
        assert resp.status_code == 200


async def test_unknown_route_is_json_404(app_client) -> None:
    async with app_client("async") as client:
        resp = await client.get("/nope")
        assert resp.status_code == 404 and "error" in resp.json()


async def test_debug_routes_are_absent_unless_enabled(app_client) -> None:
    async with app_client("async", app_debug_endpoints=False) as client:
        assert (await client.get("/api/debug/stats")).status_code == 404
        assert (await client.get("/api/debug/agent-cache")).status_code == 404
        assert (await client.get("/healthz")).status_code == 200


async def test_agent_cache_in_the_seeds_shape_agrees_with_stats(app_client) -> None:
    async with app_client("lru_cache") as client:
        first = (await client.get("/api/debug/agent-cache")).json()
        assert first["agent_id"] is None and "misses=0" in first["cache_info"]
        ids = {(await client.post("/api/chat", json={"message": "hi"})).json()["agent_id"] for _ in range(3)}
        cache = (await client.get("/api/debug/agent-cache")).json()
        stats = (await client.get("/api/debug/stats")).json()
    assert set(cache) >= {"cache_info", "agent_id", "message"}
    assert cache["cache_info"] == "hits=2, misses=1, maxsize=1, currsize=1"
    assert ids == {cache["agent_id"]} and stats["constructions"] == 1 and stats["provider_calls"] == 3


async def test_stats_report_bytes_per_instance_and_loop_lag(app_client) -> None:
    async with app_client("per-request") as client:
        for _ in range(3):
            assert (await client.post("/api/chat", json={"message": "hi"})).status_code == 200
        stats = (await client.get("/api/debug/stats", params={"measure": "true"})).json()
    assert stats["constructions"] == 3  # the tracemalloc probe's instances are not counted
    assert stats["bytes_per_instance"] > 1000
    assert stats["loop_lag"]["samples"] >= 0 and stats["in_flight"] == 0 and stats["requests_total"] == 3


async def test_stats_list_as_many_blocks_and_sites_as_asked(app_client) -> None:
    # `sync` calls the blocking invoke on the loop: each 40 ms upstream answer is one block over the 20 ms line.
    twin = MockTwin(MockConfig(latency_ms=40))
    async with app_client("sync", twin=twin, app_blockwatch=True) as client:
        for _ in range(3):
            assert (await client.post("/api/chat", json={"message": "hi"})).status_code == 200
        default = (await client.get("/api/debug/stats")).json()["blocked"]
        one = (await client.get("/api/debug/stats", params={"blocks": 1})).json()["blocked"]
        none = (await client.get("/api/debug/stats", params={"blocks": 0, "sites": 0})).json()["blocked"]
        bad = await client.get("/api/debug/stats", params={"blocks": -1})
    assert default["block_count"] >= 3 and len(default["blocks"]) == default["block_count"]
    # The newest one (a stall of the process between the polls may have added a block meanwhile).
    assert len(one["blocks"]) == 1 and one["blocks"][0]["start"] >= default["blocks"][-1]["start"]
    assert none["blocks"] == [] and none["sites"] == [] and none["block_count"] >= default["block_count"]
    assert default["sites"] and len(default["sites"]) <= 10
    assert bad.status_code == 422


@pytest.mark.parametrize("blockwatch", [True, False])
async def test_loop_lag_shows_each_blocking_call_with_or_without_the_sampler(app_client, blockwatch: bool) -> None:
    # With the sampler on, the lag monitor takes its samples from the sampler's 5 ms heartbeat (one timer on the
    # loop, not two); without it, from its own 10 ms sleeps. Either way a 40 ms blocking call is 40 ms of lag.
    twin = MockTwin(MockConfig(latency_ms=40))
    async with app_client("sync", twin=twin, app_blockwatch=blockwatch) as client:
        assert (await client.post("/api/debug/stats/reset")).status_code == 200
        for _ in range(3):
            assert (await client.post("/api/chat", json={"message": "hi"})).status_code == 200
        await asyncio.sleep(0.05)
        lag = (await client.get("/api/debug/stats")).json()["loop_lag"]
    assert lag["interval_ms"] == (5.0 if blockwatch else 10.0)
    assert lag["samples"] >= 3 and 30 <= lag["max_ms"] < 1000, lag


async def test_the_blocked_loop_sampler_is_off_unless_asked_for(app_client) -> None:
    twin = MockTwin(MockConfig(latency_ms=40))
    async with app_client("sync", twin=twin) as client:
        assert (await client.post("/api/chat", json={"message": "hi"})).status_code == 200
        blocked = (await client.get("/api/debug/stats")).json()["blocked"]
    assert not blocked["running"] and blocked["block_count"] == 0 and blocked["sites"] == []
