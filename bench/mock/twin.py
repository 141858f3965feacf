"""The mock in-process, for unit tests: the server's own engine (same bodies, limits, faults and stats)
behind an httpx or httpx2 transport, for sync and async clients alike.

    twin = MockTwin(MockConfig(latency_ms=0))
    client = openai.OpenAI(base_url="http://mock.test/v1", api_key="k",
                           http_client=httpx2.Client(transport=twin.transport()))

openai 3.x sends through httpx2 and accepts an `httpx2.Client` (or a legacy `httpx.Client`) as
`http_client`, an `httpx2.AsyncClient` / `httpx.AsyncClient` as the async one; `twin.transport(httpx)`
serves plain httpx clients (and so respx-free tests of any httpx code).
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import AsyncIterator, Callable, Iterator
from types import ModuleType
from typing import Any

import httpx2

from bench.mock.config import MockConfig
from bench.mock.engine import MockEngine, Plan

_DROP = "Server disconnected without sending a response."
_CUT = "peer closed connection without sending complete message body (incomplete chunked read)"


class MockTwin:
    """`sleep=False` skips every wait (latency, hangs) but keeps the order of events: fast unit tests."""

    def __init__(self, config: MockConfig | None = None, *, sleep: bool = True,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.engine = MockEngine(config or MockConfig(), clock=clock)
        self.sleep = sleep

    def transport(self, module: ModuleType = httpx2) -> Any:
        """A transport for `module.Client` and `module.AsyncClient` (module: httpx2 or httpx)."""
        return _transport_class(module)(self)

    def stats(self) -> dict[str, Any]:
        return self.engine.snapshot()

    def reset(self) -> None:
        self.engine.reset()

    # -- carrying out a plan ----------------------------------------------------------------------------

    def _plan(self, request: Any) -> Plan:
        headers = [(k.lower(), v) for k, v in request.headers.raw]
        return self.engine.plan(request.method, request.url.path, headers, request.content)

    def _finish(self, plan: Plan, outcome: int | str) -> None:
        if plan.record is not None:
            self.engine.stats.finish(outcome, plan.record)

    def _hang_timeout(self, plan: Plan, request: Any) -> float | None:
        """The client's read timeout when it ends the hang first (the request then fails), else None."""
        timeout = request.extensions.get("timeout", {}).get("read")
        return timeout if timeout is not None and timeout < plan.hang_s else None

    def _respond(self, mod: ModuleType, plan: Plan, request: Any, t0: float) -> Any:
        """The response once its time has come (the caller has waited)."""
        if plan.fault == "drop":
            self._finish(plan, "dropped")
            raise mod.RemoteProtocolError(_DROP, request=request)
        if plan.events is None and plan.fault != "cut":
            self._finish(plan, plan.status)
            return mod.Response(plan.status, headers=plan.headers, content=plan.body)
        return mod.Response(plan.status, headers=plan.headers,
                            stream=_stream_class(mod)(self, plan, t0, request))

    def handle_sync(self, mod: ModuleType, request: Any) -> Any:
        t0 = time.monotonic()
        plan = self._plan(request)
        if plan.fault == "hang":
            timeout = self._hang_timeout(plan, request)
            self._wait_sync(time.monotonic() + (plan.hang_s if timeout is None else timeout))
            if timeout is not None:
                self._finish(plan, "client_disconnected")
                raise mod.ReadTimeout("timed out", request=request)
            t0 = time.monotonic()
        if plan.events is None or plan.fault == "drop":
            self._wait_sync(t0 + plan.at_s)
        return self._respond(mod, plan, request, t0)

    async def handle_async(self, mod: ModuleType, request: Any) -> Any:
        t0 = time.monotonic()
        plan = self._plan(request)
        if plan.fault == "hang":
            timeout = self._hang_timeout(plan, request)
            await self._wait_async(time.monotonic() + (plan.hang_s if timeout is None else timeout))
            if timeout is not None:
                self._finish(plan, "client_disconnected")
                raise mod.ReadTimeout("timed out", request=request)
            t0 = time.monotonic()
        if plan.events is None or plan.fault == "drop":
            await self._wait_async(t0 + plan.at_s)
        return self._respond(mod, plan, request, t0)

    def _wait_sync(self, deadline: float) -> None:
        delay = deadline - time.monotonic()
        if self.sleep and delay > 0:
            time.sleep(delay)

    async def _wait_async(self, deadline: float) -> None:
        delay = deadline - time.monotonic()
        if self.sleep and delay > 0:
            await asyncio.sleep(delay)


