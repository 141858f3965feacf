"""Request and response bodies of the chat routes, and the error and stream answers their OpenAPI documents."""

from __future__ import annotations

from typing import Any

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


class ErrorDetail(BaseModel):
    type: str
    message: str
    upstream_status: int | None = None


class ErrorResponse(BaseModel):
    """Every error the app answers: `{"error": {"type", "message", ...}}` (errors.py)."""

    error: ErrorDetail


def _error(description: str) -> dict[str, Any]:
    return {"model": ErrorResponse, "description": description}


# What the chat routes answer besides their 200, for the OpenAPI document (a fuzzer holds the app to it).
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    422: _error("bad input: invalid JSON, a missing, empty or too long message, a wrong type"),
    502: _error("the LLM backend failed: a 5xx, an unparseable answer, unreachable"),
    503: _error("the LLM backend is rate limiting (with its Retry-After when it sent one)"),
    504: _error("the LLM backend did not answer in time"),
}

# The stream's events: `data: <JSON>` lines, tokens then `done`, or an `error` once the stream has begun.
_EVENT = {"oneOf": [
    {"type": "object", "required": ["type", "content"],
     "properties": {"type": {"const": "token"}, "content": {"type": "string"}}},
    {"type": "object", "required": ["type", "conversation_id", "agent_id"],
     "properties": {"type": {"const": "done"}, "conversation_id": {"type": "string"}, "agent_id": {"type": "integer"}}},
    {"type": "object", "required": ["type", "error"],
     "properties": {"type": {"const": "error"}, "error": {
         "type": "object", "required": ["type", "message"],
         "properties": {"type": {"type": "string"}, "message": {"type": "string"}}}}},
]}
STREAM_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "server-sent events: a `token` per piece of the answer, then `done` (or `error`)",
          "content": {"text/event-stream": {"itemSchema": {
              "type": "object", "required": ["data"],
              "properties": {"data": {"type": "string", "contentMediaType": "application/json",
                                      "contentSchema": _EVENT}}}}}},
    **ERROR_RESPONSES,
}
