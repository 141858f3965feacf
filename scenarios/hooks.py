"""Wires the scenarios into Locust's events: options, scenario selection, release time, records, the end.

Importing this module registers the listeners (once per process); `locustfile.py` imports it.
"""

from __future__ import annotations

import locust  # noqa: F401  # gevent monkey-patching must come before anything else in a Locust process

# isort: split
import csv
import functools
import logging
import os
from collections.abc import Callable
from typing import Any

import gevent
import gevent.event
from locust import events
from locust import stats as locust_stats
from locust.runners import MasterRunner, WorkerRunner

from bench.servers.lifeline import forks_die_with_parent
from scenarios import clock, completion, serving, streaming, webui
from scenarios.options import add_arguments
from scenarios.record_buffer import FLUSH_EVERY_S, PendingRecords, record_of_event
from scenarios.registry import resolve
from scenarios.runstate import BenchRun, attach, get_run, new_run
from scenarios.schedule import release_delay

# Locust rewrites its CSV every CSV_STATS_INTERVAL_SEC (default 1 s) and not at exit: the final numbers are written
# at `quitting` (_write_final_csv); the shorter interval keeps the files (and the history's rows) fresher meanwhile.
locust_stats.CSV_STATS_INTERVAL_SEC = 0.25  # type: ignore[assignment]  # an int in locust; a float works

logger = logging.getLogger(__name__)

PENDING = "record_buffer"  # run.extra's key for a local runner's PendingRecords

# `--processes N` forks the load workers: each dies with the Locust process that forked it, even when that one
# is killed outright (the harness's Locust child dies with the harness the same way).
forks_die_with_parent()


@events.init_command_line_parser.add_listener
def _add_options(parser: Any, **_: Any) -> None:
    add_arguments(parser)


@events.init.add_listener
def _on_init(environment: Any, runner: Any, **_: Any) -> None:
    opts = environment.parsed_options
    if clock.TEST_OFFSET_S:
        logger.warning("test hook %s: this process's clock is shifted by %+.6f s", clock.TEST_OFFSET_ENV,
                       clock.TEST_OFFSET_S)
    run = new_run(opts)
    run.extra["release_at_given"] = run.settings.release_at > 0
    attach(environment, run)
    environment.events.spawning_complete.add_listener(functools.partial(_on_spawned, environment))
    spec = run.spec
    if not getattr(opts, "user_classes", None) and not isinstance(runner, WorkerRunner):
        # The scenario picks the user class unless User classes were named on the command line. Workers keep
        # every class: they spawn whichever the master names (the web UI can switch scenario or class).
        environment.user_classes = [resolve(spec.user_class)]
    if spec.shape_class and not isinstance(runner, WorkerRunner):
        shape = resolve(spec.shape_class)()
        shape.runner = runner
        environment.shape_class = shape
    if not isinstance(runner, WorkerRunner):
        if spec.one_user_per_process:
            opts.num_users = max(int(getattr(opts, "expect_workers", 1) or 1), 1) if isinstance(
                runner, MasterRunner) else 1
            opts.spawn_rate = float(opts.num_users)
        if getattr(opts, "num_users", None) is None:
            opts.num_users = spec.users
        if getattr(opts, "spawn_rate", None) is None:
            # Locust ramps at spawn_rate users/s; all of them within about a second.
            opts.spawn_rate = float(max(opts.num_users, 1))
        if not spec.self_ending and not environment.stop_timeout:
            # When the sweep ends, let in-flight requests finish instead of cancelling them.
            environment.stop_timeout = run.settings.client_timeout
    completion.install(environment)
    streaming.install(environment)  # a worker streams its records (and clock) to the master; one path for all
    if isinstance(runner, WorkerRunner):
        environment.events.request.add_listener(_record_listener(run, _to_master(environment)))
    elif run.writer is not None and not isinstance(runner, MasterRunner):  # a master's users are its workers'
        pending = PendingRecords(run.writer, event_lines=run.settings.records_format == "events")
        run.extra[PENDING] = pending
        environment.events.request.add_listener(_record_listener(run, pending.add))
        # In the runner's group where there is one: it ends when Locust kills its greenlets at quit.
        (runner.greenlet.spawn if runner is not None else gevent.spawn)(_drain_every, pending)
    serving.install(environment)
    webui.install(environment)


@events.test_start.add_listener
def _on_test_start(environment: Any, **_: Any) -> None:
    # First: with no host, the app is started here, and the release time must count from its readiness.
    serving.on_test_start(environment)
    clock.reanchor()
    run = get_run(environment)
    opts = environment.parsed_options
    if not isinstance(environment.runner, WorkerRunner):
        settings = run.settings
        # Resolved afresh at every start (the web UI can start a test many times) unless given explicitly.
        run.extra.pop("release_final", None)
        if not run.extra.get("release_at_given"):
            if settings.release_delay >= 0:
                delay = settings.release_delay
            elif run.spec.shape_class is not None:
                delay = 0.0  # a sweep starts with its first step, no gathering before it
            else:
                delay = release_delay(int(opts.num_users or 1), float(opts.spawn_rate or 1))
                if not isinstance(environment.runner, MasterRunner):
                    # One process sees its own spawn end: the release moves up to just after it (`_on_spawned`);
                    # the delay stays the latest it can be. A master's workers get it with their spawn message.
                    run.extra["release_final"] = gevent.event.Event()
            # Set on the parsed options so the master's spawn messages carry it to every worker.
            opts.release_at = clock.now() + delay
            logger.info("release in %.2f s (epoch %.3f)", delay, opts.release_at)
        completion.start_hard_limit(environment, settings.hard_limit)
    run.refresh(opts)
    completion.reset(environment)


