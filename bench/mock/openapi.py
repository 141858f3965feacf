"""The mock's API as an OpenAPI 3.1 description, served at `GET /mock/openapi.json`: the subset of OpenAI's
chat completions API it speaks, its per-request `x-mock-*` headers and its control endpoints. It documents
what the mock checks, no more (a fuzzer holds it to that: tests/fuzz/).
"""

from __future__ import annotations

import functools
import json
from typing import Any

from bench.mock.config import FAULT_KINDS
from bench.mock.protocol import MAX_COMPLETION_TOKENS, MAX_OVERRIDE_MS, ROLES

_NULL = {"type": "null"}
_TOKENS = {"type": ["integer", "null"], "minimum": 1, "maximum": MAX_COMPLETION_TOKENS}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _error(description: str) -> dict[str, Any]:
    return _json(_ref("Error"), description)


def _header(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"name": name, "in": "header", "required": False, "schema": schema, "description": description}


_MS = {"type": "number", "minimum": 0, "maximum": MAX_OVERRIDE_MS}

SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object", "required": ["error"],
        "properties": {"error": {
            "type": "object", "required": ["message", "type", "param", "code"],
            "properties": {"message": {"type": "string"}, "type": {"type": "string"},
                           "param": {"type": ["string", "null"]}, "code": {"type": ["string", "null"]}},
        }},
    },
    "ContentPart": {"type": "object", "properties": {"text": {"type": "string"}}},  # the only field it reads
    "Message": {
        "type": "object", "required": ["role"],
        "properties": {
            "role": {"enum": list(ROLES)},
            "content": {"anyOf": [{"type": "string"}, {"type": "array", "items": _ref("ContentPart")}, _NULL]},
        },
        # Only an assistant (or legacy function) message may come without content.
        "anyOf": [{"properties": {"role": {"enum": ["assistant", "function"]}}},
                  {"required": ["content"], "properties": {"content": {"type": ["string", "array"]}}}],
    },
    "ChatCompletionRequest": {
        "type": "object", "required": ["model", "messages"],
        "properties": {
            "model": {"type": "string"},
            "messages": {"type": "array", "minItems": 1, "items": _ref("Message")},
            "max_tokens": _TOKENS,
            "max_completion_tokens": _TOKENS,
            "stream": {"type": ["boolean", "null"]},
            "stream_options": {"anyOf": [{"type": "object", "properties": {"include_usage": {"type": "boolean"}}},
                                         _NULL]},
            "temperature": {"type": ["number", "null"]},
        },
        # stream_options only with stream: true.
        "anyOf": [{"properties": {"stream_options": _NULL}},
                  {"required": ["stream"], "properties": {"stream": {"const": True}}}],
    },
    "ChatCompletion": {
        "type": "object", "required": ["id", "object", "created", "model", "choices", "usage"],
        "properties": {
            "id": {"type": "string"}, "object": {"const": "chat.completion"}, "created": {"type": "integer"},
            "model": {"type": "string"},
            "choices": {"type": "array", "minItems": 1, "items": {
                "type": "object", "required": ["index", "message", "finish_reason"],
                "properties": {
                    "index": {"type": "integer"}, "finish_reason": {"type": "string"},
                    "message": {"type": "object", "required": ["role", "content"], "properties": {
                        "role": {"const": "assistant"}, "content": {"type": ["string", "null"]}}},
                }}},
            "usage": _ref("Usage"),
        },
    },
    "Usage": {
        "type": "object", "required": ["prompt_tokens", "completion_tokens", "total_tokens"],
        "properties": {k: {"type": "integer", "minimum": 0}
                       for k in ("prompt_tokens", "completion_tokens", "total_tokens")},
    },
    "Model": {
        "type": "object", "required": ["id", "object", "created", "owned_by"],
        "properties": {"id": {"type": "string"}, "object": {"const": "model"}, "created": {"type": "integer"},
                       "owned_by": {"type": "string"}},
    },
    "ModelList": {"type": "object", "required": ["object", "data"],
                  "properties": {"object": {"const": "list"}, "data": {"type": "array", "items": _ref("Model")}}},
    "Stats": {
        "type": "object",
        "required": ["received", "answered", "answered_by_status", "faults", "outcomes", "in_flight", "ended",
                     "config"],
        "properties": {"received": {"type": "integer"}, "answered": {"type": "integer"},
                       "in_flight": {"type": "integer"}, "ended": {"type": "integer"},
                       "answered_by_status": {"type": "object", "additionalProperties": {"type": "integer"}},
                       "faults": {"type": "object", "additionalProperties": {"type": "integer"}},
                       "outcomes": {"type": "object", "additionalProperties": {"type": "integer"}},
                       "config": {"type": "object"}},
    },
}

