"""The gate's verdict as Markdown: the file CI keeps and what is appended to `$GITHUB_STEP_SUMMARY`."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from bench.gate.baseline import Baseline
from bench.gate.compare import GateResult
from bench.gate.table import HEADER, headline, row


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _host(host: dict[str, Any]) -> str:
    return (f"{host.get('cpu_model', '?')}, {host.get('logical_cores', '?')} cores, Python {host.get('python', '?')}"
            f", commit {str(host.get('git_commit') or '?')[:12]}")


def gate_markdown(result: GateResult, baseline: Baseline, *, run_host: dict[str, Any] | None = None,
                  results_path: str = "", knobs: dict[str, str] | None = None) -> str:
    lines = [f"## bench gate: {'PASS' if result.passed else 'FAIL'}", "", headline(result.decisions), ""]
    lines += ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    lines += ["| " + " | ".join(_cell(c) for c in row(d)) + " |" for d in result.decisions]
    notes = [f"- **{d.id}**: {d.note}" for d in result.decisions if d.note]
    if notes:
        lines += ["", *notes]
    lines += ["", "Figures are medians over repetitions [95% bootstrap CI; min..max under 5]. A ratio or rate is a "
              "regression only when its median moves past the threshold in the bad direction and a one-sided "
              "Mann-Whitney U test (or, with too few repetitions for it, non-overlapping intervals) says the move is "
              "real; an invariant fails on any repetition off.", ""]
    lines.append(f"- Baseline: `{baseline.path}` ({baseline.created_utc}, {baseline.repeat} repetitions) on "
                 f"{_host(baseline.host)}")
    if run_host:
        lines.append(f"- This run: {_host(run_host)}" + (f"; results `{results_path}`" if results_path else ""))
    if knobs:
        lines.append("- Regression knobs set: " + ", ".join(f"`{k}={v}`" for k, v in sorted(knobs.items())))
    return "\n".join(lines) + "\n"


def write_markdown(text: str, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def append_step_summary(text: str) -> Path | None:
    """GitHub Actions renders whatever a step appends to this file on the run's summary page."""
    target = os.environ.get("GITHUB_STEP_SUMMARY", "").strip()
    if not target:
        return None
    with open(target, "a", encoding="utf-8") as fh:
        fh.write(text + "\n")
    return Path(target)
