"""The mock as a raw ASGI app (no framework in the answer path): reads the body, asks the engine for a
plan, and carries it out against deadlines counted from the request's arrival, so the server's own
overhead is inside the configured latency rather than added on top of it.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import math
import os
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from bench.mock.config import CONFIG_ENV, MockConfig, config_from_json
from bench.mock.engine import MockEngine, Plan

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


async def _read_body(receive: Receive) -> bytes:
    msg = await receive()
    body = msg.get("body", b"")
    if not msg.get("more_body"):
        return body  # the common case: one message
    parts = [body]
    while msg.get("more_body"):
        msg = await receive()
        parts.append(msg.get("body", b""))
    return b"".join(parts)


async def _sleep_until(deadline: float, coarse: bool) -> None:
    """Sleep until `deadline` (time.monotonic), never waking before it.

    uvloop's clock is CLOCK_MONOTONIC truncated to whole ms and a timer fires on the first tick at or past
    `now_ms + round(delay_ms)`: up to 1 ms early in real time. Asking for whole ms counted from the loop's
    own (just refreshed) tick makes the timer fire on the first tick at or past the deadline instead.
    """
    if coarse:
        ms = math.ceil((deadline - asyncio.get_running_loop().time()) * 1000.0)
        if ms > 0:
            await asyncio.sleep(ms / 1000.0)
    else:
        delay = deadline - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)


async def _until_disconnect(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


class _Conn:
    """What ASGI does not offer: closing a connection without answering, and a cheap "is the client still
    there". uvicorn's `send` is a bound method of its request cycle, which holds both; elsewhere we fall
    back to raising (the server then closes the connection itself) and to assuming the client is there."""

    __slots__ = ("cycle",)

    def __init__(self, send: Send) -> None:
        self.cycle = getattr(send, "__self__", None)

    @property
    def gone(self) -> bool:
        return bool(getattr(self.cycle, "disconnected", False))

    async def close(self, receive: Receive) -> None:
        transport = getattr(self.cycle, "transport", None)
        if transport is None:
            raise ConnectionAbortedError("mock fault: connection closed without a response")
        transport.close()
        # Wait until the server has seen the close, so it does not log an incomplete response as an error.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(_until_disconnect(receive), 1.0)


class MockApp:
    def __init__(self, engine: MockEngine) -> None:
        self.engine = engine
        self.coarse = False  # whether the loop's clock has uvloop's 1 ms grain (see _sleep_until)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self._http(scope, receive, send)
        elif scope["type"] == "lifespan":
            self.coarse = type(asyncio.get_running_loop()).__module__.startswith("uvloop")
            await _lifespan(receive, send)

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        t0 = time.monotonic()
        body = await _read_body(receive)
        plan = self.engine.plan(scope["method"], scope["path"], scope["headers"], body)
        record = plan.record
        if record is None:  # a control endpoint: answer at once, count nothing
            await _send_body(send, plan, plan.body)
            return
        outcome: int | str = "cancelled"
        try:
            outcome = await self._carry_out(plan, t0, receive, send)
        finally:
            self.engine.stats.finish(outcome, record)

    async def _carry_out(self, plan: Plan, t0: float, receive: Receive, send: Send) -> int | str:
        conn = _Conn(send)
        if plan.fault == "hang":
            try:
                await asyncio.wait_for(_until_disconnect(receive), plan.hang_s)
                return "client_disconnected"
            except TimeoutError:
                t0 = time.monotonic()  # the hang is over: answer as if the request had just arrived
        if plan.events is not None and plan.fault != "drop":
            return await self._stream(plan, t0, conn, receive, send)
        await _sleep_until(t0 + plan.at_s, self.coarse)
        if conn.gone:
            return "client_disconnected"
        if plan.fault == "drop":
            await conn.close(receive)
            return "dropped"
        if plan.fault == "cut":
            await send({"type": "http.response.start", "status": plan.status, "headers": plan.headers})
            await send({"type": "http.response.body", "body": plan.body[: plan.cut_at], "more_body": True})
            await conn.close(receive)
            return "cut"
        await _send_body(send, plan, plan.body)
        return "client_disconnected" if conn.gone else plan.status

    async def _stream(self, plan: Plan, t0: float, conn: _Conn, receive: Receive, send: Send) -> int | str:
        events = plan.events
        assert events is not None
        end = plan.cut_at if plan.fault == "cut" else len(events)
        started = False
        i = 0
        while i < end:
            await _sleep_until(t0 + plan.event_at(i), self.coarse)
            if conn.gone:
                return "client_disconnected"
            # Everything already due goes out in one write (all of it, when the interval is zero).
            now = time.monotonic() - t0
            j = i + 1
            while j < end and plan.event_at(j) <= now:
                j += 1
            if not started:
                await send({"type": "http.response.start", "status": plan.status, "headers": plan.headers})
                started = True
            last = j == len(events)
            await send({"type": "http.response.body", "body": b"".join(events[i:j]), "more_body": not last})
            i = j
        if plan.fault == "cut":
            await conn.close(receive)
            return "cut"
        return "client_disconnected" if conn.gone else plan.status


async def _send_body(send: Send, plan: Plan, body: bytes) -> None:
    await send({"type": "http.response.start", "status": plan.status, "headers": plan.headers})
    await send({"type": "http.response.body", "body": body})


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        msg = await receive()
        if msg["type"] == "lifespan.startup":
            # Everything alive now lives as long as the server: keep it out of the cyclic GC's full passes,
            # which would otherwise rescan it every time (a pause in the loop is latency error). No collection
            # first: it would free only a little import garbage, and in a mock forked from the harness's fork
            # server (bench/servers/forkserver.py) it would walk every inherited object (136 ms of CPU, and their
            # pages copied) where freezing walks none.
            gc.freeze()
            await send({"type": "lifespan.startup.complete"})
        elif msg["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


def create_app(config: MockConfig) -> MockApp:
    return MockApp(MockEngine(config))


def app_from_env() -> MockApp:
    """uvicorn factory: the config comes as JSON in BENCH_MOCK_CONFIG (set by `bench mock`)."""
    return create_app(config_from_json(os.environ.get(CONFIG_ENV, "{}")))
