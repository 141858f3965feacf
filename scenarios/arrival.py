"""Open-loop arrivals: one driver user per Locust process starts a greenlet per arrival on a fixed schedule.

Arrival i is due at release + i / rate whether or not earlier ones were answered (a slow server does not
slow the load down); process k of P sends the arrivals i = k, k + P, ... so together they keep the rate.
"""

from __future__ import annotations

import locust  # noqa: F401  # gevent monkey-patching must come before anything else in a Locust process

# isort: split
from typing import Any

from gevent import GreenletExit
from gevent.pool import Group
from locust import task
from locust.exception import StopUser
from locust.runners import WorkerRunner

from scenarios import completion
from scenarios.calls import post_chat
from scenarios.runstate import get_run
from scenarios.schedule import arrival_count, arrivals_for_worker
from scenarios.users import ChatUser, final_release, wait_until


def worker_slot(environment: Any) -> tuple[int, int]:
    """(this process's index, number of load processes)."""
    runner = environment.runner
    if not isinstance(runner, WorkerRunner):
        return 0, 1
    opts = environment.parsed_options
    n = max(int(getattr(opts, "expect_workers", 1) or 1), int(getattr(opts, "processes", 1) or 1), 1)
    return runner.worker_index, n


class ArrivalDriver(ChatUser):
    def __init__(self, environment: Any) -> None:
        # One client pool shared by every in-flight arrival of this process: it must never make one wait.
        self.concurrency = get_run(environment).settings.max_inflight
        super().__init__(environment)

    @task
    def drive(self) -> None:
        settings = get_run(self.environment).settings
        index, n_workers = worker_slot(self.environment)
        count = arrival_count(settings.rate, settings.duration, settings.max_arrivals)
        release = final_release(self.environment)
        inflight = Group()
        try:
            for _, offset in arrivals_for_worker(settings.rate, count, index, n_workers):
                planned = release + offset
                wait_until(planned)
                inflight.spawn(post_chat, self, t_planned=planned)
            inflight.join()  # each one ends by the client timeout at the latest
        except GreenletExit:
            inflight.kill()  # their requests are recorded as cancelled
            raise
        completion.user_done(self.environment)
        raise StopUser()
