"""Fixtures for the report tests: synthetic results (tests/support) and one rendered report per module."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.support.synthetic_results import synthetic_results  # the repository root is on pythonpath (pyproject)


@pytest.fixture
def results() -> dict[str, Any]:
    return synthetic_results()


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], dict[str, Path]]:
    from bench.report import render_report

    res = synthetic_results()
    return res, render_report(res, tmp_path_factory.mktemp("report"))
