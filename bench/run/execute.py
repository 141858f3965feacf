"""One measured run: reset the windows, sample the app's process tree, drive Locust, read the app's and the
mock's counters, and check that every request is accounted for. Returns the run's entry for results.json.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from app_under_test.variants import parse_variant
from bench.mock.process import MockServer
from bench.run.appwatch import POLL_S, AppDied, AppWatch, how_it_ended
from bench.run.blocked import POLL_BLOCKS, POLL_SITES, merge_blocked, take_blocked
from bench.run.fault_accounting import fault_accounting
from bench.run.locust_job import LoadWorkers, LocustJob, LocustResult, run_locust, summarize
from bench.run.profiles import Step
from bench.run.scenario_facts import facts
from bench.run.stages import StageClock
from bench.run.target import merge_watched
from bench.servers.app import AppServer
from bench.servers.sampler import TreeSampler
from bench.servers.target import TargetServer


@dataclass(frozen=True)
class RunContext:
    step: Step
    variant: str
    repetition: int
    users: int
    app: AppServer | TargetServer  # the reference app at a variant, or the user's app (`--app`)
    mock: MockServer | None
    out_dir: Path  # this run's directory
    results_dir: Path  # the results.json directory, for relative file paths
    processes: int = 1
    serial_s: float | None = None  # a backend that answers one request at a time: its slowest request (s)
    locust_options: Mapping[str, Any] = field(default_factory=dict)  # the user's request (scenarios/options.py)
    load_workers: LoadWorkers | None = None  # Locust workers on other hosts (`bench run --locust-workers`)
    clock: StageClock | None = None  # where the run's time goes (bench/run/stages.py)
    under_way: threading.Event | None = None  # set as this run's load starts (a background unit's signal)
    stop: threading.Event | None = None  # the whole run is stopping: this run's Locust is told to quit as it starts


def _job(ctx: RunContext) -> LocustJob:
    step, scenario = ctx.step, facts(ctx.step.scenario)
    return LocustJob(
        scenario=scenario.locust, host=ctx.app.url, out_dir=ctx.out_dir, users=ctx.users,
        duration_s=scenario.duration_s(step), rate=scenario.rate(step), variant=ctx.variant,
        repetition=ctx.repetition, processes=ctx.processes, load_workers=ctx.load_workers,
        client_timeout_s=scenario.client_timeout_s(step, ctx.users, ctx.serial_s), options=ctx.locust_options,
        stop=ctx.stop,
    )


def _relative_requests(records: list[dict[str, Any]]) -> dict[str, list[Any]]:
    """Per-request columns with times in seconds from the first send: enough to redraw every chart."""
    rows = sorted(records, key=lambda r: r.get("t_send") or 0.0)
    t0 = min((r["t_send"] for r in rows if r.get("t_send") is not None), default=0.0)

    def rel(value: float | None) -> float | None:
        return None if value is None else round(value - t0, 6)

    return {
        "t_send": [rel(r.get("t_send")) for r in rows],
        "t_first_byte": [rel(r.get("t_first_byte")) for r in rows],
        "t_end": [rel(r.get("t_end")) for r in rows],
        "status": [r.get("status") for r in rows],
        "error": [r.get("error") for r in rows],
        "worker": [r.get("worker") for r in rows],
        "ttft_ms": [r.get("ttft_ms") for r in rows],
    }


def _delta(after: dict[str, Any], before: dict[str, Any], key: str) -> int:
    return int(after.get(key) or 0) - int(before.get(key) or 0)


def _sum(stats: list[dict[str, Any]], key: str) -> int:
    return sum(int(s.get(key) or 0) for s in stats)


def _accounting(res: LocustResult, ok: int, app_before: list[dict[str, Any]], app_after: list[dict[str, Any]],
                mock_before: dict[str, Any] | None, mock_after: dict[str, Any] | None,
                one_call_per_reply: bool = True) -> dict[str, Any]:
    problems: list[str] = []
    expected = res.expected_requests
    if expected is not None and res.recorded != expected:
        problems.append(f"Locust was to send {expected} requests; {res.recorded} have records")
    if res.locust_requests is not None and res.locust_requests != res.recorded:
        problems.append(f"Locust counted {res.locust_requests} requests; {res.recorded} have records")
    if res.bad_lines:
        problems.append(f"{res.bad_lines} unreadable record lines")
    problems += res.transport_problems  # load workers: records lost on the way, workers lost mid-run
    # An app that died mid-run has no `after`: the problems name its death instead.
    answered = _sum(app_after, "requests_total") - _sum(app_before, "requests_total") if app_after else 0
    if len(app_after) == len(app_before) and answered != res.recorded:
        problems.append(f"the app saw {answered} chat requests; the load generator recorded {res.recorded}")
    upstream_received = upstream_ok = None
    if mock_before is not None and mock_after is not None:
        upstream_received = _delta(mock_after, mock_before, "received")
        upstream_ok = int(mock_after.get("answered_by_status", {}).get("200", 0)) - int(
            mock_before.get("answered_by_status", {}).get("200", 0))
        # A 200 the mock made malformed on purpose (the faults scenario) is no answer a user can get.
        upstream_ok -= int(mock_after.get("faults", {}).get("malformed", 0)) - int(
            mock_before.get("faults", {}).get("malformed", 0))
        # Every reply a user got as 200 came from exactly one upstream 200 (the app never caches replies). A user's
        # app (`--app`) may call its upstream any number of times a request: its counts are recorded, not checked.
        if upstream_ok != ok and one_call_per_reply:
            problems.append(f"upstream answered 200 {upstream_ok} times; users got {ok} successful replies")
    if res.hit_hard_limit:
        problems.append("the run hit its hard time limit")
    return {"sent": expected if expected is not None else res.recorded, "recorded": res.recorded,
            "locust_counted": res.locust_requests, "answered": answered, "upstream_received": upstream_received,
            "upstream_ok": upstream_ok, "ok": not problems, "problems": problems}


USAGE_KEYS = ("input_tokens", "output_tokens", "calls", "unreported")


def _usage(app_before: list[dict[str, Any]], app_after: list[dict[str, Any]]) -> dict[str, int] | None:
    """Upstream token usage during the run (after - before, summed over the workers), from the app's own count
    of what the upstream reported (app_under_test/usage.py); None when the app does not report usage."""
    if not app_after or any(not isinstance(s.get("usage"), dict) for s in app_after):
        return None

    def total(stats: list[dict[str, Any]], key: str) -> int:
        return sum(int((s.get("usage") or {}).get(key) or 0) for s in stats)

    return {key: max(0, total(app_after, key) - total(app_before, key)) for key in USAGE_KEYS}


def _arrival_rates(recent: list[dict[str, Any]]) -> dict[str, Any]:
    """Upstream request rate from the mock's own arrival times: mean over the active span, peak 1-s window."""
    arrivals = sorted(float(r["arrival"]) for r in recent if r.get("path") == "/v1/chat/completions")
    if len(arrivals) < 2:
        return {"rate_mean_rps": None, "rate_peak_1s": len(arrivals) or None, "retries": 0}
    span = arrivals[-1] - arrivals[0]
    peak, lo = 0, 0
    for hi, t in enumerate(arrivals):
        while t - arrivals[lo] >= 1.0:
            lo += 1
        peak = max(peak, hi - lo + 1)
    retries = sum(1 for r in recent if int(r.get("retry_count") or 0) > 0)
    return {"rate_mean_rps": round((len(arrivals) - 1) / span, 3) if span > 0 else None, "rate_peak_1s": peak,
            "retries": retries, "arrival_span_s": round(span, 3)}


