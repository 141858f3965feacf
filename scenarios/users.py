"""Locust users that talk to the chat app: a common base, closed-loop users (JSON and SSE), the sweep's user.

Every user takes its client timeouts from `--client-timeout` and tags its requests with its index.
"""

from __future__ import annotations

import locust  # noqa: F401  # gevent monkey-patching must come before anything else in a Locust process

# isort: split
import itertools
from typing import Any, ClassVar

import gevent
from locust import FastHttpUser, task
from locust.exception import StopUser

from scenarios import clock, completion
from scenarios.calls import post_chat, post_stream
from scenarios.runstate import get_run
from scenarios.schedule import sweep_step


def wait_until(epoch_s: float) -> None:
    """Sleep (cooperatively) until the given wall-clock time; return at once if it has passed."""
    delay = epoch_s - clock.now()
    if delay > 0:
        gevent.sleep(delay)


def release_time(environment: Any) -> float:
    """The run's release time, as resolved by the master at test start (now, if it never was), on this process's
    clock: a worker reads the master's time through its current clock-offset estimate."""
    release = get_run(environment).settings.release_at
    return clock.from_master(release) if release > 0 else clock.now()


def final_release(environment: Any) -> float:
    """The release time once it is final: a local run moves it up to just after its last user is spawned
    (scenarios/hooks.py); until then, the latest it can be."""
    final = get_run(environment).extra.get("release_final")
    if final is not None:
        final.wait(timeout=max(0.0, release_time(environment) - clock.now()))
    return release_time(environment)


def wait_for_release(environment: Any) -> float:
    """Sleep until the release and return it (this process's clock). Read again just before it: a worker's
    clock-offset estimate may have improved since the user started waiting."""
    final_release(environment)
    while True:
        release = release_time(environment)
        if release - clock.now() <= 0.05:
            wait_until(release)
            return release
        gevent.sleep(release - clock.now() - 0.05)


class ChatUser(FastHttpUser):
    """Base: FastHttpUser with the run's client timeout, and a per-process user index on every request."""

    abstract = True
    _indices: ClassVar[itertools.count[int]] = itertools.count()

    def __init__(self, environment: Any) -> None:
        settings = get_run(environment).settings
        # FastHttpUser reads these in its __init__; a blocked server answers a burst only after N x latency.
        self.network_timeout = settings.client_timeout
        self.connection_timeout = settings.client_timeout
        super().__init__(environment)
        self.index = next(ChatUser._indices)

    def wait_time(self) -> float:
        return get_run(self.environment).settings.think_time

    def context(self) -> dict[str, Any]:
        return {"user": self.index}


class ClosedLoopUser(ChatUser):
    """Sends a request, waits for its answer (and the think time), repeats until the run's duration ends."""

    send = staticmethod(post_chat)

    def on_start(self) -> None:
        release = wait_for_release(self.environment)
        self.deadline = release + get_run(self.environment).settings.duration

    @task
    def loop(self) -> None:
        if clock.now() >= self.deadline:
            completion.user_done(self.environment)
            raise StopUser()
        type(self).send(self)


class StreamUser(ClosedLoopUser):
    """The closed loop on the SSE endpoint: records time to first token and the gaps between tokens."""

    send = staticmethod(post_stream)


class SweepUser(ChatUser):
    """A closed-loop user whose number the sweep shape sets; records carry the step they were sent in."""

    @task
    def loop(self) -> None:
        settings = get_run(self.environment).settings
        step = sweep_step(clock.now() - release_time(self.environment), settings.step_duration,
                          len(settings.steps))
        post_chat(self, step=step)
