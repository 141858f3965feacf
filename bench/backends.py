"""Backends the app can call: the embedded mock, OpenAI itself, or any OpenAI-compatible base URL.

The API key is held here and passed to the app's environment only; `describe()` (what results.json and the
report show) never contains it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from bench.errors import UsageError

OPENAI_URL = "https://api.openai.com/v1"
KINDS = ("mock", "openai", "url")


@dataclass(frozen=True)
class Backend:
    kind: str
    base_url: str = ""
    model: str | None = None
    api_key: str | None = None

    def describe(self) -> dict[str, Any]:
        return {"kind": self.kind, "base_url": self.base_url or "(embedded mock)", "model": self.model,
                "api_key_set": bool(self.api_key)}

    def app_env(self) -> dict[str, str]:
        return {"OPENAI_MODEL": self.model} if self.model else {}


def resolve_backend(spec: str, *, model: str | None = None) -> Backend:
    """`mock`, `openai` (needs OPENAI_API_KEY), or an http(s) base URL of an OpenAI-compatible server."""
    if spec == "mock":
        return Backend("mock", model=model)
    if spec == "openai":
        key = os.environ.get("OPENAI_API_KEY", "").strip()
        if not key:
            raise UsageError("--backend openai needs OPENAI_API_KEY in the environment")
        return Backend("openai", OPENAI_URL, model=model or "gpt-4o-mini", api_key=key)
    parsed = urlparse(spec)
    if parsed.scheme in ("http", "https") and parsed.netloc:
        return Backend("url", spec.rstrip("/"), model=model, api_key=os.environ.get("OPENAI_API_KEY") or None)
    raise UsageError(f"unknown backend {spec!r}; valid: mock, openai, or an http(s):// base URL")
