"""The reference chat app under test: the seed's ChatAgent behind FastAPI, in every concurrency variant."""

from __future__ import annotations

from app_under_test.app import create_app

__all__ = ["create_app"]
