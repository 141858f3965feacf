"""Token usage the upstream reported, counted per process: what a paid backend bills for.

ChatOpenAI puts the upstream's `usage` into `AIMessage.usage_metadata` (`input_tokens`, `output_tokens`); a
streamed answer carries it only when the request asked for it (`stream_usage=True`, which the agent sets). The
graph node records every answer it gets (agent.py), and /api/debug/stats shows the counts since the last
/api/debug/stats/reset, so the harness can take a per-run delta.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

_lock = threading.Lock()  # the threadpool and blocking variants answer from many threads at once
_input_tokens = 0
_output_tokens = 0
_calls = 0
_unreported = 0


def _tokens(usage: Mapping[str, Any], key: str) -> int:
    value = usage.get(key)
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) and value > 0 else 0


def record(message: Any) -> None:
    """Count one upstream answer. One without usage still counts as a call, and as `unreported`: a backend
    that does not report usage would otherwise look free."""
    global _input_tokens, _output_tokens, _calls, _unreported
    usage = getattr(message, "usage_metadata", None)
    with _lock:
        _calls += 1
        if not isinstance(usage, Mapping):
            _unreported += 1
            return
        _input_tokens += _tokens(usage, "input_tokens")
        _output_tokens += _tokens(usage, "output_tokens")


def snapshot() -> dict[str, int]:
    with _lock:
        return {"input_tokens": _input_tokens, "output_tokens": _output_tokens, "calls": _calls,
                "unreported": _unreported}


def reset() -> None:
    """A new measurement window (the stats reset), and a clean slate between tests."""
    global _input_tokens, _output_tokens, _calls, _unreported
    with _lock:
        _input_tokens = _output_tokens = _calls = _unreported = 0
