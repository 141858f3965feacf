"""Agent providers: the singleton strategies the seed compares, one module each, keyed by name.

Each module holds its factory between `# provider: begin` and `# provider: end` markers, written as the
seed writes it, because its line count is one of the claims (C8). Around it: `reset()` for tests (the
seed's `clear_chat_agent_cache`) and `peek()`, the current instance without building one.
"""

from __future__ import annotations

from types import ModuleType

from app_under_test.providers import asyncio_lock, locked, lru_cache_provider, naive_global, per_request

PROVIDERS: dict[str, ModuleType] = {
    "per-request": per_request,
    "naive-global": naive_global,
    "lru-cache": lru_cache_provider,
    "locked": locked,
    "asyncio-lock": asyncio_lock,
}


def reset_all() -> None:
    for module in PROVIDERS.values():
        module.reset()
