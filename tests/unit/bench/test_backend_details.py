"""Backend details that decide what a run records and how long it waits: credentials stay out of results,
a serializing backend stretches the client timeout, and the max_tokens copy is off for OpenAI."""

from __future__ import annotations

import pytest

from bench.run.backends import Backend, redact_url
from bench.run.config import RunConfig
from bench.run.profiles import Step
from bench.run.scenario_facts import facts


@pytest.mark.parametrize(("url", "expected"), [
    ("https://user:sk-secret@llm.example/v1", "https://***@llm.example/v1"),
    ("http://127.0.0.1:8080/v1?api-key=sk-secret&x=1", "http://127.0.0.1:8080/v1?api-key=***&x=***"),
    ("http://127.0.0.1:8080/v1", "http://127.0.0.1:8080/v1"),
    ("mock", "mock"),
])
def test_urls_lose_their_credentials(url: str, expected: str) -> None:
    assert redact_url(url) == expected
    assert "sk-secret" not in str(Backend("url", url, api_key="sk-secret").describe())
    assert "sk-secret" not in str(RunConfig(backend=url).to_dict())


def test_a_serializing_backend_waits_for_the_whole_queue() -> None:
    burst = Step("burst", ("async",), (), users=50, latency_ms=100.0)
    assert facts(burst.scenario).client_timeout_s(burst, 50) == 60.0
    assert facts(burst.scenario).client_timeout_s(burst, 50, serial_s=0.5) == 50 * 0.5 * 3 + 60
    steady = Step("steady", ("async",), (), users=50, latency_ms=100.0, duration_s=10.0, rate=20.0)
    assert facts(steady.scenario).client_timeout_s(steady, 50, serial_s=0.5) == 200 * 0.5 * 3 + 60


def test_max_tokens_copy_in_the_body_is_off_for_openai_only() -> None:
    assert Backend("openai", "https://api.openai.com/v1").app_env()["OPENAI_MAX_TOKENS_IN_BODY"] == "0"
    assert "OPENAI_MAX_TOKENS_IN_BODY" not in Backend("url", "http://127.0.0.1:1/v1").app_env()


@pytest.mark.parametrize(("in_body", "expected"), [(True, {"max_tokens": 7}), (False, None)])
def test_the_app_copies_max_tokens_into_the_body_unless_told_not_to(in_body: bool, expected: object) -> None:
    from app_under_test.agent import _build_llm
    from app_under_test.settings import Settings

    s = Settings(openai_api_key="sk-test", openai_max_tokens=7, openai_max_tokens_in_body=in_body)
    llm = _build_llm(s, memory_limiter=False, per_agent_clients=False)
    assert llm.max_tokens == 7 and llm.extra_body == expected
