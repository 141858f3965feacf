"""The seed's recommendation: `@lru_cache(maxsize=1)`. Python's docs: the wrapped function may run more
than once if another thread calls it before the first call has returned."""

from __future__ import annotations

from functools import lru_cache

from app_under_test.agent import ChatAgent

IS_ASYNC = False

# provider: begin
@lru_cache(maxsize=1)
def get_chat_agent() -> ChatAgent:
    return ChatAgent()
# provider: end


def peek() -> ChatAgent | None:
    # Calling it is a cache hit once something is cached; the seed's debug endpoint does the same.
    return get_chat_agent() if get_chat_agent.cache_info().currsize else None


def reset() -> None:
    get_chat_agent.cache_clear()
