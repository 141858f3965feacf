"""The embedded servers' config (scenarios/embedded.py): which variant runs, checked parameters, the mock's."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from bench.errors import UsageError
from scenarios.embedded import EmbeddedStack, StackConfig, stack_config
from scenarios.options import APP_VARIANTS, settings_from

ROOT = Path(__file__).resolve().parents[3]
DEFAULTS = settings_from(None)


def test_the_variant_is_app_variant_else_variant_else_async() -> None:
    assert stack_config(DEFAULTS).variant == "async"
    assert stack_config(replace(DEFAULTS, variant="sync")).variant == "sync"
    assert stack_config(replace(DEFAULTS, variant="sync", app_variant="locked")).variant == "locked"
    # The command line may name any variant the app accepts, overrides included.
    assert stack_config(replace(DEFAULTS, variant="async:limiter=none")).variant == "async:limiter=none"


def test_the_dropdown_lists_every_preset_default_first() -> None:
    assert APP_VARIANTS[0] == "async" and {"sync", "lru_cache", "per-request"} <= set(APP_VARIANTS)


@pytest.mark.parametrize(("change", "message"), [
    ({"variant": "standin-async"}, "unknown variant 'standin-async'; valid presets: sync, async"),
    ({"backend": "localhost:8080"}, "--backend must be 'mock' or an http(s) base URL"),
    ({"mock_latency_ms": -1.0}, "--mock-latency-ms must be >= 0"),
    ({"mock_rps": -2.0}, "--mock-rps must be >= 0"),
    ({"mock_tier": "gold"}, "unknown mock tier 'gold'; valid: none, tier-1"),
])
def test_bad_values_are_one_line(change: dict[str, object], message: str) -> None:
    with pytest.raises(UsageError, match=message.replace("(", r"\(").replace(")", r"\)")):
        stack_config(replace(DEFAULTS, **change))  # type: ignore[arg-type]


def test_mock_config_and_backend() -> None:
    cfg = stack_config(replace(DEFAULTS, mock_latency_ms=20.0, mock_rps=5.0, mock_tier="tier-2"))
    mock = cfg.mock_config()
    assert (mock.latency_ms, mock.rps, mock.tier) == (20.0, 5.0, "tier-2") and cfg.uses_mock
    assert cfg.backend_text() == "the mock backend (20 ms, 5 req/s, tier tier-2)"
    plain = StackConfig(variant="sync", backend="mock").mock_config()
    assert plain.rps is None and plain.tier is None
    url = stack_config(replace(DEFAULTS, backend="http://127.0.0.1:8080/v1/"))
    assert not url.uses_mock and url.backend == "http://127.0.0.1:8080/v1"
    assert url.describe() == "variant async against http://127.0.0.1:8080/v1"


def test_a_stack_owns_the_urls_it_served() -> None:
    stack = EmbeddedStack()
    stack.own_urls.add("http://127.0.0.1:4321")
    assert stack.owns("http://127.0.0.1:4321/") and not stack.owns("http://127.0.0.1:4322") and not stack.owns("")
    assert not stack.running and not stack.alive()
    stack.stop()  # nothing started: nothing to do, no error


def test_the_config_module_does_not_import_locust() -> None:
    code = ("import sys, scenarios.embedded; "
            "sys.exit(1 if {'locust', 'gevent'} & {m.split('.')[0] for m in sys.modules} else 0)")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
