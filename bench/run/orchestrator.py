"""`bench run`'s loop: for each step of the plan, start the mock backend and each variant, run the
repetitions (a fresh app per repetition where the scenario is cold), and write results.json after every
run so that an interrupted run keeps what finished (marked partial). A backend the run starts itself
(`local-llm`, a real model) starts once for the whole run instead: loading a model is not a per-step cost.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ALL_COMPLETED, FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app_under_test.variants import VariantError, parse_variant
from bench.errors import ServerStartError, Terminated
from bench.mock.config import MockConfig
from bench.mock.process import MockServer, running_mock
from bench.results.schema import new_results, write_results
from bench.run import faults, probes
from bench.run.ahead import Ahead
from bench.run.appwatch import AppDied, died_line
from bench.run.backend_probe import probe_for_run
from bench.run.backend_probe import summary as probe_summary
from bench.run.backends import LOCAL_MAX_TOKENS, LOCAL_MODEL, Backend
from bench.run.config import RunConfig, RunPlan
from bench.run.execute import RunContext, execute
from bench.run.host import host_metadata
from bench.run.interrupts import DeferredStop
from bench.run.locust_job import stop_running_locusts
from bench.run.profiles import WARM_UP_MESSAGE, WARM_UP_REQUESTS, Profile, Step
from bench.run.scenario_facts import facts
from bench.run.schedule import POOLED, Unit, pool_order, run_estimate_s, units
from bench.run.stages import StageClock
from bench.run.static_child import measure as measure_static
from bench.run.static_child import static_measurements
from bench.run.target import starter as target_starter
from bench.run.target import warm_up as target_warm_up
from bench.servers import httpclient, priority
from bench.servers.app import AppServer, running_app
from bench.servers.forkserver import active as forkserver_active
from bench.servers.uvicorn_runner import WORKER_START_ENV
from scenarios.options import OPTIONS_BY_DEST

Progress = Callable[[str, float], None]  # (what is running, estimated seconds it takes)

def estimate_s(step: Step, variant: str, users: int, serial_s: float | None = None) -> float:
    """Rough seconds per repetition, for the progress bar's time left (the scenario's own estimate)."""
    return facts(step.scenario).estimate_s(step, variant, users, serial_s)


def serial_request_s(backend: Backend) -> float | None:
    """For a backend that answers one request at a time, its slowest measured request (else a guess)."""
    if not backend.serializes:
        return None
    return float((backend.server or {}).get("request_s_max") or SERIAL_REQUEST_GUESS_S)


SERIAL_REQUEST_GUESS_S = 0.4  # SmolLM2-135M at 32 tokens on one core: 0.24 s median, 0.37 s max measured


@contextmanager
def _mock_for(step: Step, backend: Backend, seed: int, log_dir: Path) -> Iterator[MockServer | None]:
    if backend.kind != "mock":
        yield None
        return
    # A ring of recent requests big enough for a whole run, for the upstream arrival rate and retry counts.
    config = MockConfig(latency_ms=step.latency_ms, seed=faults.mock_seed(step, seed),
                        rps=step.upstream_limit_rps or None, tier=step.upstream_tier or None,
                        recent_requests=20000, **faults.mock_fields(step))  # a faults step: its kind and rate
    with running_mock(config, log_dir=str(log_dir)) as mock:
        yield mock


@contextmanager
def _backend_for_run(backend: Backend, config: RunConfig, log_dir: Path) -> Iterator[Backend]:
    """The backend as the steps use it. `local-llm` starts its model server here, once per run, and stops it
    (its whole process tree) when the run ends; every other kind is used as given."""
    if backend.kind != "local-llm":
        yield backend
        return
    from bench.servers.localllm import running_local_llm

    with running_local_llm(backend.model_path, alias=backend.model or LOCAL_MODEL, log_dir=str(log_dir),
                           seed=config.seed) as server:
        # Also the model's warm-up: its first answer pays one-off set-up.
        timing = server.time_requests(max_tokens=LOCAL_MAX_TOKENS)
        yield backend.with_server(server.api_base, server.describe() | timing)


def _needs_redis(profile: Profile) -> bool:
    return any(_limiter_of(v) == "redis" for step in profile.steps for v in step.variants)


def _limiter_of(variant: str) -> str | None:
    try:
        return parse_variant(variant).limiter
    except VariantError:
        return None  # a user's app (`--app`) is no variant of ours


@contextmanager
def _redis_for_run(profile: Profile, config: RunConfig, log_dir: Path) -> Iterator[str | None]:
    """The Redis every worker of a `limiter=redis` variant shares: `--redis-url`, else one started here for the
    whole run on a free loopback port and stopped (by pid) when the run ends; None when no variant needs one."""
    if not _needs_redis(profile):
        yield None
        return
    if config.redis_url:
        yield config.redis_url
        return
    from bench.servers.redis import running_redis

    with running_redis(log_dir=str(log_dir)) as server:
        yield server.url


def _mock_only_note(backend: Backend, config: RunConfig) -> str | None:
    """Real backends answer at their own speed: --latency and the profiles' upstream latency and rate limits
    configure the embedded mock only. Said once, not an error, so one command works against every backend."""
    if backend.uses_mock_latency:
        return None
    flag = f"--latency {config.latency_ms:g} ms and " if config.latency_ms is not None else ""
    return (f"{flag}the profile's upstream latency / rate limits configure the embedded mock only; the "
            f"{backend.kind} backend answers at its own speed (runs' params.latency_ms is not its latency)")


def _describe(backend: Backend, note: str | None) -> dict[str, Any]:
    return backend.describe() | ({"notes": [note]} if note else {})




def _warm_up(app: AppServer, step: Step) -> None:
    """Before a warm measurement on one worker: build the singleton and open the pools. With several workers only
    check that every worker answers: which worker builds an agent is what C7 counts, from a cold start."""
    if app.workers > 1:
        # 60 s, as for the workers' start (wait_workers): 8 cold workers beside other units took longer than 20.
        if len(app.per_worker(deadline_s=60.0)) < app.workers:
            raise ServerStartError(f"only some of the {app.workers} workers answered before the run")
        return
    timeout = max(30.0, step.latency_ms / 1000 * 4 + 30)
    with httpclient.client(timeout=timeout, headers={"Connection": "close"}) as client:
        for _ in range(WARM_UP_REQUESTS):
            client.post(app.url + "/api/chat", json={"message": WARM_UP_MESSAGE})


def run_plan(plan: RunPlan, progress: Progress | None = None, *, report: bool = False) -> dict[str, Any]:
    """The pipeline's one entry point (`bench run` and `bench gate`): every step of the plan, results.json
    written after each run, the servers stopped whatever happens. `plan.config.schedule` picks the order
    (bench/run/schedule.py); results.json's `timings` says where the time went (bench/run/stages.py). `report`:
    the caller draws the report next, so the overlapping schedule imports its libraries beside the paced units."""
    config, profile, backend, out_dir = plan.config, plan.profile, plan.backend, plan.out_dir
    clock = StageClock()
    note = _mock_only_note(backend, config)
    results = new_results(label=config.label or config.profile, config=config.to_dict() | {
        "plan": [{"scenario": s.scenario, "variants": list(s.variants), "claims": list(s.claims), **s.params()}
                 for s in profile.steps], "repeat": profile.repeat}, host=host_metadata(),
        backend=_describe(backend, note))
    results_path = out_dir / "results.json"
    log_dir = out_dir / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    run = _Run(config=config, profile=profile, backend=backend, out_dir=out_dir, log_dir=log_dir, results=results,
               results_path=results_path, progress=progress, clock=clock, serial_s=serial_request_s(backend))
    # Load workers on other hosts connect to one master port: their runs go one at a time, in plan order.
    all_units = units(profile, "serial" if config.locust_workers else config.schedule)
    results["timings"] = {"schedule": config.schedule, "estimate_s": round(run_estimate_s(all_units, run.serial_s,
                                                                                          config.schedule), 1)}
    if note:
        print(f"bench run: note: {note}", file=sys.stderr)
    write_results(results, results_path)
    overlap = config.schedule != "serial"
    try:
        with _fast_starts(overlap, clock, apps=config.target is None):
            # A user's app (`--app`): the reference app's own probes say nothing of it. The overlapping schedule
            # measures them after the units, in a child of the app fork server (`_static_probes`): in-process they
            # first import the app, 3.3 s before the first unit could start, and beside the units that import slowed
            # the blocked bursts (0.15 s of 5.7; a thread's nice value counts only inside its process's session
            # group), while beside the paced units' start the per-call figures grew from 80-210 ns to 370-810
            # (medians of 5 rounds). Without a fork server (the serial schedule, BENCH_FORK_SERVER=0): here, first.
            static_after = overlap and config.target is None and forkserver_active() is not None
            if config.target is None and not static_after:
                with clock.stage("probes"):
                    _keep_static(results, measure_static())
            elif config.target is not None:
                results["target"] = config.target.describe()
            # The round-1 schedule ran the mock probes first; the overlapping one runs them beside the other units.
            mock_probes_here = backend.kind == "mock" and config.target is None
            if mock_probes_here and not overlap:
                with clock.stage("probes"):
                    results["probes"].update(probes.mock_probes(log_dir))
                write_results(results, results_path)
            with _backend_for_run(backend, config, log_dir) as backend, \
                    _redis_for_run(profile, config, log_dir) as redis_url:
                run.backend, run.redis_url = backend, redis_url
                results["backend"] = _describe(backend, note)  # now with the started server's version and timing
                # Straight at the backend, without the app: L alone, then N at once (C4's ideal comes from these).
                with clock.stage("probes"):
                    results["probes"]["backend"] = probe_for_run(backend, profile, seed=config.seed,
                                                                 log_dir=str(log_dir),
                                                                 message=str(OPTIONS_BY_DEST["message"].default))
                print(f"bench run: backend probe ({results['probes']['backend']['target']}): "
                      f"{probe_summary(results['probes']['backend'])}", file=sys.stderr)
                write_results(results, results_path)
                extra = {"mock probes": lambda: _mock_probes(run)} if mock_probes_here and overlap else {}
                if report and overlap:
                    extra["report imports"] = _import_report
                _run_units(all_units, run, extra)
                if static_after:
                    _static_probes(run)
    except KeyboardInterrupt as exc:
        results["partial"] = True
        results["interrupted"] = "SIGTERM" if isinstance(exc, Terminated) else "Ctrl-C"
        raise
    except AppDied as exc:
        results["partial"] = True
        results["interrupted"] = str(exc)  # what stopped it: the app's death, in the words the console shows
        raise AppDied(f"{exc}; partial results kept in {results_path}") from None
    finally:
        results["timings"] |= clock.as_dict()
        write_results(results, results_path)
    return results


@contextmanager
def _fast_starts(on: bool, clock: StageClock, *, apps: bool = True) -> Iterator[None]:
    """The fork servers that start apps and Locust runs from pre-imported parents, for the whole run (overlap
    schedule only: the serial one is round 1's, cold interpreter starts included). A user's app (`apps` False)
    starts cold: only the reference app is pre-imported."""
    with contextlib.ExitStack() as stack:
        if on:  # each is a no-op when BENCH_FORK_SERVER=0 (or off Linux)
            from bench.run.locust_forkserver import locust_fork_server
            from bench.servers.forkserver import forked_apps

            with clock.stage("setup"):  # they start without waiting: their imports overlap the probes
                if apps:
                    stack.enter_context(forked_apps())
                stack.enter_context(locust_fork_server())
        yield


@dataclass
class _Run:
    """What every unit of one `bench run` shares: the plan, the servers, results.json and its lock."""

    config: RunConfig
    profile: Profile
    backend: Backend
    out_dir: Path
    log_dir: Path
    results: dict[str, Any]
    results_path: Path
    progress: Progress | None
    clock: StageClock
    serial_s: float | None = None
    redis_url: str | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)
    stop: threading.Event = field(default_factory=threading.Event)  # a unit failed or the user interrupted
    order: dict[int, tuple[int, ...]] = field(default_factory=dict)  # id(entry) -> its place in the plan

    def record(self, entry: dict[str, Any], place: tuple[int, ...]) -> None:
        """Keep a finished run, in plan order whatever order the units finish in, and write results.json."""
        with self.lock:
            self.order[id(entry)] = place
            self.results["runs"].append(entry)
            self.results["runs"].sort(key=lambda e: self.order.get(id(e), ()))
            write_results(self.results, self.results_path, compact=True)  # the last write (below) is indented

    def tell(self, label: str, estimate: float) -> None:
        if self.progress:
            with self.lock:
                self.progress(label, estimate)


def _import_report() -> None:
    """The report's libraries (scipy.stats, matplotlib: ~2.5 s of imports on 2 cores), imported while the paced
    units mostly wait instead of after the last run."""
    for name in REPORT_MODULES:
        with contextlib.suppress(ImportError):  # the report says so itself, later
            importlib.import_module(name)


REPORT_MODULES = ("scipy.stats", "bench.report.render", "bench.report.console")


def _mock_probes(run: _Run) -> None:
    with run.clock.stage("probes"):
        found = probes.mock_probes(run.log_dir)
    with run.lock:
        run.results["probes"].update(found)
        write_results(run.results, run.results_path, compact=True)


def _keep_static(results: dict[str, Any], found: dict[str, Any]) -> None:
    results["static"]["provider_lines"] = found["provider_lines"]
    results["probes"]["provider_call_ns"] = found["provider_call_ns"]


def _static_probes(run: _Run) -> None:
    with run.clock.stage("probes"):
        found = static_measurements(str(run.log_dir))
    with run.lock:
        _keep_static(run.results, found)
        write_results(run.results, run.results_path, compact=True)


def _run_units(all_units: list[Unit], run: _Run, extra: dict[str, Callable[[], None]]) -> None:
    """The schedule (bench/run/schedule.py): background units first and the heavy lane at idle priority, from the
    start; the blocked units; then the paced ones with the `extra` tasks (the mock probes, imports) beside them, and
    the several-worker units at low priority; then, once the paced units and extra tasks are done and the
    background's load is under way, the alone units one after another in this thread (the several-worker and heavy
    ones going on beside them at their priorities). Pooled units longest first. The first failure (or Ctrl-C) stops
    the rest: no new unit or run starts, the running Locust runs are stopped, and the failure is raised here, in the
    main thread."""
    # Ctrl-C and SIGTERM are noted, not raised mid-lock: the waits below poll `stop.check()` (bench/run/interrupts.py).
    with DeferredStop(lambda: _stop_all(run)) as stop:
        _lanes(all_units, run, extra, stop)


def _stop_all(run: _Run) -> None:
    """A stop signal came (from the watcher thread): no unit starts another run, the running Locusts quit now."""
    run.stop.set()
    stop_running_locusts()


def _waited(futures: list[Future[None]], stop: DeferredStop, *, first_exception: bool = True) -> set[Future[None]]:
    """`wait()` in slices, checking for a stop signal between them; the done futures once all are done or (with
    `first_exception`) one has failed."""
    while True:
        done, pending = wait(futures, timeout=WAIT_SLICE_S, return_when=FIRST_EXCEPTION if first_exception
                             else ALL_COMPLETED)
        stop.check()
        if not pending or (first_exception and any(not f.cancelled() and f.exception() for f in done)):
            return done


def _wait_all(futures: list[Future[None]], stop: DeferredStop) -> None:
    _waited(futures, stop, first_exception=False)


WAIT_SLICE_S = 0.2  # how often the main thread looks for a noted Ctrl-C while it waits on the lanes


def _lanes(all_units: list[Unit], run: _Run, extra: dict[str, Callable[[], None]], stop: DeferredStop) -> None:
    background = [u for u in all_units if u.lane == "background"]
    side_pool = ThreadPoolExecutor(max_workers=max(1, len(extra)), thread_name_prefix="bench-side")
    ahead: Ahead[Unit, _Servers] = Ahead(lambda u: _start_servers(u, run, apps=True),
                                         lambda sv: _stop_servers(sv, run.clock), run.stop)
    stopper = ThreadPoolExecutor(max_workers=1, thread_name_prefix="bench-stop")
    pools = [ThreadPoolExecutor(max_workers=max(1, len(background)), thread_name_prefix="bench-background"), side_pool,
             ahead.pool, stopper]
    futures: list[Future[None]] = []

    def pooled(name: str, nice: int = 0, under_way: list[threading.Event] | None = None) -> list[Future[None]]:
        todo = pool_order([u for u in all_units if u.lane == name], run.serial_s)
        if not todo:
            return []
        # Not `with`: on a failure the pool is shut down only after `run.stop` has told its units to end.
        lane_pool = ThreadPoolExecutor(max_workers=POOLED[name], thread_name_prefix=f"bench-{name}")
        pools.append(lane_pool)
        started, ended = time.perf_counter(), threading.Lock()
        left = [len(todo)]

        def task(unit: Unit, under_way: threading.Event | None) -> None:
            try:
                # The harness's threads for it too (samplers, reads, records): a lane's pool threads run nothing else.
                priority.lower_this_thread(nice)
                with priority.lowered(nice):
                    _run_unit(unit, run, under_way)
            finally:
                with ended:
                    left[0] -= 1
                    if not left[0]:  # the lane's wall time: from its start to its last unit's end
                        run.clock.add(name, time.perf_counter() - started, phase=True)

        events = [_Started() for _ in todo]
        if under_way is not None:
            under_way.extend(events)
        mine = [lane_pool.submit(task, u, e) for u, e in zip(todo, events, strict=True)]
        futures.extend(mine)
        return mine

    def wait_for(lane_futures: list[Future[None]]) -> None:
        done = _waited(lane_futures, stop)
        _raise_first(list(done))
        _raise_first(futures)  # a unit of another lane that failed meanwhile

    try:
        under_way = []
        for unit in background:
            event = _Started()
            under_way.append(event)
            futures.append(pools[0].submit(_run_unit, unit, run, event))
        # Judged on counts, at idle priority: they take the CPU the timed units leave (bench/servers/priority.py).
        heavy = pooled("heavy", priority.IDLE_NICE)
        # The blocked bursts side by side with nothing else at their priority: their makespans are partly CPU.
        wait_for(pooled("blocked"))
        # Then the paced units, the probes and the in-process imports beside them (a starved mock cannot take a
        # probe's 62 connections at once: they keep the harness's priority); and the several-worker units at low
        # priority, one at a time, going on beside the alone units: their cold starts and retry storms need CPU
        # that idle priority does not give them, and what they measure moves with it. Not beside the blocked
        # units: from the start, their cold starts moved the blocked bursts' makespans from 5.69 s (median of 8) to
        # 5.88 s (median of 6).
        workers = pooled("workers", priority.LOW_NICE)
        side = [side_pool.submit(fn) for fn in extra.values()]
        futures.extend(side)
        paced_started: list[threading.Event] = []
        paced = pooled("paced", under_way=paced_started)
        # While the paced units wait on their limiters, the alone units' mocks and apps start, one after another
        # once the paced units' own apps have started; each is warmed up in its turn (bench/run/ahead.py). Not
        # under the serial schedule: it keeps round 1's order, each app started in its turn.
        ahead.begin([u for u in all_units if u.lane == "alone" and u.fast], after=paced_started)
        wait_for(paced + side)
        with run.clock.phase("background start"):  # what is left of it after the paced lane
            for event in under_way:  # a failed unit sets its event too: its failure is raised below
                until = time.monotonic() + BACKGROUND_START_S
                while not event.wait(timeout=WAIT_SLICE_S) and time.monotonic() < until:
                    stop.check()
            if background:
                last = max(e.at or time.monotonic() for e in under_way)
                time.sleep(max(0.0, BACKGROUND_SETTLE_S - (time.monotonic() - last)))
        with run.clock.phase("alone"):
            # Each unit's servers stop on another thread while the next unit warms its app up (~0.3 s a unit:
            # uvicorn's shutdown is mostly waiting); the next unit's first run waits until they are gone.
            stopping: list[Future[None]] = []
            for unit in (u for u in all_units if u.lane == "alone"):
                stop.check()
                _raise_first(futures)
                ready = ahead.take(unit, stop.check)
                if ready is None:  # started in the lane, where the previous unit's servers must be gone first
                    _waited(stopping, stop)
                else:
                    ready.before_runs = functools.partial(_wait_all, list(stopping), stop)
                try:
                    _run_unit(unit, run, ready=ready)
                finally:
                    if ready is not None:
                        stopping.append(stopper.submit(_stop_servers, ready, run.clock))
            _waited(stopping, stop, first_exception=False)
            _raise_first(stopping)
        wait_for(workers + heavy)
        _waited(futures, stop, first_exception=False)
        _raise_first(futures)
    except BaseException:
        run.stop.set()
        for f in futures:
            f.cancel()
        stop_running_locusts()  # the running units end their current run now, not at its bound
        raise
    finally:
        for p in pools:
            p.shutdown(wait=True, cancel_futures=True)
        ahead.close()  # after its pool: servers started ahead and never used are stopped


class _Started(threading.Event):
    """Set when a background unit's load is under way, and when (the alone units wait for its users' release)."""

    at: float | None = None

    def set(self) -> None:
        self.at = self.at or time.monotonic()
        super().set()


# How long the alone units wait for a background unit's load to start, then for its users to be released (a
# forked Locust spawns and releases a burst of 50 in about a second).
BACKGROUND_START_S = 60.0
BACKGROUND_SETTLE_S = 2.0


def _raise_first(futures: list[Future[None]]) -> None:
    for f in futures:
        if f.done() and not f.cancelled() and f.exception() is not None:
            f.result()


def _unit_env(unit: Unit, run: _Run, variant: str) -> dict[str, str]:
    env = {**unit.step.app_env, **run.backend.app_env()}
    if unit.fast and unit.step.workers > 1:
        env[WORKER_START_ENV] = "fork"  # bench/servers/uvicorn_runner.py: workers forked, not spawned
    if run.redis_url and _limiter_of(variant) == "redis":
        env["REDIS_URL"] = run.redis_url
        if run.config.schedule != "serial":
            # Units side by side share the Redis: each keeps its own limiter key, so one unit's permits are not
            # another's (the claim is about the workers of one app sharing one rate).
            env["APP_RATE_LIMIT_KEY"] = f"llm-bench:openai:{run.out_dir.name}:{unit.index}"
    return env


def _run_unit(unit: Unit, run: _Run, under_way: threading.Event | None = None, ready: _Servers | None = None
              ) -> None:
    """One unit: its mock, then for each variant its app (a fresh one per repetition for a cold scenario) and its
    repetitions (the round-1 `_run_step`, for the units of either schedule). `under_way` is set when its first
    run's load starts, or when it fails. `ready`: its servers, started ahead."""
    try:
        _unit_body(unit, run, under_way, ready)
    except BaseException:
        run.stop.set()
        raise
    finally:
        if under_way is not None:
            under_way.set()


