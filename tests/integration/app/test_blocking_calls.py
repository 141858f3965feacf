"""With blockbuster active (it raises on blocking calls made on a running event loop), the async presets
serve a request without one, and `sync` makes one: the seed's `llm.invoke` inside `async def`.

The upstream is the real mock over a real socket, so a blocking read is a real blocking read; the app runs
in-process so blockbuster sees its event loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest
from blockbuster import BlockingError, blockbuster_ctx
from langchain_openai.chat_models import _client_utils

from app_under_test import create_app, instrumentation
from app_under_test.providers import reset_all
from app_under_test.settings import load_settings
from bench.mock.config import MockConfig
from bench.mock.process import MockServer, running_mock

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def mock() -> Iterator[MockServer]:
    with running_mock(MockConfig(latency_ms=50)) as server:
        yield server


async def _serve_one(variant: str, base_url: str, path: str) -> tuple[int, str]:
    reset_all()
    instrumentation.reset_all()
    # langchain-openai caches its default clients and an async one belongs to the first loop that used it;
    # each test runs its own loop, so start from an empty cache (production keeps one loop for life).
    _client_utils._cached_async_httpx_client.cache_clear()
    _client_utils._cached_sync_httpx_client.cache_clear()
    app = create_app(variant, load_settings(openai_base_url=base_url))
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://app.test", timeout=30) as client:
        # Warm-up outside the check: first-use imports and client set-up are not the request path.
        assert (await client.post(path, json={"message": "warm"})).status_code == 200
        with blockbuster_ctx():
            try:
                resp = await client.post(path, json={"message": "hi"})
            except BlockingError as exc:
                return -1, str(exc)
    return resp.status_code, resp.text[:200]


@pytest.mark.parametrize("path", ["/api/chat", "/api/chat/stream"])
@pytest.mark.parametrize("variant", ["async", "async-limited", "lru_cache", "locked", "asyncio-lock",
                                     "async-dependency", "per-request:dependency=async"])
def test_async_presets_never_block_the_loop(mock: MockServer, variant: str, path: str) -> None:
    status, detail = asyncio.run(_serve_one(variant, mock.api_base, path))
    assert status == 200, f"{variant} blocked the event loop: {detail}"


@pytest.mark.parametrize("path", ["/api/chat", "/api/chat/stream"])
def test_sync_preset_blocks_the_loop(mock: MockServer, path: str) -> None:
    status, detail = asyncio.run(_serve_one("sync", mock.api_base, path))
    assert status == -1, f"expected a BlockingError, got HTTP {status}: {detail}"
    assert "Blocking call" in detail
