"""Drive Locust from the orchestrator: one subprocess per run, then its per-request records merged and summarized.

Locust is never imported here (gevent would monkey-patch this process); it runs as
`python -m locust -f locustfile.py --headless ...` with a hard timeout that kills its whole process tree, forked
from a Locust fork server when the harness runs one (`locust_forkserver.py`: the same run without its imports).
With `--processes` or load workers on other hosts (`LoadWorkers`), that process is Locust's master: the workers
stream their records to it (`scenarios/streaming.py`), it writes one file per worker in the worker's clock and a
`workers.json` with each worker's clock offset and record counts, and the merge here puts every record on the
master's clock.
"""

from __future__ import annotations

import contextlib
import json
import math
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import numpy as np

from bench.errors import SetupError, choice_error
from bench.run.locust_forkserver import ForkedLocust, start_locust
from bench.servers.lifeline import preexec_for_child
from bench.servers.process import child_env, stop_tree
from scenarios.options import to_argv
from scenarios.record_ledger import makespan_uncertainty, offsets_by_file, problems, read_workers_file
from scenarios.records import FILE_GLOB, merge_files, read_jsonl
from scenarios.registry import SCENARIOS, ScenarioSpec
from scenarios.schedule import parse_steps, release_delay

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_LOCUSTFILE = PROJECT_ROOT / "locustfile.py"
HARD_LIMIT_EXIT_CODE = 3  # scenarios.completion: the in-Locust hard limit stopped the run
STARTUP_GRACE_S = 30.0  # Locust's own start (imports, forking, workers connecting) and shutdown
PERCENTILES = (50, 90, 95, 99)
NO_WORKERS_LINE = "Gave up waiting for workers to connect"  # Locust's own log line (main.py)


@dataclass(frozen=True)
class LoadWorkers:
    """Locust workers started elsewhere (`bench worker --master HOST:PORT`), which each run's master waits for."""

    count: int
    host: str  # the address the master binds and the workers connect to
    port: int
    wait_s: float = 60.0  # how long each run's master waits for all of them

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"


@dataclass(frozen=True)
class LocustJob:
    """One Locust run: a scenario against one host, for one variant and repetition."""

    scenario: str
    host: str
    out_dir: Path
    users: int | None = None  # None: the scenario's default
    spawn_rate: float | None = None  # None: all users within about a second
    duration_s: float = 10.0  # steady / concurrency / stream
    rate: float = 10.0  # steady: arrivals per second
    max_arrivals: int = 0  # steady: 0 = rate x duration
    steps: tuple[int, ...] = (1, 10, 50, 100, 200, 500)  # sweep
    step_duration_s: float = 10.0  # sweep
    variant: str = ""
    repetition: int = 0
    processes: int = 1  # > 1: Locust's --processes (a master and that many workers)
    load_workers: LoadWorkers | None = None  # workers on other hosts instead (not with processes > 1)
    client_timeout_s: float = 120.0  # must exceed users x latency for a blocking burst
    release_delay_s: float | None = None  # None: enough to spawn every user first
    release_at: float | None = None  # absolute epoch instead of a delay from test start
    hard_limit_s: float | None = None  # None: computed from the plan and the client timeout
    message: str | None = None
    options: Mapping[str, Any] = field(default_factory=dict)  # further scenario options by dest
    extra_args: tuple[str, ...] = ()  # raw Locust arguments, appended last
    locustfile: Path = DEFAULT_LOCUSTFILE
    # Set when the whole run stops (bench/run/orchestrator.py): a Locust that starts just as `stop_running_locusts()`
    # went through the runs under way is stopped as it is registered, instead of running its whole length.
    stop: threading.Event | None = field(default=None, compare=False, repr=False)

    @property
    def spec(self) -> ScenarioSpec:
        try:
            return SCENARIOS[self.scenario]
        except KeyError:
            raise choice_error("scenario", self.scenario, tuple(SCENARIOS)) from None

    @property
    def user_count(self) -> int:
        return self.users if self.users is not None else self.spec.users

    @property
    def expected_requests(self) -> int | None:
        return self.spec.expected_requests(users=self.user_count, rate=self.rate, duration_s=self.duration_s,
                                           max_arrivals=self.max_arrivals)

    @property
    def hard_limit(self) -> float:
        """Seconds after Locust's test start at which the run is stopped whatever happens."""
        if self.hard_limit_s is not None:
            return self.hard_limit_s
        spawn_rate = self.spawn_rate or max(self.user_count, 1)
        delay = self.release_delay_s if self.release_delay_s is not None else release_delay(
            self.user_count, spawn_rate)
        load = self.spec.load_seconds(duration_s=self.duration_s, steps=parse_steps(self.steps),
                                      step_duration_s=self.step_duration_s)
        return math.ceil(delay + load + self.client_timeout_s + 15.0)