@dataclass
class _Servers:
    """A unit's mock (None for a real backend), the app of each variant started ahead (`_start_servers`; warmed up
    in its turn, not ahead: warmed up ahead and left idle, C6's limiter met 2 upstream 429s in its first repetition
    of a seed run, where it meets none), and the stack that stops them."""

    stack: contextlib.ExitStack
    mock: MockServer | None
    backend_url: str
    apps: dict[str, Any] = field(default_factory=dict)
    # Called once the first app is warmed up, before the first measured run (the alone lane: the previous unit's
    # servers stopping meanwhile must be gone by then).
    before_runs: Callable[[], None] | None = None


def _start_servers(unit: Unit, run: _Run, *, apps: bool) -> _Servers:
    """The unit's mock and, with `apps` (and a warm scenario), each variant's app, not yet warmed up."""
    stack = contextlib.ExitStack()
    try:
        with run.clock.stage("start"):
            mock = stack.enter_context(_mock_for(unit.step, run.backend, run.config.seed, run.log_dir))
            servers = _Servers(stack, mock, mock.url + "/v1" if mock else run.backend.base_url)
            if apps and not facts(unit.step.scenario).fresh_app:
                for variant in unit.variants:
                    servers.apps[variant] = stack.enter_context(_app_for(unit, run, variant, servers.backend_url))
        return servers
    except BaseException:
        stack.close()
        raise


