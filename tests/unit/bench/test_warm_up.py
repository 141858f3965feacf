"""The warm-up before a warm step (bench/run/orchestrator.py `_warm_up`): a one-worker app gets its singleton built;
several workers are only checked for readiness, so C7 counts their agents from a cold start."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from bench.errors import ServerStartError
from bench.run import orchestrator
from bench.run.profiles import WARM_UP_REQUESTS, Step


class FakeApp:
    def __init__(self, workers: int, answering: int | None = None) -> None:
        self.url, self.workers = "http://app.invalid", workers
        self.answering = workers if answering is None else answering

    def per_worker(self, **_: Any) -> list[dict[str, Any]]:
        return [{"pid": i, "constructions": 0} for i in range(self.answering)]


@pytest.fixture
def posts(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    sent: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(str(request.url))
        return httpx.Response(200, json={"reply": "hi"})

    real = orchestrator.httpclient.client
    monkeypatch.setattr(orchestrator.httpclient, "client",
                        lambda **kw: real(transport=httpx.MockTransport(handler), **kw))
    return sent


def test_one_worker_is_warmed_with_requests(posts: list[str]) -> None:
    orchestrator._warm_up(FakeApp(1), Step("burst", ("async",), ()))  # type: ignore[arg-type]
    assert posts == ["http://app.invalid/api/chat"] * WARM_UP_REQUESTS


def test_several_workers_are_only_checked_for_readiness(posts: list[str]) -> None:
    orchestrator._warm_up(FakeApp(4), Step("workers", ("async-limited",), (), workers=4))  # type: ignore[arg-type]
    assert posts == []  # no chat request: no worker builds its agent before the measured run


def test_a_worker_that_does_not_answer_stops_the_run(posts: list[str]) -> None:
    with pytest.raises(ServerStartError, match="workers answered"):
        orchestrator._warm_up(FakeApp(4, answering=3), Step("workers", ("a",), (), workers=4))  # type: ignore[arg-type]
    assert posts == []
