"""The schedule: which repetitions share an app, which units run alone, and what the estimate says."""

from __future__ import annotations

import itertools
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from bench.errors import UsageError
from bench.run.config import RunConfig, validate
from bench.run.profiles import PROFILES, Profile, Step
from bench.run.schedule import (
    BESIDE,
    HEAVY_AT_ONCE,
    HEAVY_BESIDE,
    HEAVY_CONTENTION,
    PACED_AT_ONCE,
    POOLED,
    WORKERS_AT_ONCE,
    lane,
    makespan_estimate_s,
    paced,
    pool_order,
    run_estimate_s,
    unit_estimate_s,
    units,
)
from bench.run.stages import StageClock, describe


def _runs(profile: Profile, schedule: str) -> list[tuple[str, str, int, int]]:
    return sorted((u.step.scenario + str(profile.steps.index(u.step)), v, n, r)
                  for u in units(profile, schedule) for v in u.variants for n in u.users() for r in u.reps)


@pytest.mark.parametrize("name", ["quick", "seed", "full"])
def test_both_schedules_run_exactly_the_same_repetitions(name: str) -> None:
    profile = PROFILES[name]
    assert _runs(profile, "overlap") == _runs(profile, "serial")


def test_serial_is_round_one_one_unit_per_step_in_order() -> None:
    profile = PROFILES["quick"]
    got = units(profile, "serial")
    assert [u.step for u in got] == list(profile.steps)
    assert all(u.lane == "alone" and u.variants == u.step.variants and not u.fast for u in got)


@pytest.mark.parametrize(("variant", "expected"), [
    ("sync", True), ("sync:clients=per-agent", True), ("async-limited", True), ("async-redis-limited", True),
    ("lru_cache:call=blocking", True), ("async", False), ("lru_cache", False), ("threadpool", False),
])
def test_paced_variants_are_those_a_blocked_loop_or_a_limiter_paces(variant: str, expected: bool) -> None:
    assert paced(variant) is expected


def test_unpaced_bursts_run_alone_cold_bursts_heavy_workers_apart_the_rest_paced() -> None:
    assert lane(Step("burst", ("async",), (), latency_ms=100.0), "async") == "alone"
    assert lane(Step("burst", ("async",), (), latency_ms=999.0), "threadpool") == "alone"
    # Against an upstream of 1 s or more its latency paces an unpaced burst too (the seed's: 3.48 s at 3 s).
    assert lane(Step("burst", ("async",), (), latency_ms=1000.0), "async") == "paced"
    assert lane(Step("burst", ("async",), (), latency_ms=3000.0), "threadpool") == "paced"
    assert lane(Step("sweep", ("async",), ()), "threadpool") == "alone"
    assert lane(Step("sweep", ("async",), (), latency_ms=3000.0), "async") == "alone"
    assert lane(Step("stream", ("async",), ()), "async") == "alone"
    # A blocked loop at a fast upstream: its makespan is partly the app's CPU per request (12% at 100 ms).
    assert lane(Step("burst", ("sync",), (), latency_ms=100.0), "sync") == "blocked"
    assert lane(Step("burst", ("sync",), (), latency_ms=999.0), "async:call=blocking") == "blocked"
    # One request per second or slower from a blocked loop: nearly no CPU, so it runs in the background.
    assert lane(Step("burst", ("sync",), (), latency_ms=1000.0), "sync") == "background"
    assert lane(Step("burst", ("sync",), (), latency_ms=100.0, workers=2), "sync") == "workers"
    assert lane(Step("burst", ("async-limited",), (), latency_ms=3000.0), "async-limited") == "paced"
    assert lane(Step("cold-burst", ("async",), ()), "async") == "heavy"
    # A memory window's closed loop serves as many requests as the CPU allows: its live agents are the CPU's too.
    assert lane(Step("concurrency", ("per-request",), ()), "per-request") == "alone"
    for scenario in ("steady", "workers", "faults"):
        assert lane(Step(scenario, ("async",), ()), "async") == "paced"
    # C6: a limiter against an upstream limited at its own rate counts its timing slips as 429s, and without one
    # the latency C6 compares is the app's CPU and its retries: both alone. Without the upstream's limit, with a
    # blocked loop (its pace is the upstream's), or on the workers step (judged on its rate), paced.
    assert lane(Step("steady", ("async-limited",), (), upstream_limit_rps=10.0), "async-limited") == "alone"
    assert lane(Step("steady", ("async",), (), upstream_limit_rps=10.0), "async") == "alone"
    assert lane(Step("steady", ("async-limited",), ()), "async-limited") == "paced"
    assert lane(Step("steady", ("sync",), (), upstream_limit_rps=10.0), "sync") == "paced"
    assert lane(Step("workers", ("async-limited",), (), upstream_limit_rps=10.0), "async-limited") == "paced"
    # Several workers: their start and retry storms need the CPU (and would starve the limiter steps' windows).
    assert lane(Step("workers", ("async-limited",), (), workers=4), "async-limited") == "workers"
    assert lane(Step("workers", ("async-limited",), (), workers=2), "async-redis-limited") == "workers"


