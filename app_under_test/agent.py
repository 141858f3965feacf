"""ChatAgent, as in the seed: a LangGraph StateGraph whose `generate` node calls langchain-openai's ChatOpenAI.

Nothing in the request path is faked; only the upstream (`OPENAI_BASE_URL`) changes. The node has a sync
body (`llm.invoke`, for `graph.invoke`) and an async one, which awaits `llm.ainvoke` or, in the seed's
"before" code, calls the blocking `llm.invoke` inside `async def`.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Annotated, Any, TypedDict

import openai
from langchain_core.messages import AIMessageChunk, AnyMessage, HumanMessage
from langchain_core.runnables import RunnableConfig, RunnableLambda
from langchain_openai import ChatOpenAI
from langgraph.graph import END, START, StateGraph
from langgraph.graph.message import add_messages

from app_under_test import instrumentation, runtime, usage
from app_under_test.limiters import build_rate_limiter
from app_under_test.settings import Settings

logger = logging.getLogger(__name__)


class AgentState(TypedDict):
    messages: Annotated[list[AnyMessage], add_messages]


def _build_llm(
    s: Settings, *, per_agent_clients: bool, limiter: str = "none", memory_limiter: bool = False
) -> ChatOpenAI:
    kwargs: dict[str, Any] = {}
    # `memory_limiter=True`: the spelling of limiter="memory" from before limiter=redis, kept for its callers.
    rate_limiter = build_rate_limiter(s, "memory" if memory_limiter else limiter)
    if rate_limiter is not None:
        kwargs["rate_limiter"] = rate_limiter
    factory = runtime.client_factory()
    if factory is not None:
        kwargs["http_client"], kwargs["http_async_client"] = factory()
    elif per_agent_clients:
        # Without this, langchain-openai shares one cached pool per (base URL, timeout) across instances.
        kwargs["http_client"] = openai.DefaultHttpxClient()
        kwargs["http_async_client"] = openai.DefaultAsyncHttpxClient()
    if s.openai_max_tokens is not None:
        kwargs["max_tokens"] = s.openai_max_tokens
        if s.openai_max_tokens_in_body:
            kwargs["extra_body"] = {"max_tokens": s.openai_max_tokens}
    return ChatOpenAI(
        model=s.openai_model,
        temperature=s.openai_temperature,
        api_key=s.openai_api_key,
        base_url=s.openai_base_url,
        timeout=s.openai_timeout,
        max_retries=s.openai_max_retries,
        # Streamed answers carry token usage only when asked for (stream_options.include_usage): usage.py
        # counts what a paid backend bills for, streams included.
        stream_usage=True,
        **kwargs,
    )


class ChatAgent:
    """One compiled graph and one ChatOpenAI. Takes no arguments, as in the seed: the rate limiter and
    the HTTP clients follow the process's variant (runtime.variant())."""

    def __init__(self, *, probe: bool = False) -> None:
        s, variant = runtime.settings(), runtime.variant()
        logger.info("ChatAgent: building a new instance")
        if s.app_agent_init_delay_ms and not probe:
            # Widens the race window of the lazy singletons on request (APP_AGENT_INIT_DELAY_MS).
            time.sleep(s.app_agent_init_delay_ms / 1000)
        self.llm = _build_llm(s, limiter=variant.limiter, per_agent_clients=variant.clients == "per-agent")
        self._inject_blocking_s = s.app_inject_blocking_ms / 1000
        graph = StateGraph(AgentState)
        graph.add_node("generate", RunnableLambda(self._generate, afunc=self._agenerate, name="generate"))
        graph.add_edge(START, "generate")
        graph.add_edge("generate", END)
        self.graph = graph.compile()
        if not probe:
            instrumentation.on_construct(self)

    def _generate(self, state: AgentState) -> dict[str, Any]:
        response = self.llm.invoke(state["messages"])
        usage.record(response)
        return {"messages": [response]}

    async def _agenerate(self, state: AgentState, config: RunnableConfig) -> dict[str, Any]:
        if config.get("configurable", {}).get("blocking"):
            response = self.llm.invoke(state["messages"])  # the seed's "before": blocks the event loop
        else:
            if self._inject_blocking_s:
                time.sleep(self._inject_blocking_s)  # regression knob APP_INJECT_BLOCKING_MS
            response = await self.llm.ainvoke(state["messages"])
        # Every path ends here or in _generate, streams included: in stream mode LangGraph makes invoke stream
        # and the node still gets the whole message, usage summed, so each upstream answer counts once.
        usage.record(response)
        return {"messages": [response]}

    @staticmethod
    def _state(message: str) -> AgentState:
        return {"messages": [HumanMessage(content=message)]}

    def invoke(self, message: str) -> str:
        """Synchronous: `graph.invoke`, for `def` endpoints run in the threadpool."""
        return str(self.graph.invoke(self._state(message))["messages"][-1].content)

    async def ainvoke(self, message: str, *, blocking: bool = False) -> str:
        config: RunnableConfig = {"configurable": {"blocking": blocking}}
        result = await self.graph.ainvoke(self._state(message), config=config)
        return str(result["messages"][-1].content)

    def stream(self, message: str) -> Iterator[str]:
        for chunk, _meta in self.graph.stream(self._state(message), stream_mode="messages"):
            if isinstance(chunk, AIMessageChunk) and chunk.content:
                yield str(chunk.content)

    async def astream(self, message: str, *, blocking: bool = False) -> AsyncIterator[str]:
        if blocking:
            for piece in self.stream(message):  # a sync iterator driven on the loop: blocks it
                yield piece
            return
        async for chunk, _meta in self.graph.astream(self._state(message), stream_mode="messages"):
            if isinstance(chunk, AIMessageChunk) and chunk.content:
                yield str(chunk.content)


def new_conversation_id() -> str:
    return uuid.uuid4().hex
