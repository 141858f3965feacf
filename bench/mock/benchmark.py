"""`bench mock-bench`'s measurements: requests/s at zero latency with the server pinned to one core and the
load generator on another, and how far observed latency strays from the configured one with ~1,000
requests in flight (steady arrivals, and all at once); for this mock and a peer mock side by side.
"""

from __future__ import annotations

import contextlib
import gc
import os
import platform
import shlex
import shutil
import socket
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import psutil

from bench.errors import SetupError
from bench.mock import loadgen
from bench.mock.config import MockConfig
from bench.mock.process import running_mock
from bench.servers.process import ServerProcess, child_env, stop_tree, wait_ready

FORMAT_VERSION = 1
PEER_TEMPLATE = "{exe} mock-server --host {host} --port {port} --ttft-ms {latency_ms} --itl-ms 0 --output-tokens 16"
_ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class BenchConfig:
    duration_s: float = 5.0
    warmup_s: float = 1.0
    connections: int = 64  # for the zero-latency throughput run
    latency_ms: float = 1000.0
    in_flight: int = 1000
    repeat: int = 3
    server_cpu: int = 0
    client_cpu: int = 1
    peer_cmd: str | None = None  # a template with {host} {port} {latency_ms}; None: look for guidellm
    realtime: bool = False  # SCHED_FIFO for server and generator in the accuracy runs (see _realtime)


@dataclass
class Running:
    host: str
    port: int
    pid: int


Starter = Callable[[float], contextlib.AbstractContextManager[Running]]


@contextlib.contextmanager
def _ours(latency_ms: float) -> Iterator[Running]:
    with running_mock(MockConfig(latency_ms=latency_ms)) as server:
        yield Running("127.0.0.1", server.port, server.pid)


def find_peer() -> str | None:
    """guidellm on PATH or in a peer venv beside the project (never the project's own venv)."""
    for exe in (shutil.which("guidellm"), _ROOT.parent / "peer-venv/bin/guidellm",
                _ROOT / ".peer-venv/bin/guidellm"):
        if exe and Path(exe).exists():
            return PEER_TEMPLATE.replace("{exe}", shlex.quote(str(exe)))
    return None


def _peer_starter(template: str) -> Starter:
    @contextlib.contextmanager
    def start(latency_ms: float) -> Iterator[Running]:
        with socket.socket() as probe:  # the peer binds its own port: take a free one (a tiny race)
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        argv = shlex.split(template.format(host="127.0.0.1", port=port, latency_ms=f"{latency_ms:g}"))
        log_path = os.path.join(tempfile.mkdtemp(prefix="bench-peer-"), "peer.log")
        with open(log_path, "wb") as log:
            proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                    env=child_env(), start_new_session=True)
            try:
                wait_ready(ServerProcess("peer", f"http://127.0.0.1:{port}", port, proc, log_path),
                           "/v1/models", 180.0)
                yield Running("127.0.0.1", port, proc.pid)
            finally:
                stop_tree(proc)
    return start


def _pin(pid: int, cpu: int) -> None:
    for p in [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]:
        os.sched_setaffinity(p.pid, {cpu})


@contextlib.contextmanager
def _realtime(pid: int, on: bool) -> Iterator[bool]:
    """SCHED_FIFO (priority 1) for the server's tree and this process while the block runs.

    On a shared machine the kernel may leave a waking server waiting a few ms behind another process's time
    slice; that shows up as latency error that is not the mock's. Real-time priority takes the scheduler out
    of the figure. Only for the accuracy runs: they use ~20% of a core, so nothing else is starved.
    """
    if not on:
        yield False
        return
    procs = [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]
    try:
        for p in procs:
            os.sched_setscheduler(p.pid, os.SCHED_FIFO, os.sched_param(1))
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(1))
    except (PermissionError, OSError):
        yield False
        return
    try:
        yield True
    finally:
        os.sched_setscheduler(0, os.SCHED_OTHER, os.sched_param(0))


def _cpu_s(pid: int) -> float:
    procs = [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]
    return sum(t.user + t.system for t in (p.cpu_times() for p in procs))


def _run(coro: Any) -> loadgen.LoadResult:
    import uvloop  # the generator's loop: as lean as the server's

    gc.collect()
    gc.disable()  # no collector pauses inside the measured window; a few seconds of garbage is fine
    try:
        return uvloop.run(coro)
    finally:
        gc.enable()


def _summary(values: list[float]) -> dict[str, Any]:
    med = statistics.median(values)
    spread = (max(values) - min(values)) / med * 100 if med else 0.0
    return {"median": round(med, 3), "min": round(min(values), 3), "max": round(max(values), 3),
            "spread_pct": round(spread, 1), "unstable": spread > 10.0, "runs": [round(v, 3) for v in values]}


def _errors_ms(result: loadgen.LoadResult, latency_ms: float) -> dict[str, float]:
    err = np.asarray(result.latencies_ns, dtype=np.float64) / 1e6 - latency_ms
    if err.size == 0:
        return {"n": 0}
    return {"n": int(err.size), "p50": round(float(np.percentile(err, 50)), 3),
            "p99": round(float(np.percentile(err, 99)), 3), "max": round(float(err.max()), 3),
            "min": round(float(err.min()), 3), "errors": result.errors,
            "non_200": sum(v for k, v in result.statuses.items() if k != 200)}


