"""The blocked-loop sampler inside the reference app under a real uvicorn (uvloop, httptools) on a free port,
against the mock backend: `sync` blocks on the seed's `llm.invoke` line, `async` does not block,
APP_INJECT_BLOCKING_MS names its `time.sleep` line.

uvicorn runs in a thread of the test process so the app's process state can be reset per test; the mock is
a real process over a real socket, so a blocking read is a real blocking read.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from langchain_openai.chat_models import _client_utils

from app_under_test import agent, create_app, instrumentation
from app_under_test.providers import reset_all
from app_under_test.settings import load_settings
from bench.mock.config import MockConfig
from bench.mock.process import MockServer, running_mock

pytestmark = pytest.mark.integration

LATENCY_MS = 50
BURST = 10
AGENT_FILE = str(Path(agent.__file__).resolve())


def _agent_line(text: str) -> int:
    lines = Path(AGENT_FILE).read_text().splitlines()
    [line] = [i for i, line in enumerate(lines, start=1) if text in line]
    return line


@pytest.fixture(scope="module")
def mock() -> Iterator[MockServer]:
    with running_mock(MockConfig(latency_ms=LATENCY_MS)) as server:
        yield server


@contextmanager
def _serving(app: FastAPI, deadline_s: float = 30.0) -> Iterator[str]:
    """uvicorn in a thread on a pre-bound loopback socket (port 0); told to exit and joined on the way out."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, timeout_graceful_shutdown=3))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="uvicorn-under-test", daemon=True)
    thread.start()
    try:
        end = time.monotonic() + deadline_s
        while not server.started:
            if not thread.is_alive() or time.monotonic() > end:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()


async def _burst(url: str) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=url, timeout=60) as client:
        # Warm-up outside the window: the first request builds the agent and its HTTP client.
        assert (await client.post("/api/chat", json={"message": "warm"})).status_code == 200
        assert (await client.post("/api/debug/stats/reset")).status_code == 200
        replies = await asyncio.gather(*(client.post("/api/chat", json={"message": f"hi {i}"})
                                         for i in range(BURST)))
        assert [r.status_code for r in replies] == [200] * BURST
        return dict((await client.get("/api/debug/stats")).json()["blocked"])


def _blocked(variant: str, mock: MockServer, **settings: Any) -> dict[str, Any]:
    reset_all()
    instrumentation.reset_all()
    # An async client cached by langchain-openai belongs to the loop that first used it; each server is a new loop.
    _client_utils._cached_async_httpx_client.cache_clear()
    _client_utils._cached_sync_httpx_client.cache_clear()
    app = create_app(variant, load_settings(openai_base_url=mock.api_base, app_debug_endpoints=True,
                                            log_level="WARNING", app_blockwatch=True, **settings))
    with _serving(app) as url:
        return asyncio.run(_burst(url))


def _agent_sites(blocked: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for s in blocked["sites"] if s["file"] and Path(s["file"]).resolve() == Path(AGENT_FILE)]


def test_sync_blocks_on_the_seeds_invoke_line(mock: MockServer) -> None:
    blocked = _blocked("sync", mock)
    top = blocked["sites"][0]
    assert top["file"] and Path(top["file"]).resolve() == Path(AGENT_FILE), blocked["sites"]
    assert top["line"] == _agent_line('self.llm.invoke(state["messages"])  # the seed\'s "before"')
    assert top["function"].endswith("_agenerate") and top["own_code"]
    assert top["calls"] and "langchain_core/" in top["calls"] and top["calls"].endswith("invoke"), top
    assert top["share"] >= 0.8, blocked["sites"]
    # Ten serialized calls of >= 50 ms each (adjacent ones may merge into one block).
    assert top["blocked_ms"] >= 0.8 * BURST * LATENCY_MS and blocked["block_count"] >= 1
    assert blocked["blocks"] and all(b["start"] <= blocked["window"]["end"] for b in blocked["blocks"])


def test_async_does_not_block(mock: MockServer) -> None:
    blocked = _blocked("async", mock)
    assert [s for s in _agent_sites(blocked) if s["function"].endswith("_agenerate")] == [], blocked["sites"]
    # Usually nothing at all. On a busy shared box the burst's CPU work on the loop (langgraph's per-call set-up
    # under `ChatAgent.ainvoke`, uuid4, the middleware's `await self.app(...)`) was seen to lag it by up to
    # ~100 ms in all, ~40 ms of it under own-code frames, against >= 500 ms at the invoke line for `sync`.
    own_ms = sum(s["blocked_ms"] for s in blocked["sites"] if s["own_code"])
    assert own_ms < 0.25 * BURST * LATENCY_MS, blocked["sites"]


def test_injected_blocking_names_its_sleep_line(mock: MockServer) -> None:
    blocked = _blocked("async", mock, app_inject_blocking_ms=LATENCY_MS)
    top = blocked["sites"][0]
    assert top["file"] and Path(top["file"]).resolve() == Path(AGENT_FILE), blocked["sites"]
    assert top["line"] == _agent_line("time.sleep(self._inject_blocking_s)")
    assert top["code"].startswith("time.sleep(self._inject_blocking_s)") and top["calls"] is None
    assert top["function"].endswith("_agenerate") and top["share"] >= 0.8, blocked["sites"]
