"""The seed's first version: a global checked with `if ... is None`; racy under concurrent first access."""

from __future__ import annotations

from app_under_test.agent import ChatAgent

IS_ASYNC = False

# provider: begin
_chat_agent: ChatAgent | None = None

def get_chat_agent() -> ChatAgent:
    global _chat_agent
    if _chat_agent is None:  # race: several threads can see None before the first assignment
        _chat_agent = ChatAgent()
    return _chat_agent
# provider: end


def peek() -> ChatAgent | None:
    return _chat_agent


def reset() -> None:
    global _chat_agent
    _chat_agent = None
