"""The terminal's view of a user's app (`bench run --app`): one line per concern with its verdict and the numbers,
then the fix of each failing one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench.report.concerns import evaluate_concerns
from bench.report.console import _width, text_table
from bench.report.verdict import Verdict
from bench.results import runs as R

MARKS = {"fail": "x", "pass": "+", "not measured": "?"}


def repetitions(results: dict[str, Any]) -> str:
    """`3 repetitions; cold-burst 2`: the app is the only variant, so the scenarios name the steps."""
    base = R.get(results, "config.repeat", "?")
    own = [f"{p['scenario']} {p['repeat']}" for p in R.get(results, "config.plan", []) or [] if p.get("repeat")]
    return f"{base} repetition{'' if str(base) == '1' else 's'}" + (f"; {', '.join(own)}" if own else "")


def concerns_table(verdicts: list[Verdict], width: int | None = None) -> str:
    total = width or _width()
    w_id, w_verdict = 13, 30
    w_measured = max(30, total - w_id - w_verdict - 4)
    rows = [[v.id, f"{MARKS.get(v.status, '?')} {v.verdict}", v.measured] for v in verdicts]
    return text_table(["concern", "verdict", "measured"], rows, [w_id, w_verdict, w_measured])


def concerns_summary(results: dict[str, Any], report_path: str | Path | None = None, width: int | None = None
                     ) -> str:
    verdicts = evaluate_concerns(results)
    failing = [v for v in verdicts if v.status == "fail"]
    measured = [v for v in verdicts if v.status != "not measured"]
    state = (f"{len(failing)} of {len(measured)} measured concerns fail" if failing
             else f"every measured concern passes ({len(measured)} of {len(verdicts)})")
    head = f"Diagnosis of {R.get(results, 'target.app')} ({repetitions(results)}): {state}"
    parts = [head, "", concerns_table(verdicts, width), "",
             "+ passes   x fails   ? not measured (the line says why)"]
    for v in failing:
        fix = next((d for d in v.details if d.startswith("Fix: ")), "")
        if fix:
            parts += ["", f"{v.id}: {fix}"]
    if report_path is not None:
        parts += ["", f"Report: {report_path}"]
    return "\n".join(parts)
