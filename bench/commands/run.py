"""`bench run`: start the backend and each variant, drive them with Locust, write results.json and the report."""

from __future__ import annotations

import argparse
import math
import sys
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.commands.paths import check_writable
from bench.errors import UsageError, interrupt_code
from bench.run import cost
from bench.run.backends import Backend, add_backend_arguments, backend_from_args, backend_spec
from bench.run.config import RunConfig, RunPlan, plan, validate
from bench.run.profiles import PROFILES, Profile
from bench.run.scenario_facts import SCENARIO_NAMES

if TYPE_CHECKING:
    from bench.run.target import UserTarget

HELP = "run the scenarios against the app's variants and write results.json, charts and the report"


def _csv(value: str) -> tuple[str, ...]:
    return tuple(v.strip() for v in value.split(";" if ";" in value else ",") if v.strip()) if value else ()


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--profile", default="quick", choices=list(PROFILES),
                        help="quick (~1:05-1:10 on 2 cores), seed (the document's set-up, ~2:50), "
                        "full (adds the sweep)")
    parser.add_argument("--variants", default="", help="comma-separated variants (default: the profile's); "
                        "use ';' to separate specs that contain commas")
    parser.add_argument("--scenarios", default="", help=f"comma-separated, from: {', '.join(SCENARIO_NAMES)}")
    parser.add_argument("--users", type=int, help="users per burst / concurrency run (default: the profile's)")
    parser.add_argument("--latency", type=float, metavar="MS", help="mock backend latency in ms")
    parser.add_argument("--repeat", type=int,
                        help="repetitions of every run (default: the profile's, 3; a few steps of seed run fewer)")
    add_backend_arguments(parser, local_model=True)
    parser.add_argument("--budget", type=float, metavar="USD",
                        help=f"refuse to start a paid run whose estimated cost is above this "
                        f"(default {cost.DEFAULT_BUDGET_USD:.2f}; applies to openai, and to other backends when "
                        "--model names a priced model)")
    parser.add_argument("--yes", action="store_true", help="start even above the budget or with no known price")
    parser.add_argument("--prices", metavar="FILE", help="TOML or JSON price table overriding bench/run/prices.toml")
    parser.add_argument("--max-tokens", type=int, metavar="N",
                        help="cap each upstream answer at N tokens (OPENAI_MAX_TOKENS for every app); the cost "
                        "estimate then bounds the output by it")
    parser.add_argument("--redis-url", metavar="URL",
                        help="a Redis for the limiter=redis variants (async-redis-limited) to share; by default the "
                        "run starts its own redis-server on a free loopback port")
    parser.add_argument("--processes", type=int, default=1, help="Locust load processes (its --processes)")
    parser.add_argument("--locust-workers", type=int, default=0, metavar="N",
                        help="drive the load from N Locust workers started elsewhere with `bench worker --master "
                        "HOST:PORT`; each run's Locust master waits for all N (see --master-bind, --worker-wait)")
    parser.add_argument("--master-bind", default="127.0.0.1", metavar="HOST[:PORT]",
                        help="with --locust-workers: the address of this machine the workers reach (the app under "
                        "test listens there too); default 127.0.0.1 and a free port, printed at start")
    parser.add_argument("--worker-wait", type=float, default=60.0, metavar="S",
                        help="with --locust-workers: how long each run's master waits for all N workers (default 60)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the mock's latency and fault draws")
    add_schedule_argument(parser)
    parser.add_argument("--init-delay-ms", type=float, default=0.0,
                        help="APP_AGENT_INIT_DELAY_MS for every app: widens the singleton race window")
    parser.add_argument("--label", default="", help="name for the output directory and the report")
    parser.add_argument("--out", default="", help="output directory (default reports/<UTC stamp>-<label>/)")
    parser.add_argument("--no-report", action="store_true", help="write results.json only")
    from bench.commands.target_args import add_target_arguments

    add_target_arguments(parser)


def add_schedule_argument(parser: argparse.ArgumentParser) -> None:
    from bench.run.schedule import DEFAULT_SCHEDULE, SCHEDULES

    parser.add_argument("--schedule", default=DEFAULT_SCHEDULE, choices=SCHEDULES,
                        help="overlap (default): timed bursts alone, paced and counting steps side by side, apps and "
                        "Locust from fork servers; serial: round 1's one-at-a-time schedule, kept to compare against")


