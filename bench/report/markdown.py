"""report.md: the claims table first, then each claim's details, the charts (PNG files beside it),
warnings and the appendix. Also the table helper `bench compare` uses."""

from __future__ import annotations

import json
from collections.abc import Sequence

from bench.report.document import ReportDoc
from bench.results.stats import INTERVAL_NOTE


def cell(text: object) -> str:
    """One table cell: pipes escaped, line breaks flattened (a cell cannot span lines in markdown)."""
    return str(text).replace("|", "\\|").replace("\n", " ").strip()


def table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    lines = ["| " + " | ".join(cell(h) for h in header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def bullets(items: Sequence[str]) -> str:
    return "\n".join(f"- {item}" for item in items)


def report_markdown(doc: ReportDoc) -> str:
    out = [f"# {doc.title}", ""]
    out += [" · ".join(f"{k}: {v}" for k, v in doc.facts[:5]), ""]
    out += [f"## {doc.section}", "",
            table(["id", doc.section[:-1].lower(), f"measured ({INTERVAL_NOTE})", "verdict", "rule"],
                  [[v.id, v.claim, v.measured, f"**{v.verdict}**", v.rule] for v in doc.verdicts]), ""]
    for v in doc.verdicts:
        out += [f"### {v.id}: {v.verdict}", "", f"*{v.claim}*", ""]
        if v.setup:
            out += [f"Set-up: {v.setup}.", ""]
        out += [f"Measured: {v.measured}.", "", f"Rule: {v.rule}", ""]
        if v.details:
            out += [bullets(v.details), ""]
    out += ["## Charts", ""]
    for c in doc.charts:
        out += [f"### {c.title}", "", f"![{c.title}]({c.filename})", "", c.caption, ""]
    if doc.skipped:
        out += ["Charts skipped (their data is absent from results.json):", "",
                bullets([f"`{s.name}`: {s.reason}" for s in doc.skipped]), ""]
    out += _blocked(doc)
    if doc.faults is not None:
        f = doc.faults
        out += ["## Faults: every request accounted for", "", f.intro, "", table(f.header, f.rows), ""]
        out += [bullets(f.notes), ""] if f.notes else []
    out += ["## Warnings", ""]
    if doc.stability:
        out += ["Spread over repetitions above 10% of the median (treat these figures with care):", "",
                bullets(doc.stability), ""]
    else:
        out += ["No metric's spread over repetitions exceeded 10% of its median.", ""]
    if doc.problems:
        out += ["Run problems:", "", bullets(doc.problems), ""]
    out += ["## Runs", "", table(doc.runs_header, doc.runs_rows), ""]
    out += ["## Appendix: configuration and host", "", table(["fact", "value"], doc.facts), ""]
    for name, data in doc.appendix.items():
        out += [f"### {name}", "", "```json", json.dumps(data, indent=2, sort_keys=True, default=str), "```", ""]
    return "\n".join(out).rstrip() + "\n"


def _blocked(doc: ReportDoc) -> list[str]:
    """Which call blocked the event loop; nothing for results without the sampler's figures."""
    b = doc.blocked
    if b is None:
        return []
    out = ["## Blocked event loop: which call held it", "", b.intro, "", table(b.runs.header, b.runs.rows), ""]
    if doc.blocked_chart is not None:
        c = doc.blocked_chart
        out += [f"### {c.title}", "", f"![{c.title}]({c.filename})", "", c.caption, ""]
    if b.sites.rows:
        out += ["### Call sites", "", table(b.sites.header, b.sites.rows), ""]
    if b.blocks.rows:
        out += ["### Requests in flight during the longest blocks", "", table(b.blocks.header, b.blocks.rows), ""]
    return [*out, bullets(b.notes), ""]
