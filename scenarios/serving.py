"""Locust's side of the embedded servers: with no host given, the master (or the only process) starts the mock
and the chosen app variant at each test start, before any user spawns, and points the host at the app;
they stay up between tests (restarted when the parameters change) and stop when Locust quits.
"""

from __future__ import annotations

import locust  # noqa: F401  # gevent monkey-patching must come before anything else in a Locust process

# isort: split
import atexit
import logging
import shutil
import sys
import tempfile
from dataclasses import dataclass, replace
from types import SimpleNamespace
from typing import Any, NoReturn

import gevent
import httpx
from locust.exception import StopTest
from locust.runners import STATE_SPAWNING, WorkerRunner

from bench.errors import BenchError
from bench.servers import httpclient
from scenarios.embedded import MOCK_BACKEND, EmbeddedStack, StackConfig, stack_config
from scenarios.options import app_backend, settings_from
from scenarios.registry import get_scenario
from scenarios.request_spec import derive

logger = logging.getLogger(__name__)

ATTR = "bench_serving"
# What the web UI's host field shows: leaving it (or clearing it) means "start the app for me".
EMBEDDED_HOST = "embedded"


@dataclass
class Serving:
    """Per-process state: the stack, the greenlet starting it, and whether the current test uses it."""

    stack: EmbeddedStack
    # "starting", "embedded", "external" (the user's own host) or "idle" (nothing started, or it failed)
    mode: str = "idle"
    starting: StackConfig | None = None  # while mode == "starting"
    external_host: str | None = None
    starter: gevent.Greenlet | None = None
    error: str | None = None
    derived_options: dict[str, str] | None = None  # the chat options derived for a user's app (`--app`)


def get_serving(environment: Any) -> Serving | None:
    return getattr(environment, ATTR, None)


def is_embedded_host(host: str | None, serving: Serving | None) -> bool:
    """No host, the UI's placeholder, or a URL the stack served: the embedded app. Anything else: the user's."""
    if not host or host.strip() in ("", EMBEDDED_HOST):
        return True
    return serving is not None and serving.stack.owns(host)


def install(environment: Any) -> None:
    """From the init event. Workers get nothing: the master starts the servers once and sends the host."""
    if isinstance(environment.runner, WorkerRunner):
        return
    # httpx logs every request at INFO, and Locust shows INFO: the readiness probes and the Insides pollers
    # (twice a second) would drown Locust's own lines.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    serving = Serving(stack=EmbeddedStack())
    setattr(environment, ATTR, serving)
    # Stopped at Locust's quit event, after the runner has stopped its users (at `quitting` they may still be
    # sending); atexit covers an exit that skips Locust's shutdown.
    environment.events.quit.add_listener(lambda **_: stop(environment))
    atexit.register(stop, environment)
    if environment.web_ui is not None and not environment.host:
        environment.host = EMBEDDED_HOST
    if getattr(environment.parsed_options, "headless", False) and is_embedded_host(environment.host, serving):
        try:
            check(environment)
        except (BenchError, ValueError) as exc:
            # A headless run with a bad parameter ends here, in one line, before any server or user starts.
            logger.error("%s", exc)
            sys.exit(2)


def check(environment: Any, values: dict[str, Any] | None = None) -> StackConfig:
    """The embedded config from the parsed options (updated with `values`, as a web UI form would);
    raises BenchError with one line for a bad value."""
    opts = vars(environment.parsed_options) | (values or {})
    settings = settings_from(SimpleNamespace(**opts))
    backend = app_backend(settings)  # 'openai' becomes its URL (and its key, from this environment)
    config = stack_config(replace(settings, backend=MOCK_BACKEND if backend.kind == "mock" else backend.base_url))
    return replace(config, model=backend.model, api_key=backend.api_key)