def test_paced_and_cold_bursts_get_one_unit_per_repetition_others_one_per_variant() -> None:
    profile = Profile("t", "", (
        Step("burst", ("sync", "async"), (), latency_ms=100.0, repeat=2),
        Step("burst", ("async", "async-limited"), (), latency_ms=3000.0, repeat=2),
        Step("cold-burst", ("locked",), (), repeat=3),
        Step("workers", ("async-limited",), (), workers=4, repeat=2),
    ))
    got = [(u.step.scenario, u.variants, u.reps, u.lane) for u in units(profile, "overlap")]
    assert got == [
        ("burst", ("sync",), (0,), "blocked"), ("burst", ("sync",), (1,), "blocked"),
        ("burst", ("async",), (0, 1), "alone"),
        # Paced by a 3 s upstream, an unpaced burst's repetitions still share one app: never two side by side.
        ("burst", ("async",), (0, 1), "paced"),
        ("burst", ("async-limited",), (0,), "paced"), ("burst", ("async-limited",), (1,), "paced"),
        ("cold-burst", ("locked",), (0,), "heavy"), ("cold-burst", ("locked",), (1,), "heavy"),
        ("cold-burst", ("locked",), (2,), "heavy"),
        # C7 judges repetition 0 as the cold start and the rest warm on the same app: never split.
        ("workers", ("async-limited",), (0, 1), "workers"),
    ]
    assert [u.index for u in units(profile, "overlap")] == list(range(10))


def test_pooled_units_start_longest_first() -> None:
    order = pool_order([u for u in units(PROFILES["seed"], "overlap") if u.lane == "paced"])
    estimates = [unit_estimate_s(u) for u in order]
    assert estimates == sorted(estimates, reverse=True)


def test_the_seeds_blocking_bursts_run_side_by_side_in_the_background() -> None:
    background = [u for u in units(PROFILES["seed"], "overlap") if u.lane == "background"]
    assert [(u.variants, u.reps) for u in background] == [(("sync",), (0,)), (("sync",), (1,))]
    one = unit_estimate_s(background[0])
    assert one >= 150.0  # 50 x 3 s
    # Everything else runs meanwhile: the whole seed is estimated at under a third of the serial schedule.
    overlap = run_estimate_s(units(PROFILES["seed"], "overlap"), None, "overlap")
    assert one <= overlap < run_estimate_s(units(PROFILES["seed"], "serial"), None, "serial") / 3


def test_makespan_estimate_packs_beside_units_on_the_pool() -> None:
    profile = Profile("t", "", (Step("burst", ("sync",), (), users=50, latency_ms=100.0, repeat=2),))
    one = unit_estimate_s(units(profile, "overlap")[0])
    assert makespan_estimate_s(units(profile, "overlap")) == pytest.approx(one)  # side by side: one burst's time
    assert makespan_estimate_s(units(profile, "overlap"), pools={**POOLED, "blocked": 1}) == pytest.approx(2 * one)
    # More units than slots: the pool's longest slot; for the CPU-bound heavy lane, never less than its work over
    # the cores, with the contention measured, and as it runs at idle priority beside the others, HEAVY_BESIDE more.
    many = Profile("t", "", (Step("cold-burst", ("locked",), (), repeat=HEAVY_AT_ONCE * 2),))
    all_units = units(many, "overlap")
    total = sum(unit_estimate_s(u) for u in all_units)
    cores = min(HEAVY_AT_ONCE, os.cpu_count() or 1)
    heavy = max(total / HEAVY_AT_ONCE, total / cores * HEAVY_CONTENTION)
    assert makespan_estimate_s(all_units) == pytest.approx(heavy * HEAVY_BESIDE)
    # The blocked units, then the paced ones and the alone ones after each other; the heavy lane beside them.
    lanes = Profile("t", "", (Step("cold-burst", ("locked",), (), repeat=1),
                              Step("burst", ("sync",), (), latency_ms=100.0, repeat=PACED_AT_ONCE),
                              Step("steady", ("async",), (), repeat=1),
                              Step("burst", ("async",), (), latency_ms=100.0, repeat=3)))
    estimates = {u.lane: unit_estimate_s(u) for u in units(lanes, "overlap")}
    waves = estimates["blocked"] + (estimates["paced"] + estimates["alone"]) * BESIDE
    assert makespan_estimate_s(units(lanes, "overlap")) == pytest.approx(max(waves, estimates["heavy"] * HEAVY_BESIDE))
    # Several workers beside the paced and alone units, after the blocked ones: the longer of the two.
    workers = Profile("t", "", (Step("burst", ("sync",), (), latency_ms=100.0, repeat=1),
                                Step("workers", ("async-limited",), (), workers=8, duration_s=60.0, rate=1.0,
                                     repeat=2)))
    est = {u.lane: unit_estimate_s(u) for u in units(workers, "overlap")}
    assert est["workers"] > 60.0
    alone_workers = est["workers"] / min(WORKERS_AT_ONCE, os.cpu_count() or 1) * HEAVY_CONTENTION
    assert makespan_estimate_s(units(workers, "overlap")) == pytest.approx(
        est["blocked"] + max(est["workers"], alone_workers))


