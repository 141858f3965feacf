"""Child servers in context managers: a pre-bound loopback socket, a readiness probe with a deadline,
terminate-then-kill teardown of the whole process tree, and a whitelisted environment.

The parent binds the listening socket (port 0) and hands its descriptor to the child, so the port is
known before the child starts and no other process can take it in between.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import httpx
import psutil

from bench.errors import ServerStartError
from bench.servers import httpclient
from bench.servers.lifeline import preexec_for_child

# Variables a child may inherit; everything else must be passed explicitly (pyperf's create_environ).
ENV_WHITELIST = (
    "PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR", "VIRTUAL_ENV", "PYTHONPATH",
    "SYSTEMROOT", "TERM",
)


def child_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k in ENV_WHITELIST}
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra or {})
    return env


class ChildProcess(Protocol):
    """What the harness uses of a child: `subprocess.Popen`, or a `forkserver.ForkedProcess` for a forked app."""

    @property
    def pid(self) -> int: ...
    @property
    def returncode(self) -> int | None: ...
    def poll(self) -> int | None: ...
    def wait(self, timeout: float | None = None) -> int: ...
    def send_signal(self, sig: int) -> None: ...
    def terminate(self) -> None: ...
    def kill(self) -> None: ...


class ChildServer:
    """Base of the objects the `running_*` context managers yield: a `ServerProcess` and what a client needs
    of it (`url`, `api_base` for an OpenAI-compatible server, `pid`, `port`)."""

    process: ServerProcess

    @property
    def url(self) -> str:
        return self.process.url

    @property
    def api_base(self) -> str:
        return self.process.url + "/v1"

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def port(self) -> int:
        return self.process.port


def bind_loopback(host: str = "127.0.0.1") -> socket.socket:
    """A listening TCP socket on a free port, inheritable by a child process."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, 0))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


@dataclass
class ServerProcess:
    """A running child server; `url` is its base URL."""

    name: str
    url: str
    port: int
    proc: ChildProcess
    log_path: str
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def log_tail(self, lines: int = 20) -> str:
        try:
            with open(self.log_path, "rb") as fh:
                return b"\n".join(fh.read().splitlines()[-lines:]).decode(errors="replace")
        except OSError:
            return ""

    def tree(self) -> list[psutil.Process]:
        """The server and its descendants (uvicorn workers), as they are now."""
        try:
            root = psutil.Process(self.proc.pid)
            return [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []


def wait_ready(server: ServerProcess, probe_path: str, deadline_s: float) -> None:
    """Poll `probe_path` until it answers 200; fail early if the child exits."""
    end = time.monotonic() + deadline_s
    last = "no answer"
    with httpclient.client(timeout=2.0) as client:
        while time.monotonic() < end:
            if server.proc.poll() is not None:
                raise ServerStartError(
                    f"{server.name} exited with code {server.proc.returncode} before it was ready:\n"
                    f"{server.log_tail()}"
                )
            try:
                resp = client.get(server.url + probe_path)
                if resp.status_code == 200:
                    return
                last = f"HTTP {resp.status_code}"
            except httpx.HTTPError as exc:
                last = type(exc).__name__
            time.sleep(0.05)
    raise ServerStartError(
        f"{server.name} not ready at {server.url}{probe_path} after {deadline_s:.0f}s ({last}):\n"
        f"{server.log_tail()}"
    )


def stop_tree(proc: ChildProcess, grace_s: float = 5.0) -> None:
    """SIGTERM the server, wait, then SIGKILL whatever of its tree is left (by pid, nothing else)."""
    try:
        procs = [psutil.Process(proc.pid), *psutil.Process(proc.pid).children(recursive=True)]
    except psutil.NoSuchProcess:
        procs = []
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signal.SIGTERM)
    _, alive = psutil.wait_procs(procs, timeout=grace_s)
    for p in alive:
        with contextlib.suppress(psutil.NoSuchProcess):
            p.kill()
    psutil.wait_procs(alive, timeout=grace_s)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=grace_s)


@contextlib.contextmanager
def serve(
    name: str,
    argv: Sequence[str],
    *,
    probe_path: str,
    env: Mapping[str, str] | None = None,
    host: str = "127.0.0.1",
    deadline_s: float = 60.0,
    log_dir: str | None = None,
    cwd: str | None = None,
) -> Iterator[ServerProcess]:
    """Start `argv + ["--fd", N]` with a pre-bound socket, wait until `probe_path` answers, stop on exit.

    The child's output goes to a log file (kept in `log_dir` if given) so a pipe never fills and blocks it.
    Inside `forkserver.forked_apps()` the reference app is forked by the fork server instead (same argv, env, cwd,
    descriptors); everything else, and everything outside it, is started with Popen.
    """
    from bench.servers.forkserver import spawn_if_active  # imports this module: a top-level import would be a cycle

    sock = bind_loopback(host)
    port = sock.getsockname()[1]
    fd = sock.fileno()
    log_dir = log_dir or tempfile.mkdtemp(prefix="bench-")
    log_path = os.path.join(log_dir, f"{name}-{port}.log")
    log = open(log_path, "wb")  # noqa: SIM115 - closed in finally, after the child is gone
    proc: ChildProcess | None = None
    try:
        full_env = child_env(env)
        proc = spawn_if_active([*argv, "--fd", str(fd)], env=full_env, cwd=cwd, log=log, pass_fds=(fd,))
        proc = proc or subprocess.Popen(
            [*argv, "--fd", str(fd)],
            env=full_env,
            cwd=cwd,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            pass_fds=(fd,),
            start_new_session=True,  # Ctrl-C reaches the harness only; it stops the child itself
            preexec_fn=preexec_for_child(),  # ...and the kernel stops it if the harness is killed outright
        )
        sock.close()  # the child holds its own copy
        url_host = f"[{host}]" if ":" in host else host
        server = ServerProcess(name=name, url=f"http://{url_host}:{port}", port=port, proc=proc,
                               log_path=log_path)
        wait_ready(server, probe_path, deadline_s)
        yield server
    finally:
        with contextlib.suppress(OSError):
            sock.close()
        if proc is not None:
            stop_tree(proc)
        log.close()


def python_argv(module: str, *args: str) -> list[str]:
    """`python -m module args...` with this interpreter."""
    return [sys.executable, "-m", module, *args]