def on_test_start(environment: Any) -> None:
    """Called first thing at test start (scenarios/hooks.py), so the release time is fixed after startup."""
    serving = get_serving(environment)
    if serving is None:  # a worker
        return
    host = environment.host
    if not is_embedded_host(host, serving):
        serving.mode, serving.external_host = "external", host
        serving.stack.stop()  # an app of ours left over from an earlier test is no longer what is measured
        return
    opts = environment.parsed_options
    runner = environment.runner
    previous_state = runner.state
    # Starting the servers takes seconds. The web UI polls the runner's state and, seeing "ready" or "stopped"
    # meanwhile, would return to its start form and stop polling; "spawning" is what is happening.
    runner.update_state(STATE_SPAWNING)
    try:
        config = check(environment)
        serving.mode, serving.starting, serving.error = "starting", config, None
        if serving.stack.log_dir is None:  # the servers' logs, removed when Locust quits
            serving.stack.log_dir = tempfile.mkdtemp(prefix="locust-embedded-")
        serving.starter = gevent.spawn(serving.stack.ensure, config, fresh=get_scenario(opts.scenario).fresh_server)
        result = serving.starter.get()
    except (BenchError, ValueError, OSError) as exc:
        runner.update_state(previous_state)
        _fail(environment, serving, str(exc))
    finally:
        serving.starter, serving.starting = None, None
    if not isinstance(result, tuple):  # the start was killed: Locust is quitting
        runner.update_state(previous_state)
        raise StopTest("Locust is quitting")
    app, started = result
    if config.app:
        try:
            _use_app_request(serving, app, config.app, opts)
        except (BenchError, ValueError) as exc:
            runner.update_state(previous_state)
            _fail(environment, serving, str(exc))
    serving.mode, serving.external_host, serving.error = "embedded", None, None
    environment.host = app.url
    for user_class in environment.user_classes:
        user_class.host = app.url
    # The records' label names what actually runs, whatever --variant said.
    opts.variant = config.variant
    if not started:
        logger.info("embedded servers reused: %s at %s", config.describe(), app.url)


def _use_app_request(serving: Serving, app: Any, ref: str, opts: Any) -> None:
    """A user's app (`--app`): its request from its OpenAPI schema, as `bench run --app` derives it, unless the chat
    options give one (options this function set for an earlier app do not count as given)."""
    keys = ("chat_path", "chat_method", "chat_body", "chat_headers")
    current = {k: str(getattr(opts, k, "") or "") for k in keys}
    if current["chat_body"] and current != serving.derived_options:
        return
    request = derive(app.openapi(), ref)
    serving.derived_options = request.locust_options("chat")
    for key, value in serving.derived_options.items():
        setattr(opts, key, value)
    logger.info("%s: each user sends %s (from its OpenAPI schema)", ref, request.text())


def _fail(environment: Any, serving: Serving, message: str) -> NoReturn:
    serving.error = message
    serving.mode = "idle"
    logger.error("could not start the embedded servers: %s", message)
    if getattr(environment.parsed_options, "headless", False):
        environment.process_exit_code = 2
        gevent.spawn(environment.runner.quit)
    # Raised out of the test_start event, StopTest keeps the runner from spawning users with no host.
    raise StopTest(message)


def summary(environment: Any) -> str | None:
    """One line on the app's insides, for the end of a headless run."""
    serving = get_serving(environment)
    if serving is None or serving.stack.app is None:
        return None
    try:
        app = httpclient.get(serving.stack.app.url + "/api/debug/stats?blocks=0&sites=1", timeout=5.0).json()
        mock = serving.stack.mock.stats() if serving.stack.mock else {}
    except (httpx.HTTPError, ValueError):
        return None
    lag = app.get("loop_lag", {})
    line = (f"embedded app {app.get('variant')}: ChatAgent constructions {app.get('constructions')}, live "
            f"{app.get('live_instances')}, loop lag max {lag.get('max_ms', 0):.0f} ms, "
            f"p99 {lag.get('p99_ms', 0):.0f} ms")
    blocked = app.get("blocked") or {}
    if blocked.get("running") and blocked.get("sites"):
        top = blocked["sites"][0]
        line += (f", loop blocked {blocked.get('blocked_ms', 0):.0f} ms, {top.get('share', 0):.0%} of it at "
                 f"{top.get('site')}")
    if mock:
        line += (f"; upstream 429s {mock.get('answered_by_status', {}).get('429', 0)}, "
                 f"mock in flight peak {mock.get('peak_in_flight')}")
    return line


def stop(environment: Any) -> None:
    """Stop the servers (and a start still under way) and remove their logs; safe to call twice."""
    serving = get_serving(environment)
    if serving is None:
        return
    if serving.starter is not None and serving.starter is not gevent.getcurrent():
        serving.starter.kill(block=True)  # its context managers stop what it had started
    serving.stack.stop()
    if serving.stack.log_dir is not None:
        shutil.rmtree(serving.stack.log_dir, ignore_errors=True)
        serving.stack.log_dir = None