def _upstream(mock_before: dict[str, Any] | None, mock_after: dict[str, Any] | None, ok: int,
              recent: list[dict[str, Any]]) -> dict[str, Any] | None:
    if mock_before is None or mock_after is None:
        return None
    statuses = set(mock_after.get("answered_by_status", {})) | set(mock_before.get("answered_by_status", {}))
    by_status = {code: int(mock_after.get("answered_by_status", {}).get(code, 0))
                 - int(mock_before.get("answered_by_status", {}).get(code, 0)) for code in sorted(statuses)}
    received = _delta(mock_after, mock_before, "received")
    faults = {k: int(v) - int(mock_before.get("faults", {}).get(k, 0)) for k, v in mock_after.get("faults", {}).items()}
    return {"received": received, "by_status": by_status,
            "rate_limited": _delta(mock_after, mock_before, "rate_limited"), "faults": faults,
            "peak_in_flight": mock_after.get("peak_in_flight"),
            # Upstream calls beyond one per successful reply: the SDK's retries plus calls that failed for good.
            "retries_or_failed": max(0, received - ok), **_arrival_rates(recent)}


def _requests_by_worker(before: list[dict[str, Any]], after: list[dict[str, Any]]) -> list[int]:
    start = {s.get("pid"): int(s.get("requests_total") or 0) for s in before}
    return [int(s.get("requests_total") or 0) - start.get(s.get("pid"), 0) for s in after]


