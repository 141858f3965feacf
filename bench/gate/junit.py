"""JUnit XML for CI test reporters: one test case per gated metric; a regression or a metric with no data is
a failure, a report-only metric passes with its figures in system-out."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from bench.gate.compare import GateResult
from bench.gate.table import change, significant, threshold, value

SUITE = "bench-gate"


def junit_xml(result: GateResult, *, elapsed_s: float = 0.0) -> str:
    cases = result.decisions
    suite = ET.Element("testsuite", name=SUITE, tests=str(len(cases)), failures=str(len(result.failures)),
                       errors="0", skipped="0", time=f"{elapsed_s:.3f}")
    for d in cases:
        case = ET.SubElement(suite, "testcase", classname=f"{SUITE}.{d.id.split('.')[0]}", name=d.id, time="0")
        figures = (f"{d.title}: baseline {value(d.base, d.unit, d.spec.kind)}, now {value(d.now, d.unit, d.spec.kind)}"
                   f", change {change(d)}, threshold {threshold(d)}, significant: {significant(d)}"
                   + (f"; {d.note}" if d.note else ""))
        if d.fails:
            failure = ET.SubElement(case, "failure", message=f"{d.id}: {d.verdict} ({change(d)})",
                                    type=d.verdict.replace(" ", "-"))
            failure.text = figures
        else:
            out = ET.SubElement(case, "system-out")
            out.text = ("report-only; " if d.spec.report_only else "") + f"{d.verdict}. {figures}"
    root = ET.Element("testsuites", name=SUITE, tests=str(len(cases)), failures=str(len(result.failures)))
    root.append(suite)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def write_junit(result: GateResult, path: str | Path, *, elapsed_s: float = 0.0) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(junit_xml(result, elapsed_s=elapsed_s), encoding="utf-8")
    return path
