"""`bench serve --app`: the user's app served instrumented (figures on /__bench__/stats) against the embedded mock,
run from the app's own directory; SIGTERM stops the mock with it; an app that does not import is one line, exit 2."""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil
import pytest

from tests.support.children import kill_leftovers, signal_and_survivors

pytestmark = pytest.mark.integration
EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_runs_a_users_app_from_its_directory(tmp_path: Path) -> None:
    shutil.copy(EXAMPLES / "async_openai.py", tmp_path / "service.py")
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "bench", "serve", "--app", "service:app", "--watch",
                             "openai:AsyncOpenAI", "--port", str(port), "--mock-latency-ms", "20"], cwd=tmp_path,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    children: list[psutil.Process] = []
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/__bench__/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        reply = httpx.post(f"http://127.0.0.1:{port}/chat", json={"message": "hi"}, timeout=30)
        assert reply.status_code == 200 and reply.json()["reply"]
        stats = httpx.get(f"http://127.0.0.1:{port}/__bench__/stats", timeout=5).json()
        assert stats["requests_total"] == 1 and stats["target"] == "service:app"
        assert stats["watched"]["openai:AsyncOpenAI"]["sites"][0]["site"].endswith("service.py:22 lifespan")
        children = psutil.Process(proc.pid).children(recursive=True)
        assert children, "the embedded mock should be a child process"
        alive = signal_and_survivors(proc, children, signal.SIGTERM)
        assert not alive, f"left running: {[p.pid for p in alive]}"
    finally:
        kill_leftovers(proc, children)


def test_serve_a_missing_app_is_one_line(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "bench", "serve", "--app", "nothing_here:app"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1].startswith("bench serve: cannot import 'nothing_here'")
