"""Everything a report shows, computed once from results.json: verdicts, charts as PNG bytes, warnings,
the runs table and the appendix. The markdown, HTML and console renderers only lay it out."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from bench.report.blocked import BlockedSection, blocked_section
from bench.report.chartkit import Colors
from bench.report.charts import Skipped, build_charts
from bench.report.claims import backend_label, evaluate_claims
from bench.report.clocks import clock_facts
from bench.report.concerns import evaluate_concerns, is_user_app
from bench.report.faults import FaultsSection, faults_section
from bench.report.metrics import METRICS, grouped, series
from bench.report.pngs import png_all
from bench.report.stability import run_problems, stability_warnings
from bench.report.verdict import Verdict
from bench.results import runs as R
from bench.results.stats import bootstrap


@dataclass(frozen=True)
class RenderedChart:
    name: str
    title: str
    caption: str
    png: bytes

    @property
    def filename(self) -> str:
        return f"charts/{self.name}.png"


@dataclass(frozen=True)
class ReportDoc:
    title: str
    facts: list[tuple[str, str]]
    verdicts: list[Verdict]
    charts: list[RenderedChart]
    skipped: list[Skipped]
    stability: list[str]
    problems: list[str]
    runs_header: list[str]
    runs_rows: list[list[str]]
    appendix: dict[str, Any] = field(default_factory=dict)
    blocked: BlockedSection | None = None  # only when a run has blocked-loop figures
    blocked_chart: RenderedChart | None = None
    section: str = "Claims"  # "Concerns": a user's app (`bench run --app`), diagnosed instead of the claims
    faults: FaultsSection | None = None  # only when a run has a fault accounting (the `faults` scenario)

    @property
    def all_charts(self) -> list[RenderedChart]:
        return [*self.charts, *([self.blocked_chart] if self.blocked_chart else [])]


_RUN_COLUMNS = ("makespan", "latency p95", "errors", "constructions", "rss peak", "loop lag max")


def _runs_table(results: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    metrics = {m.name: m for m in METRICS}
    header = ["scenario", "variant", "set-up", "reps", *(f"{c} ({metrics[c].unit})" for c in _RUN_COLUMNS)]
    rows: list[list[str]] = []
    for (scenario, variant, setup), runs in grouped(results).items():
        cells = []
        for name in _RUN_COLUMNS:
            est = bootstrap(series(runs, metrics[name]))
            cells.append(est.fmt() if est.n else "")
        rows.append([scenario, variant, setup, str(len(runs)), *cells])
    return header, rows


def _facts(results: dict[str, Any]) -> list[tuple[str, str]]:
    host = results.get("host") or {}
    tool = results.get("tool") or {}
    return [
        ("label", str(results.get("label") or "")),
        ("run created (UTC)", str(results.get("created_utc") or "unknown")),
        ("profile", R.profile_of(results)),
        ("repetitions", R.repetitions_label(results)),
        ("backend", _backend_fact(results)),
        *_usage_fact(results),
        ("host", f"{host.get('cpu_model', '?')}, {host.get('logical_cores', '?')} logical cores, "
                 f"{host.get('memory_gib', '?')} GiB, Python {host.get('python', '?')}"),
        ("tool", f"{tool.get('name', '?')} {tool.get('version', '?')}, schema {results.get('schema_version')}"),
        ("complete", "no: partial results" if results.get("partial") else "yes"),
        *clock_facts(results),  # with Locust workers: their offsets to the master's clock
    ]


def _backend_fact(results: dict[str, Any]) -> str:
    """What the upstream was and what that means for the verdicts (never the API key: results hold none)."""
    b = results.get("backend") or {}
    kind = str(b.get("kind") or "?")
    probe = _probe_fact(R.get(results, "probes.backend") or {})
    if kind == "mock":
        return "the embedded mock OpenAI backend (latency and rate limits set per scenario)" + probe
    text = backend_label(results) + probe
    url = b.get("base_url")
    if url:
        text += f" at {url}"
    if b.get("serializes"):
        text += ("; it serves one request at a time, so no client-side design can overlap requests against it "
                 "(C4 is reported, not judged)")
    return text


def _probe_fact(p: dict[str, Any]) -> str:
    """The backend probe in one clause: L alone, N at once, K, the ideal it gives C4, the mock's self-check."""
    if not p.get("latency_s"):
        return ""
    text = (f"; probed ({p.get('target') or 'the backend'}): one request alone {p['latency_s'] * 1000:.4g} ms, "
            f"{p.get('n')} at once {p.get('burst_makespan_s', 0):.3g} s, K = {p.get('overlap') or 0:.3g} overlapped, "
            f"ideal sync / async {p.get('ideal_ratio') or 0:.3g}x")
    if p.get("errors"):
        text += f", errors {p['errors']}"
    check = p.get("self_check")
    if isinstance(check, dict):
        text += (f" (self-check: {'ok' if check.get('ok') else 'FAILED'}, configured "
                 f"{float(check.get('configured_latency_s') or 0) * 1000:g} ms)")
    return text


