"""bench/run/execute.py limiter_refill_s: a warm app's limiter starts every run from a full bucket."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench.run.execute import REFILL_CAP_S, RunContext, limiter_refill_s
from bench.run.profiles import Step
from bench.servers.app import AppServer


class _App(AppServer):
    def __init__(self) -> None:  # no server: limiter_refill_s reads only the type
        pass


def _ctx(variant: str, scenario: str = "burst", app: Any = None) -> RunContext:
    return RunContext(step=Step(scenario, (variant,), ()), variant=variant, repetition=0, users=50,
                      app=app if app is not None else _App(), mock=None, out_dir=Path("."), results_dir=Path("."))


def _stats(rps: float, bucket: float, agents: int = 1) -> list[dict[str, Any]]:
    return [{"settings": {"OPENAI_RATE_LIMIT_REQUESTS_PER_SECOND": rps, "OPENAI_RATE_LIMIT_MAX_BUCKET_SIZE": bucket},
             "constructions": agents}]


def test_a_limited_variant_waits_its_bucket_over_its_rate() -> None:
    assert limiter_refill_s(_ctx("async-limited"), _stats(10.0, 10.0)) == 1.0
    assert limiter_refill_s(_ctx("async-redis-limited", "steady"), _stats(10.0, 5.0)) == 0.5
    assert limiter_refill_s(_ctx("async:limiter=memory"), _stats(2.0, 10.0)) == REFILL_CAP_S  # 5 s at most


def test_no_wait_without_a_limiter_for_a_cold_app_or_a_users_app() -> None:
    assert limiter_refill_s(_ctx("async"), _stats(10.0, 10.0)) == 0.0
    assert limiter_refill_s(_ctx("async-limited", "cold-burst"), _stats(10.0, 10.0)) == 0.0  # a fresh app each
    assert limiter_refill_s(_ctx("async-limited", app=object()), _stats(10.0, 10.0)) == 0.0
    assert limiter_refill_s(_ctx("async-limited"), []) == 0.0
    assert limiter_refill_s(_ctx("async-limited"), _stats(0.0, 10.0)) == 0.0
    # Workers not yet past their cold start: no agent, so no limiter, built: nothing to refill (one worker's do).
    assert limiter_refill_s(_ctx("async-limited", "workers"), _stats(10.0, 10.0, agents=0) * 2) == 0.0
    assert limiter_refill_s(_ctx("async-limited", "workers"),
                            _stats(10.0, 10.0, agents=0) + _stats(10.0, 10.0, agents=3)) == 1.0
