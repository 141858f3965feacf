"""`bench compare`'s outputs: the terminal table, compare.md and a self-contained compare.html."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench.report import html as H
from bench.report import markdown as M
from bench.report.compare import CompareRow, Comparison
from bench.report.console import text_table

HEADER = ["scenario", "variant", "set-up", "metric", "A", "B", "change", "significance"]
NOTE = ("Significance: Mann-Whitney U (two-sided, alpha 0.05) where the repetitions can reach it (4+ per side); "
        "with fewer, non-overlapping intervals (95% CIs from 5 repetitions, else min..max: complete separation); "
        "n/a with under 2 per side. Changes under 2% of the median are reported as negligible.")


def _cells(row: CompareRow) -> list[str]:
    unit = f" {row.metric.unit}"
    mark = {"worse": " (worse)", "better": " (better)", "same": ""}[row.direction] if row.changed else ""
    return [row.scenario, row.variant, row.setup, row.metric.name, row.a.fmt(unit=unit), row.b.fmt(unit=unit),
            row.change_text() + mark, row.sig_text()]


def names_of(a: dict[str, Any], b: dict[str, Any], names: tuple[str, str] | None = None) -> tuple[str, str]:
    """Column names for the two runs: given ones, else their labels."""
    return names or (str(a.get("label") or "A"), str(b.get("label") or "B"))


def _summary(cmp: Comparison, names: tuple[str, str]) -> list[str]:
    sig = cmp.significant
    worse = [r for r in sig if r.direction == "worse"]
    lines = [f"A = {names[0]}, B = {names[1]}: {len(cmp.rows)} metrics compared, {len(sig)} changed significantly "
             f"({len(worse)} worse)."]
    lines += [f"Only in A: {' / '.join(k)}" for k in cmp.only_a]
    lines += [f"Only in B: {' / '.join(k)}" for k in cmp.only_b]
    return lines


def compare_console(cmp: Comparison, names: tuple[str, str] = ("A", "B"), width: int = 120) -> str:
    """The significant changes only (the files hold every metric), worst first."""
    shown = sorted(cmp.significant, key=lambda r: (r.direction != "worse", r.scenario, r.variant, r.metric.name))
    rest = max(24, width - (12 + 16 + 20 + 13 + 9 + 22) - 2 * 7)
    widths = [12, 16, 20, 13, rest // 2, rest - rest // 2, 9, 22]
    rows = [[r.scenario, r.variant, r.setup, r.metric.name, r.a.fmt(unit=f" {r.metric.unit}"),
             r.b.fmt(unit=f" {r.metric.unit}"), r.change_text(), f"{r.direction}: {r.sig_text()}"] for r in shown]
    table = text_table(HEADER, rows, widths) if rows else "No significant change."
    unknown = sum(r.sig.significant is None for r in cmp.rows)
    tail = f"{len(cmp.rows) - len(shown) - unknown} metrics without significant change, {unknown} n/a."
    return "\n".join([*_summary(cmp, names), "", table, "", tail, NOTE])


def compare_markdown(cmp: Comparison, names: tuple[str, str]) -> str:
    out = [f"# Comparison: {names[0]} vs {names[1]}", "", *(f"{line}  " for line in _summary(cmp, names)), "",
           M.table(HEADER, [_cells(r) for r in cmp.rows]), "", NOTE]
    return "\n".join(out) + "\n"


def compare_html(cmp: Comparison, names: tuple[str, str]) -> str:
    rows = []
    for r in cmp.rows:
        cells = [H.inline(c) for c in _cells(r)]
        if r.changed:
            status = "not-reproduced" if r.direction == "worse" else "reproduced"
            cells[6] = H.badge(status, _cells(r)[6])
        rows.append(cells)
    body = (f"<h1>Comparison: {H.inline(names[0])} vs {H.inline(names[1])}</h1>"
            + "".join(f"<p>{H.inline(line)}</p>" for line in _summary(cmp, names))
            + H.table(HEADER, rows, raw_columns=tuple(range(len(HEADER))))
            + f'<p class="muted">{H.inline(NOTE)}</p>')
    return H.page(f"Comparison: {names[0]} vs {names[1]}", body)


def render_compare(cmp: Comparison, out_dir: str | Path, names: tuple[str, str]) -> dict[str, Path]:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    md, page = out / "compare.md", out / "compare.html"
    md.write_bytes(compare_markdown(cmp, names).encode("utf-8"))
    page.write_bytes(compare_html(cmp, names).encode("utf-8"))
    return {"markdown": md, "html": page}