def _stop_servers(servers: _Servers, clock: StageClock) -> None:
    with clock.stage("stop"):
        servers.stack.close()


def _app_for(unit: Unit, run: _Run, variant: str, backend_url: str) -> Any:
    """A context manager starting the variant's app (the reference app's, or the user's app: `--app`)."""
    config = run.config
    start = running_app if config.target is None else target_starter(config.target)
    return start(variant, backend_url, workers=unit.step.workers, env=_unit_env(unit, run, variant),
                 log_dir=str(run.log_dir), api_key=run.backend.api_key, host=config.app_host())


def _warm_app(unit: Unit, run: _Run, variant: str, backend_url: str, stack: contextlib.ExitStack,
              started: Any = None) -> Any:
    """The variant's app (`started` ahead, or started here on `stack`), warmed up for a warm measurement."""
    app = started
    if app is None:
        with run.clock.stage("start"):
            app = stack.enter_context(_app_for(unit, run, variant, backend_url))
    with run.clock.stage("warm-up"):
        if isinstance(app, AppServer):
            _warm_up(app, unit.step)
        elif run.config.target is not None and run.config.target.request is not None:
            target_warm_up(app, run.config.target.request, unit.step.latency_ms)
    return app


def _unit_body(unit: Unit, run: _Run, under_way: threading.Event | None, ready: _Servers | None = None) -> None:
    """`ready`: the unit's servers, started ahead (the caller stops them); else they are started and stopped here."""
    if run.stop.is_set():
        return
    servers = ready or _start_servers(unit, run, apps=False)
    try:
        _unit_runs(unit, run, under_way, servers)
    finally:
        if ready is None:
            _stop_servers(servers, run.clock)


