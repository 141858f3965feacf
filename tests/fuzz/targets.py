"""The fuzzing targets: the app's OpenAPI for one preset (in-process, ChatOpenAI routed to the mock's twin,
optionally injecting upstream faults) and the mock's own description, served at `GET /mock/openapi.json`.

    fuzz_app("async", examples=20)             # -> Figures
    fuzz_app("sync", examples=20, faults=True)
    fuzz_mock(examples=20)
"""

from __future__ import annotations

from typing import Any

import httpx2

from app_under_test import create_app, instrumentation, runtime
from app_under_test.providers import reset_all
from app_under_test.settings import load_settings
from app_under_test.variants import parse_variant
from bench.mock.app import MockApp
from bench.mock.app import create_app as create_mock
from bench.mock.config import MockConfig
from bench.mock.twin import MockTwin
from tests.fuzz.figures import Figures
from tests.fuzz.schemathesis_run import Headers, fuzz_asgi

# Upstream faults for `faults=True`: each one must reach the user as a documented 502 / 504 (or an SSE `error`
# event once a stream has begun), never as a 500 or a hang. Hangs end at the app's client timeout below.
UPSTREAM_FAULTS = MockConfig(latency_ms=0, fault_5xx_rate=0.1, fault_malformed_rate=0.05, fault_drop_rate=0.05,
                             fault_cut_rate=0.05, fault_hang_rate=0.02, hang_seconds=30, seed=1)
APP_CLIENT_TIMEOUT_S = 0.3
UPSTREAM_STATUSES = (502, 503, 504)

# The mock copies OpenAI, which answers a method a path does not have with 404 `Invalid URL`, not 405.
MOCK_EXCLUDED_CHECKS = ("unsupported_method",)
# Faults the mock injects by its seeded rates while fuzzed: each must be told apart from a bug (by the
# request's record), the rest of its answers must be clean. Drop and cut close the connection, which an
# in-process client sees as an exception: they are covered by the live fault tests instead.
MOCK_FAULTS = MockConfig(latency_ms=0, fault_5xx_rate=0.05, fault_malformed_rate=0.05, fault_hang_rate=0.02,
                         hang_seconds=0.05, seed=1)


def fuzz_app(variant: str, *, examples: int, faults: bool = False, chat_only: bool = False,
             timeout_s: float = 10.0, seed: int = 0) -> Figures:
    """The app's OpenAPI (debug routes included unless `chat_only`) for one variant, fuzzed in-process."""
    twin = MockTwin(UPSTREAM_FAULTS if faults else MockConfig(latency_ms=0))
    reset_all()
    instrumentation.reset_all()
    # Fresh clients per app: an async client belongs to the loop it was first used on (KNOWN.md).
    runtime.set_client_factory(lambda: (httpx2.Client(transport=twin.transport()),
                                        httpx2.AsyncClient(transport=twin.transport())))
    settings: dict[str, Any] = {"openai_base_url": "http://mock.test/v1", "app_debug_endpoints": True,
                                "log_level": "error",
                                # The limiter's code runs; its 10 rps would only make the fuzzer wait.
                                "openai_rate_limit_requests_per_second": 1000.0}
    if faults:
        # No retries: each fault reaches the app's answer at once (the SDK's backoff would only add time).
        settings.update(openai_max_retries=0, openai_timeout=APP_CLIENT_TIMEOUT_S)
    if parse_variant(variant).limiter == "redis":
        settings["redis_url"] = "redis://127.0.0.1:1/0"  # nothing listens: the limiter fails open to its twin
    try:
        app = create_app(variant, load_settings(**settings))
        name = f"app {variant}" + (" +faults" if faults else "") + (" (chat)" if chat_only else "")
        figures = fuzz_asgi(app, "/openapi.json", Figures(name),
                            examples=examples, timeout_s=timeout_s, seed=seed,
                            injected=lambda status, _: faults and status in UPSTREAM_STATUSES,
                            path_regex="^/api/chat" if chat_only else None)
    finally:
        runtime.set_client_factory(None)
        reset_all()
    figures.upstream_rejected = twin.stats()["bad_requests"]
    return figures


def fuzz_mock(*, examples: int, timeout_s: float = 10.0, seed: int = 0) -> Figures:
    """The mock's description, as it serves it, against the raw ASGI app injecting 5xx, malformed and short
    hang faults. The `x-mock-*` headers are left out: a valid value may ask for a ten-minute answer (they are
    fuzzed at the engine instead: tests/fuzz/mock_engine.py)."""
    mock = create_mock(MOCK_FAULTS)
    return fuzz_asgi(mock, "/mock/openapi.json", Figures("mock"), examples=examples, timeout_s=timeout_s,
                     seed=seed, injected=lambda status, headers: _injected(mock, status, headers),
                     excluded_checks=MOCK_EXCLUDED_CHECKS, edit=_without_mock_headers)


def _without_mock_headers(document: dict[str, Any]) -> None:
    for item in document["paths"].values():
        for operation in item.values():
            operation["parameters"] = [p for p in operation.get("parameters", [])
                                       if not p["name"].startswith("x-mock-")]


def _injected(mock: MockApp, status: int, headers: Headers) -> bool:
    """Whether this answer's request was one the mock chose to break (its record, found by x-request-id)."""
    request_id = headers.get(b"x-request-id", b"")
    if not request_id.startswith(b"req_mock"):
        return False
    seq = int(request_id[len(b"req_mock"):])
    for record in reversed(mock.engine.stats.recent):
        if record["seq"] == seq:
            return record.get("fault") in ("5xx", "malformed")
    return False