def _target_facts(results: dict[str, Any]) -> list[tuple[str, str]]:
    """A user's app: what ran and how it was called."""
    if not is_user_app(results):
        return []
    t = results["target"]
    req = t.get("request") or {}
    watch = ", ".join(f"`{w}`" for w in t.get("watch") or []) or "nothing (give --watch MODULE:CLASS)"
    return [("app", f"`{t.get('app')}`" + (" (factory)" if t.get("factory") else "")
             + f", {t.get('workers', 1)} worker(s)"),
            ("request", f"{req.get('method')} {req.get('path')} {json.dumps(req.get('body'))}"
                        + (" (from its OpenAPI schema)" if req.get("source") == "openapi" else "")),
            ("watched", watch)]


def _usage_fact(results: dict[str, Any]) -> list[tuple[str, str]]:
    cost = results.get("cost") or {}
    actual, estimate = cost.get("actual") or {}, cost.get("estimate") or {}
    if not actual and not estimate:
        return []
    parts = []
    if actual:
        parts.append(f"used {actual.get('input_tokens', '?')} input + {actual.get('output_tokens', '?')} output "
                     f"tokens in {actual.get('calls', '?')} calls" + (f", about ${actual['usd']:.4f}"
                                                                      if actual.get("usd") is not None else ""))
    if estimate:
        parts.append(f"estimated beforehand: {estimate.get('calls', '?')} calls" +
                     (f", ${estimate['usd']:.4f}" if estimate.get("usd") is not None else ""))
    return [("upstream usage", "; ".join(parts))]


def build_document(results: dict[str, Any]) -> ReportDoc:
    charts, skipped = build_charts(results)
    header, rows = _runs_table(results)
    blocked = blocked_section(results, Colors(R.variant_names(results.get("runs", []))))
    chart = blocked.chart if blocked else None
    pngs = png_all([c.figure for c in charts] + ([chart.figure] if chart else []))
    rendered = [RenderedChart(c.name, c.title, c.caption, png)
                for c, png in zip(charts, pngs[:len(charts)], strict=True)]
    return ReportDoc(
        title=(f"Concurrency diagnosis: {R.get(results, 'target.app')}" if is_user_app(results)
               else f"LLM concurrency benchmark: {results.get('label') or 'run'}"),
        facts=[*_target_facts(results), *_facts(results)],
        verdicts=evaluate_concerns(results) if is_user_app(results) else evaluate_claims(results),
        section="Concerns" if is_user_app(results) else "Claims",
        charts=rendered,
        skipped=skipped,
        stability=stability_warnings(results),
        problems=run_problems(results),
        runs_header=header,
        runs_rows=rows,
        appendix={"config": results.get("config") or {}, "backend": results.get("backend") or {},
                  "host": results.get("host") or {}, "static": results.get("static") or {},
                  "probes": results.get("probes") or {},
                  **({"target": results["target"]} if is_user_app(results) else {})},
        blocked=blocked,
        blocked_chart=RenderedChart(chart.name, chart.title, chart.caption, pngs[-1]) if chart else None,
        faults=faults_section(results),
    )
