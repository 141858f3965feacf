"""Kill a harness command at a random moment and count what it leaves behind: processes and bound ports.

Every descendant the command ever had is noted (pid and create time, so a reused pid is not blamed) along with
the loopback ports they listened on; after the signal, a survivor is a noted process still alive, and a leaked
port is a noted port still listening. As a script it runs trials and prints the counts:

    python -m tests.support.orphans --command run --signal KILL --trials 20
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil

from tests.support.sigstate import signal_state

ROOT = Path(__file__).resolve().parents[2]
BENCH = [sys.executable, "-m", "bench"]
SIGNALS = {"INT": signal.SIGINT, "TERM": signal.SIGTERM, "KILL": signal.SIGKILL}


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def command(kind: str, out: Path) -> tuple[list[str], str | None]:
    """argv of a small but real run of each command, and for the web UI the URL of its Start form."""
    if kind == "run":
        return [*BENCH, "run", "--scenarios", "burst", "--variants", "sync,async", "--latency", "200",
                "--users", "10", "--repeat", "2", "--out", str(out), "--no-report"], None
    if kind == "gate":
        return [*BENCH, "gate", "--metrics", "burst.speedup", "--repeat", "1", "--out", str(out)], None
    if kind == "serve":
        return [*BENCH, "serve", "--variant", "async", "--port", str(_free_port()), "--workers", "2"], None
    if kind == "webui":
        port = _free_port()
        return [sys.executable, "-m", "locust", "-f", str(ROOT / "locustfile.py"), "--web-host", "127.0.0.1",
                "--web-port", str(port)], f"http://127.0.0.1:{port}"
    raise ValueError(f"unknown command {kind!r}; valid: run, gate, serve, webui")


@dataclass
class Trial:
    kind: str
    sig: str
    delay_s: float
    seen: dict[int, float] = field(default_factory=dict)  # pid -> create time
    ports: set[int] = field(default_factory=set)
    survivors: list[str] = field(default_factory=list)
    leaked_ports: list[int] = field(default_factory=list)
    reused_ports: list[str] = field(default_factory=list)  # a noted port since bound by a process not of the trial
    exit_code: int | None = None
    stop_s: float | None = None  # from the signal to the command's exit
    still_running: str = ""  # a command that outlived its wait: its signal state and its log's tail (stacks)
    forced: str = ""  # the stop deadline ended it (bench/servers/stop_deadline.py): what it said, stacks included


def _note(root: psutil.Process, trial: Trial) -> None:
    with contextlib.suppress(psutil.Error):
        for p in [root, *root.children(recursive=True)]:
            with contextlib.suppress(psutil.Error):
                trial.seen.setdefault(p.pid, p.create_time())
                for c in p.net_connections(kind="inet"):
                    if c.status == psutil.CONN_LISTEN and c.laddr:
                        trial.ports.add(c.laddr.port)


def _start_swarm(url: str, deadline_s: float = 60.0) -> None:
    """The web UI's Start: it brings up the embedded mock and app (what must not outlive Locust)."""
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url + "/", timeout=2.0).status_code == 200:
                httpx.post(url + "/swarm", data={"user_count": 5, "spawn_rate": 5, "host": "embedded",
                                                 "app_variant": "async", "backend": "mock", "mock_latency_ms": 200,
                                                 "mock_rps": 0, "mock_tier": "none", "scenario": "concurrency",
                                                 "duration": 30}, timeout=60.0)
                return
        time.sleep(0.2)


def run_trial(kind: str, sig: str, *, delay_s: float | None = None, max_delay_s: float = 12.0,
              settle_s: float = 15.0) -> Trial:
    """Start `kind`; once it has a child, signal it after `delay_s` (random in [0, max_delay_s] when None), and
    count what is left once it has exited and `settle_s` has passed for the kernel's parent-death signals."""
    trial = Trial(kind, sig, delay_s if delay_s is not None else random.uniform(0.0, max_delay_s))
    with tempfile.TemporaryDirectory(prefix="bench-orphans-") as tmp:
        argv, ui = command(kind, Path(tmp) / "out")
        log = open(Path(tmp) / "log.txt", "wb")  # noqa: SIM115 - closed below
        proc = subprocess.Popen(argv, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                env={**os.environ, "PYTHONUNBUFFERED": "1"})
        root = psutil.Process(proc.pid)
        stop = threading.Event()

        def watch() -> None:
            while not stop.is_set():
                _note(root, trial)
                time.sleep(0.05)

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        try:
            if ui is not None:
                threading.Thread(target=_start_swarm, args=(ui,), daemon=True).start()
            first_child = time.monotonic() + 90.0
            while len(trial.seen) < 2 and proc.poll() is None and time.monotonic() < first_child:
                time.sleep(0.05)
            time.sleep(trial.delay_s)
            _note(root, trial)
            if proc.poll() is None:
                proc.send_signal(SIGNALS[sig])
            sent = time.monotonic()
            try:
                trial.exit_code = proc.wait(timeout=60.0)
                trial.stop_s = time.monotonic() - sent
            except subprocess.TimeoutExpired:
                trial.still_running = _what_it_is_doing(proc, Path(tmp) / "log.txt", stacks=argv[:3] == BENCH)
        finally:
            stop.set()
            watcher.join()
            end = time.monotonic() + settle_s
            while time.monotonic() < end and _alive(trial):
                time.sleep(0.1)
            trial.survivors = _alive(trial)
            for port in sorted(trial.ports):
                owners = _listeners(port)
                ours = [pid for pid in owners if _is_noted(trial, pid)]
                if ours or None in owners:  # a noted process, or an owner the kernel would not name: counted
                    trial.leaked_ports.append(port)
                elif owners:  # free ports get handed out again: another program on this machine took it since
                    trial.reused_ports += [f"{port} by pid {pid}" for pid in owners]
            _cleanup(trial, proc)
            log.close()
            said = (Path(tmp) / "log.txt").read_bytes().decode(errors="replace")
            if "stopping now (every thread's stack follows" in said:
                trial.forced = said[said.rindex("\nbench: "):][:8000]
    return trial


