"""The gate's table (metric, baseline, now, change, threshold, significant?, verdict) as rows of text, shared
by the console, the Markdown summary and the JUnit messages."""

from __future__ import annotations

import math

from bench.gate.compare import IMPROVED, PASS, Decision
from bench.results.stats import Estimate, num

HEADER = ("metric", "baseline", "now", "change", "threshold", "significant?", "verdict")


def value(est: Estimate, unit: str, kind: str) -> str:
    if est.n == 0 or math.isnan(est.median):
        return "n/a"
    if kind == "rate":
        text = f"{est.median:.1%}"
        return text if est.n < 2 or est.low == est.high else f"{text} [{est.low:.1%}, {est.high:.1%}]"
    text = f"{num(est.median)}{unit}"
    if kind == "exact" or est.n < 2 or est.low == est.high:
        return text
    return f"{text} [{num(est.low)}, {num(est.high)}]"


def change(d: Decision) -> str:
    if math.isnan(d.change):
        return "n/a"
    if d.spec.kind == "ratio":
        return "inf" if math.isinf(d.change) else f"{d.change:+.1%}"
    if d.spec.kind == "rate":
        return f"{d.change * 100:+.1f} pt"
    if d.spec.direction != "equal":
        return "within the line" if d.change == 0 else f"past it by {d.change:.3g}{d.unit}"
    return "none" if d.change == 0 else f"off by {d.change:g}"


def threshold(d: Decision) -> str:
    s = d.spec
    if s.kind == "exact":
        sign = {"lower": "<=", "higher": ">="}.get(s.direction, "=")
        return f"{sign} {s.expected:g}{d.unit if sign != '=' else ''} every rep"
    if s.kind == "rate":
        return f"{'+' if s.direction == 'lower' else '-'}{s.threshold * 100:g} pt"
    arrow = "slower/larger" if s.direction == "lower" else "smaller"
    return f"x{1 + s.threshold:.2f} {arrow}"


def significant(d: Decision) -> str:
    sig = d.sig
    if sig is None:
        return "n/a"
    if sig.method == "exact":
        return "invariant"
    if sig.significant is None:
        return "n/a (too few reps)"
    word = "yes" if sig.significant else "no"
    if sig.p_value is not None:
        return f"{word} (U p={sig.p_value:.2g}{', 1-sided' if sig.note == 'one-sided' else ''})"
    if sig.method == "bootstrap-ci":
        return f"{word} ({'CIs apart' if sig.significant else 'CIs overlap'})"
    return f"{word} ({sig.method})"


def verdict(d: Decision) -> str:
    if d.spec.report_only:
        return "report-only" if d.verdict == PASS else f"report-only (would be {d.verdict})"
    return d.verdict


def row(d: Decision) -> tuple[str, ...]:
    return (d.id, value(d.base, d.unit, d.spec.kind), value(d.now, d.unit, d.spec.kind), change(d), threshold(d),
            significant(d), verdict(d))


def text_table(decisions: list[Decision]) -> str:
    rows = [HEADER, *(row(d) for d in decisions)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(HEADER))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def headline(decisions: list[Decision]) -> str:
    failing = [d for d in decisions if d.fails]
    if failing:
        names = ", ".join(f"{d.id} ({d.verdict.lower()}: {change(d)})" for d in failing)
        return f"FAIL: {len(failing)} gated metric(s) regressed: {names}"
    gated = [d for d in decisions if not d.spec.report_only]
    better = [d.id for d in gated if d.verdict == IMPROVED]
    extra = f"; improved: {', '.join(better)}" if better else ""
    return f"PASS: {len(gated)} gated metric(s) within their thresholds{extra}"
