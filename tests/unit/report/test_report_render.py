"""The rendered report: files written, claims first, every chart embedded, nothing fetched, deterministic."""

from __future__ import annotations

import base64
import re
from pathlib import Path
from typing import Any

import pytest

from bench.cli import main
from bench.report import console_summary, render_report
from bench.results.schema import write_results
from tests.support.synthetic_results import synthetic_results

Rendered = tuple[dict[str, Any], dict[str, Path]]
# A resource the browser would fetch: src/href/srcset/poster attributes, CSS url() and @import.
REMOTE = re.compile(r"""(?:src|href|srcset|poster|action)\s*=\s*["']?\s*(?:https?:)?//"""
                    r"""|url\(\s*["']?\s*(?:https?:)?//|@import""", re.IGNORECASE)


def test_writes_markdown_html_and_charts(rendered: Rendered) -> None:
    _, paths = rendered
    assert paths["markdown"].name == "report.md" and paths["html"].name == "report.html"
    charts = sorted(p.name for p in (paths["html"].parent / "charts").glob("*.png"))
    assert charts == sorted(f"{k.split(':', 1)[1]}.png" for k in paths if k.startswith("chart:"))
    assert {"timeline.png", "makespan.png", "latency-burst.png", "constructions.png", "memory.png",
            "rate-limits.png", "loop-lag.png", "sweep.png"} <= set(charts)


def test_html_is_self_contained_and_embeds_every_chart(rendered: Rendered) -> None:
    _, paths = rendered
    page = paths["html"].read_text(encoding="utf-8")
    assert not REMOTE.search(page)
    assert "<script" not in page.lower()
    for png in (paths["html"].parent / "charts").glob("*.png"):
        assert base64.b64encode(png.read_bytes()).decode() in page, png.name


def test_claims_table_comes_first_and_covers_every_claim(rendered: Rendered) -> None:
    _, paths = rendered
    md = paths["markdown"].read_text(encoding="utf-8")
    assert md.index("## Claims") < md.index("## Charts") < md.index("## Appendix")
    table = md.split("## Claims", 1)[1].split("###", 1)[0]
    for i in range(1, 11):
        assert re.search(rf"^\| C{i} \|", table, re.MULTILINE), f"C{i} missing from the claims table"
    assert "37.5x ± 25%" in md and "(the seed's set-up)" in md


def test_skipped_chart_is_listed_not_drawn(rendered: Rendered) -> None:
    _, paths = rendered
    md = paths["markdown"].read_text(encoding="utf-8")
    assert "`ttft`: no data" in md
    assert not (paths["html"].parent / "charts" / "ttft.png").exists()


def test_partial_data_skips_charts_and_says_not_measured(tmp_path: Path) -> None:
    res = synthetic_results(scenarios=("cold-burst",))
    paths = render_report(res, tmp_path)
    md = paths["markdown"].read_text(encoding="utf-8")
    assert "constructions.png" in md and "`timeline`: no data" in md and "`sweep`: no data" in md
    assert "**not measured**" in md
    assert not (tmp_path / "charts" / "timeline.png").exists()


def test_stability_warning_when_spread_is_large(tmp_path: Path) -> None:
    res = synthetic_results(scenarios=("burst",))
    factors = iter([1.0, 1.5, 0.7] * 4)
    for run in res["runs"]:
        if run["variant"] == "async":
            run["metrics"]["makespan_s"] *= next(factors)
    md = render_report(res, tmp_path)["markdown"].read_text(encoding="utf-8")
    assert "burst / async" in md.split("## Warnings", 1)[1] and "makespan spread" in md


def test_bench_report_twice_is_byte_identical(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    res = synthetic_results(scenarios=("burst", "cold-burst", "concurrency"))
    src = write_results(res, tmp_path / "results.json")
    assert main(["report", str(src), "--out", str(tmp_path / "one"), "--quiet"]) == 0
    assert main(["report", str(src), "--out", str(tmp_path / "two"), "--quiet"]) == 0
    assert main(["report", str(src), "--out", str(tmp_path / "one"), "--quiet"]) == 0  # over itself
    one = {p.relative_to(tmp_path / "one"): p.read_bytes() for p in (tmp_path / "one").rglob("*") if p.is_file()}
    two = {p.relative_to(tmp_path / "two"): p.read_bytes() for p in (tmp_path / "two").rglob("*") if p.is_file()}
    assert one.keys() == two.keys() and len(one) > 3
    assert all(one[k] == two[k] for k in one), [str(k) for k in one if one[k] != two[k]]
    assert str(tmp_path / "one" / "report.html") in capsys.readouterr().out


def test_bench_report_default_out_is_beside_the_results(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                                        ) -> None:
    src = write_results(synthetic_results(scenarios=("cold-burst",)), tmp_path / "results.json")
    assert main(["report", str(src)]) == 0
    out = capsys.readouterr().out
    assert (tmp_path / "report.html").exists() and "C1" in out and "Report:" in out


def test_bench_report_bad_input_is_one_line_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", str(tmp_path / "missing.json")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no such results file" in err


def test_console_summary_lists_every_claim_and_the_report_path() -> None:
    text = console_summary(synthetic_results(latency_ms=100.0, profile="quick"), "/x/report.html", width=100)
    for i in range(1, 11):
        assert re.search(rf"^C{i}\s", text, re.MULTILINE)
    assert "not measured at the seed's" in text and "Report: /x/report.html" in text
    assert max(len(line) for line in text.splitlines()) <= 100


def test_runs_without_measurements_give_not_measured_and_no_empty_charts(tmp_path: Path) -> None:
    res = synthetic_results()
    for run in res["runs"]:
        for key in ("app", "process", "requests", "upstream", "metrics", "accounting"):
            run[key] = None
    res["static"], res["probes"] = {}, {}
    paths = render_report(res, tmp_path)
    assert not any(k.startswith("chart:") for k in paths)
    md = paths["markdown"].read_text(encoding="utf-8")
    assert md.count("**not measured**") == 10