_CHAT_HEADERS = [
    _header("x-mock-latency-ms", _MS, "this request's total latency (ms); overrides the configured timing"),
    _header("x-mock-ttft-ms", _MS, "this request's time to first token (ms)"),
    _header("x-mock-itl-ms", _MS, "this request's interval per output token (ms)"),
    _header("x-mock-output-tokens", {"type": "integer", "minimum": 1, "maximum": MAX_COMPLETION_TOKENS},
            "this request's output tokens, unless the body gives max_tokens / max_completion_tokens"),
    _header("x-mock-fault", {"enum": [*FAULT_KINDS, "none"]},
            "inject this fault into the request (`none`: no fault, whatever the configured rates draw)"),
]

# SSE: every event is one `data:` line, a chat.completion.chunk as JSON or the final `[DONE]`.
_SSE_EVENT = {"type": "object", "required": ["data"], "properties": {"data": {"type": "string"}}}

_CHAT_RESPONSES = {
    "200": {"description": "the completion; with `stream: true` an SSE stream of chunks ending in `[DONE]`",
            "content": {"application/json": {"schema": _ref("ChatCompletion")},
                        "text/event-stream": {"itemSchema": _SSE_EVENT}}},
    "400": _error("an invalid request, with OpenAI's message, `param` and `code`"),
    "401": _error("a missing or wrong API key (only when the mock requires one)"),
    "429": {**_error("over a rate-limit budget"), "headers": {
        "retry-after": {"schema": {"type": "integer", "minimum": 1}, "description": "whole seconds"},
        "retry-after-ms": {"schema": {"type": "integer", "minimum": 0}}}},
    "5XX": _error("an injected fault (`--fault-5xx-rate`, `x-mock-fault: 5xx`)"),
}

DESCRIPTION: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "Mock OpenAI backend (bench mock)", "version": "1",
             "description": "OpenAI's chat completions subset the harness needs, with known timing, rate "
                            "limits and injected faults. An unknown path or method gets OpenAI's 404 `Invalid "
                            "URL (METHOD /path)`."},
    "paths": {
        "/v1/chat/completions": {"post": {
            "operationId": "createChatCompletion", "parameters": _CHAT_HEADERS,
            "requestBody": {"required": True,
                            "content": {"application/json": {"schema": _ref("ChatCompletionRequest")}}},
            "responses": _CHAT_RESPONSES,
        }},
        "/v1/models": {"get": {"operationId": "listModels",
                               "responses": {"200": _json(_ref("ModelList"), "the served model"),
                                             "401": _error("a missing or wrong API key")}}},
        "/v1/models/{model}": {"get": {
            "operationId": "retrieveModel",
            "parameters": [{"name": "model", "in": "path", "required": True, "schema": {"type": "string"}}],
            "responses": {"200": _json(_ref("Model"), "any model id is served"),
                          "401": _error("a missing or wrong API key")}}},
        "/mock/health": {"get": {"operationId": "health", "responses": {"200": _json(
            {"type": "object", "required": ["status"], "properties": {"status": {"const": "ok"}}}, "ready")}}},
        "/mock/stats": {"get": {"operationId": "stats", "responses": {"200": _json(
            _ref("Stats"), "counters since start or the last reset, and the config (never the key)")}}},
        "/mock/requests": {"get": {"operationId": "recentRequests", "responses": {"200": _json(
            {"type": "array", "items": {"type": "object", "required": ["seq", "method", "path", "arrival"]}},
            "the most recent requests, oldest first")}}},
        "/mock/reset": {"post": {"operationId": "reset", "responses": {"200": _json(
            {"type": "object", "required": ["reset"], "properties": {"reset": {"const": True}}},
            "counters and budgets zeroed, RNGs re-seeded")}}},
        "/mock/openapi.json": {"get": {"operationId": "openapi", "responses": {"200": _json(
            {"type": "object"}, "this description")}}},
    },
    "components": {"schemas": SCHEMAS},
}


@functools.cache
def description_json() -> bytes:
    return json.dumps(DESCRIPTION).encode()
