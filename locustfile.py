"""The benchmark's Locust entry point: `locust -f locustfile.py [--host URL] --scenario NAME [--headless ...]`.

`--scenario` picks the user class and load shape (`scenarios/registry.py`); the other options are in
`scenarios/options.py` (Locust's `--help` is printed before a locustfile loads, so it does not list them).
With no host, Locust starts the mock backend and the `--app-variant` app itself (`scenarios/serving.py`),
and its web UI gains an Insides tab and a live /insides page (`scenarios/webui.py`).
"""

from __future__ import annotations

import locust  # noqa: F401  # gevent monkey-patching must come before anything else in a Locust process

# isort: split
# Locust offers the User classes found here; the init hook keeps only the chosen scenario's.
# Shape classes are deliberately not imported: Locust would apply one to every scenario.
from scenarios import hooks  # noqa: F401  # registers the event listeners
from scenarios.arrival import ArrivalDriver
from scenarios.burst import BurstUser
from scenarios.users import ClosedLoopUser, StreamUser, SweepUser

__all__ = ["ArrivalDriver", "BurstUser", "ClosedLoopUser", "StreamUser", "SweepUser"]
