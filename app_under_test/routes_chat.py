"""The chat routes, built for one variant: the dependency style and the LLM call mode are chosen here.

    call=async       `async def` endpoint, `await agent.ainvoke(...)`
    call=blocking    `async def` endpoint whose graph node calls the blocking `llm.invoke` (the seed's "before")
    call=threadpool  plain `def` endpoint calling `agent.invoke(...)`: FastAPI runs it in its threadpool

No `from __future__ import annotations` here: FastAPI must resolve the endpoint annotations at runtime, and
the agent dependency is a local `Annotated` alias built per variant.
"""

import asyncio
import itertools
import json
import os
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Annotated, Any

import openai
from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse, StreamingResponse

from app_under_test import instrumentation, runtime
from app_under_test.agent import ChatAgent, new_conversation_id
from app_under_test.errors import BadInput, upstream_error
from app_under_test.providers import PROVIDERS
from app_under_test.schemas import ERROR_RESPONSES, STREAM_RESPONSES, ChatRequest, ChatResponse
from app_under_test.variants import Variant

PID = os.getpid()


def _refresh_pid() -> None:
    global PID
    PID = os.getpid()


# A process forked after this import (a forked uvicorn worker, bench's fork server's children) is another process:
# its replies must carry its own pid. Kept off the request path: read once per process, not per reply.
os.register_at_fork(after_in_child=_refresh_pid)
# What the LLM call can raise for upstream trouble: the SDK's errors and an unparseable answer.
UPSTREAM_ERRORS = (openai.APIError, ValueError)
SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def make_dependency(variant: Variant) -> Callable[..., Any]:
    """The seed's `Depends(get_chat_agent)`, as a `def` (threadpool) or an `async def` (event loop)."""
    provider = PROVIDERS[variant.provider]
    if provider.IS_ASYNC:
        async def get_agent_awaited() -> ChatAgent:
            instrumentation.on_provider_call()
            return await provider.get_chat_agent()  # type: ignore[no-any-return]
        return get_agent_awaited
    if variant.dependency == "async":
        async def get_agent_on_loop() -> ChatAgent:
            instrumentation.on_provider_call()
            return provider.get_chat_agent()  # type: ignore[no-any-return]
        return get_agent_on_loop

    def get_agent_in_thread() -> ChatAgent:
        instrumentation.on_provider_call()
        return provider.get_chat_agent()  # type: ignore[no-any-return]
    return get_agent_in_thread


def _checked(body: ChatRequest) -> str:
    if not body.message.strip():
        raise BadInput("message: must not be empty")
    limit = runtime.settings().app_max_message_bytes
    if len(body.message.encode()) > limit:
        raise BadInput(f"message: longer than {limit} bytes")
    return body.message


def _reply(body: ChatRequest, agent: ChatAgent, reply: str, variant: Variant) -> ChatResponse:
    return ChatResponse(reply=reply, conversation_id=body.conversation_id or new_conversation_id(),
                        agent_id=id(agent), pid=PID, variant=variant.name or variant.spec)


def _error_response(exc: Exception) -> JSONResponse:
    status, payload, headers = upstream_error(exc)
    return JSONResponse(payload, status_code=status, headers=headers)


def _sse(payload: dict[str, Any]) -> str:
    return f"data: {json.dumps(payload, ensure_ascii=False)}\n\n"


def build_chat_router(variant: Variant) -> APIRouter:
    router = APIRouter(prefix="/api")
    AgentDep = Annotated[ChatAgent, Depends(make_dependency(variant))]
    blocking = variant.call == "blocking"
    inject_latency_s = runtime.settings().app_inject_latency_ms / 1000

    if variant.call == "threadpool":
        @router.post("/chat", response_model=ChatResponse, responses=ERROR_RESPONSES)
        def chat_in_thread(body: ChatRequest, agent: AgentDep) -> Any:
            message = _checked(body)
            try:
                return _reply(body, agent, agent.invoke(message), variant)
            except UPSTREAM_ERRORS as exc:
                return _error_response(exc)

        @router.post("/chat/stream", response_class=StreamingResponse, responses=STREAM_RESPONSES)
        def chat_stream_in_thread(body: ChatRequest, agent: AgentDep) -> Any:
            message, cid = _checked(body), body.conversation_id or new_conversation_id()
            pieces = agent.stream(message)
            try:  # the first piece before the headers: trouble up to here still gets its 5xx status
                first = next(pieces, None)
            except UPSTREAM_ERRORS as exc:
                return _error_response(exc)

            def events() -> Iterator[str]:  # Starlette iterates a sync generator in its threadpool
                try:
                    for piece in itertools.chain([first] if first else [], pieces):
                        yield _sse({"type": "token", "content": piece})
                    yield _sse({"type": "done", "conversation_id": cid, "agent_id": id(agent)})
                except UPSTREAM_ERRORS as exc:
                    yield _sse({"type": "error", **upstream_error(exc)[1]})
            return StreamingResponse(events(), media_type="text/event-stream", headers=SSE_HEADERS)
        return router

    @router.post("/chat", response_model=ChatResponse, responses=ERROR_RESPONSES)
    async def chat(body: ChatRequest, agent: AgentDep) -> Any:
        message = _checked(body)
        if inject_latency_s:
            await asyncio.sleep(inject_latency_s)  # regression knob APP_INJECT_LATENCY_MS
        try:
            return _reply(body, agent, await agent.ainvoke(message, blocking=blocking), variant)
        except UPSTREAM_ERRORS as exc:
            return _error_response(exc)

    @router.post("/chat/stream", response_class=StreamingResponse, responses=STREAM_RESPONSES)
    async def chat_stream(body: ChatRequest, agent: AgentDep) -> Any:
        message, cid = _checked(body), body.conversation_id or new_conversation_id()
        pieces = agent.astream(message, blocking=blocking)
        try:  # the first piece before the headers: trouble up to here still gets its 5xx status
            first = await anext(pieces, None)
        except UPSTREAM_ERRORS as exc:
            return _error_response(exc)

        async def events() -> AsyncIterator[str]:
            try:
                if first:
                    yield _sse({"type": "token", "content": first})
                async for piece in pieces:
                    yield _sse({"type": "token", "content": piece})
                yield _sse({"type": "done", "conversation_id": cid, "agent_id": id(agent)})
            except UPSTREAM_ERRORS as exc:
                yield _sse({"type": "error", **upstream_error(exc)[1]})
        return StreamingResponse(events(), media_type="text/event-stream", headers=SSE_HEADERS)

    return router
