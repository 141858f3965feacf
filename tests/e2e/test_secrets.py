"""An API key never appears in results, reports, logs, console output or error messages.

Every test runs with a recognisable fake key (`sk-test-LEAKCANARY<random>-<random>`) and searches every file
it made and everything printed for the whole key and for its distinctive middle part: `bench run` against a mock
that requires the key (so a passing run proves the key did reach the app), against an upstream that answers
401 and echoes the key back in its error (the worst an upstream can do), and against an unreachable URL; then
`bench serve` at DEBUG log level, and headless Locust starting the app itself with `--backend URL --model`.
Everything is on loopback: nothing here reaches api.openai.com.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from bench.mock.config import MockConfig
from bench.mock.process import MockServer, running_mock
from bench.results.schema import load_results
from bench.run.cost import prompt_tokens
from bench.servers.process import python_argv, serve
from tests.support.locust_ui import running_locust

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]
ROOT = Path(__file__).resolve().parents[2]
MIDDLE = f"LEAKCANARY{secrets.token_hex(10)}"
KEY = f"sk-test-{MIDDLE}-{secrets.token_hex(6)}"
NEEDLES = (KEY.encode(), MIDDLE.encode())
SMALL = ["--scenarios", "burst", "--variants", "async", "--users", "5", "--repeat", "1", "--latency", "20"]
USERS = 5


def _leaks_in_files(root: Path) -> list[str]:
    """Every file under root (results, reports, charts, logs, runs/**) whose bytes hold the key or its middle."""
    found = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        data = path.read_bytes()
        found += [f"{path.relative_to(root)}: {needle.decode()[:24]}..." for needle in NEEDLES if needle in data]
    return found


def _leaks_in_text(name: str, text: str) -> list[str]:
    return [f"{name}: {needle.decode()[:24]}..." for needle in NEEDLES if needle.decode() in text]


def _bench_run(backend_url: str, out: Path) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "bench", "run", "--backend-url", backend_url, *SMALL, "--out", str(out)]
    env = {**os.environ, "OPENAI_API_KEY": KEY, "PYTHONPATH": str(ROOT)}
    return subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=400, check=False)


def _assert_no_leak(proc: subprocess.CompletedProcess[str], *dirs: Path) -> None:
    leaks = _leaks_in_text("stdout", proc.stdout) + _leaks_in_text("stderr", proc.stderr)
    for d in dirs:
        leaks += _leaks_in_files(d)
    assert leaks == [], leaks
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]


def test_the_search_finds_a_planted_key(tmp_path: Path) -> None:
    """The detector itself: a search that finds nothing must be one that would have found something."""
    (tmp_path / "runs" / "x").mkdir(parents=True)
    (tmp_path / "runs" / "x" / "log.txt").write_bytes(b"...Bearer " + KEY.encode() + b"...")
    (tmp_path / "masked.json").write_text(json.dumps({"key": f"sk-****{MIDDLE}****"}))
    assert len(_leaks_in_files(tmp_path)) == 3
    assert len(_leaks_in_text("err", f"x {MIDDLE} y")) == 1


@pytest.fixture(scope="module")
def keyed_mock(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[MockServer, Path]]:
    """A mock that answers only the fake key: any success proves the key travelled to the app."""
    logs = tmp_path_factory.mktemp("mock-logs")
    with running_mock(MockConfig(latency_ms=20, require_key=KEY), log_dir=str(logs)) as mock:
        yield mock, logs


class _EchoKey401(BaseHTTPRequestHandler):
    """An upstream that refuses every key and echoes it back whole in its error (worse than OpenAI, which
    masks it): whatever the app does with upstream error text, the key is in it."""

    def do_POST(self) -> None:  # http.server calls it by this name
        self.rfile.read(int(self.headers.get("content-length") or 0))
        body = json.dumps({"error": {"message": f"Incorrect API key provided: {self.headers.get('authorization')}",
                                     "type": "invalid_request_error", "code": "invalid_api_key"}}).encode()
        self.send_response(401)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST

    def log_message(self, *_: object) -> None:  # the test's own server: keep its output quiet
        pass


@pytest.fixture
def echo_upstream() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _EchoKey401)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def test_a_run_that_works_shows_no_key_and_records_usage(keyed_mock: tuple[MockServer, Path],
                                                          tmp_path: Path) -> None:
    mock, mock_logs = keyed_mock
    out = tmp_path / "out"
    proc = _bench_run(mock.api_base, out)
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = load_results(out / "results.json")
    [run] = results["runs"]
    assert run["metrics"]["ok"] == USERS, run["metrics"]  # the mock answered: the key reached the app
    assert results["backend"]["api_key_set"] is True
    assert (out / "report.html").exists() and (out / "logs").is_dir() and (out / "runs").is_dir()
    # The cost record: 5 measured calls + 2 warm-ups + the backend probe's planned; the app counted what the
    # upstream reported.
    est = results["cost"]["estimate"]
    assert est["probe_calls"] > 0 and est["calls"] == USERS + 2 + est["probe_calls"] and not est["guarded"]
    assert run["usage"]["calls"] == results["cost"]["actual"]["calls"] == USERS
    assert results["cost"]["actual"]["input_tokens"] == USERS * prompt_tokens("Hello! Please answer in one "
                                                                               "sentence.")
    assert "cost estimate:" in proc.stderr  # a non-mock backend gets the estimate line, never the key
    _assert_no_leak(proc, out, mock_logs)


def test_an_upstream_that_echoes_the_key_in_its_401(echo_upstream: str, tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = _bench_run(echo_upstream, out)
    results = load_results(out / "results.json")
    [run] = results["runs"]
    assert run["metrics"]["ok"] == 0 and run["metrics"]["requests"] == USERS, run["metrics"]
    _assert_no_leak(proc, out)


def test_an_unreachable_backend(tmp_path: Path) -> None:
    with socket.socket() as sock:  # a port that was free a moment ago: nothing listens there
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    out = tmp_path / "out"
    proc = _bench_run(f"http://127.0.0.1:{port}/v1", out)
    # The backend probe finds nothing there before any run starts: one line naming the cause, exit 2.
    assert proc.returncode == 2 and "did not answer" in proc.stderr, proc.stderr[-2000:]
    assert load_results(out / "results.json")["runs"] == []
    _assert_no_leak(proc, out)


def test_bench_serve_at_debug_level(keyed_mock: tuple[MockServer, Path], tmp_path: Path) -> None:
    mock, _ = keyed_mock
    argv = python_argv("bench", "serve", "--variant", "async", "--backend-url", mock.api_base, "--model", "m-canary")
    env = {"OPENAI_API_KEY": KEY, "PYTHONPATH": str(ROOT), "LOG_LEVEL": "DEBUG"}
    with serve("bench-serve", argv, probe_path="/healthz", env=env, log_dir=str(tmp_path), deadline_s=60) as app:
        ok = httpx.post(app.url + "/api/chat", json={"message": "hello"}, timeout=30)
        bad = httpx.post(app.url + "/api/chat", json={"message": ""}, timeout=30)
        stats = httpx.get(app.url + "/api/debug/stats", timeout=30).json()
        log_path = Path(app.log_path)
    assert ok.status_code == 200, ok.text  # the mock took the key
    assert bad.status_code == 422
    assert stats["settings"]["OPENAI_MODEL"] == "m-canary" and stats["usage"]["calls"] == 1
    text = log_path.read_text(errors="replace")
    assert "backend: url at " in text and "API key set" in text
    assert _leaks_in_text("bench serve output", text + ok.text + bad.text + json.dumps(stats)) == []


def test_locust_starting_the_app_itself(keyed_mock: tuple[MockServer, Path], tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    mock, _ = keyed_mock
    monkeypatch.setenv("OPENAI_API_KEY", KEY)  # Locust's environment: where the web UI's backend finds it
    records = tmp_path / "records"
    args = ["--headless", "-u", str(USERS), "-r", str(USERS), "-t", "20s", "--scenario", "burst", "--variant",
            "async", "--backend", mock.api_base, "--model", "m-canary", "--records-dir", str(records)]
    with running_locust(args, tmp_path / "locust.log") as locust:
        assert locust.wait(timeout=120) == 0, locust.log()[-3000:]  # every request answered: the key got there
        log = locust.log()
    assert "model m-canary" in log
    assert _leaks_in_text("locust output", log) == [] and _leaks_in_files(records) == []
