"""Load workers on other hosts: the master's address, and the loop `bench worker` runs on a worker's host.

`bench run` starts one Locust master per run, each on the same HOST:PORT. A Locust worker exits when its master
quits and never re-attaches to the next one (runners.py: the `quit` message kills the worker's runner), so a
worker host runs one Locust worker per run, in a loop, much as Kubernetes restarts a worker pod: start one, let
it serve a run, wait until that run's master has gone, start the next, which waits (Locust retries for about
5 min) for the next run's master. It never restarts while the master it served still listens: Locust hands a
worker that joins mid-run a share of the users at once, which would send a burst's requests twice.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable

from bench.errors import SetupError, UsageError
from bench.run.locust_job import DEFAULT_LOCUSTFILE, PROJECT_ROOT
from bench.servers.lifeline import preexec_for_child
from bench.servers.process import child_env, stop_tree
from scenarios.clock import TEST_OFFSET_ENV

NO_MASTER_EXIT = 255  # Locust's worker gave up connecting (`sys.exit(-1)` after ~5 min of retries)
GONE_WAIT_S = 30.0  # after a served run: how long its master may take to close its port
POLL_S = 0.05
QUICK_FAILURE_S = 10.0  # a worker that fails faster than this without serving is broken, not unlucky


def parse_address(text: str, *, default_host: str = "127.0.0.1", port_required: bool = True) -> tuple[str, int]:
    """'HOST:PORT' (or '[v6]:PORT'; 'HOST' alone gives port 0 when no port is required) -> (host, port)."""
    text = text.strip()
    host, sep, port_text = text.rpartition(":")
    if not sep or (":" in host and not text.startswith("[")):  # no port, or a bare IPv6 address
        host, port_text = text, ""
    host = host.strip("[]") or default_host
    if not port_text:
        if port_required:
            raise UsageError(f"expected HOST:PORT, got {text!r}")
        return host, 0
    try:
        port = int(port_text)
    except ValueError:
        raise UsageError(f"expected HOST:PORT with a numeric port, got {text!r}") from None
    if not 0 <= port <= 65535 or (port == 0 and port_required):
        raise UsageError(f"port out of range in {text!r}")
    return host, port


def bind_port(host: str, port: int = 0) -> int:
    """Check that this host can listen on host:port (port 0: pick a free one) and return the port."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_STREAM) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((host, port))
            return int(sock.getsockname()[1])
    except OSError as exc:
        raise UsageError(f"cannot listen on {host}:{port} for the Locust master: {exc.strerror or exc}") from None


def listening(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def worker_argv(host: str, port: int, processes: int = 1) -> list[str]:
    argv = [sys.executable, "-m", "locust", "-f", str(DEFAULT_LOCUSTFILE), "--worker", "--master-host", host,
            "--master-port", str(port), "--exit-code-on-error", "0", "--loglevel", "INFO"]
    if processes > 1:
        argv += ["--processes", str(processes)]
    return argv


def _wait_gone(host: str, port: int, deadline_s: float | None) -> bool:
    """Until nothing listens on host:port (True) or the deadline passes (False)."""
    end = None if deadline_s is None else time.monotonic() + deadline_s
    while listening(host, port, timeout=POLL_S * 4):
        if end is not None and time.monotonic() > end:
            return False
        time.sleep(POLL_S)
    return True


def serve_runs(host: str, port: int, *, processes: int = 1, runs: int = 0,
               say: Callable[[str], None] = print) -> int:
    """Serve runs of the masters at host:port until none comes for ~5 min, `runs` are served, or interrupted."""
    env = child_env({"PYTHONPATH": str(PROJECT_ROOT)})
    if os.environ.get(TEST_OFFSET_ENV):  # the test hook reaches the Locust worker (scenarios/clock.py)
        env[TEST_OFFSET_ENV] = os.environ[TEST_OFFSET_ENV]
    served = 0
    while not runs or served < runs:
        say(f"bench worker: waiting for a run's master at {host}:{port}" + (f" (served {served})" if served else ""))
        started = time.monotonic()
        try:
            proc = subprocess.Popen(worker_argv(host, port, processes), cwd=PROJECT_ROOT, env=env,
                                    stdin=subprocess.DEVNULL, start_new_session=True,
                                    preexec_fn=preexec_for_child())  # dies with this loop, even on SIGKILL
        except OSError as exc:
            raise SetupError(f"cannot start a Locust worker: {exc}") from exc
        try:
            code = proc.wait()
        finally:
            if proc.poll() is None:
                stop_tree(proc, grace_s=5.0)
        if code == NO_MASTER_EXIT:
            say(f"bench worker: no master at {host}:{port} for about 5 min; stopping after {served} run(s)")
            return 0 if served else 2
        if code == 0:
            served += 1
            if not _wait_gone(host, port, GONE_WAIT_S):
                say(f"bench worker: the master at {host}:{port} still listens {GONE_WAIT_S:g} s after its run; "
                    "taking it for the next run's")
            continue
        if time.monotonic() - started < QUICK_FAILURE_S:
            raise SetupError(f"the Locust worker exited with code {code} within {QUICK_FAILURE_S:g} s (see its "
                             "output above)")
        # It died mid-run: rejoining that run's master would be handed users again; wait for its end.
        say(f"bench worker: the Locust worker exited with code {code}; waiting for the master at {host}:{port} "
            "to end its run")
        _wait_gone(host, port, None)
    return 0
