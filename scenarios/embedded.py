"""The servers a Locust run starts by itself when it is given no host: the mock backend (unless an upstream URL
is given) and one variant of the app, on free loopback ports; kept while their parameters stay the same.

Pure (no locust import): `scenarios/serving.py` drives it from Locust's events.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from dataclasses import dataclass, field

import httpx

from app_under_test.variants import VariantError, parse_variant
from bench.errors import UsageError
from bench.mock.config import TIERS, MockConfig
from bench.mock.process import MockServer, running_mock
from bench.servers.app import AppServer, running_app
from bench.servers.target import TargetServer, TargetSpec, running_target
from scenarios.options import DEFAULT_APP_VARIANT, Settings

logger = logging.getLogger(__name__)

MOCK_BACKEND = "mock"


@dataclass(frozen=True)
class StackConfig:
    """What the embedded servers depend on; a different value means a restart."""

    variant: str
    backend: str  # MOCK_BACKEND or an OpenAI-compatible base URL
    mock_latency_ms: float = 500.0
    mock_rps: float = 0.0  # 0: no limit
    mock_tier: str = "none"
    model: str | None = None  # sent upstream as OPENAI_MODEL (real backends)
    api_key: str | None = field(default=None, repr=False)  # a real backend's key: the app's environment only
    app: str = ""  # a user's app, MODULE:ATTR, started instead of the variant (bench.servers.target)
    watch: tuple[str, ...] = ()  # with `app`: --watch MODULE:CLASS

    @property
    def uses_mock(self) -> bool:
        return self.backend == MOCK_BACKEND

    def mock_config(self) -> MockConfig:
        return MockConfig(latency_ms=self.mock_latency_ms, rps=self.mock_rps or None,
                          tier=None if self.mock_tier == "none" else self.mock_tier)

    def backend_text(self) -> str:
        if not self.uses_mock:
            return self.backend + (f", model {self.model}" if self.model else "")
        limits = [f"{self.mock_rps:g} req/s" if self.mock_rps else "", "" if self.mock_tier == "none" else
                  f"tier {self.mock_tier}"]
        limit = ", ".join(x for x in limits if x) or "no rate limit"
        return f"the mock backend ({self.mock_latency_ms:g} ms, {limit})"

    def describe(self) -> str:
        what = f"app {self.app}" if self.app else f"variant {self.variant}"
        return f"{what} against {self.backend_text()}"


def stack_config(settings: Settings) -> StackConfig:
    """The embedded servers' config from the run's options; a bad value is a UsageError of one line.

    The variant is `--app-variant`, else `--variant` (a headless run names it there), else the default.
    """
    variant = settings.app_variant or settings.variant or DEFAULT_APP_VARIANT
    app = settings.app.strip()
    watch = tuple(w.strip() for w in settings.app_watch.split(",") if w.strip())
    if app:
        module, sep, attr = app.partition(":")
        if not sep or not module or not attr:
            raise UsageError(f"app {app!r}: expected MODULE:ATTR (e.g. myapp.main:app)")
        bad = [w for w in watch if w.count(":") != 1 or w.startswith(":") or w.endswith(":")]
        if bad:
            raise UsageError(f"app_watch {bad[0]!r}: expected MODULE:CLASS")
        variant = app  # the records' label names what runs
    elif watch:
        raise UsageError("app_watch counts classes of your own app: give app MODULE:ATTR too")
    else:
        try:
            parse_variant(variant)
        except VariantError as exc:
            raise UsageError(f"with no host, Locust starts the app itself: {exc}") from None
    backend = settings.backend.strip() or MOCK_BACKEND
    if backend != MOCK_BACKEND and not backend.startswith(("http://", "https://")):
        raise UsageError(f"--backend must be {MOCK_BACKEND!r} or an http(s) base URL, got {backend!r}")
    if settings.mock_latency_ms < 0:
        raise UsageError(f"--mock-latency-ms must be >= 0, got {settings.mock_latency_ms:g}")
    if settings.mock_rps < 0:
        raise UsageError(f"--mock-rps must be >= 0 (0: no limit), got {settings.mock_rps:g}")
    if settings.mock_tier != "none" and settings.mock_tier not in TIERS:
        raise UsageError(f"unknown mock tier {settings.mock_tier!r}; valid: none, {', '.join(TIERS)}")
    return StackConfig(variant=variant, backend=backend.rstrip("/"), mock_latency_ms=settings.mock_latency_ms,
                       mock_rps=settings.mock_rps, mock_tier=settings.mock_tier, app=app, watch=watch)


class EmbeddedStack:
    """The mock and the app as one unit: `ensure(config)` (re)starts them as needed, `stop()` ends both.

    Every URL it ever served is remembered, so a host that names one of them (the web UI sends back the
    host of the previous run) still means "the embedded app", not a user's own server.
    """

    def __init__(self, log_dir: str | None = None) -> None:
        self.log_dir = log_dir
        self.config: StackConfig | None = None
        self.app: AppServer | TargetServer | None = None
        self.mock: MockServer | None = None
        self.own_urls: set[str] = set()
        self._stack = contextlib.ExitStack()
        self._lock = threading.RLock()  # a gevent lock once Locust has monkey-patched threading

    @property
    def running(self) -> bool:
        return self.app is not None

    def owns(self, url: str | None) -> bool:
        return bool(url) and str(url).rstrip("/") in self.own_urls

    def alive(self) -> bool:
        procs = [self.app.proc] if self.app else []
        procs += [self.mock.process.proc] if self.mock else []
        return bool(procs) and all(p.poll() is None for p in procs)

    def ensure(self, config: StackConfig, *, fresh: bool = False) -> tuple[AppServer | TargetServer, bool]:
        """The running app for `config`, started (or restarted) if needed; returns (app, started_now)."""
        with self._lock:
            if self.app is not None and not fresh and config == self.config and self.alive():
                self.reset_counters()
                return self.app, False
            self.stop()
            try:
                backend_url = config.backend
                if config.uses_mock:
                    self.mock = self._stack.enter_context(running_mock(config.mock_config(), log_dir=self.log_dir))
                    backend_url = self.mock.api_base
                env = {"OPENAI_MODEL": config.model} if config.model else None
                app: AppServer | TargetServer = self._stack.enter_context(
                    running_target(TargetSpec(config.app, watch=config.watch), backend_url, log_dir=self.log_dir,
                                   api_key=config.api_key, env=env)) if config.app else self._stack.enter_context(
                    running_app(config.variant, backend_url, log_dir=self.log_dir, api_key=config.api_key, env=env))
                self.app = app
            except BaseException:
                self.stop()
                raise
            self.config = config
            self.own_urls.add(app.url)
            logger.info("embedded servers up: %s at %s", config.describe(), app.url)
            return app, True

    def reset_counters(self) -> None:
        """A new test on the same servers: start the peaks (loop lag, in flight) and the mock's books afresh."""
        with contextlib.suppress(httpx.HTTPError):
            if self.app is not None:
                self.app.reset()
            if self.mock is not None:
                self.mock.reset()

    def stop(self) -> None:
        """Stop both servers and their process trees (terminate, then kill); safe to call any number of times."""
        with self._lock:
            stack, self._stack = self._stack, contextlib.ExitStack()
            if self.app is not None or self.mock is not None:
                logger.info("stopping the embedded servers")
            self.app = self.mock = None
            self.config = None
            stack.close()
