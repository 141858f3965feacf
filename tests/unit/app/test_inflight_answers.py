"""The app counts how each chat request ended (app_under_test/inflight.py): every answer once under its status, and
each error answer under the `error.type` its body names, so a harness can set the app's count beside what users saw."""

from __future__ import annotations

import pytest

from app_under_test import agent
from bench.mock.config import MockConfig
from bench.mock.twin import MockTwin

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def _stats(client) -> dict:
    resp = await client.get("/api/debug/stats")
    assert resp.status_code == 200
    return resp.json()


async def test_answers_are_counted_by_status_and_error_type(app_client) -> None:
    twin = MockTwin(MockConfig(latency_ms=0, fault_5xx_rate=1.0))
    async with app_client("async", twin=twin, openai_max_retries=0) as client:
        before = await _stats(client)
        assert (await client.post("/api/chat", json={"message": "hi"})).status_code == 502
        assert (await client.post("/api/chat", json={"message": ""})).status_code == 422
        assert (await client.post("/api/chat", content=b"{not json")).status_code == 422
        after = await _stats(client)
    assert before["responses_by_status"] == {} and before["error_types"] == {}
    assert after["responses_by_status"] == {"502": 1, "422": 2}
    assert after["error_types"] == {"upstream_error": 1, "invalid_request": 2}
    assert after["requests_total"] == 3 and after["in_flight"] == 0


async def test_a_success_is_counted_without_an_error_type(app_client) -> None:
    async with app_client("sync") as client:
        assert (await client.post("/api/chat", json={"message": "hi"})).status_code == 200
        stats = await _stats(client)
    assert stats["responses_by_status"] == {"200": 1} and stats["error_types"] == {}


async def test_an_error_raised_past_the_routes_is_counted_as_the_catch_all_answers_it(
        app_client, monkeypatch: pytest.MonkeyPatch) -> None:
    """Starlette answers an exception the routes let through outside every middleware: counted all the same."""
    async def broken(self: object, message: str, *, blocking: bool = False) -> str:
        raise RuntimeError("a bug of ours")

    monkeypatch.setattr(agent.ChatAgent, "ainvoke", broken)
    async with app_client("async") as client:
        with pytest.raises(RuntimeError):  # ASGITransport re-raises what the app raised, after its 500 went out
            await client.post("/api/chat", json={"message": "hi"})
        stats = await _stats(client)
    assert stats["responses_by_status"] == {"500": 1} and stats["error_types"] == {"internal_error": 1}
    assert stats["in_flight"] == 0
