"""The thin ASGI wrapper around the user's app: `/__bench__/...` is the harness's channel, answered here and never
seen by the user's app (no user route can collide with it); every other request passes through untouched, counted
in flight. Raw ASGI, no framework: it must not cost the app anything measurable.

    GET  /__bench__/healthz               {"status": "ok", "pid"}: the app imported and this worker serves
    GET  /__bench__/stats?blocks=N&sites=N&collect=true   the probes' figures (bench/inject/probes.py)
    POST /__bench__/reset                 a new measurement window
"""

from __future__ import annotations

import json
import os
from typing import Any
from urllib.parse import parse_qs

from starlette.types import ASGIApp, Receive, Scope, Send

from bench.inject.probes import DEFAULT_BLOCKS, DEFAULT_SITES, Probes

PREFIX = "/__bench__"


class BenchWrapper:
    def __init__(self, app: ASGIApp, probes: Probes) -> None:
        self.app = app
        self.probes = probes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.probes.start()  # the first call (uvicorn's lifespan scope) runs on the loop: the monitors start here
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        if path == PREFIX or path.startswith(PREFIX + "/"):
            await self._answer(scope, path[len(PREFIX):], send)
            return
        self.probes.inflight.enter()
        try:
            await self.app(scope, receive, send)
        finally:
            self.probes.inflight.leave()

    async def _answer(self, scope: Scope, route: str, send: Send) -> None:
        method = scope.get("method", "GET")
        query = {k: v[-1] for k, v in parse_qs(scope.get("query_string", b"").decode("latin-1")).items()}
        if route == "/healthz" and method == "GET":
            await _json(send, 200, {"status": "ok", "pid": os.getpid(), "target": self.probes.target})
        elif route == "/stats" and method == "GET":
            try:
                blocks = int(query.get("blocks", DEFAULT_BLOCKS))
                sites = int(query.get("sites", DEFAULT_SITES))
            except ValueError:
                await _json(send, 422, {"error": "blocks and sites must be integers"})
                return
            collect = query.get("collect", "false").lower() in ("1", "true", "yes")
            await _json(send, 200, self.probes.stats(collect=collect, blocks=max(0, blocks), sites=max(0, sites)))
        elif route == "/reset" and method == "POST":
            self.probes.reset()
            await _json(send, 200, {"status": "reset", "pid": os.getpid()})
        else:
            await _json(send, 404, {"error": f"no harness route {method} {PREFIX}{route}"})


async def _json(send: Send, status: int, body: dict[str, Any]) -> None:
    data = json.dumps(body).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]})
    await send({"type": "http.response.body", "body": data})
