"""The seed's third option: double-checked `asyncio.Lock`; needs an `async def` dependency."""

from __future__ import annotations

import asyncio

from app_under_test.agent import ChatAgent

IS_ASYNC = True

# provider: begin
_chat_agent: ChatAgent | None = None
_lock = asyncio.Lock()

async def get_chat_agent() -> ChatAgent:
    global _chat_agent
    if _chat_agent is None:
        async with _lock:
            if _chat_agent is None:
                _chat_agent = ChatAgent()
    return _chat_agent
# provider: end


def peek() -> ChatAgent | None:
    return _chat_agent


def reset() -> None:
    global _chat_agent, _lock
    _chat_agent = None
    _lock = asyncio.Lock()
