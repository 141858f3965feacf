"""`bench run`'s loop: for each step of the plan, start the mock backend and each variant, run the
repetitions (a fresh app per repetition where the scenario is cold), and write results.json after every
run so that an interrupted run keeps what finished (marked partial). A backend the run starts itself
(`local-llm`, a real model) starts once for the whole run instead: loading a model is not a per-step cost.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from app_under_test.variants import VariantError, parse_variant
from bench.errors import ServerStartError, Terminated
from bench.mock.config import MockConfig
from bench.mock.process import MockServer, running_mock
from bench.results.schema import new_results, write_results
from bench.run import faults, probes
from bench.run.appwatch import AppDied, died_line
from bench.run.backend_probe import probe_for_run
from bench.run.backend_probe import summary as probe_summary
from bench.run.backends import LOCAL_MAX_TOKENS, LOCAL_MODEL, Backend
from bench.run.config import RunConfig, RunPlan
from bench.run.execute import RunContext, execute
from bench.run.host import host_metadata
from bench.run.profiles import WARM_UP_MESSAGE, WARM_UP_REQUESTS, Profile, Step
from bench.run.scenario_facts import facts
from bench.run.static import provider_call_ns, provider_lines
from bench.run.target import starter as target_starter
from bench.run.target import warm_up as target_warm_up
from bench.servers.app import AppServer, running_app
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


def plan_units(profile: Profile) -> list[tuple[Step, str, int, int]]:
    """(step, variant, users, repetition) in execution order."""
    units = []
    for step in profile.steps:
        for variant in step.variants:
            for users in (step.steps or (step.users,)):
                for rep in range(step.repetitions(profile.repeat)):
                    units.append((step, variant, users, rep))
    return units


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
        if len(app.per_worker(deadline_s=20.0)) < app.workers:
            raise ServerStartError(f"only some of the {app.workers} workers answered before the run")
        return
    timeout = max(30.0, step.latency_ms / 1000 * 4 + 30)
    with httpx.Client(timeout=timeout, headers={"Connection": "close"}) as client:
        for _ in range(WARM_UP_REQUESTS):
            client.post(app.url + "/api/chat", json={"message": WARM_UP_MESSAGE})


def run_plan(plan: RunPlan, progress: Progress | None = None) -> dict[str, Any]:
    """The pipeline's one entry point (`bench run` and `bench gate`): every step of the plan, results.json
    written after each run, the servers stopped whatever happens."""
    config, profile, backend, out_dir = plan.config, plan.profile, plan.backend, plan.out_dir
    note = _mock_only_note(backend, config)
    results = new_results(label=config.label or config.profile, config=config.to_dict() | {
        "plan": [{"scenario": s.scenario, "variants": list(s.variants), "claims": list(s.claims), **s.params()}
                 for s in profile.steps], "repeat": profile.repeat}, host=host_metadata(),
        backend=_describe(backend, note))
    results_path = out_dir / "results.json"
    if config.target is not None:  # a user's app (`--app`): the reference app's own probes say nothing of it
        results["target"] = config.target.describe()
    else:
        results["static"]["provider_lines"] = provider_lines()
        results["probes"]["provider_call_ns"] = provider_call_ns()
    log_dir = out_dir / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    if note:
        print(f"bench run: note: {note}", file=sys.stderr)
    write_results(results, results_path)
    try:
        if backend.kind == "mock" and config.target is None:
            results["probes"].update(probes.mock_probes(log_dir))
            write_results(results, results_path)
        with _backend_for_run(backend, config, log_dir) as backend, \
                _redis_for_run(profile, config, log_dir) as redis_url:
            results["backend"] = _describe(backend, note)  # now with the started server's version and timing
            # Straight at the backend, without the app: L alone, then N at once (C4's ideal comes from these).
            results["probes"]["backend"] = probe_for_run(backend, profile, seed=config.seed, log_dir=str(log_dir),
                                                         message=str(OPTIONS_BY_DEST["message"].default))
            print(f"bench run: backend probe ({results['probes']['backend']['target']}): "
                  f"{probe_summary(results['probes']['backend'])}", file=sys.stderr)
            write_results(results, results_path)
            for step in profile.steps:
                _run_step(step, config, profile, backend, out_dir, log_dir, results, results_path, progress,
                          redis_url)
    except KeyboardInterrupt as exc:
        results["partial"] = True
        results["interrupted"] = "SIGTERM" if isinstance(exc, Terminated) else "Ctrl-C"
        raise
    except AppDied as exc:
        results["partial"] = True
        results["interrupted"] = str(exc)  # what stopped it: the app's death, in the words the console shows
        raise AppDied(f"{exc}; partial results kept in {results_path}") from None
    finally:
        write_results(results, results_path)
    return results


def _run_step(step: Step, config: RunConfig, profile: Profile, backend: Backend, out_dir: Path, log_dir: Path,
              results: dict[str, Any], results_path: Path, progress: Progress | None,
              redis_url: str | None = None) -> None:
    with _mock_for(step, backend, config.seed, log_dir) as mock:
        backend_url = mock.url + "/v1" if mock else backend.base_url
        serial_s = serial_request_s(backend)
        # The reference app's variants, or the user's app (`--app`): started and read the same way.
        start = running_app if config.target is None else target_starter(config.target)
        locust_options = {} if config.target is None else config.target.locust_options()
        for variant in step.variants:
            env = {**step.app_env, **backend.app_env()}
            if redis_url and _limiter_of(variant) == "redis":
                env["REDIS_URL"] = redis_url
            app_cm = None if facts(step.scenario).fresh_app else start(
                variant, backend_url, workers=step.workers, env=env, log_dir=str(log_dir), api_key=backend.api_key,
                host=config.app_host())
            with app_cm or contextlib.nullcontext() as warm_app:
                if warm_app is not None:
                    if isinstance(warm_app, AppServer):
                        _warm_up(warm_app, step)
                    elif config.target is not None and config.target.request is not None:
                        target_warm_up(warm_app, config.target.request, step.latency_ms)
                for users in (step.steps or (step.users,)):
                    reps = step.repetitions(profile.repeat)
                    for rep in range(reps):
                        label = f"{step.scenario} {variant} N={users} rep {rep + 1}/{reps}"
                        if progress:
                            progress(label, estimate_s(step, variant, users, serial_s))
                        run_dir = out_dir / "runs" / _slug(f"{step.scenario}-{variant}-{users}-{rep}")
                        if mock:
                            mock.reset()
                        with (start(variant, backend_url, workers=step.workers, env=env, log_dir=str(log_dir),
                                    api_key=backend.api_key, host=config.app_host())
                              if warm_app is None else contextlib.nullcontext(warm_app)) as app:
                            t0 = time.perf_counter()
                            entry = execute(RunContext(step=step, variant=variant, repetition=rep, users=users,
                                                       app=app, mock=mock, out_dir=run_dir, results_dir=out_dir,
                                                       processes=config.processes, serial_s=serial_s,
                                                       locust_options=locust_options,
                                                       load_workers=config.load_workers()))
                            entry["wall_s"] = round(time.perf_counter() - t0, 3)
                        entry["claims"] = list(step.claims)
                        results["runs"].append(entry)
                        write_results(results, results_path)
                        if "app_died" in entry:  # its partial run is kept; the rest of the plan cannot run
                            raise AppDied(died_line(entry))


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in text)