def test_the_overlapping_schedule_is_estimated_shorter_than_the_serial_one() -> None:
    for name in ("quick", "seed"):
        serial = run_estimate_s(units(PROFILES[name], "serial"), None, "serial")
        overlap = run_estimate_s(units(PROFILES[name], "overlap"), None, "overlap")
        assert overlap < serial


def test_a_bad_schedule_is_refused_with_the_choices() -> None:
    with pytest.raises(UsageError, match="overlap, serial"):
        validate(RunConfig(schedule="fast"))


def test_stage_clock_sums_work_from_several_threads() -> None:
    clock = StageClock()

    def work() -> None:
        with clock.stage("measure"):
            time.sleep(0.05)

    threads = [threading.Thread(target=work) for _ in range(4)]
    with clock.phase("paced"):
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    got = clock.as_dict()
    assert got["stages"]["measure"]["count"] == 4
    # Four units of work side by side: the work adds up to more than the phase's wall time.
    assert got["stages"]["measure"]["s"] > got["phases"]["paced"] >= 0.05
    assert "measure" in describe(got)


@dataclass
class Servers:
    """What the orchestrator's alone lane uses of a unit's servers started ahead."""

    name: str
    before_runs: Callable[[], None] | None = None


def test_lanes_order_and_priorities(monkeypatch: pytest.MonkeyPatch) -> None:
    """Background and heavy from the start; blocked alone; then paced with the extra tasks, and the several-worker
    units beside the paced and alone ones; the alone units last, after the paced ones and the extra tasks. Each
    unit's children at its lane's priority: heavy idle, workers low, the rest the harness's."""
    from bench.run import orchestrator
    from bench.servers import priority

    profile = Profile("t", "", (
        Step("burst", ("sync",), (), latency_ms=3000.0, repeat=1),  # background
        Step("burst", ("async",), (), latency_ms=100.0, repeat=1),  # alone
        Step("cold-burst", ("locked",), (), repeat=2),  # heavy
        Step("burst", ("sync",), (), latency_ms=100.0, repeat=2),  # blocked
        Step("burst", ("async",), (), latency_ms=3000.0, repeat=1),  # paced: its 3 s upstream paces it
        Step("steady", ("async-limited",), (), repeat=1),  # paced
        Step("workers", ("async-limited",), (), workers=4, repeat=1),  # workers
    ))
    events: list[tuple[str, str, float]] = []
    nice: dict[str, set[int]] = {}
    lock = threading.Lock()

    readies: list[Servers | None] = []

    def fake_unit(unit: object, run: object, under_way: threading.Event | None = None,
                  ready: Servers | None = None) -> None:
        lane_name = unit.lane  # type: ignore[attr-defined]
        with lock:
            events.append(("start", lane_name, time.monotonic()))
            if lane_name == "alone":
                readies.append(ready)
            nice.setdefault(lane_name, set()).add(priority.current())
        if under_way is not None:
            under_way.set()
        time.sleep({"workers": 0.3, "background": 0.5}.get(lane_name, 0.05))
        with lock:
            events.append(("end", lane_name, time.monotonic()))

    def fake_start(unit: object, run: object, apps: bool) -> Servers:
        with lock:
            events.append(("start", "ahead", time.monotonic()))
        time.sleep(0.05)
        with lock:
            events.append(("end", "ahead", time.monotonic()))
        return Servers(f"servers of {unit.lane}")  # type: ignore[attr-defined]

    stopped: list[Servers] = []
    monkeypatch.setattr(orchestrator, "_run_unit", fake_unit)
    monkeypatch.setattr(orchestrator, "_start_servers", fake_start)
    monkeypatch.setattr(orchestrator, "_stop_servers", lambda servers, clock: stopped.append(servers))
    monkeypatch.setattr(orchestrator, "BACKGROUND_SETTLE_S", 0.0)
    monkeypatch.setattr(priority, "lower_this_thread", lambda nice=0: None)  # the test's threads keep their priority

    class Run:
        serial_s = None
        stop = threading.Event()
        clock = StageClock()

    probes: list[tuple[float, float]] = []

    def probe() -> None:
        t0 = time.monotonic()
        time.sleep(0.1)
        probes.append((t0, time.monotonic()))

    orchestrator._run_units(units(profile, "overlap"), Run(), {"probes": probe})  # type: ignore[arg-type]
    started = {lane: min(t for kind, ln, t in events if kind == "start" and ln == lane) for _, lane, _ in events}
    ended = {lane: max(t for kind, ln, t in events if kind == "end" and ln == lane) for _, lane, _ in events}
    assert started["background"] <= started["blocked"] and started["heavy"] <= started["blocked"] + 0.04
    assert ended["blocked"] <= started["paced"] and ended["blocked"] <= started["workers"]
    assert ended["blocked"] <= probes[0][0] and probes[0][1] <= started["alone"]  # the extra tasks beside paced
    assert ended["paced"] <= started["alone"]
    # The alone unit's servers started ahead: after the paced units' own starts, before the alone lane, and were
    # handed to it and stopped after it.
    assert started["paced"] <= started["ahead"] and ended["ahead"] <= started["alone"]
    assert [r and r.name for r in readies] == ["servers of alone"] and [s.name for s in stopped] == ["servers of alone"]
    assert started["alone"] < ended["workers"]  # the several-worker units go on beside the alone ones
    assert started["paced"] < ended["background"]
    assert nice == {"background": {0}, "alone": {0}, "blocked": {0}, "paced": {0}, "heavy": {priority.IDLE_NICE},
                    "workers": {priority.LOW_NICE}}
    assert Run.clock.as_dict()["phases"].keys() >= {"blocked", "paced", "alone", "heavy", "workers",
                                                     "background start"}


