"""The process's active settings and variant, and a hook tests use to route ChatOpenAI through an in-process upstream.

One app process serves one variant with one configuration, so this is process state by design
(`create_app` sets it); ChatAgent() takes no arguments, as in the seed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from app_under_test.settings import Settings, load_settings
from app_under_test.variants import Variant, parse_variant

# (sync_client, async_client) for ChatOpenAI, or None for langchain-openai's default shared clients.
ClientFactory = Callable[[], tuple[Any, Any]]

_settings: Settings | None = None
_variant: Variant | None = None
_client_factory: ClientFactory | None = None


def configure(settings: Settings, variant: Variant) -> None:
    global _settings, _variant
    _settings, _variant = settings, variant


def variant() -> Variant:
    global _variant
    if _variant is None:
        _variant = parse_variant(settings().app_variant)
    return _variant


def settings() -> Settings:
    global _settings
    if _settings is None:
        _settings = load_settings()
    return _settings


def set_client_factory(factory: ClientFactory | None) -> None:
    """Tests only: build every ChatOpenAI with these HTTP clients (e.g. over the mock's twin transport)."""
    global _client_factory
    _client_factory = factory


def client_factory() -> ClientFactory | None:
    return _client_factory
