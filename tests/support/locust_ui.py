"""`locust -f locustfile.py` as a test's subprocess: a free web port, every descendant it ever had (so a
test can check that none outlives it), and a teardown that ends the whole tree by pid."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil

from tests.support.sigstate import signal_states

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LocustProcess:
    proc: subprocess.Popen[bytes]
    log_path: Path
    base_url: str | None = None
    seen: dict[int, tuple[float, str]] = field(default_factory=dict)  # pid -> (create time, command line)
    parents: dict[int, int] = field(default_factory=dict)  # pid -> parent pid
    _stop_tracking: threading.Event = field(default_factory=threading.Event)
    signals_when_sent: str = ""  # its signal masks when a signal was last sent to it

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def track_descendants(self) -> None:
        """Note every descendant of Locust (workers, the app, the mock) every 0.1 s until stopped."""

        def loop() -> None:
            while not self._stop_tracking.is_set():
                self.note_descendants()
                time.sleep(0.1)

        threading.Thread(target=loop, daemon=True).start()

    def note_descendants(self) -> None:
        try:
            children = psutil.Process(self.proc.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            return
        for child in children:
            with contextlib.suppress(psutil.Error):
                # Rewritten at every sight: just after fork, a child still shows its parent's command line.
                # Never with an empty one: a zombie (stopped, not yet reaped) has none, and would lose its name.
                cmdline = " ".join(child.cmdline())
                if cmdline:
                    self.seen[child.pid] = (child.create_time(), cmdline)
                    self.parents[child.pid] = child.ppid()

    def servers_seen(self) -> list[str]:
        """Command lines of the app and mock processes Locust started. A server's own short-lived child (a
        library forking to run `uname` or `git`) shows the server's command line until it execs, and may be
        gone before the next sighting: it is the server's, not another server."""
        def server(cmd: str) -> bool:
            return "app_under_test" in cmd or "bench.mock" in cmd

        return [cmd for pid, (_, cmd) in self.seen.items()
                if server(cmd) and not server(self.seen.get(self.parents.get(pid, -1), (0.0, ""))[1])]

    def survivors(self) -> list[str]:
        """Descendants seen at any time that still exist (the same process: pid and create time match)."""
        alive = []
        for pid, (created, cmd) in self.seen.items():
            with contextlib.suppress(psutil.Error):
                p = psutil.Process(pid)
                if p.create_time() == created and p.status() != psutil.STATUS_ZOMBIE:
                    alive.append(f"{pid}: {cmd}")
        return alive

    def wait(self, timeout: float) -> int:
        try:
            return self.proc.wait(timeout=timeout)
        finally:
            self._stop_tracking.set()

    def terminate(self, sig: int = signal.SIGTERM, timeout: float = 30.0) -> int | None:
        """Ask Locust to quit (its own shutdown stops the servers); after `timeout`, kill what is left."""
        self.note_descendants()
        if self.proc.poll() is None:
            self.signals_when_sent = signal_states(self.proc.pid)  # said in the test's message if it does not end
            self.proc.send_signal(sig)
        try:
            return self.wait(timeout)
        except subprocess.TimeoutExpired:
            return None
        finally:
            self.kill_tree()

    def kill_tree(self) -> None:
        """SIGKILL Locust and every descendant ever seen that is still the same process (by pid)."""
        self._stop_tracking.set()
        for line in self.survivors():
            with contextlib.suppress(psutil.Error):
                psutil.Process(int(line.split(":", 1)[0])).kill()
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def get_json(self, path: str, **kw: Any) -> Any:
        assert self.base_url is not None
        return httpx.get(self.base_url + path, timeout=10.0, **kw).json()

    def post(self, path: str, data: dict[str, Any]) -> dict[str, Any]:
        assert self.base_url is not None
        return httpx.post(self.base_url + path, data=data, timeout=30.0).json()

    def wait_until(self, predicate: Any, timeout: float, what: str, interval: float = 0.25) -> Any:
        end = time.monotonic() + timeout
        last: Any = None
        while time.monotonic() < end:
            last = predicate()
            if last:
                return last
            if self.proc.poll() is not None:
                raise AssertionError(f"Locust exited ({self.proc.returncode}) waiting for {what}:\n"
                                     f"{self.log()[-3000:]}")
            time.sleep(interval)
        raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}; last: {last!r}\n"
                             f"{self.log()[-3000:]}")


def start_locust(args: Sequence[str], log_path: Path, *, web: bool = False) -> LocustProcess:
    """Start `python -m locust -f locustfile.py ARGS` in the project root; with `web`, on a free loopback port,
    returning once the UI answers."""
    argv = [sys.executable, "-m", "locust", "-f", str(ROOT / "locustfile.py"), *args]
    base_url = None
    if web:
        port = free_port()
        argv += ["--web-host", "127.0.0.1", "--web-port", str(port)]
        base_url = f"http://127.0.0.1:{port}"
    log = open(log_path, "wb")  # noqa: SIM115 - the child holds it; closed with the test's tmp dir
    proc = subprocess.Popen(argv, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    locust = LocustProcess(proc=proc, log_path=log_path, base_url=base_url)
    locust.track_descendants()
    if base_url is not None:
        try:
            locust.wait_until(lambda: _answers(base_url), 60, "the web UI")
        except BaseException:
            locust.kill_tree()
            raise
    return locust


def _answers(url: str) -> bool:
    try:
        return httpx.get(url + "/", timeout=2.0).status_code == 200
    except httpx.HTTPError:
        return False


def template_args(html: str) -> dict[str, Any]:
    """The `window.templateArgs` Locust's index page embeds."""
    start = html.index("window.templateArgs = ") + len("window.templateArgs = ")
    return json.loads(html[start:html.index("</script>", start)].strip())


@contextlib.contextmanager
def running_locust(args: Sequence[str], log_path: Path, *, web: bool = False) -> Iterator[LocustProcess]:
    """start_locust, and whatever happens, the whole tree ended by pid at the end."""
    locust = start_locust(args, log_path, web=web)
    try:
        yield locust
    finally:
        locust.terminate()
