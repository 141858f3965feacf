"""`bench run --locust-workers` / `bench worker`: addresses, refused flag combinations (one line, exit 2), and the
worker's loop over runs (with a stand-in for Locust's worker)."""

from __future__ import annotations

import socket
import sys

import pytest

from bench.cli import main
from bench.errors import UsageError
from bench.run import load_worker
from bench.run.load_worker import parse_address, serve_runs


@pytest.mark.parametrize(("text", "expected"), [("10.0.0.1:5557", ("10.0.0.1", 5557)), ("[::1]:80", ("::1", 80)),
                                                 ("host.example:1", ("host.example", 1))])
def test_addresses(text: str, expected: tuple[str, int]) -> None:
    assert parse_address(text) == expected


def test_a_bind_address_may_leave_the_port_to_us() -> None:
    assert parse_address("10.0.0.1", port_required=False) == ("10.0.0.1", 0)
    with pytest.raises(UsageError, match="HOST:PORT"):
        parse_address("10.0.0.1")
    with pytest.raises(UsageError, match="numeric port"):
        parse_address("10.0.0.1:x")


@pytest.mark.parametrize(("argv", "says"), [
    (["--locust-workers", "2", "--processes", "2"], "exclude each other"),
    (["--locust-workers", "2", "--master-bind", "0.0.0.0"], "the address the workers reach"),
    (["--locust-workers", "-1"], "--locust-workers must be >= 0"),
    (["--locust-workers", "1", "--worker-wait", "0"], "--worker-wait must be > 0"),
])
def test_run_refuses_bad_worker_flags(argv: list[str], says: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--scenarios", "burst", *argv]) == 2
    err = capsys.readouterr().err
    assert says in err and len(err.strip().splitlines()) == 1, err


def _fake_worker(monkeypatch: pytest.MonkeyPatch, code: int) -> None:
    monkeypatch.setattr(load_worker, "worker_argv", lambda *a, **k: [sys.executable, "-c", f"raise SystemExit({code})"])


def test_the_worker_serves_runs_then_stops(monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_worker(monkeypatch, 0)  # each one served a run; no master listens on the port afterwards
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    lines: list[str] = []
    assert serve_runs("127.0.0.1", port, runs=2, say=lines.append) == 0
    assert lines[-1].endswith("(served 1)")


def test_no_master_at_all_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_worker(monkeypatch, load_worker.NO_MASTER_EXIT)
    lines: list[str] = []
    assert serve_runs("127.0.0.1", 9, say=lines.append) == 2
    assert "no master at 127.0.0.1:9" in lines[-1]
