"""`render_report`: results.json in, report.md + report.html + charts/*.png out, byte-identical each time."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench.report.document import build_document
from bench.report.html import report_html
from bench.report.markdown import report_markdown


def _write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def render_report(results: dict[str, Any], out_dir: str | Path) -> dict[str, Path]:
    """Write the report files; returns {"markdown", "html", "chart:<name>"...: path}."""
    out = Path(out_dir)
    doc = build_document(results)
    paths: dict[str, Path] = {}
    charts_dir = out / "charts"
    keep = {f"{c.name}.png" for c in doc.all_charts}
    if charts_dir.is_dir():
        # A chart skipped this time must not linger from an earlier render of other data.
        for stale in charts_dir.glob("*.png"):
            if stale.name not in keep:
                stale.unlink()
    for chart in doc.all_charts:
        paths[f"chart:{chart.name}"] = _write(out / chart.filename, chart.png)
    paths["markdown"] = _write(out / "report.md", report_markdown(doc).encode("utf-8"))
    paths["html"] = _write(out / "report.html", report_html(doc).encode("utf-8"))
    return paths
