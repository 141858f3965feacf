"""`create_app(variant)`: the FastAPI app for one variant, with its settings made the process's own."""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from app_under_test import runtime
from app_under_test.blockwatch import BlockedLoopSampler
from app_under_test.errors import install_handlers
from app_under_test.inflight import InFlightCounter, InFlightMiddleware
from app_under_test.limiters import preload
from app_under_test.loopmon import LoopLagMonitor
from app_under_test.providers import locked
from app_under_test.routes_chat import build_chat_router
from app_under_test.routes_debug import build_debug_router
from app_under_test.settings import Settings, load_settings
from app_under_test.variants import Variant, parse_variant


def create_app(variant: Variant | str | None = None, settings: Settings | None = None) -> FastAPI:
    settings = settings or load_settings()
    if variant is None:
        variant = settings.app_variant
    if isinstance(variant, str):
        variant = parse_variant(variant)
    runtime.configure(settings, variant)
    locked.skip_lock(settings.app_inject_skip_lock)
    preload(variant.limiter)
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    monitor = LoopLagMonitor()
    sampler = BlockedLoopSampler(threshold_ms=settings.app_blockwatch_threshold_ms,
                                 sample_interval_ms=settings.app_blockwatch_sample_interval_ms)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if settings.app_blockwatch:
            # One timer on the loop, not two: the sampler's heartbeat is late exactly when the monitor's sleep would
            # be, and each wake-up costs the loop (loopmon.py).
            monitor.start(fed_every_s=sampler.heartbeat_ms / 1000)
            sampler.on_beat = monitor.record
            sampler.start()
        else:
            monitor.start()
        try:
            yield
        finally:
            sampler.stop()
            await monitor.stop()

    app = FastAPI(title="ChatAgent under test", version="0.1.0", lifespan=lifespan)
    install_handlers(app)
    app.include_router(build_chat_router(variant))
    if settings.app_debug_endpoints:
        app.include_router(build_debug_router(variant))

    @app.get("/healthz")
    async def healthz() -> dict[str, Any]:
        return {"status": "ok", "variant": variant.name or variant.spec, "pid": os.getpid()}

    inflight = InFlightCounter()
    app.add_middleware(InFlightMiddleware, counter=inflight)
    app.state.loop_monitor = monitor
    app.state.blockwatch = sampler
    app.state.inflight = inflight
    return app


def app_from_env() -> FastAPI:
    """uvicorn factory (`--factory`): each worker process reads APP_VARIANT and the rest from the env."""
    return create_app()
