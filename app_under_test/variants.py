"""Variants: frozen combinations of independent concurrency axes, with named presets.

A variant name is a preset (`async`), a preset with overrides (`async:limiter=memory,clients=per-agent`),
or a full spec (`provider=locked,dependency=async,call=async,limiter=none,clients=shared`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import Literal, cast, get_args

Provider = Literal["per-request", "naive-global", "lru-cache", "locked", "asyncio-lock"]
Dependency = Literal["threadpool", "async"]
Call = Literal["blocking", "threadpool", "async"]
Limiter = Literal["none", "memory", "redis"]
Clients = Literal["shared", "per-agent"]

AXES: dict[str, tuple[str, ...]] = {
    "provider": get_args(Provider),
    "dependency": get_args(Dependency),
    "call": get_args(Call),
    "limiter": get_args(Limiter),
    "clients": get_args(Clients),
}


class VariantError(ValueError):
    """A variant name or axis value that does not exist, as one line listing the valid choices."""


@dataclass(frozen=True)
class Variant:
    provider: Provider = "lru-cache"
    # `threadpool`: a plain `def` dependency, which FastAPI runs in anyio's worker threads (the seed's style).
    dependency: Dependency = "threadpool"
    call: Call = "async"
    limiter: Limiter = "none"
    clients: Clients = "shared"
    name: str = ""

    def __post_init__(self) -> None:
        for f in fields(self):
            if f.name in AXES and getattr(self, f.name) not in AXES[f.name]:
                raise VariantError(
                    f"unknown {f.name} {getattr(self, f.name)!r}; valid: {', '.join(AXES[f.name])}"
                )
        if self.provider == "asyncio-lock" and self.dependency != "async":
            # An asyncio.Lock can only be awaited on the event loop, not from a worker thread.
            raise VariantError("provider 'asyncio-lock' needs dependency=async")

    @property
    def spec(self) -> str:
        return ",".join(f"{k}={getattr(self, k)}" for k in AXES)

    def axes(self) -> dict[str, str]:
        d = asdict(self)
        d.pop("name")
        return d


PRESETS: dict[str, Variant] = {
    # The seed's "before": lru_cache singleton, `llm.invoke` inside `async def` (blocks the event loop).
    "sync": Variant(call="blocking"),
    # The seed's fix for the blocking call: lru_cache + `await llm.ainvoke` (same axes as `lru_cache`).
    "async": Variant(call="async"),
    # The seed's whole recommendation: that plus its InMemoryRateLimiter (10 req/s by default).
    "async-limited": Variant(call="async", limiter="memory"),
    # The same with one limiter shared by every worker through Redis (REDIS_URL): C7's remedy.
    "async-redis-limited": Variant(call="async", limiter="redis"),
    "naive-global": Variant(provider="naive-global"),
    "lru_cache": Variant(provider="lru-cache"),
    "locked": Variant(provider="locked"),
    "asyncio-lock": Variant(provider="asyncio-lock", dependency="async"),
    "per-request": Variant(provider="per-request"),
    # A `def` endpoint calling `invoke`: FastAPI's threadpool (40 threads) carries the concurrency.
    "threadpool": Variant(call="threadpool"),
    "async-dependency": Variant(dependency="async"),
}

PRESET_DOCS: dict[str, str] = {
    "sync": "seed's 'before': llm.invoke inside async def blocks the loop",
    "async": "seed's fix: lru_cache + await ainvoke (the same axes as lru_cache)",
    "async-limited": "seed's whole recommendation: async + InMemoryRateLimiter(10 rps)",
    "async-redis-limited": "async-limited with one 10 rps limit shared by all workers through Redis (REDIS_URL)",
    "naive-global": "seed's racy `if _chat_agent is None` singleton",
    "lru_cache": "@lru_cache(maxsize=1) singleton, plain def dependency",
    "locked": "double-checked threading.Lock singleton",
    "asyncio-lock": "double-checked asyncio.Lock singleton, async dependency",
    "per-request": "a new ChatAgent for every request",
    "threadpool": "def endpoint calling invoke, run in FastAPI's threadpool",
    "async-dependency": "lru_cache singleton behind an `async def` dependency (runs on the loop)",
}


def parse_variant(name: str) -> Variant:
    """Resolve a preset, `preset:axis=value,...` or a full `axis=value,...` spec."""
    base_name, _, overrides = name.partition(":")
    if "=" in base_name:
        base, overrides = Variant(), name
    elif base_name in PRESETS:
        base = PRESETS[base_name]
    else:
        raise VariantError(
            f"unknown variant {base_name!r}; valid presets: {', '.join(PRESETS)} "
            f"(or PRESET:axis=value,... / axis=value,... with axes {', '.join(AXES)})"
        )
    changes: dict[str, str] = {}
    for item in filter(None, (p.strip() for p in overrides.split(","))):
        axis, eq, value = item.partition("=")
        if not eq or axis not in AXES:
            raise VariantError(f"bad variant override {item!r}; expected axis=value with axes {', '.join(AXES)}")
        changes[axis] = value
    variant = replace(base, **cast(dict, changes), name="")
    return replace(variant, name=name if changes or base_name not in PRESETS else base_name)
