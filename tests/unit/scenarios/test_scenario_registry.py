"""The scenario registry: names, class paths, expected request counts."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from scenarios.registry import SCENARIOS, get_scenario

ROOT = Path(__file__).resolve().parents[3]


def test_names() -> None:
    assert set(SCENARIOS) == {"burst", "cold-burst", "steady", "concurrency", "concurrency-steps", "stream"}
    assert all(spec.name == name for name, spec in SCENARIOS.items())


def _defined(path: str) -> bool:
    # Parsed, not imported: user modules import locust, which would monkey-patch the test process.
    module, _, name = path.partition(":")
    tree = ast.parse((ROOT / (module.replace(".", "/") + ".py")).read_text())
    return any(isinstance(node, ast.ClassDef) and node.name == name for node in tree.body)


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_class_paths_exist(name: str) -> None:
    spec = SCENARIOS[name]
    assert _defined(spec.user_class)
    if spec.shape_class:
        assert _defined(spec.shape_class)


def test_expected_requests() -> None:
    assert get_scenario("burst").expected_requests(users=50, rate=0, duration_s=0) == 50
    assert get_scenario("cold-burst").expected_requests(users=7, rate=0, duration_s=0) == 7
    assert get_scenario("steady").expected_requests(users=1, rate=10, duration_s=3) == 30
    assert get_scenario("steady").expected_requests(users=1, rate=10, duration_s=3, max_arrivals=5) == 5
    assert get_scenario("concurrency").expected_requests(users=10, rate=0, duration_s=5) is None


def test_cold_burst_needs_a_fresh_server() -> None:
    assert get_scenario("cold-burst").fresh_server and not get_scenario("burst").fresh_server


def test_unknown_scenario_lists_valid_names() -> None:
    with pytest.raises(KeyError, match="valid: burst, cold-burst"):
        get_scenario("bursty")
