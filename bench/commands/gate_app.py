"""`bench gate --app MODULE:ATTR`: the gate of a user's app. It runs the app's profile (as `bench run --app`),
judges every concern, and compares the verdicts with the app's baseline (bench/gate/app_baseline.py); exit 0 pass,
1 regression (a concern that fails now and did not, a new call blocking the loop), 2 usage or set-up error (a missing
baseline included). `--update-baseline` writes the baseline from the run instead."""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.errors import RegressionFound, SetupError, UsageError
from bench.gate import app_baseline as AB
from bench.gate.baseline import DEFAULT_PATH as REFERENCE_BASELINE
from bench.run.target import UserTarget


def baseline_path(args: argparse.Namespace) -> Path:
    """The reference app's default baseline is not the user's: without --baseline, theirs is bench-baseline.json."""
    given = Path(args.baseline)
    return AB.DEFAULT_PATH if given == Path(str(REFERENCE_BASELINE)) else given


def verdicts_of(results: dict[str, Any]) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """The concerns' verdicts as plain dicts, and the blocking call sites of the warm bursts."""
    from bench.report.concerns import evaluate_concerns
    from bench.report.concerns.event_loop import blocking_sites

    verdicts = {v.id: {"status": v.status, "verdict": v.verdict, "measured": v.measured}
                for v in evaluate_concerns(results)}
    sites = [AB.site_key(s) for r in results.get("runs", []) if r.get("scenario") == "burst"
             for s in blocking_sites(r)]
    return verdicts, sites


def _run(args: argparse.Namespace, target: UserTarget, out: Path) -> dict[str, Any]:
    from bench.commands.run import discover_target
    from bench.run.backends import resolve_backend
    from bench.run.config import RunConfig, RunPlan, plan, validate
    from bench.run.orchestrator import run_plan
    from bench.run.progress import ProgressBar

    backend = resolve_backend("mock")
    scenarios = tuple(x.strip() for x in (args.scenarios or "").split(",") if x.strip())
    config = validate(RunConfig(profile="app", repeat=args.repeat, label="gate-app", out_dir=str(out),
                                target=target, scenarios=scenarios, schedule=args.schedule))
    profile = plan(config)
    config = replace(config, target=discover_target(target, backend))
    out.mkdir(parents=True, exist_ok=True)
    print(f"bench gate: running {', '.join(s.scenario for s in profile.steps)} on {target.label}; output in {out}",
          file=sys.stderr)
    started = time.perf_counter()
    with ProgressBar(profile, schedule=config.schedule) as bar:
        results = run_plan(RunPlan(config, profile, backend, out), progress=bar.advance)
    print(f"bench gate: {len(results['runs'])} runs in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return results


def run_app_gate(args: argparse.Namespace, target: UserTarget) -> int:
    from bench.commands.target_args import refuse_reference_flags
    from bench.results.schema import load_results

    refuse_reference_flags(args, metrics="", profile="quick")
    if args.repeat is not None and args.repeat < 1:
        raise UsageError("--repeat must be at least 1")
    path = baseline_path(args)
    baseline = None if args.update_baseline else AB.load_baseline(path, target.label)  # fails before the run
    out = Path(args.out) if args.out else (Path(args.results).resolve().parent if args.results else
                                           Path("reports") / f"{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}-gate")
    started = time.perf_counter()
    results = load_results(args.results) if args.results else _run(args, target, out)
    results_path = str(args.results or out / "results.json")
    if (results.get("target") or {}).get("app") != target.label:
        raise SetupError(f"{results_path} is not a run of {target.label}")
    verdicts, sites = verdicts_of(results)
    if args.update_baseline:
        data = AB.build_baseline(app=target.label, verdicts=verdicts, sites=sites, results=results,
                                 source=results_path)
        where = AB.write_baseline(data, path)
        failing = [cid for cid, v in verdicts.items() if v["status"] == "fail"]
        print(f"bench gate: baseline written to {where} ({len(verdicts)} concerns"
              + (f"; failing now, so accepted as known: {', '.join(failing)}" if failing else "") + ")")
        return 0
    assert baseline is not None
    decisions = AB.compare(baseline, verdicts, sites)
    print(AB.text_table(decisions))
    print()
    print(AB.headline(decisions))
    written = AB.write_outputs(decisions, out, app=target.label, baseline_path=str(path), results_path=results_path,
                               markdown_path=args.markdown, junit_path=args.junit,
                               elapsed_s=time.perf_counter() - started)
    print("\n".join(f"wrote {p}" for p in written))
    if any(d.regressed for d in decisions):
        raise RegressionFound(AB.headline(decisions))
    return 0
