"""The benchmark's HTTP/1.1 response framing: a response is complete only when all of it is in."""

from __future__ import annotations

from bench.mock.loadgen import _complete, chat_request


def test_content_length_framing() -> None:
    head = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 5\r\n\r\n"
    assert _complete(bytearray(head[:20])) is None
    assert _complete(bytearray(head + b"abc")) is None
    assert _complete(bytearray(head + b"abcde")) == 200


def test_chunked_framing() -> None:
    head = b"HTTP/1.1 429 Too Many Requests\r\ntransfer-encoding: chunked\r\n\r\n"
    body = b"5\r\nhello\r\n3\r\nabc\r\n0\r\n\r\n"
    for cut in range(len(body)):
        assert _complete(bytearray(head + body[:cut])) is None
    assert _complete(bytearray(head + body)) == 429


def test_the_request_is_a_valid_chat_completion() -> None:
    raw = chat_request("127.0.0.1", 8001, stream=True, max_tokens=4)
    head, body = raw.split(b"\r\n\r\n", 1)
    assert head.startswith(b"POST /v1/chat/completions HTTP/1.1")
    assert f"content-length: {len(body)}".encode() in head.lower()
    assert b'"stream": true' in body and b'"max_completion_tokens": 4' in body
