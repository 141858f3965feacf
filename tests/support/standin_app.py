"""A tiny stand-in for the chat app's HTTP contract, for testing the load generator without the real app.

Configured by environment variables (STANDIN_MODE=async|sync, STANDIN_LATENCY_S, STANDIN_CHUNKS,
STANDIN_CHUNK_INTERVAL_S); run as `python -m tests.support.standin_app --fd N` (see bench.servers.process.serve).
Message "fail-502" answers 502; "sleep=<s>" overrides the latency; on the stream, "cut" drops the
connection after two tokens and "stream-error" sends an error event after one.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel

PID = os.getpid()


class ChatRequest(BaseModel):
    message: str
    conversation_id: str | None = None


def _latency(body: ChatRequest, default_s: float) -> float:
    if body.message.startswith("sleep="):
        return float(body.message.partition("=")[2])
    return default_s


def _reply(body: ChatRequest, mode: str) -> Any:
    if body.message == "fail-502":
        return JSONResponse({"error": {"type": "upstream", "message": "stand-in failure"}}, status_code=502)
    return {"reply": f"echo: {body.message}", "conversation_id": body.conversation_id or "c-1",
            "agent_id": 1, "pid": PID, "variant": f"standin-{mode}"}


def create_app(mode: str = "async", latency_s: float = 0.5, chunks: int = 5,
               chunk_interval_s: float = 0.05) -> FastAPI:
    app = FastAPI()

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    if mode == "sync":
        @app.post("/api/chat")
        def chat_sync(body: ChatRequest) -> Any:
            time.sleep(_latency(body, latency_s))  # FastAPI runs a `def` endpoint in its 40-thread pool
            return _reply(body, mode)
    else:
        @app.post("/api/chat")
        async def chat_async(body: ChatRequest) -> Any:
            await asyncio.sleep(_latency(body, latency_s))
            return _reply(body, mode)

    @app.post("/api/chat/stream")
    async def chat_stream(body: ChatRequest) -> StreamingResponse:
        async def events() -> AsyncIterator[str]:
            await asyncio.sleep(_latency(body, latency_s))
            for i in range(chunks):
                if body.message == "cut" and i == 2:
                    raise RuntimeError("stand-in drops the connection mid-stream")
                if body.message == "stream-error" and i == 1:
                    error = {"type": "upstream_timeout", "message": "slow"}
                    yield f"data: {json.dumps({'type': 'error', 'error': error})}\n\n"
                    return
                yield f"data: {json.dumps({'type': 'token', 'content': f't{i} '})}\n\n"
                await asyncio.sleep(chunk_interval_s)
            yield f"data: {json.dumps({'type': 'done', 'conversation_id': 'c-1', 'agent_id': 1})}\n\n"
        return StreamingResponse(events(), media_type="text/event-stream")

    return app


def app_from_env() -> FastAPI:
    return create_app(
        mode=os.environ.get("STANDIN_MODE", "async"),
        latency_s=float(os.environ.get("STANDIN_LATENCY_S", "0.5")),
        chunks=int(os.environ.get("STANDIN_CHUNKS", "5")),
        chunk_interval_s=float(os.environ.get("STANDIN_CHUNK_INTERVAL_S", "0.05")),
    )


def main() -> None:
    from bench.servers.uvicorn_runner import run_uvicorn

    parser = argparse.ArgumentParser()
    parser.add_argument("--fd", type=int, required=True)
    args = parser.parse_args()
    run_uvicorn("tests.support.standin_app:app_from_env", factory=True, fd=args.fd)


if __name__ == "__main__":
    main()
