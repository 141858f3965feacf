"""Reports rebuilt from results.json alone: claim verdicts, charts, markdown, self-contained HTML, the
terminal summary, and run-to-run comparison."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bench.report.claims import RULES, evaluate_claims
    from bench.report.compare import CompareRow, Comparison, compare_results
    from bench.report.compare_render import compare_console, render_compare
    from bench.report.console import console_summary
    from bench.report.render import render_report
    from bench.report.verdict import Verdict

# Public name -> defining module, imported on first use: `bench compare` and `console_summary` need no
# matplotlib, and importing it costs about a second.
_EXPORTS = {
    "RULES": "bench.report.claims",
    "evaluate_claims": "bench.report.claims",
    "Verdict": "bench.report.verdict",
    "CompareRow": "bench.report.compare",
    "Comparison": "bench.report.compare",
    "compare_results": "bench.report.compare",
    "compare_console": "bench.report.compare_render",
    "render_compare": "bench.report.compare_render",
    "console_summary": "bench.report.console",
    "render_report": "bench.report.render",
}
__all__ = ["RULES", "CompareRow", "Comparison", "Verdict", "compare_console", "compare_results", "console_summary",
           "evaluate_claims", "render_compare", "render_report"]


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'bench.report' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