def _axes(ctx: RunContext) -> dict[str, str]:
    """The reference variant's axes; a user's app has none (claims select by axes, concerns do not)."""
    return {} if isinstance(ctx.app, TargetServer) else parse_variant(ctx.variant).axes()


# The longest a run waits for its app's limiter to refill (a limiter at a tier-1 rate would take minutes).
REFILL_CAP_S = 5.0


def limiter_refill_s(ctx: RunContext, app_before: list[dict[str, Any]]) -> float:
    """Seconds to let a warm app's rate limiter refill its bucket before the run (0: no limiter, a fresh app, or a
    user's app). A run then starts from a full bucket whatever the harness did just before: an async-limited burst
    of 50 at 100 ms took 4.82 s right after the warm-up, 4.59 s after 0.3 s idle and 4.27-4.37 s after 0.6-2 s
    (medians of 3, tests/support/limiter_idle.py), and round 1's cold Locust start always left it a second or more."""
    if not isinstance(ctx.app, AppServer) or facts(ctx.step.scenario).fresh_app:
        return 0.0
    if parse_variant(ctx.variant).limiter == "none" or not app_before:
        return 0.0
    if not any(int(s.get("constructions") or 0) for s in app_before):
        # No agent built yet, so no limiter (each agent builds its own): a cold start, counted from its first
        # request (C7's first repetition): nothing to refill.
        return 0.0
    settings = app_before[0].get("settings") or {}
    rps = float(settings.get("OPENAI_RATE_LIMIT_REQUESTS_PER_SECOND") or 0)
    bucket = float(settings.get("OPENAI_RATE_LIMIT_MAX_BUCKET_SIZE") or 0)
    return min(REFILL_CAP_S, bucket / rps) if rps > 0 and bucket > 0 else 0.0


