"""The real model server: it answers under its alias, `max_tokens` bounds a reply, the app under test talks
to it, two concurrent streams both carry text (the `--interrupt_requests False` trap), and stopping it
leaves no process behind."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import httpx
import psutil
import pytest

from bench.run.backends import Backend
from bench.servers import localllm
from bench.servers.app import running_app

pytestmark = [pytest.mark.local_llm, pytest.mark.timeout(180)]


def _stream_text(api_base: str, model: str, start: threading.Barrier) -> tuple[str, bool]:
    """One streamed chat completion: (the text of its deltas, whether it ended with [DONE])."""
    body = {"model": model, "stream": True, "max_tokens": 16,
            "messages": [{"role": "user", "content": "Name three colours."}]}
    text, done = [], False
    start.wait(timeout=10)
    with httpx.stream("POST", api_base + "/chat/completions", json=body, timeout=60) as resp:
        resp.raise_for_status()
        for line in resp.iter_lines():
            if not line.startswith("data: "):
                continue
            data = line.removeprefix("data: ").strip()
            if data == "[DONE]":
                done = True
                continue
            for choice in json.loads(data).get("choices", []):
                text.append(choice.get("delta", {}).get("content") or "")
    return "".join(text), done


def test_serves_the_model_under_its_alias(local_server: localllm.LocalLLMServer) -> None:
    models = httpx.get(local_server.api_base + "/models", timeout=10).json()
    assert [m["id"] for m in models["data"]] == [localllm.ALIAS]
    info = local_server.describe()
    assert info["server_version"] and info["model_file"].endswith(".gguf") and info["serializes"] is True


def test_max_tokens_bounds_the_reply(local_server: localllm.LocalLLMServer) -> None:
    seconds, body = localllm.chat_once(local_server.api_base, local_server.alias, max_tokens=8,
                                       message="Write a long story about the sea.")
    assert 0 < body["usage"]["completion_tokens"] <= 8, body["usage"]
    assert seconds < 30


def test_concurrent_streams_are_not_empty(local_server: localllm.LocalLLMServer) -> None:
    start = threading.Barrier(2)
    results: list[tuple[str, bool]] = []
    errors: list[BaseException] = []

    def one() -> None:
        try:
            results.append(_stream_text(local_server.api_base, local_server.alias, start))
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=one) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    assert len(results) == 2
    for text, done in results:
        assert done and text.strip(), results  # with interrupt_requests on, the first stream ends empty


def test_one_chat_and_one_stream_through_the_app(local_server: localllm.LocalLLMServer, tmp_path: Path) -> None:
    env = Backend("local-llm", model=local_server.alias).app_env()
    with running_app("async", local_server.api_base, env=env, log_dir=str(tmp_path), deadline_s=90) as app:
        reply = httpx.post(app.url + "/api/chat", json={"message": "Say hello."}, timeout=60)
        assert reply.status_code == 200, reply.text
        assert reply.json()["reply"].strip()
        with httpx.stream("POST", app.url + "/api/chat/stream", json={"message": "Say hi."}, timeout=60) as resp:
            assert resp.status_code == 200
            events = [json.loads(line[6:]) for line in resp.iter_lines() if line.startswith("data: ")]
        tokens = "".join(e.get("content", "") for e in events if e["type"] == "token")
        assert tokens.strip() and events[-1]["type"] == "done", events


def test_teardown_leaves_no_process(gguf: Path, tmp_path: Path) -> None:
    with localllm.running_local_llm(str(gguf), log_dir=str(tmp_path), deadline_s=120) as server:
        tree = server.process.tree()
        url = server.api_base
        assert tree and httpx.get(url + "/models", timeout=10).status_code == 200
    _, alive = psutil.wait_procs(tree, timeout=5)
    assert not alive, [p.pid for p in alive]
    with pytest.raises(httpx.ConnectError):
        httpx.get(url + "/models", timeout=5)
