"""The mock fuzzed two ways: schemathesis against the description it serves (injecting 5xx, malformed and short
hang faults, each told apart from a bug by the request's record), and Hypothesis against its engine with any
body and any `x-mock-*` header value."""

from __future__ import annotations

from tests.fuzz.mock_engine import fuzz_mock_engine
from tests.fuzz.targets import fuzz_mock


def test_the_mock_keeps_to_the_description_it_serves() -> None:
    figures = fuzz_mock(examples=10)
    assert figures.clean, figures.problems()
    assert figures.examples >= 100


def test_the_engine_plans_an_answer_for_any_input() -> None:
    figures = fuzz_mock_engine(examples=150)
    assert figures.clean, figures.problems()
    assert figures.injected > 0  # inputs reached the answer path, where faults are drawn
