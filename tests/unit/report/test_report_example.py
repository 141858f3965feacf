"""The committed example run (reports/example/) is reproduced byte for byte by `bench report`."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.cli import main

EXAMPLE = Path(__file__).resolve().parents[3] / "reports" / "example"


@pytest.mark.skipif(not (EXAMPLE / "results.json").exists(), reason="no committed reports/example/results.json yet")
def test_bench_report_reproduces_the_committed_example(tmp_path: Path) -> None:
    assert main(["report", str(EXAMPLE / "results.json"), "--out", str(tmp_path), "--quiet"]) == 0
    made = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    assert made, "bench report wrote nothing"
    for rel in made:
        committed = EXAMPLE / rel
        assert committed.exists(), f"{rel} is generated but not committed in reports/example/"
        assert committed.read_bytes() == (tmp_path / rel).read_bytes(), f"{rel} differs from the committed file"
