"""The gate of a user's app (`bench gate --app`): its baseline is the concerns' verdicts (bench/report/concerns, given
here as plain dicts: the gate does not import the report) and the call sites that blocked the event loop. A
regression is a concern that fails now and did not in the baseline, or a blocking call site the baseline did not
have (a new blocking call, even in an app whose event-loop concern already failed). Verdicts, not timings: each
concern's own rule draws its line, so the gate adds no threshold of its own."""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.errors import SetupError

KIND = "bench-app-gate-baseline"
SCHEMA_VERSION = 1
DEFAULT_PATH = Path("bench-baseline.json")  # in the user's repository, beside their app


@dataclass(frozen=True)
class Decision:
    id: str  # a concern id, or "blocking-call" for a site
    before: str  # the baseline's status ("pass", "fail", "not measured", or "absent")
    now: str
    measured: str
    regressed: bool
    note: str = ""


def site_key(site: dict[str, Any]) -> str:
    """A blocking call site without its line number: an edit above it must not make it new."""
    return f"{site.get('file') or '?'} {site.get('function') or site.get('site')}"


def build_baseline(*, app: str, verdicts: dict[str, dict[str, Any]], sites: list[str], results: dict[str, Any],
                   source: str) -> dict[str, Any]:
    return {
        "kind": KIND, "schema_version": SCHEMA_VERSION, "app": app,
        "created_utc": datetime.now(UTC).isoformat(timespec="seconds"), "source": source,
        "target": results.get("target") or {}, "repeat": (results.get("config") or {}).get("repeat"),
        "host": results.get("host") or {},
        "concerns": {cid: {"status": v["status"], "verdict": v["verdict"], "measured": v["measured"]}
                     for cid, v in verdicts.items()},
        "blocking_sites": sorted(set(sites)),
    }


def write_baseline(data: dict[str, Any], path: str | Path) -> Path:
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    except OSError as exc:
        raise SetupError(f"cannot write the baseline {path}: {exc.strerror or exc}") from None
    return path


def load_baseline(path: str | Path, app: str) -> dict[str, Any]:
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SetupError(f"no baseline at {path}: create one with `bench gate --app {app} --update-baseline` "
                         "(a missing baseline is an error, never a pass)") from None
    except (OSError, ValueError) as exc:
        raise SetupError(f"baseline {path}: cannot read it ({exc})") from None
    if not isinstance(data, dict) or data.get("kind") != KIND:
        raise SetupError(f"baseline {path}: not a baseline of a user's app (expected \"kind\": \"{KIND}\"); "
                         "make one with --update-baseline")
    if data.get("schema_version") != SCHEMA_VERSION:
        raise SetupError(f"baseline {path}: schema_version {data.get('schema_version')!r}; this bench reads "
                         f"{SCHEMA_VERSION}")
    if data.get("app") != app:
        raise SetupError(f"baseline {path} is for {data.get('app')!r}, not {app!r}")
    return data


def compare(baseline: dict[str, Any], verdicts: dict[str, dict[str, Any]], sites: list[str]) -> list[Decision]:
    before = baseline.get("concerns") or {}
    out = []
    for cid, v in verdicts.items():
        was = str((before.get(cid) or {}).get("status") or "absent")
        now = str(v["status"])
        regressed = now == "fail" and was != "fail"
        note = ""
        if was == "fail" and now == "pass":
            note = "fixed since the baseline: update it with --update-baseline"
        elif was == "fail" and now == "fail":
            note = "failed in the baseline too: known, not a regression"
        elif was == "pass" and now == "not measured":
            note = "measured in the baseline, not now"
        out.append(Decision(cid, was, now, str(v["measured"]), regressed, note))
    known = set(baseline.get("blocking_sites") or [])
    for site in sorted(set(sites) - known):
        out.append(Decision("blocking-call", "absent", "fail", f"new call blocking the event loop: {site}", True))
    return out


def headline(decisions: list[Decision]) -> str:
    bad = [d for d in decisions if d.regressed]
    if not bad:
        return f"PASS: no concern regressed ({len(decisions)} checked)"
    return "FAIL: " + "; ".join(f"{d.id} {d.before} -> {d.now}" for d in bad)


def text_table(decisions: list[Decision]) -> str:
    rows = [("check", "baseline", "now", "", "measured now")]
    rows += [(d.id, d.before, d.now, "REGRESSED" if d.regressed else "ok", d.measured + (f" ({d.note})"
                                                                                         if d.note else ""))
             for d in decisions]
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r[:4], widths, strict=True)) + "  " + r[4] for r in rows)


def markdown(decisions: list[Decision], *, app: str, baseline_path: str, results_path: str) -> str:
    lines = [f"## bench gate --app {app}: {'FAIL' if any(d.regressed for d in decisions) else 'PASS'}", "",
             headline(decisions), "", "| check | baseline | now | measured now |", "|---|---|---|---|"]
    lines += [f"| {d.id} | {d.before} | {'**' + d.now + '**' if d.regressed else d.now} | "
              f"{(d.measured + (f' ({d.note})' if d.note else '')).replace('|', '/')} |" for d in decisions]
    lines += ["", f"- Baseline: `{baseline_path}`; results: `{results_path}`",
              "- A regression is a concern failing now that did not fail in the baseline, or a call site blocking the "
              "event loop that the baseline did not have."]
    return "\n".join(lines) + "\n"


def junit(decisions: list[Decision], *, elapsed_s: float = 0.0) -> str:
    failures = [d for d in decisions if d.regressed]
    suite = ET.Element("testsuite", name="bench-gate-app", tests=str(len(decisions)), failures=str(len(failures)),
                       errors="0", skipped="0", time=f"{elapsed_s:.3f}")
    for d in decisions:
        case = ET.SubElement(suite, "testcase", classname="bench-gate-app", name=d.id, time="0")
        if d.regressed:
            ET.SubElement(case, "failure", message=f"{d.id}: {d.before} -> {d.now}", type="regression").text = \
                d.measured
        else:
            ET.SubElement(case, "system-out").text = f"{d.before} -> {d.now}: {d.measured}"
    root = ET.Element("testsuites", name="bench-gate-app", tests=str(len(decisions)), failures=str(len(failures)))
    root.append(suite)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def write_outputs(decisions: list[Decision], out: Path, *, app: str, baseline_path: str, results_path: str,
                  markdown_path: str | None, junit_path: str | None, elapsed_s: float) -> list[Path]:
    text = markdown(decisions, app=app, baseline_path=baseline_path, results_path=results_path)
    written = []
    try:
        for path, body in ((Path(markdown_path or out / "gate.md"), text),
                           (Path(junit_path or out / "gate-junit.xml"), junit(decisions, elapsed_s=elapsed_s))):
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(body, encoding="utf-8")
            written.append(path)
        summary = os.environ.get("GITHUB_STEP_SUMMARY")
        if summary:
            with open(summary, "a", encoding="utf-8") as fh:
                fh.write(text + "\n")
            written.append(Path(summary))
    except OSError as exc:
        raise SetupError(f"cannot write the gate's reports: {exc.filename or ''} {exc.strerror or exc}") from None
    return written