def _out_dir(args: argparse.Namespace, label: str) -> Path:
    if args.out:
        return Path(args.out)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return Path("reports") / f"{stamp}-{label}"


def run(args: argparse.Namespace) -> int:
    from bench.commands.target_args import refuse_reference_flags, target_from_args

    target = target_from_args(args)  # `--app`: the user's app is the only variant, in its own profile
    if target is not None:
        refuse_reference_flags(args, variants="", profile="quick", init_delay_ms=0.0)
    _check_flags(args)
    config = validate(RunConfig(
        profile="app" if target else args.profile, variants=_csv(args.variants), scenarios=_csv(args.scenarios),
        users=args.users, latency_ms=args.latency, repeat=args.repeat, backend=backend_spec(args), model=args.model,
        processes=args.processes, seed=args.seed, label=args.label or (_app_label(target) if target else args.profile),
        init_delay_ms=args.init_delay_ms, max_tokens=args.max_tokens, target=target, redis_url=args.redis_url,
        locust_workers=args.locust_workers, master_bind=_master_bind(args), worker_wait_s=args.worker_wait,
        schedule=args.schedule,
    ))
    backend = backend_from_args(args)
    profile = plan(config)
    if not profile.steps:
        raise UsageError("nothing to run: the filters leave no scenario of the profile")
    guard = _cost_guard(args, backend, profile)  # refuses here, before any server starts or any call is made
    if config.target is not None:
        config = replace(config, target=discover_target(config.target, backend))
    out = _out_dir(args, config.label)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot create the output directory {out}: {exc.strerror or exc}") from None
    config = replace(config, out_dir=str(out))

    from bench.run.orchestrator import run_plan, serial_request_s
    from bench.run.progress import ProgressBar

    print(f"bench run: profile {profile.name} ({profile.summary}); output in {out}", file=sys.stderr)
    if config.locust_workers:
        print(f"bench run: each run's Locust master listens on {config.master_bind} for {config.locust_workers} "
              f"worker(s); start each with: bench worker --master {config.master_bind}", file=sys.stderr)
    started = time.perf_counter()
    interrupted = 0  # the exit code of an interruption (Ctrl-C 130, SIGTERM 143)
    with ProgressBar(profile, serial_request_s(backend), "serial" if config.locust_workers else config.schedule) as bar:
        try:
            results = run_plan(RunPlan(config, profile, backend, out), progress=bar.advance,
                               report=not args.no_report)
        except KeyboardInterrupt as exc:
            interrupted = interrupt_code(exc)
            from bench.results.schema import load_results

            results = load_results(out / "results.json")
    _record_cost(results, guard, out)
    print(f"bench run: {len(results['runs'])} runs in {time.perf_counter() - started:.0f} s"
          + (" (interrupted: partial results kept)" if interrupted else ""), file=sys.stderr)
    bad = [r["id"] for r in results["runs"] if not r["accounting"]["ok"]]
    if not args.no_report:
        t0 = time.perf_counter()
        _report(results, out)
        _record_report_time(results, out, time.perf_counter() - t0)
    print(f"results: {out / 'results.json'}")
    if bad:
        print(f"bench run: accounting mismatch in {len(bad)} run(s): {', '.join(bad[:5])}", file=sys.stderr)
    # A load worker lost mid-run leaves that run's records incomplete whatever else held: not a success.
    lost = [r["id"] for r in results["runs"] if any(w.get("lost") for w in r.get("load_workers") or [])]
    if lost:
        print(f"bench run: a load worker was lost in {len(lost)} run(s): {', '.join(lost[:5])}; their records are "
              "incomplete", file=sys.stderr)
    return interrupted or (1 if lost else 0)


def _master_bind(args: argparse.Namespace) -> str:
    """--master-bind as HOST:PORT with a port this machine can listen on (a free one when none was given)."""
    if not args.locust_workers:
        return ""
    from bench.run.load_worker import bind_port, parse_address

    host, port = parse_address(args.master_bind, port_required=False)
    if host in ("0.0.0.0", "::", "*"):
        raise UsageError("--master-bind needs the address the workers reach this machine at (the app under test "
                         f"listens there too), not {host}")
    return f"[{host}]:{bind_port(host, port)}" if ":" in host else f"{host}:{bind_port(host, port)}"


