"""Requests in flight on the chat routes, their peak and the total, and how they ended: the status of each answer
and, for an error answer, the `error.type` its JSON body names (errors.py). A counter and the pure-ASGI middleware
that feeds it (no BaseHTTPMiddleware, which would add a task per request)."""

from __future__ import annotations

import json
import threading
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app_under_test.errors import upstream_error


class InFlightCounter:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.now = self.peak = self.total = 0
        # Running totals like `total`: a harness reads them before and after a run and takes the difference.
        self.by_status: dict[str, int] = {}
        self.error_types: dict[str, int] = {}

    def enter(self) -> None:
        with self._lock:
            self.now += 1
            self.total += 1
            self.peak = max(self.peak, self.now)

    def leave(self) -> None:
        with self._lock:
            self.now -= 1

    def answered(self, status: int, error_type: str | None) -> None:
        with self._lock:
            self.by_status[str(status)] = self.by_status.get(str(status), 0) + 1
            if error_type is not None:
                self.error_types[error_type] = self.error_types.get(error_type, 0) + 1

    def reset_peak(self) -> None:
        with self._lock:
            self.peak = self.now

    def stats(self) -> dict[str, Any]:
        with self._lock:
            return {"in_flight": self.now, "in_flight_peak": self.peak, "requests_total": self.total,
                    "responses_by_status": dict(self.by_status), "error_types": dict(self.error_types)}


def _error_type(body: bytes) -> str:
    """The `error.type` of an error answer's JSON body (errors.py), or why there is none: the harness checks that
    every upstream fault reaches the user named, so an error without a name is counted as such."""
    try:
        kind = json.loads(body)["error"]["type"]
    except (ValueError, KeyError, TypeError):
        return "unnamed"
    return kind if isinstance(kind, str) else "unnamed"


class InFlightMiddleware:
    def __init__(self, app: ASGIApp, counter: InFlightCounter) -> None:
        self.app = app
        self.counter = counter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/api/chat"):
            await self.app(scope, receive, send)
            return
        counter = self.counter
        status = 0

        async def counted_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                if status < 400:  # a success is counted at once; an error once its body names the cause
                    counter.answered(status, None)
            elif message["type"] == "http.response.body" and status >= 400:
                # The app's error answers are small JSONResponses sent in one piece (errors.py).
                counter.answered(status, _error_type(message.get("body", b"")))
                status = -1  # counted
            await send(message)

        counter.enter()
        try:
            await self.app(scope, receive, counted_send)
        except Exception as exc:
            if status == 0:
                # Raised past the routes: Starlette's outermost ServerErrorMiddleware answers it with errors.py's
                # catch-all handler, outside this middleware. Count the answer that handler gives.
                code, body, _ = upstream_error(exc)
                counter.answered(code, body["error"]["type"])
            raise
        finally:
            counter.leave()