@dataclass(frozen=True)
class LocustResult:
    job: LocustJob
    exit_code: int | None
    timed_out: bool  # the orchestrator had to kill Locust
    wall_s: float
    records: list[dict[str, Any]]
    records_path: Path
    bad_lines: int  # unreadable record lines (a killed writer)
    locust_requests: int | None  # requests in Locust's own JSON stats, for cross-checking
    csv_prefix: Path
    html_path: Path
    json_path: Path
    log_path: Path
    log_tail: str
    workers: list[dict[str, Any]] | None = None  # the master's ledger per worker (workers.json); None: no workers

    @property
    def transport_problems(self) -> list[str]:
        """Records a worker sent that did not arrive, workers lost mid-run: each one sentence."""
        return problems(self.workers or [])

    @property
    def makespan_uncertainty_s(self) -> float | None:
        """How far the workers' clock offsets may move the makespan (None: no workers)."""
        return makespan_uncertainty(self.records, self.workers)

    @property
    def expected_requests(self) -> int | None:
        return self.job.expected_requests

    @property
    def recorded(self) -> int:
        return len(self.records)

    @property
    def missing(self) -> int | None:
        """Requests expected but not recorded (None when the scenario fixes no count in advance)."""
        expected = self.expected_requests
        return None if expected is None else expected - self.recorded

    @property
    def hit_hard_limit(self) -> bool:
        return self.timed_out or self.exit_code == HARD_LIMIT_EXIT_CODE

    @property
    def complete(self) -> bool:
        """Ended by itself, and every request it should have sent (and Locust counted) has a record."""
        counted = self.locust_requests is None or self.locust_requests == self.recorded
        return (self.exit_code == 0 and not self.hit_hard_limit and not self.missing and counted
                and not self.transport_problems)


def _free_port(host: str = "127.0.0.1") -> int:
    # Locust's master needs a number before it starts; the short window before it binds is acceptable.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def build_argv(job: LocustJob, *, master_port: int | None = None) -> list[str]:
    """The Locust command line for `job` (paths inside job.out_dir)."""
    out = Path(job.out_dir)
    spec = job.spec
    argv = [
        sys.executable, "-m", "locust", "-f", str(job.locustfile), "--headless", "--host", job.host,
        "--csv", str(out / "locust"), "--html", str(out / "locust_report.html"),
        "--json-file", str(out / "locust_stats"),  # Locust appends ".json"
        "--exit-code-on-error", "0",  # failed requests are data here, not a failed run
        "--only-summary", "--loglevel", "INFO",
    ]
    if not spec.one_user_per_process:
        argv += ["--users", str(job.user_count)]
        if job.spawn_rate is not None:
            argv += ["--spawn-rate", str(job.spawn_rate)]
    if job.load_workers is not None:
        lw = job.load_workers
        argv += ["--master", "--expect-workers", str(lw.count), "--expect-workers-max-wait", f"{lw.wait_s:g}",
                 "--master-bind-host", lw.host, "--master-bind-port", str(lw.port)]
    elif job.processes > 1:
        port = master_port or _free_port()
        argv += ["--processes", str(job.processes), "--master-bind-host", "127.0.0.1",
                 "--master-bind-port", str(port), "--master-host", "127.0.0.1", "--master-port", str(port)]
    options: dict[str, Any] = {
        "scenario": job.scenario, "variant": job.variant, "repetition": job.repetition,
        "records_dir": str(out / "records"), "records_format": "events", "client_timeout": job.client_timeout_s,
        "duration": job.duration_s, "rate": job.rate, "max_arrivals": job.max_arrivals,
        "steps": parse_steps(job.steps), "step_duration": job.step_duration_s, "hard_limit": job.hard_limit,
    }
    if job.release_at is not None:
        options["release_at"] = job.release_at
    elif job.release_delay_s is not None:
        options["release_delay"] = job.release_delay_s
    if job.message is not None:
        options["message"] = job.message
    options.update(job.options)
    argv += to_argv(options)
    argv += list(job.extra_args)
    return argv


