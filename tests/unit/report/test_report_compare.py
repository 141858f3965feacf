"""bench compare: a clear change is significant, an unchanged run is not; the three output forms."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.cli import main
from bench.report import CompareRow, Comparison, compare_console, compare_results
from bench.report.compare_render import compare_html
from bench.results.schema import write_results
from tests.support.synthetic_results import scale_metric, synthetic_results


def _rows(cmp: Comparison, scenario: str, variant: str, metric: str) -> list[CompareRow]:
    return [r for r in cmp.rows if (r.scenario, r.variant, r.metric.name) == (scenario, variant, metric)]


def test_clear_change_is_significant_and_unchanged_is_not() -> None:
    a = synthetic_results(seed=1, reps=5, scenarios=("burst",), noise=0.03)
    b = synthetic_results(seed=2, reps=5, scenarios=("burst",), noise=0.03)
    scale_metric(b, "burst", "async", 1.5)
    cmp = compare_results(a, b)
    [changed] = _rows(cmp, "burst", "async", "makespan")
    assert changed.changed and changed.regression and changed.sig.method == "mann-whitney"
    assert changed.change == pytest.approx(0.5, abs=0.08)
    [same] = _rows(cmp, "burst", "sync", "makespan")
    assert not same.changed and not same.regression
    assert "worse" in compare_console(cmp)


def test_three_repetitions_still_detect_a_clear_change() -> None:
    a = synthetic_results(seed=1, scenarios=("burst",))
    b = synthetic_results(seed=2, scenarios=("burst",))
    scale_metric(b, "burst", "async", 2.0)
    [row] = _rows(compare_results(a, b), "burst", "async", "makespan")
    assert row.changed and row.sig.method == "bootstrap-ci"


def test_groups_on_one_side_only_are_listed() -> None:
    a = synthetic_results(scenarios=("burst", "cold-burst"))
    b = synthetic_results(scenarios=("burst",))
    cmp = compare_results(a, b)
    assert ("cold-burst", "locked", "N=50, 100 ms upstream, constructor delay 50 ms") in cmp.only_a
    assert "Only in A: cold-burst / locked" in compare_console(cmp)


def test_compare_html_is_self_contained() -> None:
    a = synthetic_results(scenarios=("burst",))
    page = compare_html(compare_results(a, a), ("A", "B"))
    assert "<script" not in page and 'src="http' not in page and "makespan" in page


def test_bench_compare_cli_writes_md_and_html(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a = write_results(synthetic_results(seed=1, scenarios=("cold-burst",)), tmp_path / "a.json")
    b = write_results(synthetic_results(seed=2, scenarios=("cold-burst",)), tmp_path / "b.json")
    assert main(["compare", str(a), str(b), "--out", str(tmp_path / "cmp")]) == 0
    assert (tmp_path / "cmp" / "compare.md").read_text().startswith("# Comparison")
    assert (tmp_path / "cmp" / "compare.html").exists()
    assert "metrics compared" in capsys.readouterr().out
    assert main(["compare", str(a), str(tmp_path / "nope.json")]) == 2
