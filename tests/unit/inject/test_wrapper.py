"""The injected ASGI wrapper (bench/inject/asgi.py) in front of a tiny user app, through httpx.ASGITransport: the
reserved `/__bench__/` prefix is answered by the wrapper with the reference app's stats keys, every other path (one
that merely starts alike included) reaches the user's app untouched, and requests in flight are counted."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
from fastapi import FastAPI, Request

from bench.inject.asgi import BenchWrapper
from bench.inject.probes import Probes
from bench.inject.watch import WatchSet

# The keys /api/debug/stats of the reference app has where they mean the same (app_under_test/routes_debug.py).
SHARED_KEYS = {"pid", "constructions", "live_instances", "live_instances_peak", "loop_lag", "in_flight",
               "in_flight_peak", "requests_total", "blocked"}


def _user_app() -> FastAPI:
    app = FastAPI()

    @app.post("/chat")
    async def chat(request: Request) -> dict[str, Any]:
        return {"echo": await request.json(), "headers": request.headers.get("x-user")}

    @app.get("/__benchmark")  # starts like the reserved prefix: still the user's
    async def benchmark() -> dict[str, str]:
        return {"owner": "user"}

    @app.post("/slow")
    async def slow() -> dict[str, str]:
        await asyncio.sleep(0.2)
        return {"done": "yes"}

    @app.post("/block")
    def block_in_thread() -> dict[str, str]:
        return {"done": "yes"}

    @app.post("/block-loop")
    async def block_loop() -> dict[str, str]:
        time.sleep(0.15)  # a blocking call inside async def
        return {"done": "yes"}

    return app


async def _with_client(check: Any) -> None:
    probes = Probes("tests:app", WatchSet([]))
    wrapper = BenchWrapper(_user_app(), probes)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=wrapper), base_url="http://app") as client:
            await check(client, probes)
    finally:
        probes.sampler.stop()


def test_user_routes_pass_through_untouched() -> None:
    async def check(client: httpx.AsyncClient, probes: Probes) -> None:
        resp = await client.post("/chat", json={"message": "hi"}, headers={"x-user": "u1"})
        assert resp.json() == {"echo": {"message": "hi"}, "headers": "u1"}
        assert (await client.get("/__benchmark")).json() == {"owner": "user"}
        assert (await client.get("/nope")).status_code == 404  # the user's 404, from FastAPI
        assert probes.inflight.total == 3

    asyncio.run(_with_client(check))


def test_the_reserved_prefix_answers_the_stats() -> None:
    async def check(client: httpx.AsyncClient, probes: Probes) -> None:
        await client.post("/chat", json={"message": "hi"})
        health = (await client.get("/__bench__/healthz")).json()
        stats = (await client.get("/__bench__/stats", params={"blocks": 0, "sites": 3})).json()
        assert health["status"] == "ok" and health["pid"] == stats["pid"]
        assert set(stats) >= SHARED_KEYS
        assert stats["requests_total"] == 1 and stats["target"] == "tests:app" and stats["watched"] == {}
        assert stats["rss_mb"] > 10
        assert (await client.get("/__bench__/nothing")).status_code == 404
        assert (await client.get("/__bench__/reset")).status_code == 404  # reset is a POST
        assert (await client.get("/__bench__/stats", params={"blocks": "x"})).status_code == 422
        assert probes.inflight.total == 1  # the harness's own requests are not the user's

    asyncio.run(_with_client(check))


def test_in_flight_peak_and_reset() -> None:
    async def check(client: httpx.AsyncClient, probes: Probes) -> None:
        await asyncio.gather(*(client.post("/slow") for _ in range(5)))
        stats = (await client.get("/__bench__/stats")).json()
        assert (stats["in_flight"], stats["in_flight_peak"]) == (0, 5)
        assert (await client.post("/__bench__/reset")).json()["status"] == "reset"
        stats = (await client.get("/__bench__/stats")).json()
        assert (stats["in_flight_peak"], stats["requests_total"]) == (0, 5)

    asyncio.run(_with_client(check))


def test_a_blocking_call_in_the_users_code_is_attributed_to_it() -> None:
    async def check(client: httpx.AsyncClient, probes: Probes) -> None:
        await client.post("/__bench__/reset")
        await client.post("/block")  # a `def` route runs in a thread: the loop stays free
        free = (await client.get("/__bench__/stats", params={"sites": 5})).json()["blocked"]
        await client.post("/block-loop")
        await asyncio.sleep(0.05)  # the heartbeat closes the block
        blocked = (await client.get("/__bench__/stats", params={"sites": 5})).json()["blocked"]
        assert not any(s["own_code"] for s in free["sites"])
        own = [s for s in blocked["sites"] if s["own_code"]]
        assert own and own[0]["function"] == "_user_app.<locals>.block_loop"
        assert own[0]["file"].endswith("test_wrapper.py") and own[0]["blocked_ms"] >= 100

    asyncio.run(_with_client(check))
