"""schemathesis against the app's OpenAPI, in-process: no 5xx, no hang, every answer as documented.

The reference preset runs every route and phase; each other preset its chat routes (the only code that
differs between presets); two call modes again with the upstream injecting faults, which must reach the user
as documented 502 / 504 answers. Example counts are small here; `python -m tests.fuzz.run` is the long run.
"""

from __future__ import annotations

import pytest

from app_under_test.variants import PRESETS
from tests.fuzz.targets import fuzz_app

FAST = ("sync", "threadpool")  # the other two call modes; the rest share theirs with `async`
OTHERS = [pytest.param(p, marks=() if p in FAST else pytest.mark.integration) for p in PRESETS if p != "async"]


def test_the_reference_preset_keeps_its_contract_on_every_route() -> None:
    figures = fuzz_app("async", examples=10)
    assert figures.clean, figures.problems()
    assert figures.examples >= 100  # coverage cases for every route, then generated ones


@pytest.mark.parametrize("preset", OTHERS)
def test_every_preset_keeps_its_chat_contract(preset: str) -> None:
    figures = fuzz_app(preset, examples=5, chat_only=True)
    assert figures.clean, figures.problems()
    assert figures.examples >= 40


@pytest.mark.parametrize("preset", ["async", pytest.param("threadpool", marks=pytest.mark.integration)])
def test_upstream_faults_reach_users_as_documented_errors(preset: str) -> None:
    figures = fuzz_app(preset, examples=10, faults=True, chat_only=True)
    assert figures.clean, figures.problems()
    assert figures.injected > 0  # the faults did happen, and each became a 502 / 504
