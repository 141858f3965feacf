"""A LangGraph agent behind FastAPI, in the style of many tutorials: a global agent built on first use with an
`if _agent is None` check, and a plain `def` endpoint calling the agent's synchronous `invoke`.

The `def` endpoint keeps the event loop free (FastAPI runs it in its thread pool), and that is exactly what makes the
global racy: the first requests of a burst run `get_agent` in up to 40 threads at once, and each one that finds
`_agent` still `None` builds its own. `bench run --app examples.langgraph_agent:app --watch
examples.langgraph_agent:ChatAgent` names the race and where it happens.
"""

from typing import TypedDict

from fastapi import FastAPI
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langchain_openai import ChatOpenAI
from langgraph.graph import END, START, StateGraph
from openai import RateLimitError
from pydantic import BaseModel


class State(TypedDict):
    messages: list[BaseMessage]


class ChatAgent:
    def __init__(self) -> None:
        # ChatOpenAI reads OPENAI_API_KEY and OPENAI_API_BASE / OPENAI_BASE_URL from the environment; a 429 from the
        # provider is retried with jittered exponential backoff (LangChain's with_retry) instead of failing the user.
        self.llm = ChatOpenAI(model="gpt-4o-mini", temperature=0).with_retry(
            retry_if_exception_type=(RateLimitError,), stop_after_attempt=6)
        graph = StateGraph(State)
        graph.add_node("generate", self.generate)
        graph.add_edge(START, "generate")
        graph.add_edge("generate", END)
        self.graph = graph.compile()

    def generate(self, state: State) -> State:
        return {"messages": [*state["messages"], self.llm.invoke(state["messages"])]}

    def chat(self, message: str) -> str:
        result = self.graph.invoke({"messages": [HumanMessage(message)]})
        last = result["messages"][-1]
        return str(last.content) if isinstance(last, AIMessage) else ""


_agent: ChatAgent | None = None


def get_agent() -> ChatAgent:
    global _agent
    if _agent is None:
        _agent = ChatAgent()
    return _agent


app = FastAPI(title="langgraph chat")


class ChatRequest(BaseModel):
    message: str
    thread_id: str | None = None


@app.post("/api/chat")
def chat(req: ChatRequest) -> dict[str, str]:
    return {"reply": get_agent().chat(req.message)}
