"""`bench gate`: run the gate's selection of a profile (or read given results), compare every gated metric with
the committed baseline, print the table, write Markdown and JUnit XML. Exit 0 pass, 1 regression, 2 usage or
set-up error (a missing baseline included); `--update-baseline` writes a new baseline from the run instead.

The gate runs against the embedded mock only. `--backend`, `--backend-url` and `--model` are accepted (as for
`bench run`) so that a CI job can pass the same flags, but anything other than the mock is refused with exit 2:
the limiter and accounting metrics read the mock's upstream counters, the latency ratios divide by the mock's
fixed latency, and the baseline's thresholds were calibrated against it. A real backend's latency and limits
would turn the comparison into noise (and a paid one would bill every gate run). Measure a real backend with
`bench run --backend ...` instead."""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.commands.paths import check_writable
from bench.errors import RegressionFound, SetupError, UsageError
from bench.gate.baseline import DEFAULT_PATH, Baseline, build_baseline, load_baseline, write_baseline
from bench.gate.plan import DEFAULT_REPEAT, GATE_PLANS, gate_profile, needs_of
from bench.run.backends import add_backend_arguments, backend_from_args
from bench.run.config import RunConfig, RunPlan, validate

HELP = "CI regression gate: compare a run's gated metrics with the baseline (exit 0 pass, 1 regression, 2 error)"
# A baseline is made once: 10 repetitions give the U test its power against 3 per gate run, and keep one
# outlying baseline repetition from hiding a real shift.
UPDATE_REPEAT = 10


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--baseline", default=str(DEFAULT_PATH), help=f"baseline file (default {DEFAULT_PATH})")
    parser.add_argument("--profile", default="quick", choices=list(GATE_PLANS),
                        help="the profile whose gate selection runs (default quick)")
    from bench.commands.run import add_schedule_argument

    add_schedule_argument(parser)
    parser.add_argument("--results", metavar="FILE", help="gate an existing results.json instead of running")
    parser.add_argument("--update-baseline", action="store_true",
                        help="write a new baseline from the run (keeps the old thresholds and report-only flags)")
    parser.add_argument("--metrics", default="", help="comma-separated metric ids: gate (and run) only these")
    parser.add_argument("--repeat", type=int, help=f"repetitions (default {DEFAULT_REPEAT}; "
                        f"{UPDATE_REPEAT} with --update-baseline)")
    parser.add_argument("--out", default="", help="output directory of the run (default reports/<UTC stamp>-gate/)")
    parser.add_argument("--markdown", metavar="FILE", help="Markdown summary (default OUT/gate.md); also appended "
                        "to $GITHUB_STEP_SUMMARY when that is set")
    parser.add_argument("--junit", metavar="FILE", help="JUnit XML (default OUT/gate-junit.xml)")
    add_backend_arguments(parser, note="; the gate accepts only the mock (anything else: exit 2)")
    from bench.commands.target_args import add_target_arguments

    # `--app`: gate your own app's concerns (bench/commands/gate_app.py); its baseline defaults to bench-baseline.json.
    add_target_arguments(parser, scenarios=True)


MOCK_ONLY = ("the gate measures against the embedded mock only (its metrics read the mock's upstream counters "
             "and its baseline was taken at the mock's fixed latency); measure a real backend with `bench run "
             "--backend ...`")


def check_backend(args: argparse.Namespace) -> None:
    """Resolve the backend flags as `bench run` does (a missing OPENAI_API_KEY is its own line), then refuse
    anything but the mock, before a baseline is read or a server started."""
    backend = backend_from_args(args)
    if backend.kind != "mock":
        raise UsageError(f"backend {backend.kind!r} refused: {MOCK_ONLY}")


def check_results_backend(results: dict[str, Any], path: str) -> None:
    kind = (results.get("backend") or {}).get("kind", "mock")
    if kind != "mock":
        raise SetupError(f"{path} was measured against a {kind} backend: {MOCK_ONLY}")


def active_knobs() -> dict[str, str]:
    """The app's regression knobs set in this environment (bench/appserver.py passes them to the app)."""
    return {k: v for k, v in os.environ.items()
            if k.startswith("APP_INJECT_") and v.strip() not in ("", "0", "0.0", "false", "False")}


def _metrics(text: str) -> set[str] | None:
    ids = {t.strip() for t in text.split(",") if t.strip()}
    needs_of(ids)  # an unknown id is a usage error naming the valid ones
    return ids or None


def _out_dir(args: argparse.Namespace) -> Path:
    if args.out:
        return Path(args.out)
    if args.results:
        return Path(args.results).resolve().parent
    return Path("reports") / f"{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}-gate"