# The Locust process of each run under way, by the thread waiting on it: the overlapping schedule runs several at
# once, and an app's death (bench/run/appwatch.py) or the user's Ctrl-C must stop the right ones, by pid.
_RUNNING: dict[int, Any] = {}
_RUNNING_LOCK = threading.Lock()


def running_locust(thread_id: int) -> Any | None:
    """The Locust process (Popen or ForkedLocust) the thread `thread_id` is waiting on, if any."""
    with _RUNNING_LOCK:
        return _RUNNING.get(thread_id)


def stop_running_locusts() -> int:
    """SIGTERM every Locust run under way (Locust writes its reports and exits; run_locust then returns what was
    recorded). Returns how many were signalled."""
    with _RUNNING_LOCK:
        procs = list(_RUNNING.values())
    for proc in procs:
        with contextlib.suppress(OSError):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
    return len(procs)


def run_locust(job: LocustJob) -> LocustResult:
    """Run Locust for `job`, wait for it (killing it past the hard limit), merge and return the records."""
    out = Path(job.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    records_dir = out / "records"
    shutil.rmtree(records_dir, ignore_errors=True)  # a stale file would be merged into this run
    argv = build_argv(job)
    log_path = out / "locust.log"
    env = child_env({"PYTHONPATH": str(PROJECT_ROOT)})
    timeout = job.hard_limit + STARTUP_GRACE_S + (job.load_workers.wait_s if job.load_workers else 0.0)
    timed_out = False
    started = time.perf_counter()
    with open(log_path, "wb") as log:
        # Forked from the fork server when one is active (bench run opens one), without the imports' second or so.
        proc: subprocess.Popen[bytes] | ForkedLocust | None = start_locust(argv, env=env, cwd=PROJECT_ROOT, log=log)
        if proc is None:
            try:
                proc = subprocess.Popen(argv, cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL, start_new_session=True,
                                        preexec_fn=preexec_for_child())  # dies with the harness, even on SIGKILL
            except OSError as exc:
                raise SetupError(f"cannot start Locust: {exc}") from exc
        with _RUNNING_LOCK:
            _RUNNING[threading.get_ident()] = proc
        try:
            if job.stop is not None and job.stop.is_set():  # set before the stopper looked: it did not see this one
                proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
        finally:
            with _RUNNING_LOCK:
                _RUNNING.pop(threading.get_ident(), None)
            if proc.poll() is None:  # timed out, or interrupted: SIGTERM lets Locust write its reports
                # A ForkedLocust has all of Popen that stop_tree uses (pid, poll, send_signal, wait).
                stop_tree(cast("subprocess.Popen[bytes]", proc), grace_s=10.0)
    wall_s = time.perf_counter() - started
    if job.load_workers is not None and proc.returncode != 0 and NO_WORKERS_LINE in _tail(log_path, 200):
        lw = job.load_workers
        raise SetupError(f"the Locust master at {lw.address} saw fewer than {lw.count} workers within "
                         f"{lw.wait_s:g} s; start them with `bench worker --master {lw.address}` (log: {log_path})")
    records_path = out / "requests.jsonl"
    workers = read_workers_file(records_dir)
    # Each worker's times are in its own clock: move them onto the master's as they are merged.
    records, bad = merge_files(sorted(records_dir.glob(FILE_GLOB)), records_path,
                               offsets=offsets_by_file(workers or []))
    json_path = out / "locust_stats.json"
    return LocustResult(
        job=job, exit_code=proc.returncode, timed_out=timed_out, wall_s=wall_s, records=records,
        records_path=records_path, bad_lines=bad, locust_requests=_locust_request_count(json_path),
        csv_prefix=out / "locust", html_path=out / "locust_report.html", json_path=json_path,
        log_path=log_path, log_tail=_tail(log_path), workers=workers,
    )


def _locust_request_count(json_path: Path) -> int | None:
    try:
        entries = json.loads(json_path.read_text(encoding="utf-8"))
        return sum(int(e.get("num_requests", 0)) for e in entries)
    except (OSError, ValueError, TypeError, AttributeError):
        return None


def _tail(path: Path, lines: int = 30) -> str:
    with contextlib.suppress(OSError):
        return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
    return ""


def load_records(path: str | Path) -> list[dict[str, Any]]:
    """The records of a merged `requests.jsonl` (unreadable lines skipped)."""
    return read_jsonl(path)[0]


@dataclass(frozen=True)
class Summary:
    count: int
    ok: int
    errors: dict[str, int]
    makespan_s: float | None  # last response received - first request sent
    send_spread_s: float | None  # last send - first send: how together a burst really left
    max_send_lag_ms: float | None  # worst lateness of a send against its planned time
    throughput_rps: float | None  # requests completed per second of makespan
    latency_ms: dict[str, float]  # over every request, failures included (a timeout is a real wait)
    ttfb_ms: dict[str, float]
    ttft_ms: dict[str, float]  # streams only
    max_gap_ms: dict[str, float]  # streams only: each request's largest gap between tokens
    distinct_agents: int  # distinct (server pid, agent id) pairs seen in the replies
    server_pids: int

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _percentiles(values: Sequence[float]) -> dict[str, float]:
    if not values:
        return {}
    arr = np.asarray(values, dtype=float)
    out = {f"p{p}": round(float(np.percentile(arr, p)), 3) for p in PERCENTILES}
    out["max"] = round(float(arr.max()), 3)
    out["mean"] = round(float(arr.mean()), 3)
    return out


def _values(records: Iterable[Mapping[str, Any]], key: str) -> list[float]:
    return [float(r[key]) for r in records if r.get(key) is not None]


def summarize(records: Sequence[Mapping[str, Any]]) -> Summary:
    """Count, makespan, percentiles and errors by kind, from records alone (never Locust's buckets)."""
    sends = _values(records, "t_send")
    ends = _values(records, "t_end")
    makespan = max(ends) - min(sends) if sends and ends else None
    lags = [(r["t_send"] - r["t_planned"]) * 1000.0 for r in records
            if r.get("t_planned") is not None and r.get("t_send") is not None]
    errors = Counter(str(r["error"]) for r in records if r.get("error"))
    return Summary(
        count=len(records),
        ok=sum(1 for r in records if not r.get("error")),
        errors=dict(errors.most_common()),
        makespan_s=round(makespan, 6) if makespan is not None else None,
        send_spread_s=round(max(sends) - min(sends), 6) if sends else None,
        max_send_lag_ms=round(max(lags), 3) if lags else None,
        throughput_rps=round(len(records) / makespan, 3) if makespan else None,
        latency_ms=_percentiles(_values(records, "latency_ms")),
        ttfb_ms=_percentiles(_values(records, "ttfb_ms")),
        ttft_ms=_percentiles(_values(records, "ttft_ms")),
        max_gap_ms=_percentiles(_values(records, "max_gap_ms")),
        distinct_agents=len({(r.get("server_pid"), r["agent_id"]) for r in records if r.get("agent_id") is not None}),
        server_pids=len({r["server_pid"] for r in records if r.get("server_pid") is not None}),
    )
