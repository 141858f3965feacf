"""The burst: every user waits for one shared wall-clock release time, sends one request, and is done.

The master fixes the release time at test start and sends it to every worker with the spawn message, so
users in all `--processes` send together; the run ends when the last of them has its answer.
"""

from __future__ import annotations

import locust  # noqa: F401  # gevent monkey-patching must come before anything else in a Locust process

# isort: split
from locust import task
from locust.exception import StopUser

from scenarios import completion
from scenarios.calls import post_chat
from scenarios.users import ChatUser, wait_for_release


class BurstUser(ChatUser):
    @task
    def once(self) -> None:
        release = wait_for_release(self.environment)
        try:
            post_chat(self, t_planned=release)
        finally:
            completion.user_done(self.environment)
        raise StopUser()
