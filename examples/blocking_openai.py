"""A chat API as it is often first written: the `openai` SDK's synchronous client, called inside `async def`, and a
module-level client created lazily on first use, without a lock.

Two problems are planted, the two `bench run --app examples.blocking_openai:app --watch openai:OpenAI` names:
- `client.chat.completions.create(...)` blocks the event loop for the whole upstream call, so requests are served
  one at a time;
- `get_client` is a plain `def` dependency, which FastAPI runs in its thread pool: a burst of first requests races
  the `if _client is None` check and builds many clients.
"""

import os
from typing import Annotated

from fastapi import Depends, FastAPI
from openai import OpenAI
from pydantic import BaseModel

app = FastAPI(title="blocking chat")
_client: OpenAI | None = None


class ChatIn(BaseModel):
    message: str


def get_client() -> OpenAI:
    global _client
    if _client is None:
        # OpenAI() reads OPENAI_API_KEY and OPENAI_BASE_URL from the environment.
        _client = OpenAI()
    return _client


@app.post("/chat")
async def chat(body: ChatIn, client: Annotated[OpenAI, Depends(get_client)]) -> dict[str, str]:
    completion = client.chat.completions.create(
        model=os.environ.get("OPENAI_MODEL", "gpt-4o-mini"),
        messages=[{"role": "user", "content": body.message}],
    )
    return {"reply": completion.choices[0].message.content or ""}


@app.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok"}
