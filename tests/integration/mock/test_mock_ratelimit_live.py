"""429s with OpenAI's headers from the real server, and the openai SDK backing off by them."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import openai
import pytest
from openai.types.chat import ChatCompletionMessageParam

from bench.mock.config import MockConfig
from bench.mock.process import MockServer, running_mock

pytestmark = pytest.mark.integration
MSG: list[ChatCompletionMessageParam] = [{"role": "user", "content": "hi"}]
BODY = {"model": "gpt-4o-mini", "messages": MSG}


@pytest.fixture(scope="module")
def limited() -> Iterator[MockServer]:
    # 0.4 rps: one request, then one every 2.5 s, far from the SDK's own 0.5-1 s backoff
    with running_mock(MockConfig(rps=0.4)) as server:
        yield server


def test_a_burst_over_the_limit_gets_429s_with_headers(limited: MockServer) -> None:
    limited.reset()

    async def burst() -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=limited.api_base, timeout=10) as client:
            return await asyncio.gather(*(client.post("/chat/completions", json=BODY) for _ in range(5)))

    resps = asyncio.run(burst())
    assert sorted(r.status_code for r in resps) == [200, 429, 429, 429, 429]
    refused = next(r for r in resps if r.status_code == 429)
    assert refused.json()["error"]["code"] == "rate_limit_exceeded"
    assert refused.json()["error"]["type"] == "requests"
    assert "Please try again in" in refused.json()["error"]["message"]
    h = refused.headers
    assert h["retry-after"] == "3"
    assert 2000 <= int(h["retry-after-ms"]) <= 2500
    assert h["x-ratelimit-limit-requests"] == "1"
    assert h["x-ratelimit-remaining-requests"] == "0"
    assert h["x-ratelimit-reset-requests"].endswith("s")
    stats = limited.stats()
    assert stats["rate_limited"] == 4 and stats["answered_by_status"] == {"200": 1, "429": 4}


def test_the_sdk_waits_retry_after_ms_before_retrying(limited: MockServer) -> None:
    limited.reset()
    client = openai.OpenAI(base_url=limited.api_base, api_key="k", max_retries=3)
    client.chat.completions.create(**BODY)  # type: ignore[call-overload]
    resp = client.chat.completions.create(**BODY)  # type: ignore[call-overload]  # 429 first, then a retry
    assert resp.choices[0].message.content
    records = limited.requests()
    assert [r["outcome"] for r in records] == [200, 429, 200]
    refused, retry = records[1], records[2]
    assert (refused["retry_count"], retry["retry_count"]) == ("0", "1")  # the SDK's x-stainless-retry-count
    waited_ms = (retry["arrival"] - refused["end"]) * 1000
    # the SDK's own backoff would be 0.375-0.5 s; it waited what the mock asked for (~2.5 s)
    assert refused["retry_after_ms"] * 0.95 <= waited_ms <= refused["retry_after_ms"] + 1000


def test_seed_tier_1_and_token_budgets() -> None:
    with running_mock(MockConfig(tier="tier-1", tpm=400)) as server:
        client = openai.OpenAI(base_url=server.api_base, api_key="k", max_retries=0)
        for _ in range(3):
            client.chat.completions.create(**BODY, max_tokens=10)  # type: ignore[call-overload]
        with pytest.raises(openai.RateLimitError) as info:
            client.chat.completions.create(**BODY, max_tokens=10)  # type: ignore[call-overload]
        headers = info.value.response.headers
        assert headers["x-ratelimit-limit-requests"] == "3"
        assert 19_000 <= int(headers["retry-after-ms"]) <= 20_000
        assert headers["x-ratelimit-limit-tokens"] == "400"
        assert int(headers["x-ratelimit-remaining-tokens"]) < 400
        server.reset()
        with pytest.raises(openai.RateLimitError) as too_big:
            client.chat.completions.create(**BODY, max_tokens=1000)  # type: ignore[call-overload]
        assert too_big.value.body["type"] == "tokens"  # type: ignore[index]
        assert "Request too large" in too_big.value.message
        assert "retry-after" not in too_big.value.response.headers
