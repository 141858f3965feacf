"""The SSE parser used by the streaming user."""

from __future__ import annotations

from scenarios.sse import SSEParser

STREAM = (b'data: {"type": "token", "content": "Hel"}\n\n'
          b': keep-alive comment\n\n'
          b'data: {"type": "token", "content": "lo"}\r\n\r\n'
          b'data: {"type": "done", "conversation_id": "c", "agent_id": 1}\n\n')


def test_parses_across_arbitrary_chunk_boundaries() -> None:
    for size in (1, 3, 7, len(STREAM)):
        parser = SSEParser()
        events = []
        for i in range(0, len(STREAM), size):
            events += parser.feed(STREAM[i : i + size])
        assert [e["type"] for e in events] == ["token", "token", "done"]
        assert events[1]["content"] == "lo"


def test_line_by_line() -> None:
    parser = SSEParser()
    out = [parser.feed_line(line) for line in STREAM.splitlines(keepends=True)]
    assert [e["type"] for e in out if e] == ["token", "token", "done"]


def test_invalid_payload_and_unterminated_message() -> None:
    parser = SSEParser()
    assert parser.feed(b"data: not json\n\n") == [{"type": "invalid", "raw": "not json"}]
    assert parser.feed(b'data: {"type": "done"}') == []
    assert parser.flush() == {"type": "done"}
