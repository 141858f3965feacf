"""No sharing: a new ChatAgent for every request (the memory claim's baseline)."""

from __future__ import annotations

from app_under_test.agent import ChatAgent

IS_ASYNC = False

# provider: begin
def get_chat_agent() -> ChatAgent:
    return ChatAgent()
# provider: end


def peek() -> ChatAgent | None:
    return None


def reset() -> None:
    return None
