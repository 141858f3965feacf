"""The report's fault matrix: per upstream fault kind and variant, the share of requests accounted for (or the exact
shortfall), the statuses users saw, the upstream's attempts as first tries + the SDK's retries, and the longest
request against the retry budget's bound (results' `run.faults`, bench/run/fault_accounting.py). None when no run
has the figures, so other reports render exactly as before."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bench.report.console import text_table

HEADER = ["fault", "variant", "accounted", "statuses users saw", "upstream tries", "longest / bound", "verdict"]
INTRO = ("Each upstream fault the mock injects, driven through the app by a short steady load: every request must "
         "end as exactly one answer, 200 when a try got through, else the app's 502 / 503 / 504 naming the cause, "
         "never a bare 500 and never longer than the retry budget (tries x the client timeout, the SDK's backoff, "
         "and a margin). Upstream tries are first tries + the SDK's retries, as the mock counted them.")


@dataclass(frozen=True)
class FaultsSection:
    intro: str
    header: list[str]
    rows: list[list[str]]
    notes: list[str]


def _sum_dicts(dicts: list[dict[str, int] | None]) -> dict[str, int]:
    out: dict[str, int] = {}
    for d in dicts:
        for k, v in (d or {}).items():
            out[k] = out.get(k, 0) + int(v)
    return dict(sorted(out.items()))


def _row(kind: str, variant: str, entries: list[dict[str, Any]]) -> tuple[list[str], list[str]]:
    sent = sum(int(f["sent"]) for f in entries)
    accounted = sum(int(f["accounted"]) for f in entries)
    statuses = _sum_dicts([f.get("statuses") for f in entries])
    types = _sum_dicts([f.get("error_types") for f in entries])
    seen = ", ".join(f"{n} x {s}" for s, n in statuses.items()) or "none"
    if types:
        seen += " (" + ", ".join(f"{t} {n}" for t, n in types.items()) + ")"
    ups = [f["upstream"] for f in entries if f.get("upstream")]
    tries = (f"{sum(u['attempts'] for u in ups)} = {sum(u['first_tries'] for u in ups)} + "
             f"{sum(u['retries'] for u in ups)} retries; fired {sum(u['fired'] for u in ups)}") if ups else "n/a"
    longest = max((float(f["latency_max_ms"]) for f in entries if f.get("latency_max_ms") is not None), default=None)
    bound = max(float(f["bound_ms"]) for f in entries)
    over = sum(int(f["over_bound"]) for f in entries)
    timing = f"{longest / 1000:.1f} s / {bound / 1000:.1f} s" if longest is not None else "n/a"
    if over:
        timing += f" ({over} over)"
    pct = f"{100.0 * accounted / sent:.0f}%" if sent and accounted == sent else (
        f"{100.0 * accounted / sent:.1f}% (short {sent - accounted})" if sent else "n/a")
    shortfall = [f"{kind} on {variant}: {line}" for f in entries for line in f.get("shortfall", [])]
    notes = [f"{kind} on {variant}: {line}" for f in entries for line in f.get("notes", [])]
    unfired = len(ups) < len(entries) or any(u["fired"] == 0 for u in ups)
    verdict = ("short" if shortfall else "over the bound" if over else "not fired" if unfired else "ok")
    return [kind, variant, f"{pct} of {sent}", seen, tries, timing, verdict], shortfall + notes


def faults_section(results: dict[str, Any]) -> FaultsSection | None:
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for run in results.get("runs", []):
        if isinstance(run.get("faults"), dict):
            groups.setdefault((run["faults"]["kind"], run["variant"]), []).append(run["faults"])
    if not groups:
        return None
    rows, notes = [], []
    for (kind, variant), entries in groups.items():  # in run order: the plan's kinds, then its variants
        row, lines = _row(kind, variant, entries)
        rows.append(row)
        notes += lines
    return FaultsSection(INTRO, HEADER, rows, notes)


def faults_text(section: FaultsSection) -> str:
    """The fault matrix for the terminal (`bench run` prints it after the claims)."""
    table = text_table(section.header, section.rows, [10, 13, 12, 28, 28, 24, 12])
    return "\n".join(["Faults: every request accounted for?", "", table,
                      *(["", *(f"- {n}" for n in section.notes)] if section.notes else [])])
