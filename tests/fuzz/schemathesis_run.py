"""One schemathesis run (every phase of `st run`: examples, coverage, fuzzing) against an ASGI app in-process,
counted by an ASGI middleware that sees every request the fuzzer sends, whatever schemathesis reports.

    figures = fuzz_asgi(app, "/openapi.json", Figures("async"), examples=20, timeout_s=10)
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, MutableMapping
from typing import Any

import schemathesis
from schemathesis.engine import events, from_schema
from schemathesis.python.asgi import shutdown_lifespans

from tests.fuzz.figures import Figures

Headers = dict[bytes, bytes]
# Whether a 5xx or a broken answer (its status and response headers) is a fault the target was asked to inject.
Injected = Callable[[int, Headers], bool]
# Counted by the middleware from what it saw, not again from schemathesis' check of it.
SERVER_ERROR_CHECK = "not_a_server_error"


class Recorder:
    """ASGI middleware: counts each request, its status and time; a request cancelled at the fuzzer's read
    deadline is a hang, an exception escaping the app a 5xx (a real server would answer 500)."""

    def __init__(self, app: Any, figures: Figures, timeout_s: float, injected: Injected) -> None:
        self.app, self.figures, self.timeout_s, self.injected = app, figures, timeout_s, injected
        self.injected_ids: set[str] = set()  # x-request-id of each injected answer, to excuse its check failures

    async def __call__(self, scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        f = self.figures
        f.examples += 1
        label = f"{scope['method']} {scope['path']}"
        status, headers = 0, {}

        async def watch(message: MutableMapping[str, Any]) -> None:
            nonlocal status, headers
            if message["type"] == "http.response.start":
                status, headers = message["status"], dict(message.get("headers") or [])
            await send(message)

        t0 = time.monotonic()
        try:
            await self.app(scope, receive, watch)
        except asyncio.CancelledError:
            # The fuzzer cancels at its read deadline, and also stops reading an event stream it has seen enough
            # of: only the first is a hang.
            if time.monotonic() - t0 >= self.timeout_s * 0.95:
                f.hangs.append(f"{label}: no complete answer in {self.timeout_s:g} s (status {status or 'none'})")
            raise
        except Exception as exc:
            f.server_errors.append(f"{label}: {type(exc).__name__} escaped the app")
            raise
        finally:
            f.slowest_s = max(f.slowest_s, time.monotonic() - t0)
        if self.injected(status, headers):
            f.injected += 1
            if request_id := headers.get(b"x-request-id"):
                self.injected_ids.add(request_id.decode("latin-1"))
        elif status >= 500:
            f.server_errors.append(f"{label} -> {status}")


def fuzz_asgi(app: Any, openapi_path: str, figures: Figures, *, examples: int, timeout_s: float, seed: int = 0,
              injected: Injected = lambda status, headers: False, excluded_checks: tuple[str, ...] = (),
              edit: Callable[[dict[str, Any]], None] | None = None, path_regex: str | None = None) -> Figures:
    """Fuzz every operation of the app's OpenAPI document with up to `examples` generated cases each.

    `edit` may change the loaded document before the run; `path_regex` keeps only the operations whose path
    matches; `injected` says which answers the target was asked to break; `excluded_checks` names checks that
    do not apply, each with its reason at the caller.
    """
    started = time.monotonic()
    recorder = Recorder(app, figures, timeout_s, injected)
    schema: Any = schemathesis.openapi.from_asgi(openapi_path, recorder)
    figures.examples = 0  # loading the document is not an example
    if edit is not None:
        raw = schema.raw_schema
        edit(raw)
        schema = schemathesis.openapi.from_dict(raw)
        schema.app = recorder
        schema.location = openapi_path
    if path_regex is not None:
        schema = schema.include(path_regex=path_regex)
    schema.config.seed = seed
    schema.config.generation.update(max_examples=examples, database="none")
    schema.config.update(request_timeout=timeout_s, continue_on_failure=True)
    if excluded_checks:
        schema.config.checks.update(excluded_check_names=list(excluded_checks))
    try:
        for event in from_schema(schema).execute():
            if isinstance(event, events.ScenarioFinished):
                _violations(event, figures, recorder.injected_ids)
            elif isinstance(event, events.NonFatalError):
                figures.errors.append(f"{event.label}: {type(event.value).__name__}: {event.value}")
            elif isinstance(event, events.FatalError):
                raise event.exception
    finally:
        shutdown_lifespans()  # the app's lifespan (its loop monitor) must not outlive its run
    figures.violations = sorted(set(figures.violations))
    figures.errors = sorted(set(figures.errors))  # (a timeout or an escaped exception is also in hangs / 5xx)
    figures.elapsed_s = time.monotonic() - started
    return figures


def _violations(event: events.ScenarioFinished, figures: Figures, injected_ids: set[str]) -> None:
    rec = event.recorder
    for case_id, checks in rec.checks.items():
        for check in checks:
            info = check.failure_info
            if info is None or check.name == SERVER_ERROR_CHECK:
                continue
            response = getattr(rec.interactions.get(case_id), "response", None)
            if response is not None and _request_id(response.headers) in injected_ids:
                continue
            failure = info.failure
            detail = (failure.message or "").strip().splitlines()[0][:160] if failure.message else ""
            figures.violations.append(f"{rec.label}: {check.name}: {failure.title}: {detail}")


def _request_id(headers: dict[str, list[str]]) -> str | None:
    return next((v[0] for k, v in headers.items() if k.lower() == "x-request-id" and v), None)
