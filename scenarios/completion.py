"""Ending a run by itself: users report when they are done, and the run quits when all of them have.

Across `--processes` and load workers, workers send a message per finished user to the master, which counts
them (per worker) and quits (Locust then stops the workers). The users of a worker lost mid-run will never
report: they are no longer waited for (`scenarios/streaming.py` says so). A hard time limit quits whatever happens.
"""

from __future__ import annotations

import locust  # noqa: F401  # gevent monkey-patching must come before anything else in a Locust process

# isort: split
import logging
from typing import Any

import gevent
from locust.runners import MasterRunner, WorkerRunner

from scenarios.runstate import get_run

logger = logging.getLogger(__name__)

DONE_MESSAGE = "bench_user_done"
ABORT_MESSAGE = "bench_abort"
HARD_LIMIT_EXIT_CODE = 3


def install(environment: Any) -> None:
    """Register the message handlers; call from the init event on every process."""
    runner = environment.runner
    if isinstance(runner, MasterRunner):
        runner.register_message(DONE_MESSAGE, lambda environment, msg, **_: _count(
            environment, int(msg.data["users"]), worker=msg.node_id))
    elif isinstance(runner, WorkerRunner):
        runner.register_message(ABORT_MESSAGE, lambda environment, msg, **_: _abort_locally(environment))


def user_done(environment: Any) -> None:
    """One user has sent everything it will send and has every response (or error) in hand."""
    runner = environment.runner
    if isinstance(runner, WorkerRunner):
        runner.send_message(DONE_MESSAGE, {"users": 1})
    else:
        _count(environment, 1)


def expected_users(environment: Any) -> int:
    """Users that will report: all of them, less the unfinished users of workers lost mid-run."""
    opts = environment.parsed_options
    return int(getattr(opts, "num_users", None) or 1) - int(get_run(environment).extra.get("lost_users", 0))


def users_lost(environment: Any, n: int) -> None:
    """A worker was lost with `n` users unfinished: stop waiting for them (the run may be over now)."""
    run = get_run(environment)
    run.extra["lost_users"] = int(run.extra.get("lost_users", 0)) + n
    _count(environment, 0)


def reset(environment: Any) -> None:
    """At test start: nobody done, nobody lost."""
    run = get_run(environment)
    run.done_users = 0
    run.stopping = False
    run.extra["done_by"] = {}
    run.extra["lost_users"] = 0


def _count(environment: Any, n: int, worker: str | None = None) -> None:
    run = get_run(environment)
    run.done_users += n
    if worker is not None:
        done_by = run.extra.setdefault("done_by", {})
        done_by[worker] = done_by.get(worker, 0) + n
    if run.done_users >= expected_users(environment) and not run.stopping:
        run.stopping = True
        logger.info("all %d users done, stopping", run.done_users)
        _end(environment)


def start_hard_limit(environment: Any, seconds: float) -> None:
    """Stop after `seconds` if the run has not ended by then (master or local runner only)."""
    cancel_hard_limit(environment)
    if seconds > 0:
        get_run(environment).extra["watchdog"] = gevent.spawn_later(seconds, _hard_stop, environment, seconds)


def cancel_hard_limit(environment: Any) -> None:
    """At test stop: a watchdog left over must not stop the next test started from the web UI."""
    watchdog = get_run(environment).extra.pop("watchdog", None)
    if watchdog is not None and watchdog is not gevent.getcurrent():
        watchdog.kill(block=False)


def _hard_stop(environment: Any, seconds: float) -> None:
    run = get_run(environment)
    if run.stopping:
        return
    run.stopping = True
    logger.error("hard time limit of %.0f s reached, stopping the run", seconds)
    environment.process_exit_code = HARD_LIMIT_EXIT_CODE
    runner = environment.runner
    if isinstance(runner, MasterRunner):
        runner.send_message(ABORT_MESSAGE, None)
    _abort_locally(environment)
    _end(environment)


def _end(environment: Any) -> None:
    # Headless: quit, as Locust does when a shape ends. With a web UI: stop the test, keep the UI up.
    # Never from the calling user's own greenlet: stopping kills every user greenlet, the caller included.
    headless = bool(getattr(environment.parsed_options, "headless", True))
    gevent.spawn(environment.runner.quit if headless else environment.runner.stop)


def _abort_locally(environment: Any) -> None:
    # Do not wait for in-flight requests: they are recorded as cancelled when their users are killed.
    environment.stop_timeout = 0.0
    get_run(environment).stopping = True
