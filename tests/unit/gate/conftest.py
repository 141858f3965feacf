"""Fixtures for the gate's unit tests: a gate-shaped results dict and a baseline written from one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from gatedata import gate_results, write_test_baseline


@pytest.fixture
def results() -> dict[str, Any]:
    return gate_results()


@pytest.fixture
def baseline_file(tmp_path: Path) -> str:
    return write_test_baseline(tmp_path / "baseline.json")
