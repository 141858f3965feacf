"""`bench run`: start the backend and each variant, drive them with Locust, write results.json and the report."""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.backends import resolve_backend
from bench.errors import UsageError
from bench.profiles import PROFILES, SCENARIO_NAMES
from bench.runconfig import RunConfig, plan, validate

HELP = "run the scenarios against the app's variants and write results.json, charts and the report"


def _csv(value: str) -> tuple[str, ...]:
    return tuple(v.strip() for v in value.split(";" if ";" in value else ",") if v.strip()) if value else ()


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--profile", default="quick", choices=list(PROFILES),
                        help="quick (<= 3 min), seed (the document's set-up, <= 10 min), full (adds the sweep)")
    parser.add_argument("--variants", default="", help="comma-separated variants (default: the profile's); "
                        "use ';' to separate specs that contain commas")
    parser.add_argument("--scenarios", default="", help=f"comma-separated, from: {', '.join(SCENARIO_NAMES)}")
    parser.add_argument("--users", type=int, help="users per burst / concurrency run (default: the profile's)")
    parser.add_argument("--latency", type=float, metavar="MS", help="mock backend latency in ms")
    parser.add_argument("--repeat", type=int,
                        help="repetitions of every run (default: the profile's, 3; a few steps of seed run fewer)")
    parser.add_argument("--backend", default="mock", help="mock (default), openai, or an OpenAI-compatible URL")
    parser.add_argument("--model", help="model name sent upstream (real backends)")
    parser.add_argument("--processes", type=int, default=1, help="Locust load processes (its --processes)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the mock's latency and fault draws")
    parser.add_argument("--init-delay-ms", type=float, default=0.0,
                        help="APP_AGENT_INIT_DELAY_MS for every app: widens the singleton race window")
    parser.add_argument("--label", default="", help="name for the output directory and the report")
    parser.add_argument("--out", default="", help="output directory (default reports/<UTC stamp>-<label>/)")
    parser.add_argument("--no-report", action="store_true", help="write results.json only")


def _out_dir(args: argparse.Namespace, label: str) -> Path:
    if args.out:
        return Path(args.out)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return Path("reports") / f"{stamp}-{label}"


def run(args: argparse.Namespace) -> int:
    config = validate(RunConfig(
        profile=args.profile, variants=_csv(args.variants), scenarios=_csv(args.scenarios), users=args.users,
        latency_ms=args.latency, repeat=args.repeat, backend=args.backend, model=args.model,
        processes=args.processes, seed=args.seed, label=args.label or args.profile, init_delay_ms=args.init_delay_ms,
    ))
    backend = resolve_backend(config.backend, model=config.model)
    profile = plan(config)
    if not profile.steps:
        raise UsageError("nothing to run: the filters leave no scenario of the profile")
    out = _out_dir(args, config.label)
    out.mkdir(parents=True, exist_ok=True)
    config = RunConfig(**{**config.to_dict(), "out_dir": str(out)})

    from bench.orchestrator import run_plan
    from bench.progress import ProgressBar

    print(f"bench run: profile {profile.name} ({profile.summary}); output in {out}", file=sys.stderr)
    started = time.perf_counter()
    interrupted = False
    with ProgressBar(profile) as bar:
        try:
            results = run_plan(config, profile, backend, out, progress=bar.advance)
        except KeyboardInterrupt:
            interrupted = True
            from bench.results import load_results

            results = load_results(out / "results.json")
    print(f"bench run: {len(results['runs'])} runs in {time.perf_counter() - started:.0f} s"
          + (" (interrupted: partial results kept)" if interrupted else ""), file=sys.stderr)
    bad = [r["id"] for r in results["runs"] if not r["accounting"]["ok"]]
    if not args.no_report:
        _report(results, out)
    print(f"results: {out / 'results.json'}")
    if bad:
        print(f"bench run: accounting mismatch in {len(bad)} run(s): {', '.join(bad[:5])}", file=sys.stderr)
    return 130 if interrupted else 0


def _report(results: dict, out: Path) -> None:
    try:
        from bench.report import console_summary, render_report
    except ImportError as exc:  # the report package is optional while it is being built
        print(f"bench run: no report ({exc})", file=sys.stderr)
        return
    paths = render_report(results, out)
    print(console_summary(results, report_path=paths["html"]))
