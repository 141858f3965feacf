"""How often the gate cries wolf: run `bench gate` N times on unchanged code and count the exits that are not 0.
With `--inject KNOB=VALUE` the same loop counts how often an injected regression is caught instead.

    python -m bench.gate.false_alarms [--runs 10] [--baseline reports/baseline.json] [--inject APP_INJECT_...=V]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.gate.baseline import DEFAULT_PATH


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench.gate.false_alarms", description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=10, help="gate runs (default 10)")
    p.add_argument("--baseline", default=str(DEFAULT_PATH))
    p.add_argument("--inject", action="append", default=[], metavar="KNOB=VALUE",
                   help="set a regression knob in every run: count detections instead of false alarms")
    p.add_argument("--metrics", default="", help="passed to `bench gate --metrics`")
    p.add_argument("--out", default="", help="directory for every run's output and summary.json")
    return p


def _failing(junit: Path) -> list[str]:
    try:
        root = ET.parse(junit).getroot()
    except (OSError, ET.ParseError):
        return []
    return [str(c.get("name")) for c in root.iter("testcase") if c.find("failure") is not None]


def run_once(i: int, out: Path, args: argparse.Namespace, env: dict[str, str]) -> dict[str, Any]:
    run_dir = out / f"run-{i:02d}"
    cmd = [sys.executable, "-m", "bench", "gate", "--baseline", args.baseline, "--out", str(run_dir)]
    if args.metrics:
        cmd += ["--metrics", args.metrics]
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    t0 = time.perf_counter()
    with open(out / f"run-{i:02d}.log", "w", encoding="utf-8") as log:
        rc = subprocess.call(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
    return {"run": i, "exit": rc, "seconds": round(time.perf_counter() - t0, 1), "load_1min_at_start": load,
            "failing": _failing(run_dir / "gate-junit.xml")}


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    knobs = dict(item.split("=", 1) for item in args.inject if "=" in item)
    if len(knobs) != len(args.inject) or not all(k.startswith("APP_INJECT_") for k in knobs):
        print("--inject takes APP_INJECT_NAME=VALUE", file=sys.stderr)
        return 2
    # Unchanged code means no knob from the caller's shell either; only the ones asked for here.
    env = {k: v for k, v in os.environ.items() if not k.startswith("APP_INJECT_")} | knobs
    env.pop("GITHUB_STEP_SUMMARY", None)
    out = Path(args.out or Path("reports") / f"{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}-false-alarms")
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for i in range(1, args.runs + 1):
        row = run_once(i, out, args, env)
        rows.append(row)
        print(f"run {i}/{args.runs}: exit {row['exit']} in {row['seconds']:.0f} s (load {row['load_1min_at_start']})"
              + (f"; failing: {', '.join(row['failing'])}" if row["failing"] else ""), flush=True)
    alarms = sum(r["exit"] == 1 for r in rows)
    errors = sum(r["exit"] not in (0, 1) for r in rows)
    word = "detected" if knobs else "false alarms"
    summary = {"runs": args.runs, "inject": knobs, "exit_1": alarms, "errors": errors, "rows": rows,
               "median_seconds": sorted(r["seconds"] for r in rows)[len(rows) // 2] if rows else None}
    (out / "summary.json").write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")
    print(f"{word}: {alarms} of {args.runs}" + (f"; set-up errors: {errors}" if errors else "")
          + f"; median gate time {summary['median_seconds']} s; details in {out / 'summary.json'}")
    return 0 if errors == 0 else 2


if __name__ == "__main__":
    raise SystemExit(main())
