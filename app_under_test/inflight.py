"""Requests in flight on the chat routes, their peak and the total: a counter and the pure-ASGI
middleware that feeds it (no BaseHTTPMiddleware, which would add a task per request)."""

from __future__ import annotations

import threading

from starlette.types import ASGIApp, Receive, Scope, Send


class InFlightCounter:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.now = self.peak = self.total = 0

    def enter(self) -> None:
        with self._lock:
            self.now += 1
            self.total += 1
            self.peak = max(self.peak, self.now)

    def leave(self) -> None:
        with self._lock:
            self.now -= 1

    def reset_peak(self) -> None:
        with self._lock:
            self.peak = self.now

    def stats(self) -> dict[str, int]:
        return {"in_flight": self.now, "in_flight_peak": self.peak, "requests_total": self.total}


class InFlightMiddleware:
    def __init__(self, app: ASGIApp, counter: InFlightCounter) -> None:
        self.app = app
        self.counter = counter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/api/chat"):
            await self.app(scope, receive, send)
            return
        self.counter.enter()
        try:
            await self.app(scope, receive, send)
        finally:
            self.counter.leave()
