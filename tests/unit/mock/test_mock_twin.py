"""The in-process twin: the server's engine behind httpx / httpx2 transports, driven by the real openai SDK
and ChatOpenAI. No sockets, no sleeping (sleep=False) unless a test measures time."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import httpx2
import openai
import pytest
from langchain_openai import ChatOpenAI
from openai.types.chat import ChatCompletionMessageParam
from pydantic import SecretStr

from bench.mock.config import MockConfig
from bench.mock.twin import MockTwin

BASE = "http://mock.test/v1"
MSG: list[ChatCompletionMessageParam] = [{"role": "user", "content": "hi"}]


def _client(twin: MockTwin, **kw: Any) -> openai.OpenAI:
    return openai.OpenAI(base_url=BASE, api_key="k", http_client=httpx2.Client(transport=twin.transport()), **kw)


def _async_client(twin: MockTwin, **kw: Any) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=BASE, api_key="k",
                              http_client=httpx2.AsyncClient(transport=twin.transport()), **kw)


def test_sync_sdk_gets_a_completion_with_usage_and_max_tokens() -> None:
    twin = MockTwin(sleep=False)
    resp = _client(twin).chat.completions.create(model="gpt-4o-mini", messages=MSG, max_completion_tokens=3)
    assert resp.choices[0].message.content == "Lorem ipsum dolor"
    assert resp.usage is not None and resp.usage.completion_tokens == 3
    assert resp.model == "gpt-4o-mini"
    stats = twin.stats()
    assert stats["received"] == 1 and stats["answered_by_status"] == {"200": 1} and stats["in_flight"] == 0


def test_legacy_httpx_clients_work_too() -> None:
    twin = MockTwin(sleep=False)
    # openai 3.x's stubs say httpx2 only; at run time it accepts a legacy httpx client as well.
    legacy = httpx.Client(transport=twin.transport(httpx))
    client = openai.OpenAI(base_url=BASE, api_key="k", http_client=legacy)  # type: ignore[arg-type]
    assert client.chat.completions.create(model="m", messages=MSG, max_tokens=2).usage.completion_tokens == 2  # type: ignore[union-attr]


def test_async_sdk_and_streaming_with_usage() -> None:
    twin = MockTwin(MockConfig(output_tokens=4), sleep=False)

    async def main() -> tuple[str, list[Any]]:
        client = _async_client(twin)
        resp = await client.chat.completions.create(model="m", messages=MSG)
        stream = await client.chat.completions.create(model="m", messages=MSG, stream=True,
                                                      stream_options={"include_usage": True})
        return resp.choices[0].message.content or "", [c async for c in stream]

    text, chunks = asyncio.run(main())
    assert text == "Lorem ipsum dolor sit"
    assert chunks[0].choices[0].delta.role == "assistant"
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == text
    assert chunks[-2].choices[0].finish_reason == "stop"
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens == 4
    assert twin.stats()["answered_by_status"] == {"200": 2}


def test_chat_openai_invoke_stream_and_ainvoke() -> None:
    twin = MockTwin(sleep=False)
    llm = ChatOpenAI(model="gpt-4o-mini", base_url=BASE, api_key=SecretStr("k"), max_tokens=5,  # type: ignore[call-arg]
                     http_client=httpx2.Client(transport=twin.transport()),
                     http_async_client=httpx2.AsyncClient(transport=twin.transport()))
    msg = llm.invoke("hello")
    assert msg.content == "Lorem ipsum dolor sit amet"
    assert msg.usage_metadata is not None and msg.usage_metadata["output_tokens"] == 5
    assert "".join(str(c.content) for c in llm.stream("hello")) == "Lorem ipsum dolor sit amet"
    assert asyncio.run(llm.ainvoke("hello")).content == "Lorem ipsum dolor sit amet"
    sent = [r for r in twin.engine.stats.recent]
    assert [r["stream"] for r in sent] == [False, True, False]


def test_latency_is_honoured_when_sleeping() -> None:
    twin = MockTwin(MockConfig(latency_ms=120))
    t0 = time.perf_counter()
    _client(twin).chat.completions.create(model="m", messages=MSG)
    assert time.perf_counter() - t0 >= 0.12


def test_rate_limit_429_with_openai_headers_and_body() -> None:
    now = [0.0]
    twin = MockTwin(MockConfig(rpm=2), sleep=False, clock=lambda: now[0])
    http = httpx2.Client(transport=twin.transport(), base_url=BASE)
    body = {"model": "m", "messages": MSG}
    assert [http.post("/chat/completions", json=body).status_code for _ in range(2)] == [200, 200]
    resp = http.post("/chat/completions", json=body)
    assert resp.status_code == 429
    assert resp.headers["retry-after"] == "30" and resp.headers["retry-after-ms"] == "30000"
    assert resp.headers["x-ratelimit-limit-requests"] == "2"
    assert resp.headers["x-ratelimit-remaining-requests"] == "0"
    assert resp.headers["x-ratelimit-reset-requests"] == "1m0s"
    err = resp.json()["error"]
    assert (err["type"], err["code"], err["param"]) == ("requests", "rate_limit_exceeded", None)
    now[0] = 30.0
    assert http.post("/chat/completions", json=body).status_code == 200
    stats = twin.stats()
    assert stats["rate_limited"] == 1 and stats["answered_by_status"] == {"200": 3, "429": 1}


def test_sdk_raises_rate_limit_error_without_retries() -> None:
    twin = MockTwin(MockConfig(tier="tier-1"), sleep=False)
    client = _client(twin, max_retries=0)
    for _ in range(3):
        client.chat.completions.create(model="m", messages=MSG)
    with pytest.raises(openai.RateLimitError) as info:
        client.chat.completions.create(model="m", messages=MSG)
    assert info.value.code == "rate_limit_exceeded"
    assert float(info.value.response.headers["retry-after-ms"]) == pytest.approx(20_000, abs=50)


@pytest.mark.parametrize(("fault", "stream", "error", "outcome"), [
    ("5xx", False, openai.InternalServerError, "500"),
    ("drop", False, openai.APIConnectionError, "dropped"),
    ("cut", False, openai.APIConnectionError, "cut"),
    ("cut", True, openai.APIConnectionError, "cut"),
    ("malformed", False, ValueError, "200"),
    ("malformed", True, ValueError, "200"),
    ("hang", False, openai.APITimeoutError, "client_disconnected"),
])
def test_faults_fail_the_sdk_as_real_ones_do_and_are_counted(
        fault: str, stream: bool, error: type[Exception], outcome: str) -> None:
    twin = MockTwin(sleep=False)
    client = _client(twin, max_retries=0, timeout=0.5)
    with pytest.raises(error):
        resp = client.chat.completions.create(model="m", messages=MSG, stream=stream,
                                              extra_headers={"x-mock-fault": fault})
        if stream:
            list(resp)  # type: ignore[arg-type]
    stats = twin.stats()
    assert stats["faults"][fault] == 1
    ended = {**stats["answered_by_status"], **{k: v for k, v in stats["outcomes"].items() if v}}
    assert ended == {outcome: 1}
    assert stats["in_flight"] == 0 and stats["double_ends"] == 0


def test_seeded_fault_rates_are_reproducible() -> None:
    def faults(seed: int) -> list[Any]:
        twin = MockTwin(MockConfig(seed=seed, fault_5xx_rate=0.3, fault_malformed_rate=0.2), sleep=False)
        http = httpx2.Client(transport=twin.transport(), base_url=BASE)
        for _ in range(60):
            http.post("/chat/completions", json={"model": "m", "messages": MSG})
        return [r.get("fault") for r in twin.engine.stats.recent]

    first = faults(11)
    assert first == faults(11) and first != faults(12)
    assert 8 <= first.count("5xx") <= 30 and 4 <= first.count("malformed") <= 22


def test_bad_requests_auth_and_unknown_paths() -> None:
    twin = MockTwin(MockConfig(require_key="sk-right"), sleep=False)
    http = httpx2.Client(transport=twin.transport(), base_url=BASE)
    assert http.post("/chat/completions", json={"model": "m"}).status_code == 401
    wrong = http.post("/chat/completions", json={"model": "m"}, headers={"authorization": "Bearer sk-wrong"})
    assert wrong.status_code == 401 and wrong.json()["error"]["code"] == "invalid_api_key"
    assert "sk-wrong" not in wrong.text and "sk-right" not in wrong.text
    ok = {"authorization": "Bearer sk-right"}
    bad = http.post("/chat/completions", content=b"{oops", headers=ok)
    assert bad.status_code == 400 and bad.json()["error"]["type"] == "invalid_request_error"
    missing = http.get("/nope", headers=ok)
    assert missing.status_code == 404 and missing.json()["error"]["message"] == "Invalid URL (GET /v1/nope)"
    client = openai.OpenAI(base_url=BASE, api_key="sk-right", max_retries=0,
                           http_client=httpx2.Client(transport=twin.transport()))
    with pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(model="m", messages="hi")  # type: ignore[arg-type]
    assert info.value.code == "invalid_type" and info.value.param == "messages"
    assert [m.id for m in client.models.list()] == ["gpt-4o-mini"]
    assert twin.stats()["bad_requests"] == 2


def test_reset_zeroes_counters_and_budgets() -> None:
    twin = MockTwin(MockConfig(rpm=1), sleep=False)
    http = httpx2.Client(transport=twin.transport(), base_url=BASE)
    body = {"model": "m", "messages": MSG}
    assert [http.post("/chat/completions", json=body).status_code for _ in range(2)] == [200, 429]
    assert http.post("/mock/reset").status_code == 404  # control paths live at the root, not under /v1
    control = httpx2.Client(transport=twin.transport(), base_url="http://mock.test")
    assert control.post("/mock/reset").json() == {"reset": True}
    assert control.get("/mock/stats").json()["received"] == 0
    assert http.post("/chat/completions", json=body).status_code == 200
