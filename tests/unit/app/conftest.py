"""The app in-process (httpx.ASGITransport) with ChatOpenAI routed to the mock's in-process twin."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import httpx2
import pytest

from app_under_test import create_app, instrumentation, runtime
from app_under_test.providers import reset_all
from app_under_test.settings import load_settings
from app_under_test.variants import parse_variant
from bench.mock.config import MockConfig
from bench.mock.twin import MockTwin


@pytest.fixture(autouse=True)
def _fresh_process_state() -> Iterator[None]:
    reset_all()
    instrumentation.reset_all()
    yield
    runtime.set_client_factory(None)
    reset_all()


AppClient = Callable[..., Any]


@pytest.fixture
def app_client() -> AppClient:
    """`async with app_client(variant, twin=..., **settings) as client:` an httpx client on the app."""

    @asynccontextmanager
    async def make(variant: str, *, twin: MockTwin | None = None, **settings: Any) -> AsyncIterator[httpx.AsyncClient]:
        twin = twin or MockTwin(MockConfig(latency_ms=0))
        # Fresh clients per app: an async client belongs to the loop it was first used on (KNOWN.md).
        runtime.set_client_factory(lambda: (httpx2.Client(transport=twin.transport()),
                                            httpx2.AsyncClient(transport=twin.transport())))
        settings = {"openai_base_url": "http://mock.test/v1", "app_debug_endpoints": True, **settings}
        if parse_variant(variant).limiter == "redis":
            # Nothing listens on port 1: the shared limiter fails open to its in-process twin (limiters/
            # redis_limiter.py), so the request path runs whole without a Redis server; tests/integration has one.
            settings.setdefault("redis_url", "redis://127.0.0.1:1/0")
        app = create_app(variant, load_settings(**settings))
        async with app.router.lifespan_context(app), httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://app.test", timeout=30) as client:
            yield client

    return make