# Seconds from a local run's last user spawned to its release: for the users' greenlets, started but not yet run,
# to reach their wait (50 take a few milliseconds). Instead of release_delay's margin, 0.3 s a run.
RELEASE_AFTER_SPAWN_S = 0.05


def _on_spawned(environment: Any, user_count: int = 0, **_: Any) -> None:
    """Every user of a local run is spawned: its release comes now, not at the delay test start allowed for."""
    run = get_run(environment)
    final = run.extra.get("release_final")
    if final is None or final.is_set():
        return
    opts = environment.parsed_options
    opts.release_at = min(opts.release_at, clock.now() + RELEASE_AFTER_SPAWN_S)
    run.refresh(opts)
    final.set()
    logger.info("%d users spawned: release at epoch %.3f", user_count, opts.release_at)


@events.test_stop.add_listener
def _on_test_stop(environment: Any, **_: Any) -> None:
    completion.cancel_hard_limit(environment)
    _drain(environment)  # fired after the users stopped: the records of requests cut short are in


def _record_listener(run: BenchRun, sink: Callable[[tuple[Any, ...]], None]) -> Any:
    """A request-event listener handing `sink` the event's values, as `scenarios/record_buffer.py` holds them: a
    local runner's buffer (written off the request's path), or a load worker's stream to its master."""

    def on_request(
        request_type: str,
        name: str,
        response_time: float,
        response_length: int,
        exception: BaseException | None = None,
        context: dict[str, Any] | None = None,
        response: Any = None,
        start_time: float | None = None,
        **_: Any,
    ) -> None:
        sink((request_type, name, response_time, response_length, exception,
              float(start_time) if start_time else clock.now(), _status(response), context or {}, run.labels))

    return on_request


def _status(response: Any) -> int:
    if response is None:
        return 0
    try:
        return int(getattr(response, "status_code", 0) or 0)
    except Exception:  # a response object broken by the very error being reported
        return 0


def _drain_every(pending: PendingRecords) -> None:
    while True:
        gevent.sleep(FLUSH_EVERY_S)
        try:
            pending.drain()
        except Exception:  # a full disk: those records are missing from the count, which the run reports
            logger.exception("writing request records failed")


def _drain(environment: Any) -> None:
    pending = get_run(environment).extra.get(PENDING)
    if pending is not None:
        pending.drain()


def _to_master(environment: Any) -> Callable[[tuple[Any, ...]], None]:
    """A load worker's sink: each event's record, built at once, streamed to its master (records_dir, from the
    master, says the master keeps them)."""

    def send(event: tuple[Any, ...]) -> None:
        stream = streaming.worker_stream(environment)
        if stream is not None and get_run(environment).settings.records_dir:
            stream.add(record_of_event(event, int(environment.runner.worker_index or 0), os.getpid()))

    return send


@events.quitting.add_listener
def _on_quitting(environment: Any, **_: Any) -> None:
    line = serving.summary(environment)
    if line:
        logger.info("%s", line)
    run = get_run(environment)
    _drain(environment)
    if run.writer is not None:
        run.writer.close()
    streaming.on_quitting(environment)
    prefix = getattr(environment.parsed_options, "csv_prefix", None)
    if prefix and not isinstance(environment.runner, WorkerRunner):
        _write_final_csv(environment, prefix)


def _write_final_csv(environment: Any, prefix: str) -> None:
    """Locust rewrites its CSV files only every CSV_STATS_INTERVAL_SEC and not at exit: a run ending sooner after
    its last request leaves the final numbers out. Write them now as its writer's pass would: the same three files
    (`<prefix>_stats.csv`, `_failures.csv`, `_exceptions.csv`), header and rows by Locust's own StatsCSV. (Waiting
    for that pass instead cost 0.35 s per run.) Locust's writer keeps its files open: after each pass it has
    flushed and truncated them, and a later pass rewrites the same rows from the same offsets, so both agree.
    The history file (`_stats_history.csv`, appended to) is left to Locust: its last row is from its last pass."""
    writer = locust_stats.StatsCSV(environment, locust_stats.PERCENTILES_TO_REPORT)
    for suffix, write in (("_stats.csv", writer.requests_csv), ("_failures.csv", writer.failures_csv),
                          ("_exceptions.csv", writer.exceptions_csv)):
        with open(prefix + suffix, "w") as fh:  # as StatsCSVFileWriter opens them
            write(csv.writer(fh))
