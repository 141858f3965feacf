"""A minimal incremental Server-Sent Events parser for the chat stream (`data: <json>` messages)."""

from __future__ import annotations

import json
from typing import Any


class SSEParser:
    """Feed raw bytes or single lines; get back each complete message's JSON payload.

    Only `data:` fields matter for this contract; comments and other fields are skipped. A payload that
    is not JSON comes back as {"type": "invalid", "raw": ...} so the caller can count it as an error.
    """

    def __init__(self) -> None:
        self._buffer = b""
        self._data: list[str] = []

    def feed(self, chunk: bytes) -> list[dict[str, Any]]:
        self._buffer += chunk
        events: list[dict[str, Any]] = []
        while True:
            nl = self._buffer.find(b"\n")
            if nl < 0:
                return events
            line, self._buffer = self._buffer[: nl + 1], self._buffer[nl + 1 :]
            event = self.feed_line(line)
            if event is not None:
                events.append(event)

    def feed_line(self, line: bytes | str) -> dict[str, Any] | None:
        """One line (with or without its terminator); returns a payload when the line ends a message."""
        text = line.decode("utf-8", errors="replace") if isinstance(line, bytes) else line
        text = text.rstrip("\r\n")
        if text == "":
            return self._dispatch()
        if text.startswith(":"):
            return None
        field, _, value = text.partition(":")
        if field == "data":
            self._data.append(value[1:] if value.startswith(" ") else value)
        return None

    def flush(self) -> dict[str, Any] | None:
        """A message left without its blank line when the stream ended."""
        if self._buffer:
            self.feed_line(self._buffer)
            self._buffer = b""
        return self._dispatch()

    def _dispatch(self) -> dict[str, Any] | None:
        if not self._data:
            return None
        raw = "\n".join(self._data)
        self._data = []
        try:
            payload = json.loads(raw)
        except json.JSONDecodeError:
            return {"type": "invalid", "raw": raw[:200]}
        return payload if isinstance(payload, dict) else {"type": "invalid", "raw": raw[:200]}
