"""The mock's brain, shared by the ASGI server and the in-process twin: turns one request into a `Plan`
(status, headers, body or SSE events, when they go out, and which fault to act out), and keeps the
rate-limit, RNG and accounting state. It does no I/O and never sleeps.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from bench.mock import protocol
from bench.mock.config import FAULT_KINDS, MockConfig
from bench.mock.faults import FaultPicker
from bench.mock.latency import LatencyModel, Overrides, Timeline
from bench.mock.openapi import description_json
from bench.mock.ratelimit import RateLimiter, retry_after_headers
from bench.mock.stats import Stats

Headers = list[tuple[bytes, bytes]]
_JSON = (b"content-type", b"application/json")
_SSE = [(b"content-type", b"text/event-stream; charset=utf-8"), (b"cache-control", b"no-cache")]
_OPENAI = [(b"openai-version", b"2020-10-01"), (b"openai-organization", b"org-mock")]
_OVERRIDES = {b"x-mock-latency-ms": "latency_ms", b"x-mock-ttft-ms": "ttft_ms", b"x-mock-itl-ms": "itl_ms",
              b"x-mock-output-tokens": "output_tokens"}
_FAULT_VALUES = (*FAULT_KINDS, "none")


def _number(value: bytes) -> float:
    try:
        return float(value)
    except ValueError:
        return math.nan


def _override_error(header: bytes, value: float) -> str | None:
    """What an `x-mock-*` value must be, when it is not: a NaN, an infinite or a huge latency would hang the
    mock, and a huge output would make it build the answer."""
    if header == b"x-mock-output-tokens":
        if value.is_integer() and 1 <= value <= protocol.MAX_COMPLETION_TOKENS:
            return None
        return f"an integer within [1, {protocol.MAX_COMPLETION_TOKENS}]"
    if 0.0 <= value <= protocol.MAX_OVERRIDE_MS:  # False for NaN
        return None
    return f"a number of ms within [0, {protocol.MAX_OVERRIDE_MS:g}]"


@dataclass(slots=True)
class Plan:
    """What to send and when. Times are seconds after the request's arrival.

    Non-streaming: `body` at `at_s`. Streaming: `events[i]` at `event_at(i)`.
    `fault` is the part the executor must act out: "drop" (close at `at_s`), "cut" (close after
    `cut_at` bytes or events) or "hang" (wait `hang_s` or until the client leaves, then answer).
    `record` is None for control endpoints, which are not counted.
    """

    status: int
    headers: Headers
    body: bytes = b""
    at_s: float = 0.0
    events: list[bytes] | None = None
    timeline: Timeline | None = None
    fault: str | None = None
    cut_at: int = 0
    hang_s: float = 0.0
    record: dict[str, Any] | None = None

    def event_at(self, i: int) -> float:
        tl = self.timeline
        assert tl is not None
        return tl.ttft_s if i == 0 else tl.token_at(min(i - 1, tl.tokens))


def _json_plan(status: int, body: bytes, record: dict[str, Any] | None = None,
               extra: Headers | None = None) -> Plan:
    headers = [_JSON, (b"content-length", b"%d" % len(body))]
    if extra:
        headers += extra
    return Plan(status, headers, body, record=record)


class MockEngine:
    def __init__(self, config: MockConfig, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.config = config
        self.clock = clock
        self.stats = Stats(config.recent_requests)
        self.latency = LatencyModel(config)
        self.faults = FaultPicker(config)
        self.limiter = RateLimiter(config.limits, clock())
        self.started_at = time.time()
        self._key = b"Bearer " + config.require_key.encode() if config.require_key else None
        self._models = protocol.models_body(config.model)
        self._seq = 0

    def reset(self) -> None:
        """Zero the counters and rate-limit budgets and re-seed the RNGs: a fresh mock for a new scenario."""
        self.stats.reset()
        self.limiter.reset(self.clock())
        self.latency.reseed()
        self.faults.reseed()

    # -- the answer path --------------------------------------------------------------------------------

    def plan(self, method: str, path: str, headers: Iterable[tuple[bytes, bytes]], body: bytes) -> Plan:
        if path.startswith("/mock/"):
            return self._control(method, path)
        stats = self.stats
        self._seq += 1
        seq = self._seq
        auth = None
        found: dict[str, float] = {}
        forced: str | None = None
        retry_count: str | None = None
        bad: str | None = None
        for name, value in headers:
            if name == b"authorization":
                auth = value
            elif name.startswith(b"x-"):
                if name in _OVERRIDES:
                    number = _number(value)
                    if (need := _override_error(name, number)) is None:
                        found[_OVERRIDES[name]] = number
                    else:
                        bad = f"{name.decode()} must be {need}, got {value.decode('latin-1')!r}"
                elif name == b"x-mock-fault":
                    forced = value.decode("latin-1")
                    if forced not in _FAULT_VALUES:
                        bad = f"x-mock-fault must be one of {', '.join(_FAULT_VALUES)}, got {forced!r}"
                elif name == b"x-stainless-retry-count":
                    retry_count = value.decode("latin-1")
        record = {"seq": seq, "method": method, "path": path, "arrival": stats.begin(),
                  "retry_count": retry_count}
        if path == "/v1/chat/completions" and method == "POST":
            route = "chat"
        elif path == "/v1/models" and method == "GET":
            route = "models"
        elif path.startswith("/v1/models/") and method == "GET":
            route = "model"
        else:
            return self._error(protocol.not_found(method, path), record)
        if self._key is not None and auth != self._key:
            return self._error(protocol.auth_error(auth is not None), record)
        if route == "models":
            return _json_plan(200, self._models, record)
        if route == "model":
            return _json_plan(200, json.dumps(protocol.model_object(path[len("/v1/models/"):])).encode(),
                              record)
        if bad is not None:
            return self._error(protocol.ApiError(400, bad), record)
        req = protocol.parse_chat_request(body)
        if isinstance(req, protocol.ApiError):
            return self._error(req, record)
        return self._chat(req, seq, Overrides(
            found.get("latency_ms"), found.get("ttft_ms"), found.get("itl_ms"),
            int(found["output_tokens"]) if "output_tokens" in found else None), forced, record)

    def _chat(self, req: protocol.ChatRequest, seq: int, ov: Overrides, forced: str | None,
              record: dict[str, Any]) -> Plan:
        cfg, stats = self.config, self.stats
        n = max(1, ov.output_tokens or req.max_tokens or cfg.output_tokens)
        limit_headers: Headers = []
        if self.limiter.enabled:
            rejected = self.limiter.admit(req.prompt_tokens + n, self.clock())
            limit_headers = self.limiter.headers()
            if rejected is not None:
                stats.rate_limited += 1
                extra = limit_headers
                if rejected.retry_after_s is not None:
                    extra = retry_after_headers(rejected.retry_after_s) + limit_headers
                    record["retry_after_ms"] = round(rejected.retry_after_s * 1000.0, 3)
                err = protocol.rate_limit_error(rejected.message(req.model), rejected.bucket.unit)
                return _json_plan(429, err.body(), record, extra)
        fault = self.faults.pick(forced)
        if fault is not None:
            stats.faults[fault] += 1
            record["fault"] = fault
        tl = self.latency.timeline(n, ov)
        at_s = tl.ttft_s if req.stream else tl.total_s
        req_id = b"chatcmpl-mock%d" % seq
        common = [(b"x-request-id", b"req_mock%d" % seq),
                  (b"openai-processing-ms", b"%d" % int(at_s * 1000.0)), *_OPENAI, *limit_headers]
        stats.tokens_in += req.prompt_tokens
        record["stream"] = req.stream
        if fault == "5xx":
            plan = _json_plan(cfg.fault_5xx_status, protocol.server_error(cfg.fault_5xx_status).body(),
                              record, common)
            plan.at_s = at_s
            return plan
        stats.tokens_out += n
        model_json = json.dumps(req.model).encode()
        created = int(time.time())
        if req.stream:
            stats.streams += 1
            events = protocol.stream_events(req_id, created, model_json, req.prompt_tokens, n,
                                            req.include_usage)
            if fault == "malformed":
                events[1 + n // 2] = protocol.malformed_event(req_id)
            plan = Plan(200, _SSE + common, events=events, timeline=tl, at_s=at_s, record=record)
            plan.cut_at = 1 + n // 2  # events sent before a cut: the role delta and half the tokens
        else:
            body = protocol.completion_body(req_id, created, model_json, req.prompt_tokens, n)
            if fault == "malformed":
                body = body[: len(body) // 2]
            plan = _json_plan(200, body, record, common)
            plan.at_s = at_s
            plan.cut_at = len(body) // 2
        if fault in ("drop", "cut", "hang"):
            plan.fault = fault
            plan.hang_s = cfg.hang_seconds
        return plan

    def _error(self, err: protocol.ApiError, record: dict[str, Any]) -> Plan:
        if err.status == 400:
            self.stats.bad_requests += 1
        return _json_plan(err.status, err.body(), record)

    # -- control endpoints (not counted) ----------------------------------------------------------------

    def _control(self, method: str, path: str) -> Plan:
        if path == "/mock/health" and method == "GET":
            return _json_plan(200, b'{"status":"ok"}')
        if path == "/mock/openapi.json" and method == "GET":
            return _json_plan(200, description_json())
        if path == "/mock/stats" and method == "GET":
            return _json_plan(200, json.dumps(self.snapshot()).encode())
        if path == "/mock/requests" and method == "GET":
            return _json_plan(200, json.dumps(list(self.stats.recent)).encode())
        if path == "/mock/reset" and method == "POST":
            self.reset()
            return _json_plan(200, b'{"reset":true}')
        return _json_plan(404, protocol.not_found(method, path).body())

    def snapshot(self) -> dict[str, Any]:
        out = self.stats.snapshot()
        out["pid"] = os.getpid()
        out["uptime_s"] = round(time.time() - self.started_at, 3)
        out["config"] = self.config.public_dict()
        return out
