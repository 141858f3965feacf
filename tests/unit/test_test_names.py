"""Test files are collected by basename (no packages under tests/): two files with one name break collection of the
whole suite, so every test module's name must be unique."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_test_module_name_is_unique() -> None:
    names = Counter(p.name for p in ROOT.rglob("test_*.py") if "__pycache__" not in p.parts)
    assert names and not [n for n, k in names.items() if k > 1]