def execute(ctx: RunContext) -> dict[str, Any]:
    """Run one repetition and return its results entry (the app and mock stay up; the caller owns them)."""
    workers = ctx.step.workers
    if (code := ctx.app.proc.poll()) is not None:
        raise AppDied(f"the app ({ctx.variant}) {how_it_ended(code)} before the run {_run_id(ctx)}")
    clock = ctx.clock or StageClock()
    with clock.stage("read"):
        ctx.app.reset()
        app_before = ctx.app.per_worker(blocks=0, sites=0)
        take_blocked(app_before)  # just reset: nothing to keep
        mock_before = ctx.mock.stats() if ctx.mock else None
    refill_s = limiter_refill_s(ctx, app_before)
    if refill_s:
        with clock.stage("warm-up"):
            time.sleep(refill_s)
    started = datetime.now(UTC).isoformat(timespec="seconds")
    t0 = time.perf_counter()
    sampler = TreeSampler(ctx.app.pid).start()
    watch = AppWatch(ctx.app.proc)  # the app dying mid-run stops this run's Locust at once
    try:
        with watch, clock.stage("measure"):
            if ctx.under_way is not None:
                ctx.under_way.set()
            res = run_locust(_job(ctx))
    finally:
        process = sampler.stop()
    wall_s = time.perf_counter() - t0
    measure = ctx.step.scenario == "concurrency"
    with clock.stage("read"):
        # A dead app has no stats to read (polling it would only wait for the deadline).
        app_after = [] if watch.death else ctx.app.per_worker(measure=measure, blocks=POLL_BLOCKS, sites=POLL_SITES)
        blocked = merge_blocked(take_blocked(app_after), res.records)  # kept once, merged, not in each stats dict
        mock_after = ctx.mock.stats() if ctx.mock else None
        recent = ctx.mock.requests() if ctx.mock else []  # reset before each run: these are this run's
    summary = summarize(res.records)
    after = app_after[0] if app_after else {}
    app: dict[str, Any] = {
        "before": app_before[0] if app_before else {}, "after": after,
        "constructions": _sum(app_after, "constructions"),
        "constructions_in_run": _sum(app_after, "constructions") - _sum(app_before, "constructions"),
        "live_peak": max((int(s.get("live_instances_peak") or 0) for s in app_after), default=0),
        "bytes_per_instance": after.get("bytes_per_instance"),
        "loop_lag_max_ms": max((s["loop_lag"]["max_ms"] for s in app_after), default=None),
        "loop_lag_p99_ms": max((s["loop_lag"]["p99_ms"] for s in app_after), default=None),
        "in_flight_peak": max((int(s.get("in_flight_peak") or 0) for s in app_after), default=0),
        "workers": app_after if workers > 1 else None,
        # Chat requests each worker served in this run: the kernel spreads connections over workers unevenly.
        "requests_by_worker": _requests_by_worker(app_before, app_after) if workers > 1 else None,
    }
    if refill_s:  # not in params: those name the set-up, which every variant of a step shares (C4 pairs by them)
        app["limiter_refill_s"] = round(refill_s, 3)
    if isinstance(ctx.app, TargetServer):
        app["watched"] = merge_watched(app_before, app_after) or {}
    elif parse_variant(ctx.variant).provider == "lru-cache" and workers == 1 and not watch.death:
        app["agent_cache"] = ctx.app.agent_cache()
    warnings = []
    if workers > 1 and len(app_after) < workers:
        warnings.append(f"only {len(app_after)} of {workers} workers answered the stats poll")
    rel = ctx.out_dir.relative_to(ctx.results_dir)
    accounting = _accounting(res, summary.ok, app_before, app_after, mock_before, mock_after,
                             one_call_per_reply=not isinstance(ctx.app, TargetServer))
    died: dict[str, Any] = {}
    if watch.death:
        cause = watch.death.cause(ctx.variant)
        accounting["ok"] = False
        accounting["problems"].insert(0, cause)
        died = {"partial": True, "app_died": {
            "cause": cause, "exit_code": watch.death.exit_code, "noticed_utc": watch.death.noticed_epoch,
            "noticed_after_start_s": round(watch.death.noticed_epoch - watch.death.watched_since_epoch, 3),
            "poll_s": POLL_S, "in_flight": watch.death.in_flight(res.records),
            "locust_stopped": len(watch.death.locust_stopped)}}
    return {
        "id": _run_id(ctx),
        "scenario": ctx.step.scenario, "variant": ctx.variant, "axes": _axes(ctx),
        "repetition": ctx.repetition,
        "params": {**ctx.step.params(), "users": ctx.users, "processes": ctx.processes,
                   "limiter_rps": after.get("settings", {}).get("OPENAI_RATE_LIMIT_REQUESTS_PER_SECOND"),
                   "client_timeout_s": facts(ctx.step.scenario).client_timeout_s(ctx.step, ctx.users, ctx.serial_s)},
        "started_utc": started, "wall_s": round(wall_s, 3),
        "metrics": {"requests": summary.count, "ok": summary.ok, "errors": summary.errors,
                    "makespan_s": summary.makespan_s, "send_spread_s": summary.send_spread_s,
                    "throughput_rps": summary.throughput_rps, "latency_ms": summary.latency_ms,
                    "ttfb_ms": summary.ttfb_ms, "ttft_ms": summary.ttft_ms or None,
                    "max_gap_ms": summary.max_gap_ms or None, "distinct_agents": summary.distinct_agents,
                    **({"makespan_uncertainty_s": res.makespan_uncertainty_s} if res.workers is not None else {})},
        "requests": _relative_requests(res.records),
        "app": app,
        "process": process,
        "upstream": _upstream(mock_before, mock_after, summary.ok, recent),
        "usage": _usage(app_before, app_after),
        "blocked": blocked,
        "accounting": accounting,
        "locust": {"exit_code": res.exit_code, "timed_out": res.timed_out, "wall_s": round(res.wall_s, 3)},
        "files": {"requests": str(rel / res.records_path.name), "locust_csv": str(rel / "locust_stats.csv"),
                  "locust_html": str(rel / res.html_path.name), "locust_json": str(rel / res.json_path.name),
                  "locust_log": str(rel / res.log_path.name)},
        "warnings": warnings + res.transport_problems,
        **({"load_workers": res.workers} if res.workers is not None else {}),
        **({"faults": fault_accounting(ctx.step, res.records, app_before, app_after, mock_before, mock_after,
                                       recent)} if ctx.step.fault else {}),
        **died,
    }


def _run_id(ctx: RunContext) -> str:
    return f"{ctx.step.scenario}/{ctx.variant}/{ctx.users}/{ctx.repetition}"
