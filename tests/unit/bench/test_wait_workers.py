"""bench/servers/app.py wait_workers: a worker slow to answer one poll is asked again until the deadline."""

from __future__ import annotations

import itertools
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace
from typing import Any

import pytest

from bench.errors import ServerStartError
from bench.servers.app import wait_workers


def _server(slow_first_s: float, pids: list[int]) -> ThreadingHTTPServer:
    calls = itertools.count()
    cycle = itertools.cycle(pids)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if next(calls) == 0 and slow_first_s:
                time.sleep(slow_first_s)  # longer than the poll's own 2 s timeout
            body = json.dumps({"pid": next(cycle)}).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def test_a_poll_that_times_out_is_asked_again() -> None:
    server = _server(3.0, [101, 102])
    try:
        fake = SimpleNamespace(url=f"http://127.0.0.1:{server.server_address[1]}")
        t0 = time.monotonic()
        assert wait_workers(fake, 2, deadline_s=20.0) == [101, 102]  # type: ignore[arg-type]
        assert time.monotonic() - t0 >= 2.0  # the first poll timed out, and the run went on
    finally:
        server.shutdown()


def test_workers_that_never_all_answer_fail_at_the_deadline() -> None:
    server = _server(0.0, [101])
    try:
        fake = SimpleNamespace(url=f"http://127.0.0.1:{server.server_address[1]}")
        with pytest.raises(ServerStartError, match="only 1 of 2 workers answered"):
            wait_workers(fake, 2, deadline_s=1.0)  # type: ignore[arg-type]
    finally:
        server.shutdown()