def test_an_alone_units_servers_stop_while_the_next_warms_up_and_are_gone_before_its_runs(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The alone lane hands a finished unit's servers to another thread to stop (uvicorn's shutdown is mostly
    waiting) and goes on with the next unit; that unit's first run waits for them (`before_runs`)."""
    from bench.run import orchestrator
    from bench.servers import priority

    profile = Profile("t", "", (
        Step("steady", ("async-limited",), (), repeat=1),  # paced: the alone units' servers start ahead meanwhile
        *(Step("burst", (v,), (), latency_ms=100.0, repeat=1)
          for v in ("async", "threadpool", "async:clients=per-agent"))))
    events: list[tuple[str, str, float]] = []
    lock = threading.Lock()

    def note(what: str, name: str) -> None:
        with lock:
            events.append((what, name, time.monotonic()))

    def fake_unit(unit: object, run: object, under_way: threading.Event | None = None,
                  ready: Servers | None = None) -> None:
        if unit.lane != "alone":  # type: ignore[attr-defined]
            if under_way is not None:
                under_way.set()
            time.sleep(0.3)
            return
        assert ready is not None
        note("warm-up", ready.name)
        time.sleep(0.05)  # shorter than a stop: the stop is still under way when the runs are due
        if ready.before_runs is not None:
            ready.before_runs()
        note("runs", ready.name)
        time.sleep(0.02)
        note("done", ready.name)

    def fake_stop(servers: Servers, clock: object) -> None:
        assert threading.current_thread() is not threading.main_thread()
        note("stopping", servers.name)
        time.sleep(0.2)
        note("stopped", servers.name)

    monkeypatch.setattr(orchestrator, "_run_unit", fake_unit)
    monkeypatch.setattr(orchestrator, "_start_servers", lambda unit, run, apps: Servers(unit.variants[0]))
    monkeypatch.setattr(orchestrator, "_stop_servers", fake_stop)
    monkeypatch.setattr(priority, "lower_this_thread", lambda nice=0: None)

    class Run:
        serial_s = None
        stop = threading.Event()
        clock = StageClock()

    orchestrator._run_units(units(profile, "overlap"), Run(), {})  # type: ignore[arg-type]
    at = {(what, name): t for what, name, t in events}
    names = ["async", "threadpool", "async:clients=per-agent"]
    for before, after in itertools.pairwise(names):
        assert at[("warm-up", after)] < at[("stopped", before)]  # the next unit went on while they stopped...
        assert at[("stopped", before)] <= at[("runs", after)]  # ...and measured only once they were gone
    assert {name for what, name, _ in events if what == "stopped"} == set(names)  # the last one too, before return
