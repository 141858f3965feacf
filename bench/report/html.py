"""report.html: one self-contained file (inline CSS, charts as base64 PNG, no scripts, nothing fetched
from a URL), laid out like report.md. Also the page and table helpers `bench compare` uses."""

from __future__ import annotations

import base64
import html
import json
import re
from collections.abc import Sequence

from bench.report.document import ReportDoc
from bench.results.stats import INTERVAL_NOTE

CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2rem auto;max-width:1180px;
 padding:0 1rem;color:#1b1b1b}
h1{font-size:1.6rem}h2{margin-top:2.2rem;border-bottom:1px solid #ddd;padding-bottom:.2rem}h3{font-size:1.05rem}
table{border-collapse:collapse;margin:.6rem 0;width:100%}th,td{border:1px solid #d8d8d8;padding:.35rem .5rem;
 vertical-align:top;text-align:left}th{background:#f3f3f3}tr:nth-child(even) td{background:#fafafa}
code{background:#f1f1f1;padding:0 .2rem;border-radius:3px;font-size:.92em}
pre{background:#f6f6f6;padding:.7rem;overflow:auto;font-size:12px}
.badge{display:inline-block;padding:.1rem .45rem;border-radius:.6rem;font-weight:600}
.s-reproduced{background:#d9f2dd;color:#11562a}.s-partial{background:#fff1c9;color:#6b4e00}
.s-not-reproduced{background:#fbdada;color:#7a1414}.s-not-measured{background:#e6e6e6;color:#444}
.s-pass{background:#d9f2dd;color:#11562a}.s-fail{background:#fbdada;color:#7a1414}
.verdict{white-space:normal}figure{margin:1.2rem 0}figure img{max-width:100%;border:1px solid #e3e3e3}
figcaption{color:#555;font-size:.92em}.rule{color:#444;font-size:.92em}.muted{color:#666}
table.claims td:nth-child(1){width:3%}table.claims td:nth-child(2){width:20%}table.claims td:nth-child(3){width:32%}
table.claims td:nth-child(4){width:17%}table.claims td:nth-child(5){width:28%}
"""

_CODE = re.compile(r"`([^`]+)`")
_BOLD = re.compile(r"\*\*([^*]+)\*\*")


def inline(text: object) -> str:
    """Escape, then render the two markdown marks our texts use: `code` and **bold**."""
    s = html.escape(str(text))
    s = _CODE.sub(r"<code>\1</code>", s)
    return _BOLD.sub(r"<strong>\1</strong>", s)


def table(header: Sequence[str], rows: Sequence[Sequence[object]], raw_columns: Sequence[int] = (),
          css_class: str = "") -> str:
    """`raw_columns`: indexes whose cells are already HTML (badges)."""
    head = "".join(f"<th>{inline(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{c if i in raw_columns else inline(c)}</td>" for i, c in enumerate(row))
                   + "</tr>" for row in rows)
    cls = f' class="{css_class}"' if css_class else ""
    return f"<table{cls}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def page(title: str, body: str) -> str:
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{html.escape(title)}</title><style>{CSS}</style></head>\n<body>\n{body}\n</body></html>\n")


def badge(status: str, text: str) -> str:
    return f'<span class="badge s-{status.replace(" ", "-")}">{inline(text)}</span>'


def image(png: bytes, alt: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return f'<img alt="{html.escape(alt, quote=True)}" src="data:image/png;base64,{data}">'


def _list(items: Sequence[str]) -> str:
    return "<ul>" + "".join(f"<li>{inline(i)}</li>" for i in items) + "</ul>"


def report_html(doc: ReportDoc) -> str:
    parts = [f"<h1>{inline(doc.title)}</h1>",
             '<p class="muted">' + " · ".join(f"{inline(k)}: {inline(v)}" for k, v in doc.facts[:5]) + "</p>"]
    rows = [[v.id, v.claim, v.measured, badge(v.status, v.verdict), f'<span class="rule">{inline(v.rule)}</span>']
            for v in doc.verdicts]
    parts += [f'<h2 id="{doc.section.lower()}">{doc.section}</h2>',
              table(["id", doc.section[:-1].lower(), f"measured ({INTERVAL_NOTE})", "verdict", "rule"], rows,
                    raw_columns=(3, 4), css_class="claims")]
    for v in doc.verdicts:
        parts.append(f'<h3 id="{v.id}">{v.id}: {badge(v.status, v.verdict)}</h3><p><em>{inline(v.claim)}</em></p>')
        if v.setup:
            parts.append(f"<p>Set-up: {inline(v.setup)}.</p>")
        parts.append(f"<p>Measured: {inline(v.measured)}.</p><p class=\"rule\">Rule: {inline(v.rule)}</p>")
        if v.details:
            parts.append(_list(v.details))
    parts.append('<h2 id="charts">Charts</h2>')
    for c in doc.charts:
        parts.append(f'<figure id="chart-{c.name}"><h3>{inline(c.title)}</h3>{image(c.png, c.title)}'
                     f"<figcaption>{inline(c.caption)}</figcaption></figure>")
    if doc.skipped:
        parts.append('<p class="muted">Charts skipped (their data is absent from results.json):</p>'
                     + _list([f"`{s.name}`: {s.reason}" for s in doc.skipped]))
    parts += _blocked(doc)
    if doc.faults is not None:
        f = doc.faults
        parts += ['<h2 id="faults">Faults: every request accounted for</h2>', f"<p>{inline(f.intro)}</p>",
                  table(f.header, f.rows), *([_list(f.notes)] if f.notes else [])]
    parts.append('<h2 id="warnings">Warnings</h2>')
    parts.append(("<p>Spread over repetitions above 10% of the median (treat these figures with care):</p>"
                  + _list(doc.stability)) if doc.stability
                 else "<p>No metric's spread over repetitions exceeded 10% of its median.</p>")
    if doc.problems:
        parts.append("<p>Run problems:</p>" + _list(doc.problems))
    parts += ['<h2 id="runs">Runs</h2>', table(doc.runs_header, doc.runs_rows),
              '<h2 id="appendix">Appendix: configuration and host</h2>', table(["fact", "value"], doc.facts)]
    for name, data in doc.appendix.items():
        text = html.escape(json.dumps(data, indent=2, sort_keys=True, default=str))
        parts.append(f"<h3>{html.escape(name)}</h3><pre>{text}</pre>")
    return page(doc.title, "\n".join(parts))


def _blocked(doc: ReportDoc) -> list[str]:
    """Which call blocked the event loop; nothing for results without the sampler's figures."""
    b = doc.blocked
    if b is None:
        return []
    parts = ['<h2 id="blocked">Blocked event loop: which call held it</h2>', f"<p>{inline(b.intro)}</p>",
             table(b.runs.header, b.runs.rows)]
    if doc.blocked_chart is not None:
        c = doc.blocked_chart
        parts.append(f'<figure id="chart-{c.name}"><h3>{inline(c.title)}</h3>{image(c.png, c.title)}'
                     f"<figcaption>{inline(c.caption)}</figcaption></figure>")
    if b.sites.rows:
        parts += ["<h3>Call sites</h3>", table(b.sites.header, b.sites.rows)]
    if b.blocks.rows:
        parts += ["<h3>Requests in flight during the longest blocks</h3>", table(b.blocks.header, b.blocks.rows)]
    return [*parts, _list(b.notes)]
