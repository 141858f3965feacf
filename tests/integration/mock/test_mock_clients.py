"""`bench mock --latency-ms 200` answers the official openai SDK (sync, async, streaming) and ChatOpenAI
(invoke, ainvoke, stream) through their default HTTP stacks (httpx2 for openai 3.x)."""

from __future__ import annotations

import asyncio
import json
import time

import httpx
import openai
import pytest
from langchain_openai import ChatOpenAI
from openai.types.chat import ChatCompletionMessageParam
from pydantic import SecretStr

from bench.mock.process import MockServer

pytestmark = pytest.mark.integration
MSG: list[ChatCompletionMessageParam] = [{"role": "user", "content": "hi"}]


def test_sync_sdk_waits_the_configured_latency(mock: MockServer) -> None:
    client = openai.OpenAI(base_url=mock.api_base, api_key="k")
    t0 = time.perf_counter()
    resp = client.chat.completions.create(model="gpt-4o-mini", messages=MSG, max_completion_tokens=6)
    elapsed = time.perf_counter() - t0
    assert 0.2 <= elapsed < 1.5
    assert resp.choices[0].message.content == "Lorem ipsum dolor sit amet consectetur"
    assert resp.usage is not None and resp.usage.completion_tokens == 6
    stats = mock.stats()
    assert stats["received"] == 1 and stats["answered_by_status"] == {"200": 1}


def test_async_sdk_runs_concurrently(mock: MockServer) -> None:
    async def main() -> tuple[float, list[str]]:
        client = openai.AsyncOpenAI(base_url=mock.api_base, api_key="k")
        t0 = time.perf_counter()
        resps = await asyncio.gather(*(client.chat.completions.create(model="m", messages=MSG, max_tokens=2)
                                       for _ in range(20)))
        elapsed = time.perf_counter() - t0
        await client.close()
        return elapsed, [r.choices[0].message.content or "" for r in resps]

    elapsed, texts = asyncio.run(main())
    assert texts == ["Lorem ipsum"] * 20
    assert 0.2 <= elapsed < 20 * 0.2 / 2  # far below serial; generous for a busy 2-core machine
    stats = mock.stats()
    assert stats["answered_by_status"] == {"200": 20} and stats["peak_in_flight"] >= 10


def test_sdk_streaming_with_usage(mock: MockServer) -> None:
    client = openai.OpenAI(base_url=mock.api_base, api_key="k")
    t0 = time.perf_counter()
    chunks = list(client.chat.completions.create(model="m", messages=MSG, max_tokens=4, stream=True,
                                                 stream_options={"include_usage": True}))
    assert time.perf_counter() - t0 >= 0.2
    assert chunks[0].choices[0].delta.role == "assistant"
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "Lorem ipsum dolor sit"
    assert chunks[-2].choices[0].finish_reason == "stop"
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens == 4


def test_raw_sse_ends_with_done_and_tokens_are_spaced(mock: MockServer) -> None:
    with httpx.stream("POST", mock.api_base + "/chat/completions", timeout=10,
                      headers={"x-mock-ttft-ms": "100", "x-mock-itl-ms": "50"},
                      json={"model": "m", "messages": MSG, "max_tokens": 4, "stream": True}) as resp:
        assert resp.headers["content-type"].startswith("text/event-stream")
        arrivals = []
        t0 = time.perf_counter()
        for line in resp.iter_lines():
            if line.startswith("data: "):
                arrivals.append((time.perf_counter() - t0, line[6:]))
    assert arrivals[-1][1] == "[DONE]"
    assert json.loads(arrivals[0][1])["choices"][0]["delta"]["role"] == "assistant"
    # first token at ~100 ms, the last content token ~150 ms after it (3 intervals of 50 ms)
    contents = [t for t, data in arrivals if data != "[DONE]" and json.loads(data)["choices"][0]["delta"].get(
        "content")]
    assert len(contents) == 4 and contents[-1] - contents[0] >= 0.14


def test_chat_openai_invoke_and_stream(mock: MockServer) -> None:
    llm = ChatOpenAI(model="gpt-4o-mini", base_url=mock.api_base, api_key=SecretStr("k"), max_tokens=3)  # type: ignore[call-arg]
    t0 = time.perf_counter()
    msg = llm.invoke("hello")
    assert time.perf_counter() - t0 >= 0.2
    assert msg.content == "Lorem ipsum dolor"
    assert msg.usage_metadata is not None and msg.usage_metadata["output_tokens"] == 3
    assert "".join(str(c.content) for c in llm.stream("hello")) == "Lorem ipsum dolor"
    assert mock.stats()["answered_by_status"] == {"200": 2}


def test_chat_openai_ainvoke(mock: MockServer) -> None:
    # A fresh ChatOpenAI on this test's own loop: langchain-openai's cached async client is loop-bound.
    llm = ChatOpenAI(model="gpt-4o-mini", base_url=mock.api_base, api_key=SecretStr("k"), max_tokens=2)  # type: ignore[call-arg]

    async def main() -> list[str]:
        return [str(m.content) for m in await asyncio.gather(*(llm.ainvoke("hi") for _ in range(5)))]

    assert asyncio.run(main()) == ["Lorem ipsum"] * 5


def test_models_and_control_endpoints_are_not_counted(mock: MockServer) -> None:
    client = openai.OpenAI(base_url=mock.api_base, api_key="k")
    assert [m.id for m in client.models.list()] == ["gpt-4o-mini"]
    mock.stats()
    mock.requests()
    stats = mock.stats()
    assert stats["received"] == 1 and stats["answered_by_status"] == {"200": 1}
    assert stats["config"]["latency_ms"] == 200


def test_a_header_overrides_the_latency_per_request(mock: MockServer) -> None:
    llm = ChatOpenAI(model="m", base_url=mock.api_base, api_key=SecretStr("k"),  # type: ignore[call-arg]
                     default_headers={"x-mock-latency-ms": "20"})
    llm.invoke("hi")
    record = mock.requests()[-1]
    assert 0.02 <= record["end"] - record["arrival"] < 0.15  # the server's own setting is 200 ms
