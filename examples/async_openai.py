"""A chat API written the way the event loop wants it: one `AsyncOpenAI` client, built once when the app starts
(lifespan) and shared by every request; the call awaited, so the loop serves other requests meanwhile; and a
provider's rate limit (429) ridden out with randomized exponential backoff, as OpenAI's cookbook recommends, so
that requests which hit it at the same moment do not all retry at the same moment again.

`bench run --app examples.async_openai:app --watch openai:AsyncOpenAI` finds nothing to fix here.
"""

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from openai import AsyncOpenAI, RateLimitError
from pydantic import BaseModel
from tenacity import retry, retry_if_exception_type, stop_after_delay, wait_random_exponential


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    # AsyncOpenAI() reads OPENAI_API_KEY and OPENAI_BASE_URL from the environment.
    app.state.llm = AsyncOpenAI()
    yield
    await app.state.llm.close()


app = FastAPI(title="async chat", lifespan=lifespan)


class ChatIn(BaseModel):
    message: str


class ChatOut(BaseModel):
    reply: str


@retry(retry=retry_if_exception_type(RateLimitError), wait=wait_random_exponential(multiplier=0.25, max=4),
       stop=stop_after_delay(30), reraise=True)
async def complete(llm: AsyncOpenAI, message: str) -> str:
    completion = await llm.chat.completions.create(
        model=os.environ.get("OPENAI_MODEL", "gpt-4o-mini"),
        messages=[{"role": "user", "content": message}],
    )
    return completion.choices[0].message.content or ""


@app.post("/chat")
async def chat(body: ChatIn, request: Request) -> ChatOut:
    return ChatOut(reply=await complete(request.app.state.llm, body.message))
