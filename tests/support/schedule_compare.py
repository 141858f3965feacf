"""The overlapping schedule against round 1's serial one, side by side: same verdicts, overlapping figures?

    python -m tests.support.schedule_compare [--profile quick] [--pairs 3] [--out DIR] [-- EXTRA BENCH RUN FLAGS]

A benchmark, not a test: `bench run --profile P --schedule serial` and `--schedule overlap` alternate, pair after
pair (which goes first alternates too), so that machine noise falls on both; each is a whole command (start-up and
report included) timed by its wall clock and its children's CPU time. Then every run's results.json is judged
(bench.report.claims) and the script prints, per claim, each run's verdict under each schedule; per figure behind
the verdicts (`Verdict.numbers`, flattened) the median and range over each schedule's runs and whether the two
ranges overlap (required of the ratios the verdicts rest on, RATIOS); C4's per-run ratio intervals pair by pair;
and each schedule's stage timings (results.json `timings`). Exit 0 when every verdict is the same in every run and
every ratio's ranges overlap, 1 otherwise. With fewer than 5 runs a schedule's spread is a range, and said so.
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.report.claims import evaluate_claims
from bench.results.schema import load_results

SCHEDULES = ("serial", "overlap")
# The ratios the verdicts rest on: their ranges over each schedule's runs must overlap (the other figures are
# printed too, for reading, but a count that differs by one between two runs fails nothing).
RATIOS = ("C4.ratio", "C4.ratio_limited", "C5.shared.agent", "C5.shared.rss", "C6.reduction", "C7.aggregate_rps")


def _cpu_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_once(profile: str, schedule: str, out: Path, extra: list[str]) -> dict[str, Any]:
    """One whole `bench run`: its wall and CPU seconds, exit code and output directory."""
    cpu0, t0 = _cpu_children(), time.perf_counter()
    log = out.with_suffix(".log")
    with open(log, "wb") as fh:
        code = subprocess.call([sys.executable, "-m", "bench", "run", "--profile", profile, "--schedule", schedule,
                                "--out", str(out), *extra], stdout=fh, stderr=subprocess.STDOUT,
                               stdin=subprocess.DEVNULL)
    return {"schedule": schedule, "out": str(out), "exit_code": code, "wall_s": round(time.perf_counter() - t0, 2),
            "cpu_s": round(_cpu_children() - cpu0, 2), "log": str(log)}


def flatten(prefix: str, value: Any) -> dict[str, float]:
    """Numeric leaves of a verdict's numbers, by dotted path (lists by index); booleans as 0/1."""
    out: dict[str, float] = {}
    if isinstance(value, bool):
        out[prefix] = float(value)
    elif isinstance(value, int | float):
        if math.isfinite(float(value)):
            out[prefix] = float(value)
    elif isinstance(value, dict):
        for k, v in value.items():
            out.update(flatten(f"{prefix}.{k}", v))
    elif isinstance(value, list | tuple):
        for i, v in enumerate(value):
            out.update(flatten(f"{prefix}[{i}]", v))
    return out


def judge(results_path: Path) -> dict[str, dict[str, Any]]:
    results = load_results(results_path)
    return {v.id: {"status": v.status, "verdict": v.verdict, "numbers": flatten(v.id, v.numbers)}
            for v in evaluate_claims(results)}


def _span(values: list[float]) -> tuple[float, float, float]:
    return statistics.median(values), min(values), max(values)


