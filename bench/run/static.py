"""Measurements that need no load: the providers' line counts (claim C8) and the cost of one provider call
once the singleton exists (the lock overhead of claim C3)."""

from __future__ import annotations

import inspect
import statistics
import time
from typing import Any

BEGIN, END = "# provider: begin", "# provider: end"


def provider_lines() -> dict[str, int]:
    """Code lines between each provider module's markers: blank lines and comment-only lines excluded."""
    from app_under_test.providers import PROVIDERS

    counts: dict[str, int] = {}
    for name, module in PROVIDERS.items():
        source = inspect.getsource(module)
        body = source.split(BEGIN, 1)[1].split(END, 1)[0]
        counts[name] = sum(1 for line in body.splitlines() if line.strip() and not line.strip().startswith("#"))
    return counts


def provider_call_ns(calls: int = 20000, rounds: int = 5) -> dict[str, dict[str, float]]:
    """Nanoseconds per `get_chat_agent()` call with the singleton built (per-request builds every time)."""
    import asyncio

    from app_under_test import runtime
    from app_under_test.providers import PROVIDERS, reset_all
    from app_under_test.settings import load_settings
    from app_under_test.variants import Variant

    runtime.configure(load_settings(openai_base_url="http://127.0.0.1:9/v1"), Variant())
    out: dict[str, dict[str, float]] = {}
    for name, module in PROVIDERS.items():
        if name == "per-request":
            continue  # builds an agent per call: not a lock overhead
        reset_all()
        per_round: list[float] = []
        if module.IS_ASYNC:
            async def loop(n: int, get: Any = module.get_chat_agent) -> float:
                await get()
                t0 = time.perf_counter_ns()
                for _ in range(n):
                    await get()
                return (time.perf_counter_ns() - t0) / n
            per_round = [asyncio.run(loop(calls)) for _ in range(rounds)]
        else:
            get = module.get_chat_agent
            get()
            for _ in range(rounds):
                t0 = time.perf_counter_ns()
                for _ in range(calls):
                    get()
                per_round.append((time.perf_counter_ns() - t0) / calls)
        out[name] = {"median_ns": round(statistics.median(per_round), 1), "min_ns": round(min(per_round), 1),
                     "max_ns": round(max(per_round), 1), "rounds": rounds, "calls_per_round": calls}
        reset_all()
    return out
