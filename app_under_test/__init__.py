"""The reference chat app under test: the seed's ChatAgent behind FastAPI, in every concurrency variant."""

from __future__ import annotations

from typing import Any

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    # Lazy: `app_under_test.variants` is read by the harness and by every Locust process, which must not pay
    # for importing FastAPI + LangChain (~1.8 s) just to parse a variant name.
    if name == "create_app":
        from app_under_test.app import create_app

        return create_app
    raise AttributeError(name)