def compare(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Verdicts and figures of every run, grouped by schedule."""
    by: dict[str, list[dict[str, dict[str, Any]]]] = {s: [] for s in SCHEDULES}
    for r in runs:
        if r.get("judged"):
            by[r["schedule"]].append(r["judged"])
    claims = sorted({c for judged in by.values() for j in judged for c in j}, key=lambda c: int(c[1:]))
    verdicts, same = {}, True
    for c in claims:
        seen = {s: [j[c]["status"] for j in by[s] if c in j] for s in SCHEDULES}
        verdicts[c] = seen
        same &= len({st for sts in seen.values() for st in sts}) == 1
    figures, overlap = {}, True
    keys = sorted({k for judged in by.values() for j in judged for v in j.values() for k in v["numbers"]})
    for k in keys:
        claim = k.split(".")[0]
        vals = {s: [j[claim]["numbers"][k] for j in by[s] if k in j.get(claim, {}).get("numbers", {})]
                for s in SCHEDULES}
        if not all(vals.values()):
            continue
        spans = {s: _span(v) for s, v in vals.items()}
        ok = spans["serial"][1] <= spans["overlap"][2] and spans["overlap"][1] <= spans["serial"][2]
        figures[k] = {"spans": spans, "overlap": ok, "ratio": k in RATIOS}
        overlap &= ok or k not in RATIOS
    # C4's own per-run ratio intervals: does every overlap run's interval meet every serial run's?
    c4 = {s: [(j["C4"]["numbers"].get("C4.low"), j["C4"]["numbers"].get("C4.high")) for j in by[s] if "C4" in j]
          for s in SCHEDULES}
    c4_ok = all(a[0] <= b[1] and b[0] <= a[1] for a in c4["serial"] for b in c4["overlap"]
                if None not in a and None not in b)
    return {"verdicts": verdicts, "same_verdicts": same, "figures": figures, "figures_overlap": overlap,
            "c4_intervals": c4, "c4_intervals_overlap": c4_ok}


def _fmt(span: tuple[float, float, float]) -> str:
    return f"{span[0]:.4g} [{span[1]:.4g}, {span[2]:.4g}]"


def report(runs: list[dict[str, Any]], cmp: dict[str, Any]) -> str:
    lines = []
    for s in SCHEDULES:
        mine = [r for r in runs if r["schedule"] == s]
        walls, cpus = [r["wall_s"] for r in mine], [r["cpu_s"] for r in mine]
        word = "range" if len(mine) < 5 else "min..max"
        lines.append(f"{s:8s} wall {_fmt(_span(walls))} s, CPU {_fmt(_span(cpus))} s (median [{word}] of "
                     f"{len(mine)}); exit codes {[r['exit_code'] for r in mine]}")
        stages: dict[str, list[float]] = {}
        for r in mine:
            for name, v in (r.get("timings") or {}).get("stages", {}).items():
                stages.setdefault(name, []).append(v["s"])
        lines.append("         stages (work s, median): " + ", ".join(
            f"{n} {statistics.median(v):.1f}" for n, v in stages.items()))
    lines.append("")
    lines.append("verdicts (each run, serial | overlap):")
    for c, seen in cmp["verdicts"].items():
        lines.append(f"  {c:4s} {' '.join(seen['serial'])} | {' '.join(seen['overlap'])}")
    lines.append(f"every verdict the same: {cmp['same_verdicts']}")
    lines.append("")
    lines.append("figures behind the verdicts: median [min, max] over runs, serial vs overlap")
    for k, f in cmp["figures"].items():
        mark = "" if f["overlap"] else "   <- ranges do not overlap" + ("" if f["ratio"] else " (not a ratio)")
        lines.append(f"  {k:40s} {_fmt(f['spans']['serial']):>28s}  {_fmt(f['spans']['overlap']):>28s}{mark}")
    lines.append(f"every ratio's ranges overlap ({', '.join(RATIOS)}): {cmp['figures_overlap']}")
    lines.append(f"C4 per-run ratio intervals: serial {cmp['c4_intervals']['serial']}, overlap "
                 f"{cmp['c4_intervals']['overlap']}; all pairs overlap: {cmp['c4_intervals_overlap']}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", default="quick")
    parser.add_argument("--pairs", type=int, default=3, help="serial/overlap pairs, alternating (default 3)")
    parser.add_argument("--out", default="", help="directory for the runs (default a new one under /tmp)")
    parser.add_argument("extra", nargs="*", help="further `bench run` flags, after --")
    args = parser.parse_args(argv)
    if args.pairs < 1:
        parser.error("--pairs must be at least 1")
    out = Path(args.out or f"/tmp/schedule-compare-{time.strftime('%Y%m%dT%H%M%S')}")
    out.mkdir(parents=True, exist_ok=True)
    runs = []
    for i in range(args.pairs):
        # Alternate which schedule goes first in a pair, so a drift in machine load falls on both.
        for s in (SCHEDULES if i % 2 == 0 else SCHEDULES[::-1]):
            r = run_once(args.profile, s, out / f"{s}-{i}", args.extra)
            results = Path(r["out"]) / "results.json"
            if results.exists():
                r["judged"] = judge(results)
                r["timings"] = load_results(results).get("timings")
            print(f"{s} #{i}: exit {r['exit_code']}, {r['wall_s']} s wall, {r['cpu_s']} s CPU", file=sys.stderr)
            runs.append(r)
    cmp = compare(runs)
    text = report(runs, cmp)
    print(text)
    (out / "comparison.json").write_text(json.dumps({"runs": runs, "comparison": cmp}, indent=1, default=str),
                                         encoding="utf-8")
    (out / "comparison.txt").write_text(text + "\n", encoding="utf-8")
    return 0 if cmp["same_verdicts"] and cmp["figures_overlap"] and cmp["c4_intervals_overlap"] else 1


if __name__ == "__main__":
    sys.exit(main())
