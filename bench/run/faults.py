"""The `faults` scenario's plan: each upstream fault kind the mock can act out, how often it fires, what a user may
see for it (the app's status and the `error.type` naming the cause), and how long a request may take at most.

One step per kind drives a short steady load through the app (`bench.run.profiles.fault_steps`); the mock injects
the kind into a share of its upstream attempts, the SDK retries what it retries, and the run's accounting
(`bench.run.fault_accounting`) checks every request against this table.

    bound = (retries + 1) x timeout + the SDK's backoff before each retry (or the upstream's Retry-After) + margin
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bench.run.profiles import Step

# The app's upstream client timeout and retries for these steps: short, so a hang costs seconds, not the
# default 60 s a try (app_under_test/settings.py OPENAI_TIMEOUT, OPENAI_MAX_RETRIES: the SDK's own default).
APP_TIMEOUT_S = 1.0
APP_MAX_RETRIES = 2
APP_ENV = {"OPENAI_TIMEOUT": str(APP_TIMEOUT_S), "OPENAI_MAX_RETRIES": str(APP_MAX_RETRIES)}
# A hang lasts well past the client's timeout, yet ends by itself if a client never leaves.
HANG_S = 30.0
# The openai SDK's backoff (openai._constants INITIAL_RETRY_DELAY, MAX_RETRY_DELAY): 0.5 s x 2^i, at most 8 s,
# minus up to 25% jitter, unless the upstream's Retry-After says otherwise.
SDK_INITIAL_RETRY_S = 0.5
SDK_MAX_RETRY_S = 8.0
# Beyond the budget above: the app's and the load generator's own time on a shared 2-core machine (a run's
# process start-up, the limiter's queue at its 10/s), measured well under 1 s here.
MARGIN_S = 2.0

RATE = 10.0  # arrivals per second
DURATION_S = 3.0  # so 30 requests per kind, variant and repetition
LATENCY_MS = 100.0
STORM_RPS = 1.0  # the 429 storm: an upstream limit a tenth of the offered rate, and no limiter in `async`
VARIANTS = ("async", "async-limited", "sync")


@dataclass(frozen=True)
class FaultKind:
    name: str
    rate: float  # share of upstream attempts the mock answers with this fault (the storm: none, its limit acts)
    status: int  # the app's answer when the SDK gives up
    error_types: tuple[str, ...]  # the `error.type` naming the cause (app_under_test/errors.py)
    what: str
    retried: bool = True  # the SDK retries it (a status or a connection error; not a 200 it cannot parse)

    @property
    def statuses(self) -> tuple[int, ...]:
        """What a user may see: 200 when a first try or a retry got through, else the app's mapping."""
        return (200, self.status)


# Rates: 5xx at the 10%; the others higher so each also reaches some users after the SDK's two retries
# (a request fails for good only when all three tries fault: 0.3^3 = 2.7%), and malformed, never retried, at 20%.
KINDS: dict[str, FaultKind] = {
    k.name: k
    for k in (
        FaultKind("5xx", 0.10, 502, ("upstream_error",), "the upstream answers HTTP 500"),
        FaultKind("hang", 0.20, 504, ("upstream_timeout",), f"the upstream says nothing for {HANG_S:g} s"),
        FaultKind("drop", 0.30, 502, ("upstream_unreachable",), "the upstream closes the connection unanswered"),
        FaultKind("cut", 0.30, 502, ("upstream_unreachable", "upstream_bad_response"),
                  "the upstream's answer stops half-way"),
        FaultKind("malformed", 0.20, 502, ("upstream_bad_response", "upstream_error"),
                  "the upstream's 200 carries half a JSON body", retried=False),
        FaultKind("429-storm", 0.0, 503, ("upstream_rate_limited",),
                  f"the upstream allows {STORM_RPS:g} request/s; {RATE:g}/s are offered"),
    )
}


def kind_of(step: Step) -> FaultKind:
    return KINDS[step.fault]


def mock_fields(step: Step) -> dict[str, Any]:
    """MockConfig fields for a faults step (bench.mock.config): the kind's rate, and a hang past the timeout."""
    if not step.fault or step.fault not in KINDS:
        return {}
    kind = KINDS[step.fault]
    if kind.rate <= 0:
        return {}
    return {f"fault_{kind.name}_rate": step.fault_rate or kind.rate, "hang_seconds": HANG_S}


def mock_seed(step: Step, seed: int) -> int:
    """Each kind its own draw stream: with one seed for all, every kind would fault the same request positions (and
    seed 0's first 60 draws hold none under 0.1, so 5xx at 10% would never fire)."""
    return zlib.crc32(f"{seed}:{step.fault}".encode()) if step.fault else seed


def app_timeout_s(step: Step) -> float:
    return float(step.app_env.get("OPENAI_TIMEOUT", APP_TIMEOUT_S))


def app_retries(step: Step) -> int:
    return int(step.app_env.get("OPENAI_MAX_RETRIES", APP_MAX_RETRIES))


def request_bound_s(step: Step) -> float:
    """The longest one request may take: every try up to the timeout, the waits between them, and the margin."""
    retries = app_retries(step)
    retry_after = 1.0 / step.upstream_limit_rps if step.upstream_limit_rps else 0.0
    waits = sum(max(min(SDK_INITIAL_RETRY_S * 2**i, SDK_MAX_RETRY_S), retry_after) for i in range(retries))
    return (retries + 1) * app_timeout_s(step) + waits + MARGIN_S


def serial_worst_s(step: Step, requests: int) -> float:
    """A blocking variant answers one request at a time: the last may wait for every one before it."""
    return requests * (request_bound_s(step) - MARGIN_S) + MARGIN_S