class _Stream:
    """A streamed (or cut) body: yields each piece at its time; a cut raises as httpx does on a real one."""

    def __init__(self, twin: MockTwin, plan: Plan, t0: float, request: Any, mod: ModuleType) -> None:
        self.twin, self.plan, self.t0, self.request, self.mod = twin, plan, t0, request, mod
        self.done = False

    def _pieces(self) -> list[tuple[float, bytes]]:
        plan = self.plan
        if self.done:  # a second pass (the openai SDK drains a stream after [DONE]) finds it consumed
            return []
        if plan.events is None:  # a cut non-streaming body
            return [(plan.at_s, plan.body[: plan.cut_at])]
        end = plan.cut_at if plan.fault == "cut" else len(plan.events)
        # Events due at the same time go out as one piece, as the server writes them.
        pieces: list[tuple[float, bytes]] = []
        for i in range(end):
            at = plan.event_at(i)
            if pieces and pieces[-1][0] == at:
                pieces[-1] = (at, pieces[-1][1] + plan.events[i])
            else:
                pieces.append((at, plan.events[i]))
        return pieces

    def _settle(self) -> None:
        """The last piece is handed over: the server's side of the response is complete (or cut)."""
        self.done = True
        self.twin._finish(self.plan, "cut" if self.plan.fault == "cut" else self.plan.status)

    def _raise_if_cut(self) -> None:
        if self.plan.fault == "cut":
            raise self.mod.RemoteProtocolError(_CUT, request=self.request)

    def __iter__(self) -> Iterator[bytes]:
        pieces = self._pieces()
        for i, (at, piece) in enumerate(pieces):
            self.twin._wait_sync(self.t0 + at)
            if i == len(pieces) - 1:
                self._settle()
            yield piece
        if pieces:
            self._raise_if_cut()

    async def __aiter__(self) -> AsyncIterator[bytes]:
        pieces = self._pieces()
        for i, (at, piece) in enumerate(pieces):
            await self.twin._wait_async(self.t0 + at)
            if i == len(pieces) - 1:
                self._settle()
            yield piece
        if pieces:
            self._raise_if_cut()

    def close(self) -> None:
        if not self.done:  # the client stopped reading before the end
            self.done = True
            self.twin._finish(self.plan, "client_disconnected")

    async def aclose(self) -> None:
        self.close()


@functools.cache
def _stream_class(mod: ModuleType) -> type:
    # httpx checks a response stream's type against its own module's classes, so one subclass per module.
    return type(f"TwinStream_{mod.__name__}", (_Stream, mod.SyncByteStream, mod.AsyncByteStream), {
        "__init__": lambda self, twin, plan, t0, request: _Stream.__init__(self, twin, plan, t0, request, mod),
    })


@functools.cache
def _transport_class(mod: ModuleType) -> type:
    class TwinTransport(mod.BaseTransport, mod.AsyncBaseTransport):  # type: ignore[name-defined,misc]
        def __init__(self, twin: MockTwin) -> None:
            self.twin = twin

        def handle_request(self, request: Any) -> Any:
            request.read()
            return self.twin.handle_sync(mod, request)

        async def handle_async_request(self, request: Any) -> Any:
            await request.aread()
            return await self.twin.handle_async(mod, request)

    TwinTransport.__name__ = TwinTransport.__qualname__ = f"TwinTransport_{mod.__name__}"
    return TwinTransport
