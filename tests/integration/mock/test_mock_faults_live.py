"""Each fault, acted out by the real server, fails the real SDK the way a real one does and is counted;
seeded fault rates repeat; a hanging request does not keep the server from stopping."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest
from openai.types.chat import ChatCompletionMessageParam

from bench.mock.config import MockConfig
from bench.mock.process import MockServer, running_mock

pytestmark = pytest.mark.integration
MSG: list[ChatCompletionMessageParam] = [{"role": "user", "content": "hi"}]


@pytest.fixture(scope="module")
def server() -> Iterator[MockServer]:
    with running_mock(MockConfig(latency_ms=20, hang_seconds=600)) as s:
        yield s


def _settled(server: MockServer, deadline_s: float = 5.0) -> dict[str, Any]:
    """Stats once nothing is in flight (the server notices a client's disconnect a moment later)."""
    end = time.monotonic() + deadline_s
    while True:
        stats = server.stats()
        if stats["in_flight"] == 0 or time.monotonic() > end:
            return stats
        time.sleep(0.05)


@pytest.mark.parametrize(("fault", "stream", "error", "outcome"), [
    ("5xx", False, openai.InternalServerError, "500"),
    ("drop", False, openai.APIConnectionError, "dropped"),
    ("drop", True, openai.APIConnectionError, "dropped"),
    ("cut", False, openai.APIConnectionError, "cut"),
    ("cut", True, openai.APIConnectionError, "cut"),
    ("malformed", False, ValueError, "200"),
    ("malformed", True, ValueError, "200"),
    ("hang", False, openai.APITimeoutError, "client_disconnected"),
])
def test_each_fault_fails_the_sdk_and_is_counted(server: MockServer, fault: str, stream: bool,
                                                 error: type[Exception], outcome: str) -> None:
    server.reset()
    client = openai.OpenAI(base_url=server.api_base, api_key="k", max_retries=0, timeout=0.5)
    with pytest.raises(error):
        resp = client.chat.completions.create(model="m", messages=MSG, stream=stream,
                                              extra_headers={"x-mock-fault": fault})
        if stream:
            list(resp)  # type: ignore[arg-type]
    stats = _settled(server)
    assert stats["faults"][fault] == 1
    ended = {**stats["answered_by_status"], **{k: v for k, v in stats["outcomes"].items() if v}}
    assert ended == {outcome: 1}
    assert stats["received"] == 1 and stats["in_flight"] == 0


def test_sdk_retries_5xx_and_drops_and_every_attempt_is_counted(server: MockServer) -> None:
    server.reset()
    client = openai.OpenAI(base_url=server.api_base, api_key="k", max_retries=2)
    with pytest.raises(openai.InternalServerError):
        client.chat.completions.create(model="m", messages=MSG, extra_headers={"x-mock-fault": "5xx"})
    stats = _settled(server)
    assert stats["received"] == 3 and stats["answered_by_status"] == {"500": 3}
    assert [r["retry_count"] for r in server.requests()] == ["0", "1", "2"]


def _fault_sequence(seed: int) -> list[Any]:
    config = MockConfig(seed=seed, fault_5xx_rate=0.1, fault_drop_rate=0.1, fault_cut_rate=0.1,
                        fault_malformed_rate=0.1, fault_hang_rate=0.1, hang_seconds=0.05)
    with running_mock(config) as s, httpx.Client(base_url=s.api_base, timeout=5) as client:
        for _ in range(40):  # one at a time: the arrival order, and so the draws, are fixed
            with contextlib.suppress(httpx.HTTPError):
                client.post("/chat/completions", json={"model": "m", "messages": MSG})
        stats = _settled(s)
        assert stats["received"] == 40 and stats["ended"] == 40
        assert sum(stats["faults"].values()) >= 8
        assert stats["outcomes"]["dropped"] == stats["faults"]["drop"]
        assert stats["outcomes"]["cut"] == stats["faults"]["cut"]
        return [r.get("fault") for r in s.requests()]


def test_seeded_fault_rates_repeat_across_server_runs() -> None:
    assert _fault_sequence(5) == _fault_sequence(5)


def test_a_hanging_request_does_not_keep_the_server_from_stopping() -> None:
    errors: list[BaseException] = []

    def hang(url: str) -> None:
        try:
            httpx.post(url, json={"model": "m", "messages": MSG}, headers={"x-mock-fault": "hang"}, timeout=60)
        except httpx.HTTPError as exc:
            errors.append(exc)

    with running_mock(MockConfig(hang_seconds=600)) as s:
        thread = threading.Thread(target=hang, args=(s.api_base + "/chat/completions",), daemon=True)
        thread.start()
        while s.stats()["in_flight"] == 0:
            time.sleep(0.02)
        t0 = time.monotonic()
    assert time.monotonic() - t0 < 10
    thread.join(5)
    assert errors and not thread.is_alive()
