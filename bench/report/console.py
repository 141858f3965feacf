"""The terminal's view: the claims table `bench run` prints at the end, and a plain wrapped-table helper."""

from __future__ import annotations

import shutil
import textwrap
from collections.abc import Sequence
from itertools import zip_longest
from pathlib import Path
from typing import Any

from bench.report.claims import evaluate_claims
from bench.report.verdict import Verdict
from bench.results import runs as R

MARKS = {"reproduced": "+", "partial": "~", "not reproduced": "x", "not measured": "?"}


def text_table(header: Sequence[str], rows: Sequence[Sequence[object]], widths: Sequence[int]) -> str:
    """Columns of fixed width, each cell wrapped within its column; a rule under the header."""
    def lines(row: Sequence[object]) -> list[str]:
        cols = [textwrap.wrap(str(c), w) or [""] for c, w in zip(row, widths, strict=True)]
        return ["  ".join(part.ljust(w) for part, w in zip(parts, widths, strict=True)).rstrip()
                for parts in zip_longest(*cols, fillvalue="")]
    out = [*lines(header), "  ".join("-" * w for w in widths)]
    for row in rows:
        out += lines(row)
    return "\n".join(out)


def _width() -> int:
    return max(80, min(140, shutil.get_terminal_size((110, 24)).columns))


def claims_table(verdicts: list[Verdict], width: int | None = None) -> str:
    total = width or _width()
    w_verdict = 30
    w_measured = max(30, total - 4 - 2 - w_verdict - 4)
    rows = [[v.id, f"{MARKS[v.status]} {v.verdict}", v.measured] for v in verdicts]
    return text_table(["id", "verdict", "measured"], rows, [4, w_verdict, w_measured])


def console_summary(results: dict[str, Any], report_path: str | Path | None = None, width: int | None = None
                    ) -> str:
    """The claims table for the terminal (a user's app: its concerns); with `report_path`, where the report is."""
    if (results.get("target") or {}).get("kind") == "app":
        from bench.report.console_concerns import concerns_summary

        return concerns_summary(results, report_path, width)
    verdicts = evaluate_claims(results)
    counts = {s: sum(v.status == s for v in verdicts) for s in MARKS}
    head = (f"Claims ({R.profile_of(results)} profile, {R.repetitions_label(results)} repetitions): "
            + ", ".join(f"{n} {s}" for s, n in counts.items() if n))
    parts = [head, "", claims_table(verdicts, width),
             "", "+ reproduced   ~ reproduced only under conditions   x not reproduced   ? not measured"]
    from bench.report.faults import faults_section, faults_text  # it lays its table out with text_table, here

    if (faults := faults_section(results)) is not None:
        parts += ["", faults_text(faults)]
    if report_path is not None:
        parts += ["", f"Report: {report_path}"]
    return "\n".join(parts)
