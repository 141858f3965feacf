"""The two timed requests every user makes: POST /api/chat and the SSE stream, with their records' timings.

Requests go out with `stream=True` so the time the headers arrive (first byte) is seen before the body
is read; the body is then read here and the request's reported time covers all of it.
"""

from __future__ import annotations

import locust  # noqa: F401  # gevent monkey-patching must come before anything else in a Locust process

# isort: split
import itertools
import json
from typing import Any

from gevent import GreenletExit
from locust.contrib.fasthttp import FAILURE_EXCEPTIONS, FastHttpUser

from scenarios import clock
from scenarios.records import classify_error, error_detail
from scenarios.request_spec import wire_request
from scenarios.runstate import get_run
from scenarios.sse import SSEParser


class Cancelled(Exception):
    """The request was still in flight when Locust stopped its user."""


def _report_cancelled(user: FastHttpUser, method: str, name: str, ctx: dict[str, Any]) -> None:
    t_end = clock.now()
    user.environment.events.request.fire(
        request_type=method, name=name, response_time=(t_end - ctx["t_send"]) * 1000.0, response_length=0,
        response=None, exception=Cancelled("user stopped with the request in flight"),
        context={**user.context(), **ctx, "t_end": t_end, "error_kind": "cancelled"},
        start_time=ctx["t_send"], url=name,
    )


def _finish(resp: Any, ctx: dict[str, Any], t_send: float, nbytes: int) -> None:
    t_end = clock.now()
    ctx["t_end"] = t_end
    ctx["bytes"] = nbytes
    resp.request_meta["response_time"] = (t_end - t_send) * 1000.0
    resp.request_meta["response_length"] = nbytes


def post_chat(user: FastHttpUser, *, t_planned: float | None = None, step: int | None = None) -> None:
    """One POST to the chat endpoint; the request event fires once, whatever happens."""
    settings = get_run(user.environment).settings
    path, method = settings.chat_path, settings.chat_method
    ctx: dict[str, Any] = {"t_planned": t_planned, "step": step}
    body, headers = wire_request(settings.chat_body, settings.message, settings.chat_headers, None)
    ctx["t_send"] = t_send = clock.now()
    try:
        with user.client.request(method, path, data=body, name=path, stream=True, catch_response=True,
                                 context=ctx, headers=headers) as resp:
            meta = resp.request_meta["context"]
            status = resp.status_code
            if status:
                meta["t_first_byte"] = clock.now()
            content = b""
            try:
                content = resp.content or b""
            except FAILURE_EXCEPTIONS as exc:  # the body was cut or timed out after the headers
                resp.failure(exc)
            _finish(resp, meta, t_send, len(content))
            if status == 200 and content and not settings.chat_body:  # a user's own app answers as it likes
                _check_reply(resp, meta, content)
    except GreenletExit:
        _report_cancelled(user, method, path, ctx)
        raise


def _check_reply(resp: Any, meta: dict[str, Any], content: bytes) -> None:
    try:
        data = json.loads(content)
        meta["agent_id"] = data.get("agent_id")
        meta["server_pid"] = data.get("pid")
        if not isinstance(data.get("reply"), str):
            raise ValueError("no 'reply' string")
    except (ValueError, AttributeError) as exc:
        meta["error_kind"] = "bad_body"
        meta["error_detail"] = f"invalid chat reply: {exc}"[:200]
        resp.failure(meta["error_detail"])


def post_stream(user: FastHttpUser, *, t_planned: float | None = None, step: int | None = None) -> None:
    """One POST to the SSE endpoint, timing the first token and the gaps between tokens."""
    settings = get_run(user.environment).settings
    path, method = settings.stream_path, settings.stream_method
    ctx: dict[str, Any] = {"t_planned": t_planned, "step": step}
    body, headers = wire_request(settings.stream_body, settings.message, settings.stream_headers,
                                   "text/event-stream")
    ctx["t_send"] = t_send = clock.now()
    try:
        with user.client.request(method, path, data=body, name=path, stream=True, catch_response=True,
                                 context=ctx, headers=headers) as resp:
            meta = resp.request_meta["context"]
            status = resp.status_code
            if status:
                meta["t_first_byte"] = clock.now()
            if status != 200:
                _finish(resp, meta, t_send, _error_body_length(resp))
                return
            nbytes = _read_events(resp, meta, t_send, generic=bool(settings.stream_body))
            _finish(resp, meta, t_send, nbytes)
    except GreenletExit:
        _report_cancelled(user, method, path, ctx)
        raise


def _error_body_length(resp: Any) -> int:
    try:
        return len(resp.content or b"")
    except FAILURE_EXCEPTIONS:  # the status (or the connection error) already says what went wrong
        return 0


def _read_events(resp: Any, meta: dict[str, Any], t_send: float, generic: bool = False) -> int:
    """Read the SSE body line by line as it arrives; returns the bytes read. `generic` (a user's own stream): every
    `data:` event is a token and the end of the stream is its end, whatever the events hold."""
    parser = SSEParser()
    token_times: list[float] = []
    done = failed = False
    nbytes = 0
    raw = resp._response  # geventhttpclient's response; its readline returns as soon as a line is in
    try:
        while True:
            line = raw.readline(b"\n")
            if not line:
                break
            nbytes += len(line)
            event = parser.feed_line(line)
            if event is None:
                continue
            if generic:
                if event.get("raw") != "[DONE]":
                    token_times.append(clock.now())
                continue
            kind = event.get("type")
            if kind == "token":
                token_times.append(clock.now())
            elif kind == "done":
                done = True
                meta["agent_id"] = event.get("agent_id")
            elif kind == "error":
                err = event.get("error")
                if not isinstance(err, dict):
                    err = {}
                meta["error_kind"] = "stream_error"
                meta["error_detail"] = f"{err.get('type', '?')}: {err.get('message', '')}"[:200]
            else:
                meta["error_kind"] = "bad_body"
                meta["error_detail"] = f"unexpected SSE payload: {str(event)[:150]}"
    except FAILURE_EXCEPTIONS as exc:  # a read timeout between chunks, or the connection dropped
        if classify_error(exc, 0) != "timeout":
            meta["error_kind"] = "stream_cut"
            meta["error_detail"] = f"stream cut after {len(token_times)} tokens: {error_detail(exc)}"[:200]
        resp.failure(exc)
        failed = True
    _token_stats(meta, t_send, token_times)
    done = done or (generic and not failed)
    if meta.get("error_kind") and not failed:
        resp.failure(meta["error_detail"])
    elif not done and not failed:
        meta["error_kind"] = "stream_cut"
        meta["error_detail"] = f"stream ended after {len(token_times)} tokens without a done event"
        resp.failure(meta["error_detail"])
    return nbytes


def _token_stats(meta: dict[str, Any], t_send: float, token_times: list[float]) -> None:
    meta["chunks"] = len(token_times)
    if not token_times:
        return
    meta["ttft_ms"] = round((token_times[0] - t_send) * 1000.0, 3)
    gaps = [b - a for a, b in itertools.pairwise(token_times)]
    if gaps:
        meta["max_gap_ms"] = round(max(gaps) * 1000.0, 3)
        meta["mean_gap_ms"] = round(sum(gaps) / len(gaps) * 1000.0, 3)
