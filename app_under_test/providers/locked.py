"""Double-checked locking with a `threading.Lock`: safe from worker threads and from the event loop."""

from __future__ import annotations

import threading

from app_under_test.agent import ChatAgent

IS_ASYNC = False

# provider: begin
_chat_agent: ChatAgent | None = None
_lock = threading.Lock()

def get_chat_agent() -> ChatAgent:
    global _chat_agent
    if _chat_agent is None:
        with _lock:
            if _chat_agent is None:
                _chat_agent = ChatAgent()
    return _chat_agent
# provider: end


class _NoLock:
    """The gate's regression knob APP_INJECT_SKIP_LOCK swaps this in for `_lock`."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def skip_lock(skip: bool) -> None:
    global _lock
    _lock = _NoLock() if skip else threading.Lock()  # type: ignore[assignment]


def peek() -> ChatAgent | None:
    return _chat_agent


def reset() -> None:
    global _chat_agent
    _chat_agent = None
