"""Request and response bodies of the chat routes."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, StrictStr


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    message: StrictStr = Field(min_length=1)
    conversation_id: StrictStr | None = None


class ChatResponse(BaseModel):
    reply: str
    conversation_id: str
    agent_id: int
    pid: int
    variant: str
