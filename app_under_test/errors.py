"""JSON errors: bad input (an undecodable body included) -> 422; upstream trouble -> 502 / 503 / 504 with the
cause; never a bare 500.

    upstream 429 (rate limited)              -> 503 + Retry-After when the upstream sent one
    upstream timeout                         -> 504
    upstream 5xx, connection error, other    -> 502
    an answer the client stack cannot parse  -> 502 (upstream_bad_response)
    a setting met only on first use (REDIS_URL for limiter=redis) -> 500 (app_misconfigured), naming it
"""

from __future__ import annotations

import logging
from typing import Any

import openai
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from app_under_test.settings import SettingsError

logger = logging.getLogger(__name__)


class BadInput(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def error_body(kind: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"error": {"type": kind, "message": message, **extra}}


def upstream_error(exc: BaseException) -> tuple[int, dict[str, Any], dict[str, str]]:
    """Status, body and headers for an exception raised by the LLM call, or a 500 for our own bugs."""
    headers: dict[str, str] = {}
    if isinstance(exc, openai.APITimeoutError):
        return 504, error_body("upstream_timeout", "the LLM backend did not answer in time"), headers
    if isinstance(exc, openai.RateLimitError):
        retry_after = exc.response.headers.get("retry-after")
        if retry_after:
            headers["Retry-After"] = retry_after
        body = error_body("upstream_rate_limited", "the LLM backend is rate limiting (HTTP 429) after retries",
                          upstream_status=429)
        return 503, body, headers
    if isinstance(exc, openai.APIStatusError):
        msg = f"the LLM backend answered HTTP {exc.status_code}"
        return 502, error_body("upstream_error", msg, upstream_status=exc.status_code), headers
    if isinstance(exc, openai.APIConnectionError):
        # Both a backend that cannot be reached and one that closed the connection mid-answer end here.
        msg = f"no complete answer from the LLM backend (unreachable, or the connection closed mid-answer): {exc}"
        return 502, error_body("upstream_unreachable", msg), headers
    if isinstance(exc, openai.APIError):
        return 502, error_body("upstream_error", f"bad answer from the LLM backend: {exc}"), headers
    if isinstance(exc, SettingsError):  # a ValueError too, but ours: not the upstream's answer
        return 500, error_body("app_misconfigured", str(exc)), headers
    if isinstance(exc, ValueError):  # json.JSONDecodeError, pydantic's ValidationError: an unparseable answer
        msg = f"the LLM backend's answer could not be parsed ({type(exc).__name__})"
        return 502, error_body("upstream_bad_response", msg), headers
    return 500, error_body("internal_error", type(exc).__name__), headers


def _first_validation_message(exc: RequestValidationError) -> str:
    errs = exc.errors()
    if not errs:
        return "invalid request"
    err = errs[0]
    if err.get("type") == "json_invalid":
        return "request body is not valid JSON"
    loc = ".".join(str(p) for p in err.get("loc", ()) if p != "body") or "body"
    return f"{loc}: {err.get('msg', 'invalid')}"


def install_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse(error_body("invalid_request", _first_validation_message(exc)), status_code=422)

    @app.exception_handler(BadInput)
    async def _bad_input(_: Request, exc: BadInput) -> JSONResponse:
        return JSONResponse(error_body("invalid_request", exc.message), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400:
            # FastAPI's answer to a body it cannot decode (not UTF-8): bad input like invalid JSON, so the same
            # documented 422 rather than a bare 400.
            return JSONResponse(error_body("invalid_request", "request body is not valid JSON"), status_code=422)
        # exc.headers carries what the status needs, e.g. 405's `Allow` (RFC 9110).
        return JSONResponse(error_body("http_error", str(exc.detail)), status_code=exc.status_code,
                            headers=exc.headers)

    @app.exception_handler(Exception)
    async def _any(_: Request, exc: Exception) -> JSONResponse:
        status, body, headers = upstream_error(exc)
        if status == 500:
            logger.exception("unhandled error")
        else:
            logger.warning("upstream error: %s", body["error"]["message"])
        return JSONResponse(body, status_code=status, headers=headers)
