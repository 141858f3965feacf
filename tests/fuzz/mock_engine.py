"""Hypothesis against the mock's engine, the part its server and its twin share (no I/O, so many inputs a
second): any chat completions body, any `x-mock-*` header values, under every seeded fault.

Every input must get a plan (the engine never raises: on the server that is a 500); no plan may wait a NaN, an
infinite or a negative time (on the server that is a hang or a crash); a 200 carries a chat completion (or
SSE chunks ending in `[DONE]`) of at most MAX_COMPLETION_TOKENS tokens unless a fault was drawn; a 5xx only
as a drawn fault; anything else is a 400 or 404 with OpenAI's error body.
"""

from __future__ import annotations

import json
import math
import time
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st

from bench.mock.config import MockConfig
from bench.mock.engine import MockEngine, Plan
from bench.mock.protocol import MAX_COMPLETION_TOKENS, ROLES
from tests.fuzz.figures import Figures

CONFIG = MockConfig(latency_ms=0, fault_5xx_rate=0.05, fault_hang_rate=0.05, fault_drop_rate=0.05,
                    fault_cut_rate=0.05, fault_malformed_rate=0.05, seed=1)
ENDPOINT = "/v1/chat/completions"

_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3), max_leaves=8)
# Valid requests, so that most inputs get past validation to the answer path...
_PART = st.fixed_dictionaries({"type": st.just("text"), "text": st.text(max_size=20)})
_CONTENT = st.text(max_size=40) | st.lists(_PART, min_size=1, max_size=3)
_GOOD_MESSAGE = (st.fixed_dictionaries({"role": st.sampled_from(["system", "user", "tool", "developer"]),
                                        "content": _CONTENT})
                 | st.fixed_dictionaries({"role": st.sampled_from(["assistant", "function"])},
                                         optional={"content": _CONTENT | st.none()}))
_GOOD_TOKENS = st.integers(1, 64) | st.just(MAX_COMPLETION_TOKENS)
_GOOD = st.fixed_dictionaries(
    {"model": st.text(max_size=12), "messages": st.lists(_GOOD_MESSAGE, min_size=1, max_size=3)},
    optional={"max_tokens": _GOOD_TOKENS, "max_completion_tokens": _GOOD_TOKENS, "temperature": st.floats(0, 2),
              "stream": st.booleans()})
_STREAM_OPTIONS = st.fixed_dictionaries({}, optional={"include_usage": st.booleans()})
_GOOD_STREAM = st.builds(lambda r, extra: {**r, "stream": True, **extra}, _GOOD,
                         st.fixed_dictionaries({}, optional={"stream_options": _STREAM_OPTIONS}))
# ...and anything at all in every field.
_ANY_TOKENS = st.integers() | st.floats() | _JSON
_ANY_MESSAGE = st.fixed_dictionaries({"role": st.sampled_from(ROLES) | _JSON}, optional={
    "content": _CONTENT | st.lists(st.dictionaries(st.sampled_from(["type", "text"]), _JSON) | _JSON, max_size=3)
    | _JSON})
_ANY = st.fixed_dictionaries(
    {"model": st.text(max_size=12) | _JSON, "messages": st.lists(_ANY_MESSAGE | _JSON, max_size=3) | _JSON},
    optional={"max_tokens": _ANY_TOKENS, "max_completion_tokens": _ANY_TOKENS, "stream": st.booleans() | _JSON,
              "stream_options": st.fixed_dictionaries({}, optional={"include_usage": _JSON}) | _JSON,
              "temperature": st.floats() | _JSON})
BODIES = st.one_of(*[s.map(lambda r: json.dumps(r).encode()) for s in (_GOOD, _GOOD, _GOOD_STREAM, _ANY, _JSON)],
                   st.binary(max_size=40))

_GOOD_MS = st.floats(0, 50).map(repr) | st.integers(0, 50).map(str)
_ANY_VALUE = (st.floats().map(repr) | st.integers(-(10**20), 10**20).map(str)
              | st.sampled_from(["nan", "inf", "-inf", "1e309", "", " 5 ", "0x10", "1_0", "16384.0", "16385"])
              | st.text(st.characters(min_codepoint=32, max_codepoint=255), max_size=10))