def _check_flags(args: argparse.Namespace) -> None:
    """The flags validate() does not cover, refused before anything starts."""
    if not (args.init_delay_ms >= 0 and math.isfinite(args.init_delay_ms)):  # NaN fails `>= 0`
        raise UsageError(f"--init-delay-ms must be a finite number >= 0, got {args.init_delay_ms}")
    if getattr(args, "model_path", None) and backend_spec(args) != "local-llm":
        raise UsageError("--model-path applies to --backend local-llm only")
    if args.out:
        check_writable("--out", args.out, directory=True)


def _app_label(target: UserTarget) -> str:
    return target.spec.app.partition(":")[0].rsplit(".", 1)[-1]


def discover_target(target: UserTarget, backend: Backend) -> UserTarget:
    """Start the user's app once before the run: it imports, its request is derived or checked (one line and
    exit 2 if not). The embedded mock answers instantly; a real backend is called once; a model the run starts
    itself is not up yet, so the request is only checked for the route."""
    from bench.run.target import discover

    url = None if backend.kind == "mock" else backend.base_url or None
    found = discover(target, backend_url=url, api_key=backend.api_key, try_request=backend.kind != "local-llm")
    assert found.request is not None
    print(f"bench run: each user sends {found.request.text()}"
          + (" (from its OpenAPI schema)" if found.request.source == "openapi" else ""), file=sys.stderr)
    return found


def _max_tokens(profile: Profile, backend: Backend) -> int | None:
    """The output cap the apps will run with (a backend's own setting wins, as in the orchestrator)."""
    caps = [{**s.app_env, **backend.app_env()}.get("OPENAI_MAX_TOKENS") for s in profile.steps]
    values = [int(c) for c in caps if c and str(c).isdigit()]
    return max(values) if values and len(values) == len(caps) else None


def _cost_guard(args: argparse.Namespace, backend: Backend, profile: Profile) -> dict[str, Any]:
    """Estimate the plan's upstream calls, tokens and cost; refuse a paid run above the budget (exit 2, one
    line) unless --yes. Returns what results.json records under `cost`."""
    if args.budget is not None and not args.budget >= 0:  # NaN too
        raise UsageError("--budget must be >= 0 (USD)")
    prices = cost.load_prices(args.prices)
    # A URL backend is priced only by a model named on the command line: the app's default model name says
    # nothing about what a local server runs.
    # The mock is free whatever model it is asked for.
    model = backend.model if backend.kind == "openai" else None if backend.kind == "mock" else args.model
    from bench.run.backend_probe import probe_calls

    est = cost.estimate(profile, model=model, prices=prices, max_tokens=_max_tokens(profile, backend),
                        real_backend=backend.kind != "mock", probe_calls=probe_calls(profile))
    guarded = cost.is_guarded(backend.kind, model, prices)
    budget = args.budget if args.budget is not None else cost.DEFAULT_BUDGET_USD
    waived = cost.check_budget(est, budget_usd=budget, yes=args.yes) if guarded else None
    if backend.kind != "mock":
        print(f"bench run: cost estimate: {est.text()}"
              + (f"; budget ${budget:.2f}" if guarded else "; not a priced backend, no budget applied"),
              file=sys.stderr)
    if waived:
        print(f"bench run: {waived}", file=sys.stderr)
    return {"estimate": {**est.to_dict(), "guarded": guarded, "budget_usd": budget if guarded else None,
                         "waived": waived, "prices_source": prices.source}, "price": est.price}


def _record_cost(results: dict[str, Any], guard: dict[str, Any], out: Path) -> None:
    """results.json's `cost`: the estimate made before the run and the usage the upstream reported."""
    from bench.results.schema import write_results

    results["cost"] = {"estimate": guard["estimate"], "actual": cost.actual(results["runs"], guard["price"])}
    write_results(results, out / "results.json")


def _record_report_time(results: dict[str, Any], out: Path, seconds: float) -> None:
    """The report's own stage in results.json's `timings` (bench/run/stages.py), and the whole line on stderr."""
    from bench.results.schema import write_results
    from bench.run.stages import describe

    timings = results.setdefault("timings", {})
    timings.setdefault("stages", {})["report"] = {"s": round(seconds, 3), "count": 1}
    write_results(results, out / "results.json")
    print(f"bench run: {describe(timings)}", file=sys.stderr)


def _report(results: dict, out: Path) -> None:
    try:
        from bench.report import console_summary, render_report
    except ImportError as exc:  # the report package is optional while it is being built
        print(f"bench run: no report ({exc})", file=sys.stderr)
        return
    paths = render_report(results, out)
    print(console_summary(results, report_path=paths["html"]))
