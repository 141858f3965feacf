"""A user's app as a child server (bench/servers/target.py + bench/inject): started under uvicorn on a free port with
the instrumentation injected, its upstream redirected to the mock through the environment only, its figures read per
worker on the reserved prefix; a target that cannot be served, or has no route to call, is one line (exit 2)."""

from __future__ import annotations

import concurrent.futures
import textwrap
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bench.errors import UsageError
from bench.mock.config import MockConfig
from bench.mock.process import MockServer, running_mock
from bench.run.target import UserTarget, discover
from bench.servers.target import TargetSpec, running_target
from scenarios.request_spec import parse_request

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def mock() -> Iterator[MockServer]:
    with running_mock(MockConfig(latency_ms=50.0)) as server:
        yield server


def _app(directory: Path, name: str, source: str) -> Path:
    (directory / f"{name}.py").write_text(textwrap.dedent(source), encoding="utf-8")
    return directory


def test_the_blocking_example_is_served_and_read_per_worker(mock: MockServer) -> None:
    spec = TargetSpec("examples.blocking_openai:app", watch=("openai:OpenAI",))
    with running_target(spec, mock.api_base) as app:
        app.reset()
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            codes = list(pool.map(lambda _: httpx.post(app.url + "/chat", json={"message": "hi"}, timeout=30)
                                  .status_code, range(8)))
        assert codes == [200] * 8
        (stats,) = app.per_worker(blocks=10, sites=5)
        assert stats["pid"] == app.pid and stats["requests_total"] == 8
        watched = stats["watched"]["openai:OpenAI"]
        assert watched["constructions"] >= 1 and watched["sites"][0]["site"].startswith(
            "examples/blocking_openai.py:") and watched["sites"][0]["function"] == "get_client"
        own = [s for s in stats["blocked"]["sites"] if s["own_code"]]
        assert own and own[0]["function"] == "chat" and "chat.completions.create" in own[0]["code"]
        assert mock.stats()["received"] >= 8  # the SDK's default base URL was redirected to the mock


def test_several_workers_each_answer_with_their_own_figures(mock: MockServer) -> None:
    spec = TargetSpec("examples.async_openai:app", watch=("openai:AsyncOpenAI",), workers=2)
    with running_target(spec, mock.api_base, workers=2) as app:
        stats = app.per_worker()
        assert len({s["pid"] for s in stats}) == 2 == len(app.worker_pids)
        assert all(s["watched"]["openai:AsyncOpenAI"]["constructions"] == 1 for s in stats)  # each its lifespan's


def test_the_users_env_reaches_the_app(tmp_path: Path, mock: MockServer) -> None:
    _app(tmp_path, "envapp", """
        import os
        from fastapi import FastAPI

        app = FastAPI()

        @app.post("/env")
        async def env() -> dict:
            return {k: os.environ.get(k) for k in ("MY_SETTING", "OPENAI_BASE_URL", "OPENAI_API_BASE")}
    """)
    spec = TargetSpec("envapp:app", app_dir=str(tmp_path), env=(("MY_SETTING", "from-flag"),))
    with running_target(spec, mock.api_base) as app:
        seen = httpx.post(app.url + "/env", timeout=10).json()
    assert seen == {"MY_SETTING": "from-flag", "OPENAI_BASE_URL": mock.api_base, "OPENAI_API_BASE": mock.api_base}


@pytest.mark.parametrize(("source", "ref", "message"), [
    ("raise RuntimeError('no config')\n", "brokenapp:app", r"importing brokenapp failed: RuntimeError: no config"),
    ("x = 1\n", "brokenapp:app", "module brokenapp has no attribute 'app'"),
    (None, "not_there_at_all:app", "cannot import 'not_there_at_all'"),
])
def test_an_app_that_does_not_import_is_one_line(tmp_path: Path, mock: MockServer, source: str | None, ref: str,
                                                 message: str) -> None:
    if source is not None:
        _app(tmp_path, "brokenapp", source)
    with pytest.raises(UsageError, match=message) as info, \
            running_target(TargetSpec(ref, app_dir=str(tmp_path)), mock.api_base, deadline_s=30):
        pass
    assert "\n" not in str(info.value)


ROUTES = """
    from fastapi import FastAPI
    from pydantic import BaseModel

    app = FastAPI()

    class In(BaseModel):
        question: str

    @app.get("/health")
    def health() -> dict:
        return {"ok": True}
"""


def test_discovery_derives_the_one_post_route(tmp_path: Path) -> None:
    _app(tmp_path, "oneroute", ROUTES + """
    @app.post("/ask")
    async def ask(body: In) -> dict:
        return {"answer": body.question}
    """)
    found = discover(UserTarget(TargetSpec("oneroute:app", app_dir=str(tmp_path))))
    assert found.request is not None and found.request.text().startswith('POST /ask {"question": "Hello!')
    assert found.routes == ("POST /ask",)


@pytest.mark.parametrize(("extra", "request_text", "message"), [
    ("", None, "has no POST route with a JSON body"),
    ("""
    @app.post("/a")
    async def a(body: In) -> dict:
        return {}

    @app.post("/b")
    async def b(body: In) -> dict:
        return {}
    """, None, r"has 2 POST routes with a JSON body \(POST /a, POST /b\); choose one with --request"),
    ("""
    @app.post("/a")
    async def a(body: In) -> dict:
        return {}
    """, 'POST /a {"wrong": 1}', r"POST /a \(the request\) answered 422"),
])
def test_discovery_that_finds_nothing_to_call_is_one_line(tmp_path: Path, extra: str, request_text: str | None,
                                                          message: str) -> None:
    _app(tmp_path, "routes", ROUTES + extra)
    target = UserTarget(TargetSpec("routes:app", app_dir=str(tmp_path)),
                        request=parse_request(request_text) if request_text else None)
    with pytest.raises(UsageError, match=message) as info:
        discover(target)
    assert "\n" not in str(info.value)
