"""Fixtures for the report tests: synthetic results (tests/support) and one rendered report per module."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

# `tests.support` is imported as a package from the repository root, which pytest does not put on sys.path
# for test files without __init__.py.
ROOT = Path(__file__).resolve().parents[3]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.support.synthetic_results import synthetic_results  # noqa: E402


@pytest.fixture
def results() -> dict[str, Any]:
    return synthetic_results()


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], dict[str, Path]]:
    from bench.report import render_report

    res = synthetic_results()
    return res, render_report(res, tmp_path_factory.mktemp("report"))