def measure(start: Starter, cfg: BenchConfig, log: Callable[[str], None]) -> dict[str, Any]:
    """Throughput at zero latency, then latency error at `latency_ms` with `in_flight` requests."""
    host_cpus = os.sched_getaffinity(0)
    pin = len(host_cpus) >= 2
    out: dict[str, Any] = {"pinned": pin}
    try:
        if pin:
            os.sched_setaffinity(0, {cfg.client_cpu})
        with start(0.0) as srv:
            if pin:
                _pin(srv.pid, cfg.server_cpu)
            request = loadgen.chat_request(srv.host, srv.port)
            runs: list[dict[str, Any]] = []
            for i in range(cfg.repeat):
                s0 = _cpu_s(srv.pid)
                res = _run(loadgen.closed_loop(srv.host, srv.port, request, connections=cfg.connections,
                                               warmup_s=cfg.warmup_s, duration_s=cfg.duration_s))
                # The server's CPU over the whole run (warm-up included), as a share of one core.
                server_cpu = (_cpu_s(srv.pid) - s0) / (cfg.warmup_s + res.window_s)
                # req/s per second of server CPU: what one whole core would give, whatever else ran on it
                runs.append({"rps": round(res.rps, 1), "server_cpu": round(server_cpu, 3),
                             "rps_per_core": round(res.rps / server_cpu, 1) if server_cpu > 0 else None,
                             "client_cpu": round(res.cpu_s / res.window_s, 3), "errors": res.errors,
                             "non_200": sum(v for k, v in res.statuses.items() if k != 200)})
                log(f"  throughput run {i + 1}: {res.rps:,.0f} req/s (server CPU {server_cpu:.0%}, "
                    f"generator CPU {res.cpu_s / res.window_s:.0%})")
            out["throughput"] = {"connections": cfg.connections, "duration_s": cfg.duration_s,
                                 "rps": _summary([r["rps"] for r in runs]),
                                 "server_cpu": _summary([r["server_cpu"] for r in runs]),
                                 "rps_per_core": _summary([r["rps_per_core"] or 0.0 for r in runs]), "runs": runs}
        lat_s = cfg.latency_ms / 1000.0
        with start(cfg.latency_ms) as srv, _realtime(srv.pid, cfg.realtime) as realtime:
            if pin:
                _pin(srv.pid, cfg.server_cpu)
            out["realtime"] = realtime
            request = loadgen.chat_request(srv.host, srv.port)
            steady, burst = [], []
            for i in range(cfg.repeat):
                # Starts spread over one latency period: ~in_flight requests in flight, steady arrivals.
                res = _run(loadgen.closed_loop(srv.host, srv.port, request, connections=cfg.in_flight,
                                               warmup_s=lat_s * 1.5, duration_s=cfg.duration_s, stagger_s=lat_s))
                steady.append(_errors_ms(res, cfg.latency_ms) | {"client_cpu": round(res.cpu_s / res.window_s, 3)})
                log(f"  steady run {i + 1}: error p50 {steady[-1].get('p50')} ms, p99 {steady[-1].get('p99')} ms")
                res = _run(loadgen.burst(srv.host, srv.port, request, n=cfg.in_flight, timeout_s=lat_s + 60))
                burst.append(_errors_ms(res, cfg.latency_ms))
                log(f"  burst run {i + 1}: error p50 {burst[-1].get('p50')} ms, p99 {burst[-1].get('p99')} ms")
            out["latency"] = {
                "latency_ms": cfg.latency_ms, "in_flight": cfg.in_flight,
                "steady": {"p50_ms": _summary([r["p50"] for r in steady if r["n"]]),
                           "p99_ms": _summary([r["p99"] for r in steady if r["n"]]), "runs": steady},
                "burst": {"p50_ms": _summary([r["p50"] for r in burst if r["n"]]),
                          "p99_ms": _summary([r["p99"] for r in burst if r["n"]]), "runs": burst},
            }
    finally:
        if pin:
            os.sched_setaffinity(0, host_cpus)
    return out


def host_info() -> dict[str, Any]:
    cpu = ""
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as fh:
        cpu = next((line.split(":", 1)[1].strip() for line in fh if line.startswith("model name")), "")
    return {"hostname": platform.node(), "platform": platform.platform(), "python": platform.python_version(),
            "cpus": os.cpu_count(), "cpu_model": cpu, "load_avg": os.getloadavg()}


def run_benchmark(cfg: BenchConfig, *, include_peer: bool, log: Callable[[str], None]) -> dict[str, Any]:
    result: dict[str, Any] = {"format": "bench-mock-bench", "version": FORMAT_VERSION,
                              "created_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                              "config": asdict(cfg), "host": host_info(), "targets": {}}
    log("bench mock (raw ASGI on uvicorn):")
    result["targets"]["bench-mock"] = measure(_ours, cfg, log)
    if include_peer:
        _measure_peer(cfg, result, log)
    result["host"]["load_avg_end"] = os.getloadavg()
    return result


def _measure_peer(cfg: BenchConfig, result: dict[str, Any], log: Callable[[str], None]) -> None:
    template = cfg.peer_cmd or find_peer()
    if template is None:
        result["targets"]["peer"] = {"skipped": "no peer found: install guidellm into a separate venv "
                                                "(e.g. ../peer-venv) or pass --peer-cmd"}
        log("peer: skipped (no guidellm found; pass --peer-cmd)")
        return
    log(f"peer: {template}")
    try:
        result["targets"]["peer"] = {"command": template} | measure(_peer_starter(template), cfg, log)
    except SetupError as exc:
        result["targets"]["peer"] = {"command": template, "skipped": f"did not start: {exc}"}
        log(f"peer: skipped, did not start: {str(exc).splitlines()[0]}")