_MOCK_HEADERS = (b"x-mock-latency-ms", b"x-mock-ttft-ms", b"x-mock-itl-ms", b"x-mock-output-tokens", b"x-mock-fault")
_GOOD_HEADERS = st.fixed_dictionaries({}, optional={
    b"x-mock-latency-ms": _GOOD_MS, b"x-mock-ttft-ms": _GOOD_MS, b"x-mock-itl-ms": _GOOD_MS,
    b"x-mock-output-tokens": st.integers(1, 64).map(str),
    b"x-mock-fault": st.sampled_from(["5xx", "hang", "drop", "cut", "malformed", "none"])})
_ANY_HEADERS = st.dictionaries(st.sampled_from(_MOCK_HEADERS), _ANY_VALUE, max_size=3)
HEADERS = st.one_of(st.just({}), _GOOD_HEADERS, _ANY_HEADERS).map(
    lambda h: {k: v.encode("latin-1") for k, v in h.items()})


def fuzz_mock_engine(*, examples: int, seed: int = 0) -> Figures:
    figures = Figures("mock-engine")
    engine = MockEngine(CONFIG)
    started = time.monotonic()

    @hypothesis_seed(seed)
    @settings(max_examples=examples, deadline=None, database=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(headers=HEADERS, body=BODIES)
    def one(headers: dict[bytes, bytes], body: bytes) -> None:
        figures.examples += 1
        t0 = time.monotonic()
        case = f"headers={headers!r} body={body[:120]!r}"
        try:
            plan = engine.plan("POST", ENDPOINT, list(headers.items()), body)
        except Exception as exc:
            figures.server_errors.append(f"{type(exc).__name__}: {exc} for {case}")
            return
        finally:
            figures.slowest_s = max(figures.slowest_s, time.monotonic() - t0)
        _check(plan, case, figures)

    one()
    figures.violations = sorted(set(figures.violations))
    figures.elapsed_s = time.monotonic() - started
    return figures


def _waits(plan: Plan) -> list[float]:
    waits = [plan.at_s, plan.hang_s]
    if plan.timeline is not None:
        waits += [plan.timeline.ttft_s, plan.timeline.itl_s, plan.timeline.total_s]
    return waits


def _check(plan: Plan, case: str, figures: Figures) -> None:
    if any(not math.isfinite(w) or w < 0 for w in _waits(plan)):
        figures.hangs.append(f"waits {_waits(plan)} for {case}")
    fault = (plan.record or {}).get("fault")
    if fault is not None:
        figures.injected += 1
        return
    if plan.status >= 500:
        figures.server_errors.append(f"{plan.status} without a drawn fault for {case}")
    elif plan.status == 200:
        try:
            problem = _completion_problem(plan)
        except (ValueError, KeyError, TypeError) as exc:
            problem = f"answer does not parse ({type(exc).__name__}: {exc})"
        if problem:
            figures.violations.append(f"200 {problem} for {case}")
    elif plan.status in (400, 404):
        error = json.loads(plan.body).get("error", {})
        if not (isinstance(error.get("message"), str) and set(error) == {"message", "type", "param", "code"}):
            figures.violations.append(f"{plan.status} without OpenAI's error body for {case}")
    else:
        figures.violations.append(f"unexpected status {plan.status} for {case}")


def _completion_problem(plan: Plan) -> str | None:
    if plan.events is None:
        body: Any = json.loads(plan.body)
        tokens = body["usage"]["completion_tokens"]
        if body.get("object") != "chat.completion" or not body.get("choices"):
            return "body is not a chat completion"
    else:
        chunks = b"".join(plan.events).split(b"\n\n")
        if chunks[-2:] != [b"data: [DONE]", b""]:
            return "stream does not end in [DONE]"
        parsed = [json.loads(c[len(b"data: "):]) for c in chunks[:-2]]
        if any(p.get("object") != "chat.completion.chunk" for p in parsed):
            return "stream carries something else than chunks"
        tokens = len(plan.events) - 2
    return f"{tokens} tokens, above {MAX_COMPLETION_TOKENS}" if tokens > MAX_COMPLETION_TOKENS else None