def _unit_runs(unit: Unit, run: _Run, under_way: threading.Event | None, servers: _Servers) -> None:
    config, step, clock, mock = run.config, unit.step, run.clock, servers.mock
    step_index = unit.step_index
    locust_options = {} if config.target is None else config.target.locust_options()
    for variant in unit.variants:
        with contextlib.ExitStack() as warm_stack:
            warm_app = None
            if not facts(step.scenario).fresh_app:
                warm_app = _warm_app(unit, run, variant, servers.backend_url, warm_stack, servers.apps.get(variant))
            if servers.before_runs is not None:
                servers.before_runs()
                servers.before_runs = None
            for n_index, users in enumerate(unit.users()):
                reps = step.repetitions(run.profile.repeat)
                for rep in unit.reps:
                    if run.stop.is_set():
                        return
                    label = f"{step.scenario} {variant} N={users} rep {rep + 1}/{reps}"
                    run.tell(label, estimate_s(step, variant, users, run.serial_s))
                    run_dir = run.out_dir / "runs" / _slug(
                        f"{step_index:02d}-{step.scenario}-{variant}-{users}-{rep}")
                    if mock:
                        mock.reset()
                    with contextlib.ExitStack() as app_stack:
                        if warm_app is None:
                            with clock.stage("start"):
                                app = app_stack.enter_context(_app_for(unit, run, variant, servers.backend_url))
                        else:
                            app = warm_app
                        t0 = time.perf_counter()
                        entry = execute(RunContext(step=step, variant=variant, repetition=rep, users=users,
                                                   app=app, mock=mock, out_dir=run_dir, results_dir=run.out_dir,
                                                   processes=config.processes, serial_s=run.serial_s,
                                                   locust_options=locust_options,
                                                   load_workers=config.load_workers(), clock=clock,
                                                   under_way=under_way, stop=run.stop))
                        entry["wall_s"] = round(time.perf_counter() - t0, 3)
                        with clock.stage("stop"):
                            app_stack.close()
                    if run.stop.is_set() and not entry["accounting"]["ok"]:
                        # Cut by the stop (Ctrl-C, or another unit's failure: its Locust was told to quit), not
                        # finished: not kept, as under the serial schedule, where the interrupt ends the run
                        # before it is recorded. Its files stay in its directory.
                        return
                    entry["claims"] = list(step.claims)
                    if step.workers > 1:  # how the app's workers started: spawned (uvicorn's way) or forked
                        entry["params"]["worker_start"] = _unit_env(unit, run, variant).get(WORKER_START_ENV) or "spawn"
                    run.record(entry, (step_index, step.variants.index(variant), n_index, rep))
                    if "app_died" in entry:  # its partial run is kept; the rest of the plan cannot run
                        raise AppDied(died_line(entry))
            with clock.stage("stop"):
                warm_stack.close()
        if run.stop.is_set():
            return


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in text)

