"""A small OpenAI-compatible server that is not the project's mock, for testing the backend probe and C4's story.

`POST /v1/chat/completions` (plain, and streamed when asked), `GET /v1/models`, `GET /healthz`. Each answer takes
STANDIN_LATENCY_S (default 0: instant); STANDIN_MAX_CONCURRENCY > 0 lets only that many be served at once (1: the
server answers one request at a time, like llama.cpp's, and the others queue). Run as
`python -m tests.support.standin_openai --fd N` (bench.servers.process.serve) or `--port P` by hand.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import time
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

REPLY = "Hello from the stand-in."


def create_app(latency_s: float = 0.0, max_concurrency: int = 0) -> Starlette:
    gate = asyncio.Semaphore(max_concurrency) if max_concurrency > 0 else None
    served = {"requests": 0, "in_flight": 0, "peak_in_flight": 0}

    async def serve_one() -> None:
        served["in_flight"] += 1
        served["peak_in_flight"] = max(served["peak_in_flight"], served["in_flight"])
        try:
            await asyncio.sleep(latency_s)
        finally:
            served["in_flight"] -= 1
            served["requests"] += 1

    async def completions(request: Request) -> Response:
        body: dict[str, Any] = await request.json()
        model = str(body.get("model") or "standin")
        async with gate if gate is not None else contextlib.nullcontext():
            await serve_one()
        created, ident = int(time.time()), f"chatcmpl-standin-{served['requests']}"
        usage = {"prompt_tokens": 10, "completion_tokens": 6, "total_tokens": 16}
        if body.get("stream"):
            async def events() -> AsyncIterator[str]:
                for piece in (REPLY[:6], REPLY[6:]):
                    chunk = {"id": ident, "object": "chat.completion.chunk", "created": created, "model": model,
                             "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]}
                    yield f"data: {json.dumps(chunk)}\n\n"
                last = {"id": ident, "object": "chat.completion.chunk", "created": created, "model": model,
                        "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}], "usage": usage}
                yield f"data: {json.dumps(last)}\n\ndata: [DONE]\n\n"
            return StreamingResponse(events(), media_type="text/event-stream")
        return JSONResponse({
            "id": ident, "object": "chat.completion", "created": created, "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": REPLY}, "finish_reason": "stop"}],
            "usage": usage,
        })

    async def models(_: Request) -> Response:
        return JSONResponse({"object": "list", "data": [{"id": "standin", "object": "model", "owned_by": "tests"}]})

    async def healthz(_: Request) -> Response:
        return JSONResponse({"status": "ok", **served})

    return Starlette(routes=[Route("/v1/chat/completions", completions, methods=["POST"]),
                             Route("/v1/models", models), Route("/healthz", healthz)])


def app_from_env() -> Starlette:
    return create_app(latency_s=float(os.environ.get("STANDIN_LATENCY_S", "0")),
                      max_concurrency=int(os.environ.get("STANDIN_MAX_CONCURRENCY", "0")))


def main() -> None:
    from bench.servers.uvicorn_runner import run_uvicorn

    parser = argparse.ArgumentParser()
    parser.add_argument("--fd", type=int)
    parser.add_argument("--port", type=int, default=8099)
    args = parser.parse_args()
    run_uvicorn("tests.support.standin_openai:app_from_env", factory=True, fd=args.fd, port=args.port)


if __name__ == "__main__":
    main()
