"""RunConfig, the frozen object `bench run` and `bench gate` build from their flags, and RunPlan, the one
object the pipeline's entry point (`bench.run.orchestrator.run_plan`) takes: config, steps, backend, output."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app_under_test.variants import VariantError, parse_variant
from bench.errors import UsageError, choice_error
from bench.run.profiles import PROFILES, Profile, Step, standalone_steps
from bench.run.scenario_facts import DEFAULT_DURATION_S, SCENARIO_NAMES, facts
from bench.run.schedule import check as check_schedule

if TYPE_CHECKING:
    from bench.run.backends import Backend
    from bench.run.locust_job import LoadWorkers
    from bench.run.target import UserTarget


@dataclass(frozen=True)
class RunConfig:
    profile: str = "quick"
    variants: tuple[str, ...] = ()  # empty: the profile's
    scenarios: tuple[str, ...] = ()  # empty: the profile's
    users: int | None = None
    latency_ms: float | None = None
    repeat: int | None = None  # None: each step's own, else the profile's (3)
    backend: str = "mock"  # mock | openai | local-llm | an OpenAI-compatible base URL
    model: str | None = None
    processes: int = 1
    seed: int = 0
    out_dir: str = ""
    label: str = ""
    init_delay_ms: float = 0.0
    max_tokens: int | None = None  # OPENAI_MAX_TOKENS for every app: caps each upstream answer
    redis_url: str | None = None  # a Redis the `limiter=redis` variants share (else the run starts one)
    target: UserTarget | None = None  # `--app MODULE:ATTR`: the user's app instead of the reference app's variants
    locust_workers: int = 0  # > 0: Locust workers on other hosts (`bench worker`) instead of local load processes
    master_bind: str = ""  # HOST:PORT every run's Locust master listens on (resolved by `bench run`)
    worker_wait_s: float = 60.0  # how long each run's master waits for all its workers
    schedule: str = "overlap"  # bench/run/schedule.py: overlap, or round 1's serial (for side-by-side comparison)

    def load_workers(self) -> LoadWorkers | None:
        if not self.locust_workers:
            return None
        from bench.run.load_worker import parse_address
        from bench.run.locust_job import LoadWorkers

        host, port = parse_address(self.master_bind)
        return LoadWorkers(self.locust_workers, host, port, self.worker_wait_s)

    def app_host(self) -> str:
        """The app's listening address: with load workers, the master's, which the workers reach (else loopback)."""
        lw = self.load_workers()
        return lw.host if lw is not None else "127.0.0.1"

    def to_dict(self) -> dict[str, Any]:
        from bench.run.backends import redact_url

        # A backend URL may carry credentials (user:key@host, ?api-key=): results never hold them. Nor do the
        # user's --env values: the target records their names only.
        out = {**asdict(self), "backend": redact_url(self.backend),
               "redis_url": redact_url(self.redis_url) if self.redis_url else None}
        if self.target is None:
            out.pop("target")
        else:
            out["target"] = self.target.describe()
        return out


def validate(config: RunConfig) -> RunConfig:
    if config.profile not in PROFILES and config.target is None:
        raise choice_error("profile", config.profile, list(PROFILES))
    if config.redis_url is not None and config.redis_url.split("://", 1)[0] not in ("redis", "rediss", "redis+unix"):
        raise UsageError(f"--redis-url needs a redis://, rediss:// or redis+unix:// URL, got {config.redis_url!r}")
    for name in config.scenarios:
        if name not in SCENARIO_NAMES:
            raise choice_error("scenario", name, list(SCENARIO_NAMES))
    for name in config.variants:
        try:
            parse_variant(name)
        except VariantError as exc:
            raise UsageError(str(exc)) from None
    check_schedule(config.schedule)
    if config.repeat is not None and config.repeat < 1:
        raise UsageError("--repeat must be at least 1")
    if config.users is not None and not 1 <= config.users <= 5000:
        raise UsageError("--users must be between 1 and 5000")
    if config.latency_ms is not None and not 0 <= config.latency_ms <= 600_000:
        raise UsageError("--latency must be between 0 and 600000 ms")
    if config.processes < 1:
        raise UsageError("--processes must be at least 1")
    if config.locust_workers < 0:
        raise UsageError("--locust-workers must be >= 0")
    if config.locust_workers and config.processes > 1:
        raise UsageError("--locust-workers and --processes exclude each other: with load workers, give each "
                         "`bench worker` its --processes")
    if not 0 < config.worker_wait_s < float("inf"):  # NaN fails too
        raise UsageError(f"--worker-wait must be > 0 seconds, got {config.worker_wait_s}")
    if config.max_tokens is not None and config.max_tokens < 1:
        raise UsageError("--max-tokens must be at least 1")
    return config


def _app_env(config: RunConfig) -> dict[str, str]:
    env = {}
    if config.init_delay_ms:
        env["APP_AGENT_INIT_DELAY_MS"] = str(config.init_delay_ms)
    if config.max_tokens is not None:
        env["OPENAI_MAX_TOKENS"] = str(config.max_tokens)
    return env


def plan(config: RunConfig) -> Profile:
    """The profile's steps with the user's filters and overrides applied."""
    if config.target is not None:
        from bench.run.target import target_profile

        return target_profile(config.target, scenarios=config.scenarios, users=config.users,
                              latency_ms=config.latency_ms, repeat=config.repeat, app_env=_app_env(config))
    profile = PROFILES[config.profile]
    listed: dict[str, set[str]] = {}
    for step in profile.steps:
        listed.setdefault(step.scenario, set()).update(step.variants)
    steps: list[Step] = []
    seen: set[str] = set()
    for step in profile.steps:
        if config.scenarios and step.scenario not in config.scenarios:
            continue
        first = step.scenario not in seen
        seen.add(step.scenario)
        variants = tuple(v for v in step.variants if not config.variants or v in config.variants)
        # Requested variants that no step of this scenario lists run in its first step: never dropped silently.
        extra = tuple(v for v in config.variants if v not in listed[step.scenario]) if first else ()
        if config.variants and not variants:
            if not extra:
                continue  # the requested variants run in another step of this scenario
            step = replace(step, repeat=None)  # its repeat was for its own variants
        variants += extra
        changes: dict[str, Any] = {"variants": variants}
        if config.repeat is not None:  # an explicit --repeat applies to every step
            changes["repeat"] = None
        if config.users is not None and facts(step.scenario).takes_users:
            changes["users"] = config.users
        if config.latency_ms is not None:
            changes["latency_ms"] = config.latency_ms
        if app_env := _app_env(config):  # the app-setting flags reach every app through its step's environment
            changes["app_env"] = {**step.app_env, **app_env}
        steps.append(replace(step, **changes))
    # A scenario the profile lacks but the user named runs with defaults on the given variants.
    for name in config.scenarios:
        if not any(s.scenario == name for s in steps):
            if own := standalone_steps(name, tuple(config.variants)):  # a set-up of its own (faults' mocks)
                for s in own:
                    own_changes: dict[str, Any] = {"app_env": {**s.app_env, **_app_env(config)}}
                    if config.latency_ms is not None:
                        own_changes["latency_ms"] = config.latency_ms
                    if config.repeat is not None:
                        own_changes["repeat"] = None
                    steps.append(replace(s, **own_changes))
                continue
            f = facts(name)
            steps.append(Step(name, tuple(config.variants) or ("sync", "async"), (), users=config.users or f.users,
                              latency_ms=config.latency_ms if config.latency_ms is not None else 1000.0,
                              duration_s=DEFAULT_DURATION_S, rate=20.0, workers=f.workers, steps=f.by_n,
                              app_env=_app_env(config)))
    return replace(profile, steps=tuple(steps), repeat=config.repeat or profile.repeat)


@dataclass(frozen=True)
class RunPlan:
    """What `run_plan` runs: the config as asked (recorded in results.json), the steps it resolved to (filters,
    overrides and app settings applied), the backend, and the output directory."""

    config: RunConfig
    profile: Profile
    backend: Backend
    out_dir: Path