def _what_it_is_doing(proc: subprocess.Popen[bytes], log_path: Path, *, stacks: bool) -> str:
    """A command still running long after its signal: its signal masks, and for `bench` every thread's stack (it
    writes them to its stderr on SIGUSR1: bench/errors.py; to Locust SIGUSR1 would be the end), from its log."""
    state = signal_state(proc.pid)
    if stacks:
        with contextlib.suppress(OSError):
            proc.send_signal(signal.SIGUSR1)
        time.sleep(1.0)
    tail = log_path.read_bytes()[-8000:].decode(errors="replace") if log_path.exists() else ""
    return f"{state}\n--- its log's tail ---\n{tail}"


def _alive(trial: Trial) -> list[str]:
    alive = []
    for pid, created in trial.seen.items():
        with contextlib.suppress(psutil.Error):
            p = psutil.Process(pid)
            if p.create_time() == created and p.status() != psutil.STATUS_ZOMBIE:
                alive.append(f"{pid}: {' '.join(p.cmdline())[:160]}")
    return alive


def _listeners(port: int) -> set[int | None]:
    """The pids listening on `port` (None where the kernel does not say: another user's process)."""
    with contextlib.suppress(psutil.Error):
        return {c.pid for c in psutil.net_connections(kind="inet")
                if c.laddr and c.laddr.port == port and c.status == psutil.CONN_LISTEN}
    return set()


def _is_noted(trial: Trial, pid: int | None) -> bool:
    """`pid` is a process the trial saw (the same pid and create time: a reused pid is someone else)."""
    if pid is None or pid not in trial.seen:
        return False
    with contextlib.suppress(psutil.Error):
        return psutil.Process(pid).create_time() == trial.seen[pid]
    return False


def _cleanup(trial: Trial, proc: subprocess.Popen[bytes]) -> None:
    """End whatever the trial left (only processes it started, by pid), so one failure does not spread."""
    for line in trial.survivors:
        with contextlib.suppress(psutil.Error):
            psutil.Process(int(line.split(":", 1)[0])).kill()
    if proc.poll() is None:
        proc.kill()
        proc.wait(timeout=10)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m tests.support.orphans", description=__doc__)
    p.add_argument("--command", choices=("run", "gate", "serve", "webui"), default="run")
    p.add_argument("--signal", choices=tuple(SIGNALS), default="KILL")
    p.add_argument("--trials", type=int, default=20)
    p.add_argument("--max-delay", type=float, default=12.0, help="signal at a random moment up to this (s)")
    args = p.parse_args(argv)
    procs = ports = bad = 0
    for i in range(args.trials):
        t = run_trial(args.command, args.signal, max_delay_s=args.max_delay)
        procs += len(t.survivors)
        ports += len(t.leaked_ports)
        bad += bool(t.survivors or t.leaked_ports)
        print(f"trial {i + 1}/{args.trials}: SIG{args.signal} after {t.delay_s:.1f} s, exit {t.exit_code} "
              + (f"{t.stop_s:.2f} s after it, " if t.stop_s is not None else "") +
              f"{len(t.seen) - 1} descendants seen, left: {len(t.survivors)} processes, "
              f"{len(t.leaked_ports)} ports {t.survivors or ''}"
              + (f" (not counted: port {', '.join(t.reused_ports)}, bound since by a process the trial never "
                 "started)" if t.reused_ports else ""), flush=True)
    print(f"{args.command} SIG{args.signal}: {args.trials} trials, {bad} left something: "
          f"{procs} processes, {ports} ports in all")
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