def _run(args: argparse.Namespace, only: set[str] | None, out: Path) -> dict[str, Any]:
    from bench.run.backends import resolve_backend
    from bench.run.orchestrator import run_plan
    from bench.run.progress import ProgressBar

    repeat = args.repeat or (UPDATE_REPEAT if args.update_baseline else DEFAULT_REPEAT)
    profile = gate_profile(args.profile, repeat=repeat, only=only)
    config = validate(RunConfig(profile=GATE_PLANS[args.profile].profile, repeat=repeat, label="gate",
                                out_dir=str(out), scenarios=tuple(s.scenario for s in profile.steps),
                                schedule=args.schedule))
    out.mkdir(parents=True, exist_ok=True)
    print(f"bench gate: running {', '.join(f'{s.scenario} ({len(s.variants)})' for s in profile.steps)} "
          f"x {repeat}; output in {out}", file=sys.stderr)
    started = time.perf_counter()
    with ProgressBar(profile, schedule=config.schedule) as bar:
        results = run_plan(RunPlan(config, profile, resolve_backend("mock"), out), progress=bar.advance)
    print(f"bench gate: {len(results['runs'])} runs in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return results


def _check_outputs(args: argparse.Namespace, out: Path) -> None:
    """The report paths, refused before a run of several minutes would fill them."""
    check_writable("--out", out, directory=True)
    for flag, path in (("--markdown", args.markdown), ("--junit", args.junit)):
        if path:
            check_writable(flag, path, directory=False)


def _previous(path: str) -> Baseline | None:
    return load_baseline(path) if Path(path).exists() else None


def run(args: argparse.Namespace) -> int:
    from bench.gate.metrics import extract_all
    from bench.results.schema import load_results

    check_backend(args)
    from bench.commands.target_args import target_from_args

    if (target := target_from_args(args)) is not None:
        from bench.commands.gate_app import run_app_gate

        return run_app_gate(args, target)
    if args.scenarios:
        raise UsageError("--scenarios chooses among your app's scenarios: give --app MODULE:ATTR (the reference "
                         "app's gate runs its plan; narrow it with --metrics)")
    only = _metrics(args.metrics)
    knobs = active_knobs()
    if args.repeat is not None and args.repeat < 1:
        raise UsageError("--repeat must be at least 1")
    if args.update_baseline and knobs:
        raise UsageError(f"refusing to write a baseline with regression knobs set: {', '.join(sorted(knobs))}")
    # Load the baseline before a multi-minute run: a missing or broken one fails at once, with exit 2.
    baseline = _previous(args.baseline) if args.update_baseline else load_baseline(args.baseline)
    if baseline and not args.update_baseline and baseline.profile != args.profile:
        raise SetupError(f"baseline {args.baseline} was made with profile {baseline.profile!r}, not {args.profile!r}")
    if knobs:
        print(f"bench gate: regression knobs set: {', '.join(f'{k}={v}' for k, v in sorted(knobs.items()))}",
              file=sys.stderr)
    out = _out_dir(args)
    _check_outputs(args, out)
    started = time.perf_counter()
    results = load_results(args.results) if args.results else _run(args, only, out)
    results_path = str(args.results or out / "results.json")
    check_results_backend(results, results_path)
    measurements = extract_all(results)
    if args.update_baseline:
        return _update(args, results, measurements, baseline, results_path)
    assert baseline is not None
    return _gate(args, baseline, results, measurements, only, out, results_path, knobs,
                 time.perf_counter() - started)


def _update(args: argparse.Namespace, results: dict[str, Any], measurements: dict[str, Any],
            previous: Baseline | None, source: str) -> int:
    from bench.gate.metrics import REGISTRY, breaks

    def off(mid: str, v: float) -> bool:
        return REGISTRY[mid].kind == "exact" and breaks(REGISTRY[mid].direction, REGISTRY[mid].expected, v)

    broken = [f"{mid} ({', '.join(f'{v:g}' for v in m.present if off(mid, v))})"
              for mid, m in measurements.items() if any(off(mid, v) for v in m.present)]
    if broken:
        raise SetupError(f"not writing a baseline from a run that breaks invariants: {'; '.join(broken)}")
    missing = [mid for mid, m in measurements.items() if m.missing or not m.present]
    if len(missing) == len(measurements):
        raise SetupError("the results hold none of the gated metrics; nothing to write")
    data = build_baseline(results, measurements, profile=args.profile, notes=list(GATE_PLANS[args.profile].notes),
                          previous=previous, source=source)
    path = write_baseline(data, args.baseline)
    kept = f" (thresholds kept from the previous {path})" if previous else ""
    print(f"bench gate: baseline written to {path} with {len(data['metrics'])} metrics{kept}")
    if missing:
        fate = "kept from the previous baseline where it had them" if previous else "left out of the baseline"
        print(f"bench gate: not measured in this run, {fate}: {', '.join(missing)}", file=sys.stderr)
    return 0


def _gate(args: argparse.Namespace, baseline: Baseline, results: dict[str, Any], measurements: dict[str, Any],
          only: set[str] | None, out: Path, results_path: str, knobs: dict[str, str], elapsed_s: float) -> int:
    from bench.gate.compare import check_setups, compare, missing_from_run
    from bench.gate.junit import write_junit
    from bench.gate.markdown import append_step_summary, gate_markdown, write_markdown
    from bench.gate.table import headline, text_table

    if missing := missing_from_run(baseline, measurements, only):
        raise SetupError(f"{results_path} holds no runs for gated metric(s) {'; '.join(missing)}: "
                         "gate a run of the gate's plan (run `bench gate` without --results)")
    check_setups(baseline, measurements, only)
    result = compare(baseline, measurements, only)
    print(text_table(result.decisions))
    print()
    print(headline(result.decisions))
    text = gate_markdown(result, baseline, run_host=results.get("host"), results_path=results_path, knobs=knobs)
    try:
        md = write_markdown(text, args.markdown or out / "gate.md")
        junit = write_junit(result, args.junit or out / "gate-junit.xml", elapsed_s=elapsed_s)
        summary = append_step_summary(text)
    except OSError as exc:
        raise SetupError(f"cannot write the gate's reports: {exc.filename or ''} {exc.strerror or exc}") from None
    print(f"markdown: {md}\njunit: {junit}" + (f"\nstep summary: {summary}" if summary else ""))
    if not result.passed:
        raise RegressionFound(headline(result.decisions))
    return 0
