"""Bad requests get what OpenAI sends; keys are required when configured and never leak."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx
import openai
import pytest
from openai.types.chat import ChatCompletionMessageParam

from bench.mock.config import MockConfig
from bench.mock.process import MockServer, running_mock

pytestmark = pytest.mark.integration
MSG: list[ChatCompletionMessageParam] = [{"role": "user", "content": "hi"}]
ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize(("body", "param", "code"), [
    (b"{not json", None, None),
    (json.dumps({"messages": MSG}).encode(), None, None),
    (json.dumps({"model": "m"}).encode(), "messages", "missing_required_parameter"),
    (json.dumps({"model": "m", "messages": "hi"}).encode(), "messages", "invalid_type"),
    (json.dumps({"model": "m", "messages": MSG, "max_tokens": "9"}).encode(), "max_tokens", "invalid_type"),
])
def test_bad_bodies_get_400_invalid_request_error(mock: MockServer, body: bytes, param: str | None,
                                                  code: str | None) -> None:
    resp = httpx.post(mock.api_base + "/chat/completions", content=body,
                      headers={"content-type": "application/json"})
    assert resp.status_code == 400
    err = resp.json()["error"]
    assert set(err) == {"message", "type", "param", "code"}
    assert (err["type"], err["param"], err["code"]) == ("invalid_request_error", param, code)
    assert mock.stats()["bad_requests"] == 1


def test_unknown_path_is_a_json_404(mock: MockServer) -> None:
    resp = httpx.delete(mock.api_base + "/chat/completions")
    assert resp.status_code == 404
    assert resp.json()["error"]["message"] == "Invalid URL (DELETE /v1/chat/completions)"


def test_a_required_key_gives_401_and_never_leaks(tmp_path: Path) -> None:
    key = "sk-mock-secret-4711"
    with running_mock(MockConfig(require_key=key), log_dir=str(tmp_path)) as server:
        for api_key, code in (("sk-wrong", "invalid_api_key"),):
            client = openai.OpenAI(base_url=server.api_base, api_key=api_key, max_retries=0)
            with pytest.raises(openai.AuthenticationError) as info:
                client.chat.completions.create(model="m", messages=MSG)  # type: ignore[arg-type]
            assert info.value.code == code
        assert httpx.get(server.api_base + "/models").status_code == 401
        good = openai.OpenAI(base_url=server.api_base, api_key=key)
        assert good.chat.completions.create(model="m", messages=MSG).choices  # type: ignore[arg-type]
        stats_text = json.dumps(server.stats())
        with open(f"/proc/{server.pid}/cmdline", "rb") as fh:
            cmdline = fh.read().decode()
    assert key not in stats_text and key not in cmdline
    assert all(key not in p.read_text() for p in tmp_path.iterdir())


def test_a_wrong_tier_is_one_line_and_exit_2() -> None:
    proc = subprocess.run([sys.executable, "-m", "bench", "mock", "--tier", "gold"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0
    assert "unknown tier 'gold'; valid: tier-1, tier-2, seed-10rps" in proc.stderr
