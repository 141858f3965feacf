"""`bench serve` with the embedded mock: it answers, and SIGTERM or Ctrl-C stops the mock with it."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time

import httpx
import psutil
import pytest

from tests.support.children import kill_leftovers, signal_and_survivors

pytestmark = pytest.mark.integration


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_serve_stops_its_embedded_mock(sig: signal.Signals) -> None:
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "bench", "serve", "--variant", "locked", "--port", str(port),
                             "--mock-latency-ms", "50"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    children: list[psutil.Process] = []
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        reply = httpx.post(f"http://127.0.0.1:{port}/api/chat", json={"message": "hi"}, timeout=30)
        assert reply.status_code == 200
        stats = httpx.get(f"http://127.0.0.1:{port}/api/debug/stats", timeout=5).json()
        assert stats["constructions"] == 1 and stats["variant"] == "locked"
        children = psutil.Process(proc.pid).children(recursive=True)
        assert children, "the embedded mock should be a child process"
        alive = signal_and_survivors(proc, children, sig)
        assert not alive, f"left running: {[p.pid for p in alive]}"
    finally:
        kill_leftovers(proc, children)
